/**
 * npm run learn -- FILE --stack NAME [--stack-dir DIR] [--format F] [--dry-run]
 * Turns the observed-but-denied flows of FILE into declared flows in Pulumi.NAME.yaml (comments and
 * layout kept), folded to workload or namespace level; DNS, API, scrapes and the mesh are left to
 * the universal patterns and printed as advice. Idempotent: a second run adds nothing.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Option } from "commander";
import { loadStackConfig, PROJECT_ROOT, stackFilePath } from "../config/load";
import { UnjudgeableError } from "../observe/judge";
import { addFlowsToText, planLearning } from "../observe/learn";
import { flowYaml } from "../observe/report";
import { addFlowLogOptions, type FlowLogFlags, judgeFlowLog } from "./lib/flow-log";
import { EXIT_NEGATIVE, EXIT_OK, main, program, runProgram } from "./lib/program";

interface LearnFlags extends FlowLogFlags {
  readonly dryRun?: boolean;
}

async function learn(file: string, flags: LearnFlags): Promise<number> {
  const stackDir = flags.stackDir ?? PROJECT_ROOT;
  const { context, result } = await judgeFlowLog(file, flags);
  const unjudgeable = result.judgements.filter((j) => j.verdict === "unjudgeable");
  if (unjudgeable.length > 0)
    throw new UnjudgeableError(
      `cannot judge ${unjudgeable.length} flow(s), so cannot learn safely:\n` +
        unjudgeable.map((j) => `  - ${j.group.records[0].where}: ${j.reason}`).join("\n"),
    );
  const plan = planLearning(result.judgements, context.config, file);
  const notLearned = [...plan.advice, ...plan.skipped];
  for (const a of notLearned) process.stdout.write(`not learned: ${a.flow}: ${a.advice}\n`);
  const done = notLearned.length === 0 ? EXIT_OK : EXIT_NEGATIVE;
  if (plan.flows.length === 0) {
    process.stdout.write(
      notLearned.length === 0
        ? "nothing to learn: every observed flow is allowed\n"
        : "no flow to add: the flows above need a config decision\n",
    );
    return done;
  }
  const yaml = plan.flows.map(flowYaml).join("\n");
  if (flags.dryRun) {
    process.stdout.write(`${yaml}\n`);
    return done;
  }
  const target = stackFilePath(flags.stack, stackDir);
  const learned = addFlowsToText(fs.readFileSync(target, "utf8"), plan.flows);
  // Fail closed: the file is only written when the learned config validates.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "zt-learn-"));
  try {
    fs.writeFileSync(stackFilePath(flags.stack, scratch), learned);
    loadStackConfig(flags.stack, scratch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  fs.writeFileSync(target, learned);
  process.stdout.write(`added ${plan.flows.length} flow(s) to ${target}:\n${yaml}\n`);
  return done;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "learn",
    description:
      "Write the observed-but-denied flows of a flow log into Pulumi.NAME.yaml as declared flows (validated before writing; idempotent).",
    exitCodes: [
      {
        code: EXIT_OK,
        meaning: "done: every observed-but-denied flow is now declared (or none was denied)",
      },
      {
        code: EXIT_NEGATIVE,
        meaning:
          "flows added where possible, but some denied flows need a config decision (printed: declare a namespace, kubeApi, metricsPorts, meshed, ICMP); nothing invalid is ever written",
      },
    ],
    examples: [
      "npm run learn -- flows.json --stack homelab --dry-run",
      "npm run learn -- flows.json --stack homelab",
    ],
  }).usage("FILE --stack NAME [options]");
  addFlowLogOptions(command, "stack whose Pulumi.NAME.yaml gets the flows");
  command.addOption(new Option("--dry-run", "print the flows instead of writing them"));
  return runProgram(command, argv, (c) => {
    const [file] = c.processedArgs as [string];
    return learn(file, c.opts<LearnFlags>());
  });
}

main(module, run);
