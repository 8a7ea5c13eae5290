/**
 * Policy 4: no peer selects every namespace unless allow-listed (config `exemptions`, each with
 * a reason).
 *
 * `namespaceSelector: {}` matches every namespace, including ones created later; so does a
 * selector whose only requirement is `kubernetes.io/metadata.name` Exists (every namespace has
 * the label) or NotIn a list (every namespace but a few).
 */
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";
import { namespaceSetOf } from "../lib/selectors";

export const noAllNamespacesSelector = resourcePolicy({
  name: "no-all-namespaces-selector",
  description:
    "No NetworkPolicy peer selects every namespace (namespaceSelector: {}) unless the object is allow-listed in this policy's exemptions with a reason.",
  enforcementLevel: "mandatory",
  prevents:
    "A compromised pod in any namespace, including namespaces created tomorrow, reaching the selected pods.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    const policy = readNetworkPolicy(subject.props);
    const findings: Finding[] = [];
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const peer of rule.peers) {
        if (!peer.namespaceSelector) continue;
        const set = namespaceSetOf(peer.namespaceSelector);
        if (set.kind !== "all" && set.kind !== "allExcept") continue;
        const what =
          set.kind === "all"
            ? "selects every namespace"
            : `selects every namespace except ${[...set.exclude].join(", ")}`;
        findings.push(
          netpolFinding(
            policy,
            `${peer.path}.namespaceSelector`,
            `${what}, including namespaces created later`,
            `select the namespaces by name (matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [...]}]), or add {namespace: ${policy.namespace}, name: ${policy.name}, reason: ...} to this policy's exemptions`,
          ),
        );
      }
    }
    return findings;
  },
});
