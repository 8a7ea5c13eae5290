/**
 * Cross-object check: an Allow or Pass rule that never decides, because something earlier in
 * Calico order decides every packet it matches (the engine's `shadowedRules`,
 * engine/report/queries.ts): an earlier Deny of the same tier that covers its endpoints, peers
 * and ports, or an earlier tier that applies to all its endpoints, passes nothing and ends with
 * Deny. The rule reads as an allow, so whoever reads the tree believes the traffic flows; it
 * does not.
 *
 * Plain YAML only, advisory: without declared intent a wanted flow cannot be told from a
 * leftover rule. A stack is judged by declared-connectivity instead: a declared flow whose only
 * allow is shadowed is denied, which it reports as mandatory.
 */
import { buildModel, ManifestError, shadowedRules, type ShadowedRule } from "../../engine";
import { describePolicy } from "../lib/findings";
import { CLUSTER_PROTECTION_TYPE } from "../lib/stack";
import { type Finding, stackPolicy } from "../lib/policy";
import { CALICO_TIER_TYPE, K8S_NAMESPACE_TYPE, manifestOf, POLICY_TYPES } from "../lib/reading";

export const SHADOWED_RULES = "shadowed-rules";

function orderOf(order: number): string {
  return Number.isFinite(order) ? `order ${order}` : "no order";
}

function findingOf(shadow: ShadowedRule, urnOf: (source?: string) => string | undefined): Finding {
  const { policy, rule, direction, shadowedBy: by } = shadow;
  const where = `${describePolicy(policy)} ${rule.path}${policy.source ? ` (${policy.source})` : ""}`;
  const base = {
    namespace: policy.namespace,
    objectName: policy.ref.name,
    urn: urnOf(policy.source),
  };
  if (by.kind === "rule") {
    const deny = `${describePolicy(by.policy)} ${by.rule.path}`;
    const same = by.policy === policy;
    return {
      ...base,
      message: `${where}: this ${rule.action} ${direction} rule never decides: ${same ? `the earlier Deny ${by.rule.path}` : `${deny} (Deny, ${orderOf(by.policy.order)}, before this policy's ${orderOf(policy.order)} in tier ${shadow.tier})`} matches every packet it matches first`,
      fix: same
        ? `move the ${rule.action} rule before ${by.rule.path} in spec.${direction}, or remove it if the traffic is not wanted`
        : `give ${describePolicy(by.policy)} a higher spec.order than this policy (${orderOf(policy.order)}), narrow its Deny so it leaves this rule's peers and ports out, or remove this rule if the traffic is not wanted`,
    };
  }
  const policies = by.policies.map(describePolicy).join(", ");
  return {
    ...base,
    message: `${where}: this ${rule.action} ${direction} rule never decides: tier ${by.tier} comes first, applies to every endpoint it is for (${policies}), passes nothing and ends with Deny, so its packets never reach tier ${shadow.tier}`,
    fix: `add a Pass-only catch-all at the end of tier ${by.tier}: a GlobalNetworkPolicy with spec.tier: ${by.tier}, a spec.order above the tier's other policies, no spec.selector, and ${direction}: [{action: Pass}] (or a Pass rule for this traffic in tier ${by.tier})`,
  };
}

export const shadowedRulesPolicy = stackPolicy({
  name: SHADOWED_RULES,
  description:
    "No Allow or Pass rule is shadowed in Calico order: by an earlier Deny of its tier that matches all it matches, or by an earlier tier that passes nothing.",
  enforcementLevel: "advisory",
  prevents:
    "A rule that reads as an allow but never fires (a security tier without a Pass catch-all, a Deny ordered before the exception it was meant to leave open): the traffic it was written for is dropped.",
  check(resources) {
    // Stacks: declared-connectivity judges the rendered policies against the declared flows.
    if (resources.some((r) => r.type === CLUSTER_PROTECTION_TYPE)) return [];
    const read = resources.filter(
      (r) =>
        POLICY_TYPES.includes(r.type) ||
        r.type === K8S_NAMESPACE_TYPE ||
        r.type === CALICO_TIER_TYPE,
    );
    if (!read.some((r) => POLICY_TYPES.includes(r.type))) return [];
    const sourceOf = (name: string): string => name.slice(name.lastIndexOf(" @ ") + 3);
    const objects = read.map((r) => ({
      object: manifestOf(r.type, r.props),
      source: sourceOf(r.name),
    }));
    const urns = new Map(read.map((r) => [sourceOf(r.name), r.urn]));
    try {
      return shadowedRules(buildModel(objects)).map((shadow) =>
        findingOf(shadow, (source) => (source === undefined ? undefined : urns.get(source))),
      );
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [
        {
          message: `cannot verify ${SHADOWED_RULES} because the policies cannot be modelled: ${error.message}`,
          fix: "fix the objects named above; the connectivity engine refuses what it cannot read",
        },
      ];
    }
  },
});
