/**
 * Policy 13: every namespace in the stack has exactly one baseline.
 *
 * "In the stack" means: every NamespaceProtection, every Namespace resource, every namespace
 * that has a NetworkPolicy, and every namespace a rule selects by name. A namespace that rules
 * point at but that has no baseline is an unprotected neighbour; two baselines mean two places to
 * edit the namespace-wide rules, and the union of both is what applies. Stacks only: plain YAML
 * splits its defaults as it likes (namespace-baseline-deny-all judges isolation there).
 */
import { type Finding, stackPolicy } from "../lib/policy";
import { NAMESPACE_NAME_LABEL, namespaceLabels, writtenPeers } from "../lib/rules";
import { isBaseline, netpolsIn, readStack } from "../lib/stack";
import { inScope, PARTIAL_INPUT_SCHEMA } from "./partial-input";

export const oneBaselinePerNamespace = stackPolicy({
  name: "one-baseline-per-namespace",
  description:
    "Stacks: every namespace in the stack (NamespaceProtections, Namespace resources, namespaces selected by name) has exactly one baseline NetworkPolicy.",
  enforcementLevel: "mandatory",
  prevents:
    "A flow into a namespace nobody protects, and drift between two baselines of one namespace whose union silently widens access.",
  facts: ["protectedNamespaces"],
  properties: { partialInput: PARTIAL_INPUT_SCHEMA },
  check(resources, { facts, config, plainYaml }) {
    // A rule about this program's output (one object per namespace carries the namespace-wide
    // allows); plain YAML is judged on isolation by namespace-baseline-deny-all instead.
    if (plainYaml) return [];
    const view = readStack(resources, facts, "one-baseline-per-namespace");
    const findings: Finding[] = [...view.problems];
    /** Namespace → why it counts as part of the stack. */
    const reasons = new Map<string, string>();
    const note = (ns: string, why: string): void => {
      if (!reasons.has(ns)) reasons.set(ns, why);
    };
    for (const [ns] of view.declaredNamespaces) note(ns, "the stack declares it");
    if (view.factsFromStack)
      view.facts.protectedNamespaces.forEach((ns) => note(ns, "the stack protects it"));
    for (const { policy } of view.netpols) {
      const own = policy.namespace ?? "";
      note(own, `NetworkPolicy ${own}/${policy.ref.name} lives there`);
      for (const { peer } of writtenPeers(policy)) {
        if (peer.kind !== "pods" || !peer.namespaceSelector) continue;
        const selector = peer.namespaceSelector;
        // The names the selector mentions on the name label, kept when it picks them by name alone.
        const named = selector.requirements
          .filter((r) => r.key === NAMESPACE_NAME_LABEL && r.operator === "In")
          .flatMap((r) => r.values);
        for (const ns of new Set(named))
          if (selector.matches(namespaceLabels(ns)))
            note(ns, `${own}/${policy.ref.name} ${peer.path} selects it by name`);
      }
    }
    for (const [ns, why] of [...reasons].sort(([a], [b]) => a.localeCompare(b))) {
      if (!inScope(view, config, ns)) continue;
      const baselines = netpolsIn(view, ns).filter((e) => isBaseline(e.policy));
      if (baselines.length === 1) continue;
      if (baselines.length === 0) {
        findings.push({
          message: `namespace ${ns} is part of the stack (${why}) but has no baseline NetworkPolicy (podSelector: {}, policyTypes [Ingress, Egress])`,
          fix: `protect ${ns}: add it to the stack's namespaces so it gets ${ns}-network-policy, or stop selecting it`,
          namespace: ns,
          urn: view.declaredNamespaces.get(ns),
        });
      } else {
        findings.push({
          message: `namespace ${ns} has ${baselines.length} baselines (${baselines.map((b) => b.policy.ref.name).join(", ")}); their union applies`,
          fix: `keep one baseline, ${ns}-network-policy, and move the other rules into it or into pod-scoped policies`,
          namespace: ns,
          objectName: baselines[1].policy.ref.name,
          urn: baselines[1].urn,
        });
      }
    }
    return findings;
  },
});
