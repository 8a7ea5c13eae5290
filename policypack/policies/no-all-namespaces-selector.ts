/**
 * Policy 4: no peer selects every namespace unless allow-listed (config `exemptions`, each with
 * a reason).
 *
 * Judged by what the selector matches, not how it is written: a peer whose namespaceSelector
 * matches a namespace nobody has named yet (one that only carries the name label the API server
 * sets) selects namespaces created tomorrow. That covers `namespaceSelector: {}`, a lone
 * `kubernetes.io/metadata.name Exists`, `NotIn` a list, and `DoesNotExist` on any other label.
 */
import type { LabelSelectorMatcher } from "../../engine";
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { NAMESPACE_NAME_LABEL, namespaceLabels, writtenPeers } from "../lib/rules";

/** A namespace name the selector does not mention: stands for "a namespace created later". */
function unnamedNamespace(selector: LabelSelectorMatcher): string {
  const mentioned = new Set(selector.requirements.flatMap((r) => r.values));
  let name = "namespace-created-later";
  for (let i = 2; mentioned.has(name); i++) name = `namespace-created-later-${i}`;
  return name;
}

export const noAllNamespacesSelector = resourcePolicy({
  name: "no-all-namespaces-selector",
  description:
    "No NetworkPolicy peer selects every namespace (namespaceSelector: {}) unless the object is allow-listed in this policy's exemptions with a reason.",
  enforcementLevel: "mandatory",
  prevents:
    "A compromised pod in any namespace, including namespaces created tomorrow, reaching the selected pods.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    const policy = readPolicy(subject.type, subject.props);
    const findings: Finding[] = [];
    for (const { peer } of writtenPeers(policy)) {
      if (peer.kind !== "pods" || !peer.namespaceSelector) continue;
      const selector = peer.namespaceSelector;
      if (!selector.matches(namespaceLabels(unnamedNamespace(selector)))) continue;
      const excluded = selector.requirements
        .filter((r) => r.key === NAMESPACE_NAME_LABEL && r.operator === "NotIn")
        .flatMap((r) => r.values);
      const what =
        excluded.length === 0
          ? "selects every namespace"
          : `selects every namespace except ${excluded.join(", ")}`;
      findings.push(
        policyFinding(
          policy,
          `${peer.path}.namespaceSelector`,
          `${what}, including namespaces created later`,
          `select the namespaces by name (matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [...]}]), or add {namespace: ${policy.namespace}, name: ${policy.ref.name}, reason: ...} to this policy's exemptions`,
        ),
      );
    }
    return findings;
  },
});
