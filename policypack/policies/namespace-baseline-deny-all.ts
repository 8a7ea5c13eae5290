/**
 * Policy 1: each protected namespace has a baseline NetworkPolicy that selects every pod
 * (`podSelector: {}`) and governs both directions (`policyTypes: [Ingress, Egress]`), which makes
 * everything not allowed by some policy denied (Kubernetes NetworkPolicy reference, "Default
 * policies"). Protected namespaces come from the stack (ClusterProtection, NamespaceProtection),
 * or from the `protectedNamespaces` fact for plain YAML.
 */
import { type Finding, stackPolicy } from "../lib/policy";
import { baselineDefects, isBaseline, netpolsIn, readStack, selectsEveryPod } from "../lib/stack";
import { inScope, PARTIAL_INPUT_SCHEMA } from "./partial-input";

export const namespaceBaselineDenyAll = stackPolicy({
  name: "namespace-baseline-deny-all",
  description:
    "Each protected namespace has a baseline NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] (default deny both ways).",
  enforcementLevel: "mandatory",
  prevents:
    "Pods that are open in one direction because nothing selects them: without a deny-all baseline a new pod, or egress of an existing one, is allowed everything.",
  facts: ["protectedNamespaces"],
  properties: { partialInput: PARTIAL_INPUT_SCHEMA },
  check(resources, { facts, config }) {
    const view = readStack(resources, facts, "namespace-baseline-deny-all");
    const findings: Finding[] = [...view.problems];
    for (const ns of [...view.protectedNamespaces].sort()) {
      if (!inScope(view, config, ns)) continue;
      const entries = netpolsIn(view, ns);
      if (entries.some((e) => isBaseline(e.policy))) continue;
      const expected = `${ns}-network-policy`;
      const candidate =
        entries.find((e) => e.policy.ref.name === expected) ??
        entries.find((e) => selectsEveryPod(e.policy));
      const why = candidate
        ? `; ${candidate.policy.namespace}/${candidate.policy.ref.name}: ${baselineDefects(candidate.policy).join("; ")}`
        : entries.length === 0
          ? "; it has no NetworkPolicy at all"
          : "";
      findings.push({
        message: `protected namespace ${ns} has no baseline NetworkPolicy selecting every pod and denying both directions${why}`,
        fix: `give ${candidate?.policy.ref.name ?? expected} spec.podSelector: {} and spec.policyTypes: [Ingress, Egress]`,
        namespace: ns,
        objectName: candidate?.policy.ref.name,
        urn: candidate?.urn ?? view.declaredNamespaces.get(ns),
      });
    }
    return findings;
  },
});
