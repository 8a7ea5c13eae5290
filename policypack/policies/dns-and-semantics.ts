/**
 * Policy 6: DNS peers keep AND semantics.
 *
 * In one peer item, namespaceSelector and podSelector are ANDed; as two items of the same list
 * they are ORed (Kubernetes NetworkPolicy reference, "Behavior of to and from selectors"). The
 * split form admits every pod of the DNS namespace (kube-system: controllers, CSI drivers,
 * sealed-secrets) plus pods of the policy's own namespace that happen to carry the DNS labels.
 *
 * Only DNS rules are judged: egress rules whose connections include the DNS port (UDP or TCP), and
 * of those only peers that select the DNS namespace and also admit its pods that are not DNS pods
 * (asked of the engine's matcher with a pod of that namespace without the DNS labels). Ingress
 * rules are never DNS peers: the DNS namespace's own rule admitting its clients on 53 is fine,
 * and so is a namespace-wide peer on other ports (policy 4 judges `namespaceSelector: {}`).
 */
import { allowsConnection } from "../../engine";
import { dnsPeerAdvice } from "../lib/exposure";
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { namespaceLabels, writtenPeers } from "../lib/rules";

export const dnsAndSemantics = resourcePolicy({
  name: "dns-and-semantics",
  description:
    "A DNS rule's peer that selects the DNS namespace also carries a podSelector for the DNS pods in the same item (AND), never as a separate item (OR).",
  enforcementLevel: "mandatory",
  prevents:
    "Opening every pod of kube-system (controllers, CSI drivers, secret decryption) to a namespace that only needed DNS.",
  facts: ["dns"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readPolicy(subject.type, subject.props);
    const dns = facts.dns;
    const fix = `use one item: ${dnsPeerAdvice(facts)}`;
    const findings: Finding[] = [];
    const dnsNamespace = namespaceLabels(dns.namespace);
    for (const { rule, direction, peer } of writtenPeers(policy)) {
      if (direction !== "egress") continue;
      const isDnsRule =
        allowsConnection(rule.possibleConnections, "UDP", dns.port) ||
        allowsConnection(rule.possibleConnections, "TCP", dns.port);
      if (!isDnsRule) continue;
      if (peer.kind !== "pods" || !peer.namespaceSelector) continue;
      if (!peer.namespaceSelector.matches(dnsNamespace)) continue;
      // A pod of the DNS namespace without the DNS labels: does this peer admit it?
      if (peer.podSelector && !peer.podSelector.matches({})) continue;
      const peers = rule.written?.peers;
      const sibling =
        peers === undefined || peers === "any"
          ? undefined
          : peers.find(
              (other) =>
                other !== peer &&
                other.kind === "pods" &&
                !other.namespaceSelector &&
                other.podSelector !== undefined &&
                other.podSelector.requirements.length > 0 &&
                other.podSelector.matches(dns.podLabels),
            );
      const problem = sibling
        ? `DNS peer is split into two items (OR): this namespaceSelector admits every pod of ${dns.namespace}, and ${sibling.path}.podSelector selects pods of ${policy.namespace}, not DNS pods`
        : `selects namespace ${dns.namespace} without a podSelector for the DNS pods in the same item, admitting every pod of ${dns.namespace} on the DNS port`;
      findings.push(policyFinding(policy, peer.path, problem, fix));
    }
    return findings;
  },
});
