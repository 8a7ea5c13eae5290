/**
 * Policy 12 (advisory): egress to the API ClusterIP comes with egress to the control-plane
 * network, and the other way round.
 *
 * With Calico, some clients reach the API through the service ClusterIP (10.96.0.1:443) and
 * others, after endpoint resolution, connect straight to the control-plane nodes
 * (10.0.10.0/24:6443); the seed document requires both. With only one, API calls fail
 * intermittently: a reliability problem, not a security hole, hence advisory.
 */
import { blockAdmits, cidrContains, parseCidr } from "../lib/cidr";
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, portsAdmit, readNetworkPolicy } from "../lib/netpol";
import { resourcePolicy } from "../lib/policy";

export const kubeApiEgressPaired = resourcePolicy({
  name: "kube-api-egress-paired",
  description:
    "Egress to the Kubernetes API ClusterIP comes with egress to the control-plane CIDR on the API server port, and the other way round.",
  enforcementLevel: "advisory",
  prevents:
    "Intermittent API timeouts for controllers and operators: half the API paths open means leader elections and watches that fail at random.",
  facts: ["apiServer", "controlPlane"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readNetworkPolicy(subject.props);
    const clusterIp = parseCidr(
      `${facts.apiServer.clusterIP}/${facts.apiServer.clusterIP.includes(":") ? 128 : 32}`,
      "config apiServer.clusterIP",
    );
    const controlPlane = parseCidr(facts.controlPlane.cidr, "config controlPlane.cidr");
    let toClusterIp = false;
    let toControlPlane = false;
    for (const rule of policy.egress) {
      for (const peer of rule.peers) {
        if (!peer.ipBlock) continue;
        const { cidr, except } = peer.ipBlock;
        // Internet rules (0.0.0.0/0 minus private ranges) do not count: they except both.
        if (
          blockAdmits(cidr, except, clusterIp) &&
          portsAdmit(rule.ports, "TCP", facts.apiServer.port)
        ) {
          toClusterIp = true;
        }
        if (
          cidrContains(cidr, controlPlane) &&
          !except.some((e) => cidrContains(e, controlPlane) || cidrContains(controlPlane, e)) &&
          portsAdmit(rule.ports, "TCP", facts.controlPlane.port)
        ) {
          toControlPlane = true;
        }
      }
    }
    const api = `${facts.apiServer.clusterIP}:${facts.apiServer.port}`;
    const cp = `${facts.controlPlane.cidr}:${facts.controlPlane.port}`;
    if (toClusterIp && !toControlPlane) {
      return [
        netpolFinding(
          policy,
          "spec.egress",
          `allows the API ClusterIP ${api} but not the control plane ${cp}`,
          `add an egress rule to ipBlock ${facts.controlPlane.cidr} on TCP ${facts.controlPlane.port}`,
        ),
      ];
    }
    if (toControlPlane && !toClusterIp) {
      return [
        netpolFinding(
          policy,
          "spec.egress",
          `allows the control plane ${cp} but not the API ClusterIP ${api}`,
          `add an egress rule to ipBlock ${clusterIp.text} on TCP ${facts.apiServer.port}`,
        ),
      ];
    }
    return [];
  },
});
