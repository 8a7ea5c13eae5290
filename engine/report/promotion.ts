/**
 * Staged rollout reports: a flow's verdict enforced now and after promotion, and exactly what
 * promotion would close (connections allowed now that promotion removes or narrows).
 */
import * as conn from "../model/connections";
import { hasStagedPolicies, promotedModel } from "../evaluate/promote";
import type { ClusterModel } from "../model/types";
import type { ConnectionChange } from "./diff";
import { diffModels } from "./diff";
import type { FlowExplanation, FlowQuery } from "./explain";
import { explainFlow } from "./explain";

export interface PromotionExplanation {
  readonly now: FlowExplanation;
  /** Absent when the model holds no staged policy (promotion changes nothing). */
  readonly afterPromotion?: FlowExplanation;
  readonly text: string;
}

export function explainWithPromotion(model: ClusterModel, query: FlowQuery): PromotionExplanation {
  const now = explainFlow(model, query);
  if (!hasStagedPolicies(model)) return { now, text: now.text };
  const afterPromotion = explainFlow(promotedModel(model), query);
  const staged = model.stagedPolicies!.length;
  const text =
    `Enforced now: ${now.verdict.toUpperCase()}; after promotion of ${staged} staged ` +
    `polic${staged === 1 ? "y" : "ies"}: ${afterPromotion.verdict.toUpperCase()}\n\n` +
    `== Enforced now ==\n${now.text}\n== After promotion ==\n${afterPromotion.text}`;
  return { now, afterPromotion, text };
}

/** What promotion closes: every connection that loses ports, with the part it loses. */
export function promotionCloses(
  model: ClusterModel,
  granularity: "namespace" | "workload" = "namespace",
): ConnectionChange[] {
  return diffModels(model, promotedModel(model), granularity).filter(
    (c) => !conn.isEmptyConnections(conn.subtractConnections(c.before, c.after)),
  );
}

export function renderPromotionCloses(changes: readonly ConnectionChange[]): string {
  if (changes.length === 0) return "Promotion closes nothing that is allowed now.\n";
  const lines = [`Promotion closes ${changes.length} connection(s) allowed now:`];
  for (const c of changes) {
    const lost = conn.subtractConnections(c.before, c.after);
    const kept = conn.intersectConnections(c.before, c.after);
    const all = conn.isEmptyConnections(kept);
    lines.push(
      `  ${c.from} -> ${c.to}: ${all ? "closed entirely" : "loses"} ${conn.formatConnections(lost)}` +
        (all ? "" : ` (keeps ${conn.formatConnections(kept)})`),
    );
  }
  return `${lines.join("\n")}\n`;
}
