/**
 * Two views of a model with staged policies (engine/normalise/staged.ts), each a plain
 * ClusterModel every evaluator and report accepts:
 *
 * - `promotedModel`: the cluster after promotion. Each `Set` staged policy becomes the enforced
 *   policy of its kind, namespace and name (creating it or replacing one of that name); each
 *   `Delete` removes the enforced policy of that name. This is what `rollout: enforced` renders.
 * - `pendingModel`: Felix's "pending" verdict as Goldmane/Whisker report it: staged policies are
 *   evaluated as though enforced, in tier order beside the enforced ones, with nothing replaced
 *   (`checker.Evaluate(StagedAsEnforced, …)` in projectcalico/calico `app-policy/checker/check.go`);
 *   `Delete` policies never reach Felix (the syncer's staged update processors drop them).
 *
 * The enforced verdict is the model itself: staged policies are never in `model.policies`.
 */
import { comparePolicies } from "../model/build";
import type { ClusterModel, NormalPolicy } from "../model/types";

function identity(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}|${namespace ?? ""}|${name}`;
}

/** A staged policy as the enforced policy its promotion creates (other policies unchanged). */
export function asEnforced(policy: NormalPolicy): NormalPolicy {
  if (!policy.staged) return policy;
  const { staged, ...rest } = policy;
  return { ...rest, ref: { ...policy.ref, kind: staged.enforcedKind } };
}

export function hasStagedPolicies(model: ClusterModel): boolean {
  return (model.stagedPolicies ?? []).length > 0;
}

/** The model after every staged policy is promoted (Set creates/replaces, Delete removes). */
export function promotedModel(model: ClusterModel): ClusterModel {
  const staged = model.stagedPolicies ?? [];
  if (staged.length === 0) return model;
  const replaced = new Set(
    staged.map((p) => identity(p.staged!.enforcedKind, p.namespace, p.ref.name)),
  );
  const kept = model.policies.filter(
    (p) => !replaced.has(identity(p.ref.kind, p.namespace, p.ref.name)),
  );
  const promoted = staged.filter((p) => p.staged!.action === "Set").map(asEnforced);
  return { ...model, policies: [...kept, ...promoted].sort(comparePolicies), stagedPolicies: [] };
}

/** The model Felix evaluates for flow logs' pending verdict: staged Set policies beside enforced. */
export function pendingModel(model: ClusterModel): ClusterModel {
  const staged = (model.stagedPolicies ?? []).filter((p) => p.staged!.action === "Set");
  if (staged.length === 0) return model;
  return {
    ...model,
    policies: [...model.policies, ...staged.map(asEnforced)].sort(comparePolicies),
    stagedPolicies: [],
  };
}
