/**
 * Policy 12 (advisory): egress to the API ClusterIP comes with egress to the control-plane
 * network, and the other way round.
 *
 * With Calico, some clients reach the API through the service ClusterIP (10.96.0.1:443) and
 * others, after endpoint resolution, connect straight to the control-plane nodes
 * (10.0.10.0/24:6443); the seed document requires both. With only one, API calls fail
 * intermittently: a reliability problem, not a security hole, hence advisory.
 */
import {
  allowsConnection,
  externalAdmission,
  intervals,
  parseCidrRange,
  parseIpv4,
} from "../../engine";
import { MalformedError } from "../lib/errors";
import { factIfGiven } from "../lib/facts";
import { policyFinding } from "../lib/findings";
import { resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";

export const kubeApiEgressPaired = resourcePolicy({
  name: "kube-api-egress-paired",
  description:
    "Egress to the Kubernetes API ClusterIP comes with egress to the control-plane CIDR on the API server port, and the other way round.",
  enforcementLevel: "advisory",
  prevents:
    "Intermittent API timeouts for controllers and operators: half the API paths open means leader elections and watches that fail at random.",
  facts: ["apiServer", "controlPlane"],
  withoutFacts:
    "not judged: which addresses are the API ClusterIP and the control plane is the cluster's to say (--facts apiServer, controlPlane)",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts, plainYaml }) {
    const policy = readPolicy(subject.type, subject.props);
    // Plain YAML without the two addresses: nothing to pair (an advisory, said in check's notes).
    if (
      plainYaml &&
      (factIfGiven(facts, "apiServer") === undefined ||
        factIfGiven(facts, "controlPlane") === undefined)
    )
      return [];
    const clusterIp = parseIpv4(facts.apiServer.clusterIP);
    if (clusterIp === undefined)
      throw new MalformedError("apiServer.clusterIP", "expected an IPv4 address");
    const controlPlane = parseCidrRange(facts.controlPlane.cidr);
    if (!controlPlane) throw new MalformedError("controlPlane.cidr", "expected an IPv4 CIDR");
    // What the whole policy reaches outside the cluster, rule order included (the engine's
    // reading); internet rules that except the private ranges reach neither address.
    const reach = externalAdmission(policy, "egress");
    const reachedOn = (protocolPort: number): intervals.IntervalSet =>
      intervals.fromRanges(
        reach
          .filter((a) => allowsConnection(a.connections, "TCP", protocolPort))
          .map((a) => [a.addresses.lo, a.addresses.hi] as const),
      );
    const toClusterIp = intervals.contains(reachedOn(facts.apiServer.port), clusterIp);
    const toControlPlane = intervals.isEmpty(
      intervals.subtract([controlPlane.lo, controlPlane.hi], reachedOn(facts.controlPlane.port)),
    );
    const api = `${facts.apiServer.clusterIP}:${facts.apiServer.port}`;
    const cp = `${facts.controlPlane.cidr}:${facts.controlPlane.port}`;
    if (toClusterIp && !toControlPlane) {
      return [
        policyFinding(
          policy,
          "spec.egress",
          `allows the API ClusterIP ${api} but not the control plane ${cp}`,
          `add an egress rule to ipBlock ${facts.controlPlane.cidr} on TCP ${facts.controlPlane.port}`,
        ),
      ];
    }
    if (toControlPlane && !toClusterIp) {
      return [
        policyFinding(
          policy,
          "spec.egress",
          `allows the control plane ${cp} but not the API ClusterIP ${api}`,
          `add an egress rule to ipBlock ${facts.apiServer.clusterIP}/32 on TCP ${facts.apiServer.port}`,
        ),
      ];
    }
    return [];
  },
});
