/**
 * npm run observe -- FILE --stack NAME [--stack-dir DIR] [--format goldmane|hubble|csv]
 * Judges observed flows (Goldmane/Whisker JSON, hubble observe -o json, or CSV) against the
 * stack's plan: allowed (by which declared flow or pattern), denied (at which gate and rule, with a
 * suggested flow), and for staged input whether the logged pending verdict agrees with the engine.
 */
import { addFlowLogOptions, type FlowLogFlags, judgeFlowLog } from "./lib/flow-log";
import { EXIT_NEGATIVE, EXIT_OK, EXIT_USAGE, main, program, runProgram } from "./lib/program";
import { renderObserveReport } from "../observe/report";

async function observe(file: string, flags: FlowLogFlags): Promise<number> {
  const { log, context, result, timing } = await judgeFlowLog(file, flags);
  process.stdout.write(renderObserveReport(result, context.config, file));
  process.stderr.write(
    `read ${log.flows.length} flow record(s) (${log.format}${log.skipped ? `, ${log.skipped} skipped: replies and non-flow events` : ""}); ` +
      `timing: read ${timing.read.toFixed(1)} ms, plan rendered and modelled ${timing.plan.toFixed(1)} ms, ` +
      `${result.judgements.length} distinct flow(s) judged in ${timing.judge.toFixed(1)} ms\n`,
  );
  const unjudgeable = result.judgements.filter((j) => j.verdict === "unjudgeable").length;
  if (unjudgeable > 0) {
    // Input that cannot be judged is a user error; the report above locates each record.
    process.stderr.write(
      `observe: ${unjudgeable} flow(s) cannot be judged (listed in the report with their records)\n`,
    );
    return EXIT_USAGE;
  }
  const disagree = result.judgements.some((j) => j.pending.some((p) => !p.agrees));
  return result.judgements.some((j) => j.verdict === "denied") || disagree
    ? EXIT_NEGATIVE
    : EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "observe",
    description:
      "Judge observed flows against a stack's plan: allowed and by what, denied and where, and whether a logged pending (staged) verdict agrees with the engine's.",
    exitCodes: [
      { code: EXIT_OK, meaning: "every observed flow is allowed by the plan" },
      {
        code: EXIT_NEGATIVE,
        meaning:
          "some observed flow is denied, or a logged pending verdict disagrees with the engine",
      },
    ],
    examples: ["npm run observe -- flows.json --stack homelab"],
  }).usage("FILE --stack NAME [options]");
  addFlowLogOptions(command, "stack whose plan judges the flows (Pulumi.NAME.yaml)");
  return runProgram(command, argv, (c) => {
    const [file] = c.processedArgs as [string];
    return observe(file, c.opts<FlowLogFlags>());
  });
}

main(module, run);
