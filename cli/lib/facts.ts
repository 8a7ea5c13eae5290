/**
 * Cluster facts for the CLIs, always passed in: `--stack NAME` (the facts of Pulumi.NAME.yaml,
 * read when the command runs) or `--facts FILE.json` (any of the keys of policypack/lib/facts.ts,
 * each validated against its schema). Nothing is assumed when neither is given.
 */
import * as fs from "node:fs";
import { loadStackConfig, PROJECT_ROOT } from "../../config/load";
import {
  type ClusterFacts,
  FACT_SCHEMAS,
  type FactKey,
  factsFromStackConfig,
} from "../../policypack/lib/facts";
import { validateAgainstSchema } from "../../policypack/lib/schema";
import { type Command, Option } from "commander";
import { stackOptions, UsageError } from "./program";

export class FactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FactsError";
  }
}

export interface FactsOptions {
  readonly stack?: string;
  readonly stackDir?: string;
  readonly facts?: string;
}

export interface GivenFacts {
  readonly facts: Partial<ClusterFacts>;
  /** For messages: `stack homelab` or the file name. */
  readonly from: string;
}

/** Facts from a JSON file: every key optional, each validated against its schema. */
export function factsFromFile(file: string): Partial<ClusterFacts> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new FactsError(`${file}: ${(error as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new FactsError(`${file}: expected a JSON object of cluster facts`);
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const schema = FACT_SCHEMAS[key as FactKey];
    if (!schema) {
      problems.push(`${key}: not a cluster fact (known: ${Object.keys(FACT_SCHEMAS).join(", ")})`);
      continue;
    }
    problems.push(...validateAgainstSchema(value, schema, key));
    out[key] = value;
  }
  if (problems.length > 0) throw new FactsError(`${file}:\n  ${problems.join("\n  ")}`);
  return out as Partial<ClusterFacts>;
}

/** The facts the flags name, or undefined when they name none. */
export function givenFacts(options: FactsOptions): GivenFacts | undefined {
  if (options.stack !== undefined && options.facts !== undefined)
    throw new UsageError("use --stack or --facts, not both");
  if (options.stack !== undefined)
    return {
      facts: factsFromStackConfig(loadStackConfig(options.stack, options.stackDir ?? PROJECT_ROOT)),
      from: `stack ${options.stack}`,
    };
  if (options.facts !== undefined)
    return { facts: factsFromFile(options.facts), from: options.facts };
  if (options.stackDir !== undefined) throw new UsageError("--stack-dir needs --stack");
  return undefined;
}

/** `--stack NAME`, `--stack-dir DIR` and `--facts FILE`: where a CLI gets the cluster facts. */
export function addFactsOptions(command: Command, stackDescription: string): Command {
  for (const option of stackOptions(stackDescription)) command.addOption(option);
  return command.addOption(
    new Option("--facts <file>", "the cluster facts in a JSON file (see policypack/lib/facts.ts)"),
  );
}
