/**
 * The `rollout` setting: `enforced` (the default) renders a namespace's objects as the enforcing
 * kinds; `staged` renders each of them as its Calico staged kind, which Felix evaluates and reports
 * ("pending" verdicts in Goldmane/Whisker flow logs) but never enforces. It is set stack-wide
 * (`zt-netpol:rollout`) and per namespace (`namespaces[i].rollout`, which wins).
 */
export type Rollout = "staged" | "enforced";

export const ROLLOUTS: readonly Rollout[] = ["staged", "enforced"];

/** The problem with a raw `rollout` value, or undefined when it is absent or valid. */
export function rolloutProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && (ROLLOUTS as readonly string[]).includes(value))
    return undefined;
  return `must be "staged" or "enforced", got ${JSON.stringify(value)}`;
}

/** The effective rollout of one namespace: its own setting, else the stack's, else enforced. */
export function effectiveRollout(namespaceValue: unknown, stackValue: unknown): Rollout {
  if (namespaceValue === "staged" || namespaceValue === "enforced") return namespaceValue;
  if (stackValue === "staged" || stackValue === "enforced") return stackValue;
  return "enforced";
}

/** True when the namespace renders staged objects (`rollout` absent means enforced). */
export function isStaged(namespace: { readonly rollout?: Rollout }): boolean {
  return namespace.rollout === "staged";
}
