/**
 * Policy 6: DNS peers keep AND semantics.
 *
 * In one peer item, namespaceSelector and podSelector are ANDed; as two items of the same list
 * they are ORed (Kubernetes NetworkPolicy reference, "Behavior of to and from selectors"). The
 * split form admits every pod of the DNS namespace (kube-system: controllers, CSI drivers,
 * sealed-secrets) plus pods of the policy's own namespace that happen to carry the DNS labels.
 */
import { NAME_LABEL_EXAMPLE, netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";
import {
  isEmptySelector,
  namespaceSetIncludes,
  namespaceSetOf,
  selectorMatches,
} from "../lib/selectors";

export const dnsAndSemantics = resourcePolicy({
  name: "dns-and-semantics",
  description:
    "A peer that selects the DNS namespace also carries a podSelector in the same item (AND), never as a separate item (OR).",
  enforcementLevel: "mandatory",
  prevents:
    "Opening every pod of kube-system (controllers, CSI drivers, secret decryption) to a namespace that only needed DNS.",
  facts: ["dns"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readNetworkPolicy(subject.props);
    const dnsNs = facts.dns.namespace;
    const labels = Object.entries(facts.dns.podLabels)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
    const fix = `use one item: - ${NAME_LABEL_EXAMPLE(dnsNs)}\n      podSelector: {matchLabels: {${labels}}}`;
    const findings: Finding[] = [];
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers) {
        if (!peer.namespaceSelector) continue;
        if (namespaceSetIncludes(namespaceSetOf(peer.namespaceSelector), dnsNs) !== true) continue;
        if (peer.podSelector && !isEmptySelector(peer.podSelector)) continue;
        // The OR form: a sibling item with only a podSelector that picks the DNS pods.
        const sibling = rule.peers.find(
          (other) =>
            other !== peer &&
            !other.namespaceSelector &&
            other.podSelector !== undefined &&
            !isEmptySelector(other.podSelector) &&
            selectorMatches(other.podSelector, facts.dns.podLabels),
        );
        const problem = sibling
          ? `DNS peer is split into two items (OR): this namespaceSelector admits every pod of ${dnsNs}, and ${sibling.path}.podSelector selects pods of ${policy.namespace}, not DNS pods`
          : `selects namespace ${dnsNs} without a podSelector in the same item, admitting every pod of ${dnsNs}`;
        findings.push(netpolFinding(policy, peer.path, problem, fix));
      }
    }
    return findings;
  },
});
