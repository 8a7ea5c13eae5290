/** What `observe` and `learn` share: the flow-log argument and options, reading and judging. */
import { type Command, Option } from "commander";
import { PROJECT_ROOT } from "../../config/load";
import { stackContext } from "../../observe/context";
import { readFlowFile, type FlowFormat, type FlowLog } from "../../observe/flows";
import { judgeFlows, type ObserveContext, type ObserveResult } from "../../observe/judge";
import { stackOptions } from "./program";

export interface FlowLogFlags {
  readonly stack: string;
  readonly stackDir?: string;
  readonly format?: FlowFormat;
}

export const FLOW_FORMATS: readonly FlowFormat[] = ["goldmane", "hubble", "csv"];

/** `FILE`, `--stack NAME` (required), `--stack-dir DIR` and `--format F`. */
export function addFlowLogOptions(command: Command, stackDescription: string): Command {
  command.argument(
    "<file>",
    "flow log: Goldmane/Whisker JSON, hubble observe -o json, or CSV (see docs/rollout.md)",
  );
  const [stack, stackDir] = stackOptions(stackDescription);
  return command
    .addOption(stack.makeOptionMandatory())
    .addOption(stackDir)
    .addOption(
      new Option("--format <format>", "the log's format (default: detected)").choices(FLOW_FORMATS),
    );
}

export interface JudgedLog {
  readonly log: FlowLog;
  readonly context: ObserveContext;
  readonly result: ObserveResult;
  /** Milliseconds spent reading the log, rendering and modelling the plan, and judging. */
  readonly timing: { readonly read: number; readonly plan: number; readonly judge: number };
}

const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Reads the log, renders the stack offline and judges every distinct flow against its plan. */
export async function judgeFlowLog(file: string, flags: FlowLogFlags): Promise<JudgedLog> {
  let start = process.hrtime.bigint();
  const log = readFlowFile(file, flags.format);
  const read = since(start);
  start = process.hrtime.bigint();
  const context = await stackContext(flags.stack, flags.stackDir ?? PROJECT_ROOT);
  const plan = since(start);
  start = process.hrtime.bigint();
  const result = judgeFlows(log.flows, context);
  return { log, context, result, timing: { read, plan, judge: since(start) } };
}
