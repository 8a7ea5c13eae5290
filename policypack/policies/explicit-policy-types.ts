/**
 * Policy 2: every NetworkPolicy states `policyTypes`.
 *
 * Without the field the API server assumes Ingress, and Egress only when the object has egress
 * rules (Kubernetes NetworkPolicy reference, "policyTypes"). A policy meant as "egress default
 * deny" with no egress rules then denies no egress at all, silently. Rules for a direction the
 * types leave out are ignored just as silently.
 */
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";

export const explicitPolicyTypes = resourcePolicy({
  name: "explicit-policy-types",
  description:
    "Every NetworkPolicy states spec.policyTypes explicitly and governs every direction it has rules for.",
  enforcementLevel: "mandatory",
  prevents:
    "An egress default-deny that denies nothing: without policyTypes the API server leaves egress open when there are no egress rules, and ignores rules for unlisted directions.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    // The written form is the point here: read by the engine, judged as written.
    const policy = readPolicy(subject.type, subject.props);
    const findings: Finding[] = [];
    const types = policy.written.types ?? [];
    const counts = policy.written.ruleCounts;
    if (types.length === 0) {
      findings.push(
        policyFinding(
          policy,
          "spec.policyTypes",
          `is not set, so the API server assumes [${counts.egress > 0 ? "Ingress, Egress" : "Ingress"}] and egress is ${counts.egress > 0 ? "governed only by accident" : "not governed at all"}`,
          counts.egress > 0
            ? "set spec.policyTypes: [Ingress, Egress] (or exactly the directions this policy governs)"
            : "set spec.policyTypes: [Ingress] (what the API server assumes now); to deny egress too, add Egress only together with the egress allows its pods need, DNS at least (UDP and TCP 53 to the DNS pods): Egress without egress rules denies all egress",
        ),
      );
      return findings;
    }
    for (const direction of ["Ingress", "Egress"] as const) {
      const rules = direction === "Ingress" ? counts.ingress : counts.egress;
      if (rules > 0 && !types.includes(direction)) {
        findings.push(
          policyFinding(
            policy,
            "spec.policyTypes",
            `lacks ${direction} although spec.${direction.toLowerCase()} has ${rules} rule(s): they are ignored and ${direction.toLowerCase()} is not restricted by this policy`,
            `add ${direction} to spec.policyTypes`,
          ),
        );
      }
    }
    return findings;
  },
});
