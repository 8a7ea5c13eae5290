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
import { allowsConnection, type LabelRequirement } from "../../engine";
import { dnsPeerAdvice, DNS_PORT } from "../lib/exposure";
import { factFor } from "../lib/facts";
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { NAMESPACE_NAME_LABEL, namespaceLabels, writtenPeers } from "../lib/rules";

/** The `key: value` pairs a selector pins down (its single-value In requirements). */
function equalityLabels(requirements: readonly LabelRequirement[]): Record<string, string> {
  return Object.fromEntries(
    requirements
      .filter((r) => r.operator === "In" && r.values.length === 1)
      .map((r) => [r.key, r.values[0]]),
  );
}

export const dnsAndSemantics = resourcePolicy({
  name: "dns-and-semantics",
  description:
    "A DNS rule's peer that selects the DNS namespace also carries a podSelector for the DNS pods in the same item (AND), never as a separate item (OR).",
  enforcementLevel: "mandatory",
  prevents:
    "Opening every pod of kube-system (controllers, CSI drivers, secret decryption) to a namespace that only needed DNS.",
  facts: ["dns"],
  withoutFacts:
    "a DNS rule is one on port 53, and any namespace its peer selects is judged as the DNS namespace",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts, plainYaml }) {
    const policy = readPolicy(subject.type, subject.props);
    const dns = factFor(facts, "dns", plainYaml);
    const port = dns?.port ?? DNS_PORT;
    const findings: Finding[] = [];
    for (const { rule, direction, peer } of writtenPeers(policy)) {
      if (direction !== "egress") continue;
      const isDnsRule =
        allowsConnection(rule.possibleConnections, "UDP", port) ||
        allowsConnection(rule.possibleConnections, "TCP", port);
      if (!isDnsRule) continue;
      if (peer.kind !== "pods" || !peer.namespaceSelector) continue;
      // The namespace the peer picks: the DNS namespace when the facts name it, else any it names.
      const named = peer.namespaceSelector.requirements
        .filter((r) => r.key === NAMESPACE_NAME_LABEL && r.operator === "In")
        .flatMap((r) => r.values);
      const dnsNamespace = dns?.namespace ?? named[0];
      if (dnsNamespace === undefined) continue;
      if (!peer.namespaceSelector.matches(namespaceLabels(dnsNamespace))) continue;
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
                (dns === undefined || other.podSelector.matches(dns.podLabels)),
            );
      const problem = sibling
        ? `DNS peer is split into two items (OR): this namespaceSelector admits every pod of ${dnsNamespace}, and ${sibling.path}.podSelector selects pods of ${policy.namespace}, not DNS pods`
        : `selects namespace ${dnsNamespace} without a podSelector for the DNS pods in the same item, admitting every pod of ${dnsNamespace} on the DNS port`;
      const podLabels =
        dns?.podLabels ??
        (sibling?.kind === "pods" && sibling.podSelector
          ? equalityLabels(sibling.podSelector.requirements)
          : undefined);
      const fix = `use one item: ${dnsPeerAdvice({ namespace: dnsNamespace, podLabels })}`;
      findings.push(policyFinding(policy, peer.path, problem, fix));
    }
    return findings;
  },
});
