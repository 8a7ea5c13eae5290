/**
 * Issue #4's intent check: every declared connection is allowed end to end, and nothing between
 * namespaces is allowed that the config does not declare (universal patterns count as declared).
 * Runs the connectivity engine over the stack's own NetworkPolicy and Calico objects, so it proves
 * what the cluster will allow, not what the generator meant to write.
 */
import { ManifestError } from "../../engine";
import { ISTIO_GATE_TYPES } from "../lib/istio";
import { assertStackConfigShape } from "../lib/facts";
import { checkIntent } from "../lib/intent";
import { type Finding, stackPolicy } from "../lib/policy";
import { CALICO_NETWORK_POLICY_TYPE, K8S_NETWORK_POLICY_TYPE } from "../lib/reading";
import { CLUSTER_PROTECTION_TYPE } from "../lib/stack";

export const declaredConnectivity = stackPolicy({
  name: "declared-connectivity",
  description:
    "The rendered policies allow every connection the stack config declares, end to end, and no namespace-to-namespace connection it does not declare.",
  enforcementLevel: "mandatory",
  prevents:
    "A forgotten corner that breaks a declared flow at deploy time, and a hand-written or mis-generated rule that quietly opens a path nobody declared.",
  check(resources) {
    const cluster = resources.find((r) => r.type === CLUSTER_PROTECTION_TYPE);
    // Plain YAML (npm run check) carries no intent: there is nothing declared to compare with.
    if (!cluster) return [];
    const config: unknown = cluster.props;
    // A malformed or intent-less component is a "cannot verify" violation (MalformedError), never a pass.
    assertStackConfigShape(config);
    // The three gates: CNI egress, CNI ingress and, at meshed destinations, ztunnel authorization.
    const gateTypes = new Set([
      K8S_NETWORK_POLICY_TYPE,
      CALICO_NETWORK_POLICY_TYPE,
      ...ISTIO_GATE_TYPES,
    ]);
    const manifests = resources.filter((r) => gateTypes.has(r.type)).map((r) => r.props);
    try {
      return checkIntent(config, manifests).map((f): Finding => ({ ...f, urn: cluster.urn }));
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [
        {
          message: `cannot verify the declared connectivity because the policies cannot be modelled: ${error.message}`,
          fix: "fix the objects named above; the connectivity engine refuses what it cannot read",
          urn: cluster.urn,
        },
      ];
    }
  },
});
