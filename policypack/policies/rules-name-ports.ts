/**
 * Policy 3: every rule names its ports.
 *
 * A rule without `ports` admits every port; a port entry without `port` admits every port of its
 * protocol; an empty rule `{}` admits every peer on every port (Kubernetes NetworkPolicy
 * reference). The one exception is the ambient-mesh kubelet probe source, a /32 that istio-cni
 * SNATs probes to (Istio ambient docs, "Ambient and Kubernetes NetworkPolicy"): probes target
 * whatever port each container declares, so that rule may leave ports open.
 */
import { type Cidr, cidrContains, tryParseCidr } from "../lib/cidr";
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, type NetpolRule, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";

function isProbeRule(rule: NetpolRule, probe: Cidr | undefined): boolean {
  return (
    probe !== undefined &&
    rule.direction === "ingress" &&
    rule.peers.length > 0 &&
    rule.peers.every(
      (p) =>
        p.ipBlock !== undefined &&
        p.ipBlock.except.length === 0 &&
        p.ipBlock.cidr.prefix === probe.prefix &&
        cidrContains(probe, p.ipBlock.cidr),
    )
  );
}

export const rulesNamePorts = resourcePolicy({
  name: "rules-name-ports",
  description:
    "Every NetworkPolicy rule names its ports; no rule is {} (every peer on every port). Only the ambient probe source /32 may use any port.",
  enforcementLevel: "mandatory",
  prevents:
    "Lateral movement on ports nobody meant to open: a rule without ports opens debug, admin and metrics ports of every selected pod to its peers.",
  facts: ["mesh"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readNetworkPolicy(subject.props);
    const probe = facts.mesh ? tryParseCidr(facts.mesh.probeSource) : undefined;
    const findings: Finding[] = [];
    for (const rule of [...policy.ingress, ...policy.egress]) {
      const peerKey = rule.direction === "ingress" ? "from" : "to";
      if (rule.peers.length === 0 && rule.ports.length === 0) {
        findings.push(
          netpolFinding(
            policy,
            rule.path,
            `is {}: it admits every peer on every port`,
            `name the peers in ${peerKey} and the ports in ports, e.g. ports: [{protocol: TCP, port: 8080}]`,
          ),
        );
        continue;
      }
      if (isProbeRule(rule, probe)) continue;
      if (rule.ports.length === 0) {
        findings.push(
          netpolFinding(
            policy,
            `${rule.path}.ports`,
            "is missing or empty: the rule admits every port of its peers",
            "list the ports the flow needs, e.g. ports: [{protocol: TCP, port: 8080}]",
          ),
        );
        continue;
      }
      for (const port of rule.ports) {
        if (port.port === undefined) {
          findings.push(
            netpolFinding(
              policy,
              port.path,
              `names protocol ${port.protocol} but no port: it admits every ${port.protocol} port`,
              `add port: <number> (and endPort for a deliberate range) to ${port.path}`,
            ),
          );
        }
      }
    }
    return findings;
  },
});
