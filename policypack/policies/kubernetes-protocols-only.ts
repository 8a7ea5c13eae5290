/**
 * Policy 9: Kubernetes NetworkPolicies use TCP, UDP and SCTP only; the API accepts nothing else
 * (NetworkPolicyPort.protocol). ICMP needs a Calico policy (projectcalico.org/v3 rules take
 * `protocol: ICMP`), as the seed document's blackbox-exporter policy does.
 */
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";

const KUBERNETES_PROTOCOLS = new Set(["TCP", "UDP", "SCTP"]);

export const kubernetesProtocolsOnly = resourcePolicy({
  name: "kubernetes-protocols-only",
  description:
    "Kubernetes NetworkPolicies use only TCP, UDP and SCTP; ICMP and other protocols belong in a Calico NetworkPolicy.",
  enforcementLevel: "mandatory",
  prevents:
    "A deploy that fails at apply time (or a rule that never matches) because the Kubernetes API has no ICMP, leaving monitoring probes silently broken.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    const policy = readNetworkPolicy(subject.props);
    const findings: Finding[] = [];
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const port of rule.ports) {
        if (KUBERNETES_PROTOCOLS.has(port.protocol)) continue;
        findings.push(
          netpolFinding(
            policy,
            `${port.path}.protocol`,
            `is ${JSON.stringify(port.protocol)}; Kubernetes NetworkPolicies support only TCP, UDP and SCTP`,
            "move this rule to a Calico projectcalico.org/v3 NetworkPolicy (protocol: ICMP, destination.nets: [...]) and remove it here",
          ),
        );
      }
    }
    return findings;
  },
});
