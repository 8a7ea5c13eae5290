/**
 * npm run learn -- FILE --stack NAME [--stack-dir DIR] [--format F] [--dry-run]
 * Turns the observed-but-denied flows of FILE into declared flows in Pulumi.NAME.yaml (comments and
 * layout kept), folded to workload or namespace level; DNS, API, scrapes and the mesh are left to
 * the universal patterns and printed as advice. Idempotent: a second run adds nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command, CommanderError } from "commander";
import { loadStackConfig, PROJECT_ROOT, stackFilePath } from "../config/load";
import { stackContext } from "../observe/context";
import { readFlowFile, type FlowFormat } from "../observe/flows";
import { judgeFlows } from "../observe/judge";
import { addFlowsToText, planLearning } from "../observe/learn";
import { flowYaml } from "../observe/report";

const EXIT_CODES = `
Exit codes:
  0  done: every observed-but-denied flow is now declared (or none was denied)
  2  flows added where possible, but some denied flows need a config decision (printed: declare a
     namespace, kubeApi, metricsPorts, meshed, ICMP); nothing invalid is ever written
  1  bad input: unreadable file or stack, flows that cannot be judged`;

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("learn")
    .description("Write observed-but-denied flows into the stack file as declared flows")
    .argument("<file>", "flow log: Goldmane/Whisker JSON, hubble observe -o json, or CSV")
    .requiredOption("--stack <name>", "stack whose Pulumi.<stack>.yaml gets the flows")
    .option("--stack-dir <dir>", "directory holding Pulumi.<stack>.yaml", PROJECT_ROOT)
    .option("--format <format>", "goldmane, hubble or csv (default: detected)")
    .option("--dry-run", "print the flows instead of writing them")
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
  const options = program.opts<{
    stack: string;
    stackDir: string;
    format?: string;
    dryRun?: boolean;
  }>();
  try {
    if (options.format && !["goldmane", "hubble", "csv"].includes(options.format))
      throw new Error(`--format must be goldmane, hubble or csv, got ${options.format}`);
    const log = readFlowFile(file, options.format as FlowFormat | undefined);
    const context = await stackContext(options.stack, options.stackDir);
    const result = judgeFlows(log.flows, context);
    const unjudgeable = result.judgements.filter((j) => j.verdict === "unjudgeable");
    if (unjudgeable.length > 0)
      throw new Error(
        `cannot judge ${unjudgeable.length} flow(s), so cannot learn safely:\n` +
          unjudgeable.map((j) => `  - ${j.group.records[0].where}: ${j.reason}`).join("\n"),
      );
    const plan = planLearning(result.judgements, context.config, file);
    const notLearned = [...plan.advice, ...plan.skipped];
    for (const a of notLearned) process.stdout.write(`not learned: ${a.flow}: ${a.advice}\n`);
    const done = notLearned.length === 0 ? 0 : 2;
    if (plan.flows.length === 0) {
      process.stdout.write(
        notLearned.length === 0
          ? "nothing to learn: every observed flow is allowed\n"
          : "no flow to add: the flows above need a config decision\n",
      );
      return done;
    }
    const yaml = plan.flows.map(flowYaml).join("\n");
    if (options.dryRun) {
      process.stdout.write(`${yaml}\n`);
      return done;
    }
    const target = stackFilePath(options.stack, options.stackDir);
    const learned = addFlowsToText(fs.readFileSync(target, "utf8"), plan.flows);
    // Fail closed: the file is only written when the learned config validates.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "zt-learn-"));
    try {
      fs.writeFileSync(stackFilePath(options.stack, scratch), learned);
      loadStackConfig(options.stack, scratch);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    fs.writeFileSync(target, learned);
    process.stdout.write(`added ${plan.flows.length} flow(s) to ${target}:\n${yaml}\n`);
    return done;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
