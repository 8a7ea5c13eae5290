/**
 * The input of the plain-YAML cross-object checks (missing-corners, unnamed-connections): the
 * policies and Namespaces of `npm run check`, as the engine reads them, with their locations.
 * Undefined for a stack (declared-connectivity judges stacks) or an input without policies.
 */
import type { SourcedObject } from "../../engine";
import type { StackSubject } from "./policy";
import { CALICO_TIER_TYPE, K8S_NAMESPACE_TYPE, manifestOf, POLICY_TYPES } from "./reading";
import { CLUSTER_PROTECTION_TYPE } from "./stack";

export interface PlainInput {
  readonly objects: SourcedObject[];
  /** The policy resource read from `source` (a file#doc location), for a finding's URN. */
  readonly urnOf: (source: string | undefined) => string | undefined;
  /** `file#doc` of a resource, as `npm run check` names it. */
  readonly sourceOf: (resourceName: string) => string;
}

export function plainInput(resources: readonly StackSubject[]): PlainInput | undefined {
  if (resources.some((r) => r.type === CLUSTER_PROTECTION_TYPE)) return undefined;
  const policies = resources.filter((r) => POLICY_TYPES.includes(r.type));
  if (policies.length === 0) return undefined;
  const sourceOf = (name: string): string => name.slice(name.lastIndexOf(" @ ") + 3);
  // The Namespaces too: a namespace the input declares is known to exist; and the Tiers, which
  // order the policies.
  const objects = resources
    .filter(
      (r) =>
        POLICY_TYPES.includes(r.type) ||
        r.type === K8S_NAMESPACE_TYPE ||
        r.type === CALICO_TIER_TYPE,
    )
    .map((r) => ({ object: manifestOf(r.type, r.props), source: sourceOf(r.name) }));
  const urns = new Map(policies.map((r) => [sourceOf(r.name), r.urn]));
  return { objects, urnOf: (s) => (s === undefined ? undefined : urns.get(s)), sourceOf };
}
