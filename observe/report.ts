/** The observe report: per distinct flow, then the three-part summary. */
import { describeEnd, type Judgement, type ObserveResult } from "./judge";
import { entryText, planLearning, type ProposedFlow } from "./learn";
import type { StackConfig } from "../config/types";

function because(j: Judgement): string {
  if (j.because.length === 0)
    return "no declared connection covers it exactly (allowed through another rule, e.g. HBONE)";
  return j.because
    .map((c) => `${c.kind === "flow" ? "flow" : `pattern ${c.kind}`} ${c.name}`)
    .join(", ");
}

export function flowYaml(flow: ProposedFlow): string {
  return entryText(flow);
}

export function renderObserveReport(
  result: ObserveResult,
  config: StackConfig,
  file: string,
): string {
  const allowed = result.judgements.filter((j) => j.verdict === "allowed");
  const denied = result.judgements.filter((j) => j.verdict === "denied");
  const unjudgeable = result.judgements.filter((j) => j.verdict === "unjudgeable");
  const out: string[] = [];
  out.push(
    `Distinct flows: ${result.judgements.length} (${result.judgements.reduce((n, j) => n + j.group.count, 0)} observations)`,
  );
  for (const j of result.judgements) {
    out.push("");
    out.push(`${j.verdict.toUpperCase()}  ${j.group.key}  x${j.group.count}`);
    if (j.verdict === "allowed") out.push(`  by ${because(j)}`);
    if (j.verdict === "denied") out.push(`  at ${j.gate ?? "(unknown corner)"}`);
    if (j.verdict === "unjudgeable") out.push(`  cannot judge: ${j.reason}`);
    for (const p of j.pending)
      out.push(
        `  pending (${p.reporter}, ${p.where}): log ${p.log}, engine ${p.engine}${p.agrees ? " - agree" : " - DISAGREE"}`,
      );
  }
  const plan = planLearning(result.judgements, config, file);
  out.push("", "== Summary ==");
  out.push(`Observed and allowed: ${allowed.length}`);
  out.push(`Observed and denied: ${denied.length}`);
  for (const f of plan.flows) out.push(flowYaml(f).replace(/^/gm, "    "));
  for (const a of [...plan.advice, ...plan.skipped]) out.push(`    ${a.flow}: ${a.advice}`);
  out.push(
    `Declared but never observed: ${result.neverObserved.length}${result.neverObserved.length ? " (candidates to remove)" : ""}`,
  );
  for (const c of result.neverObserved)
    out.push(`    flow ${c.name}: ${describeEndpoint(c.from)} -> ${describeEndpoint(c.to)}`);
  const disagreements = result.judgements.flatMap((j) => j.pending.filter((p) => !p.agrees));
  if (result.judgements.some((j) => j.pending.length > 0))
    out.push(`Pending verdicts: ${disagreements.length} disagree with the engine`);
  if (unjudgeable.length > 0) out.push(`Cannot judge: ${unjudgeable.length} (listed above)`);
  return `${out.join("\n")}\n`;
}

function describeEndpoint(end: {
  kind: string;
  namespace?: string;
  podLabels?: Record<string, string>;
  cidr?: string;
}): string {
  if (end.kind === "workload")
    return describeEnd({
      kind: "workload",
      namespace: end.namespace ?? "",
      labels: end.podLabels ?? {},
    });
  return end.cidr ?? "";
}
