/**
 * npm run observe -- FILE --stack NAME [--stack-dir DIR] [--format goldmane|hubble|csv]
 * Judges observed flows (Goldmane/Whisker JSON, hubble observe -o json, or CSV) against the
 * stack's plan. Exit 0 when every observed flow is allowed, 2 when some are denied (or a pending
 * verdict disagrees), 1 on unreadable input or flows that cannot be judged.
 */
import { Command, CommanderError } from "commander";
import { PROJECT_ROOT } from "../config/load";
import { readFlowFile, type FlowFormat } from "../observe/flows";
import { stackContext } from "../observe/context";
import { judgeFlows } from "../observe/judge";
import { renderObserveReport } from "../observe/report";

const EXIT_CODES = `
Exit codes:
  0  every observed flow is allowed by the plan
  2  some observed flow is denied, or a logged pending verdict disagrees with the engine
  1  bad input: unreadable file, unknown format, flows that cannot be judged, invalid stack`;

const ms = (nanoseconds: bigint): string => (Number(nanoseconds) / 1e6).toFixed(1);

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("observe")
    .description("Judge observed flows against a stack's plan")
    .argument("<file>", "flow log: Goldmane/Whisker JSON, hubble observe -o json, or CSV")
    .requiredOption("--stack <name>", "stack whose plan judges the flows")
    .option("--stack-dir <dir>", "directory holding Pulumi.<stack>.yaml", PROJECT_ROOT)
    .option("--format <format>", "goldmane, hubble or csv (default: detected)")
    .addHelpText("after", EXIT_CODES)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    throw error;
  }
  const [file] = program.args;
  const options = program.opts<{ stack: string; stackDir: string; format?: string }>();
  try {
    if (options.format && !["goldmane", "hubble", "csv"].includes(options.format))
      throw new Error(`--format must be goldmane, hubble or csv, got ${options.format}`);
    const started = process.hrtime.bigint();
    const log = readFlowFile(file, options.format as FlowFormat | undefined);
    const readAt = process.hrtime.bigint();
    const context = await stackContext(options.stack, options.stackDir);
    const judgedAt = process.hrtime.bigint();
    const result = judgeFlows(log.flows, context);
    const done = process.hrtime.bigint();
    process.stdout.write(renderObserveReport(result, context.config, file));
    process.stderr.write(
      `read ${log.flows.length} flow record(s) (${log.format}${log.skipped ? `, ${log.skipped} skipped: replies and non-flow events` : ""}); ` +
        `timing: read ${ms(readAt - started)} ms, plan rendered and modelled ${ms(judgedAt - readAt)} ms, ` +
        `${result.judgements.length} distinct flow(s) judged in ${ms(done - judgedAt)} ms\n`,
    );
    if (result.judgements.some((j) => j.verdict === "unjudgeable")) return 1;
    const disagree = result.judgements.some((j) => j.pending.some((p) => !p.agrees));
    return result.judgements.some((j) => j.verdict === "denied") || disagree ? 2 : 0;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
