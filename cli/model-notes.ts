/** What the engine skipped or doubts, printed by every CLI that shows verdicts: nothing silent. */
import type { ClusterModel } from "../engine";
import { UsageError } from "./lib/program";

export function modelNotes(model: ClusterModel, label = ""): string {
  const prefix = label ? `${label}: ` : "";
  const lines = model.warnings.map((w) => `${prefix}warning: ${w}`);
  if (model.ignored.length > 0) {
    const kinds = new Map<string, number>();
    for (const o of model.ignored)
      kinds.set(`${o.apiVersion}/${o.kind}`, (kinds.get(`${o.apiVersion}/${o.kind}`) ?? 0) + 1);
    const summary = [...kinds].map(([k, n]) => `${n} ${k}`).join(", ");
    lines.push(`${prefix}ignored (no effect on traffic as modelled): ${summary}`);
  }
  const staged = model.stagedPolicies ?? [];
  if (staged.length > 0)
    lines.push(
      `${prefix}${staged.length} staged polic${staged.length === 1 ? "y" : "ies"}: evaluated by Calico, never enforced (verdicts are the enforced ones unless stated)`,
    );
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/** Fails when an input has nothing to judge: a wrong path must not read as "allowed". */
export function requirePolicies(model: ClusterModel, what: string): void {
  if (model.policies.length === 0 && (model.stagedPolicies ?? []).length === 0) {
    throw new UsageError(
      `${what} holds no NetworkPolicy or Calico policy: nothing to evaluate (wrong path?)`,
    );
  }
}
