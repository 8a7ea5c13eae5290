/**
 * Policy 5: namespace selectors use only `kubernetes.io/metadata.name`.
 *
 * The API server sets that label to the namespace's name on every namespace and rejects changes
 * to it (Kubernetes "Well-Known Labels": kubernetes.io/metadata.name, beta in 1.21, GA in 1.22).
 * Any other namespace label can be set by whoever may patch namespaces, which turns "label your
 * namespace team=payments" into "reach the payments database".
 */
import { NAME_LABEL_EXAMPLE, policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { NAMESPACE_NAME_LABEL, writtenPeers } from "../lib/rules";
import { isDeadAgainstWellKnown } from "../lib/dead-peers";

export const immutableNamespaceLabel = resourcePolicy({
  name: "immutable-namespace-label",
  description: `Namespace selectors use only the ${NAMESPACE_NAME_LABEL} label, which the API server sets and nobody can change.`,
  enforcementLevel: "mandatory",
  prevents:
    "Privilege escalation by relabelling: anyone allowed to label a namespace could otherwise make it match an allow rule.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    const policy = readPolicy(subject.type, subject.props);
    const findings: Finding[] = [];
    for (const { peer } of writtenPeers(policy)) {
      if (peer.kind !== "pods" || !peer.namespaceSelector) continue;
      const keys = new Set(peer.namespaceSelector.requirements.map((r) => r.key));
      const forgeable = [...keys].filter((k) => k !== NAMESPACE_NAME_LABEL);
      if (forgeable.length === 0) continue;
      // A peer that matches no namespace at all is an outage, reported by dead-peer(-outage)
      // with the selector it was meant to be; a relabelling risk would hide that.
      if (isDeadAgainstWellKnown(policy, peer.path)) continue;
      findings.push(
        policyFinding(
          policy,
          `${peer.path}.namespaceSelector`,
          `selects namespaces by ${forgeable.join(", ")}, which anyone allowed to label namespaces can set`,
          `select by name instead: ${NAME_LABEL_EXAMPLE("<namespace>")}`,
        ),
      );
    }
    return findings;
  },
});
