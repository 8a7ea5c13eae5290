/**
 * Cluster facts for the CLIs, always passed in: `--stack NAME` (the facts of Pulumi.NAME.yaml,
 * read when the command runs) or `--facts FILE.json` (any of the keys of policypack/lib/facts.ts,
 * each validated against its schema). Nothing is assumed when neither is given.
 *
 * A stack also gives what only a stack file knows, for the CLIs that read plain YAML (diff,
 * import): names for the address ranges the cluster knows, the declared connections and every
 * namespace the stack names (`StackFacts`). Only the stack file is read (no program run).
 */
import * as fs from "node:fs";
import { expandConnections } from "../../components/connections";
import { loadStackConfig, PROJECT_ROOT } from "../../config/load";
import type { StackConfig } from "../../config/types";
import type { DeclaredEnd, EngineOptions, RangeName } from "../../engine";
import { stackEngineOptions } from "../../components/stackModel";
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
  /** Given --stack: what the stack file says beyond the facts. */
  readonly stack?: StackFacts;
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
  if (options.stack !== undefined) {
    const stack = stackFacts(options.stack, options.stackDir ?? PROJECT_ROOT);
    return { facts: factsFromStackConfig(stack.config), from: `stack ${options.stack}`, stack };
  }
  if (options.facts !== undefined)
    return { facts: factsFromFile(options.facts), from: options.facts };
  if (options.stackDir !== undefined) throw new UsageError("--stack-dir needs --stack");
  return undefined;
}

/** `--stack NAME`, `--stack-dir DIR` and `--facts FILE`: where a CLI gets the cluster facts. */
export function addFactsOptions(
  command: Command,
  stackDescription: string,
  factsDescription = "the cluster facts in a JSON file (see policypack/lib/facts.ts)",
): Command {
  for (const option of stackOptions(stackDescription)) command.addOption(option);
  return command.addOption(new Option("--facts <file>", factsDescription));
}

export interface StackFacts {
  readonly config: StackConfig;
  readonly engineOptions: EngineOptions;
  readonly rangeNames: readonly RangeName[];
  readonly declared: readonly DeclaredEnd[];
  /** Every namespace the stack names: protected ones, DNS and mesh. */
  readonly namespaces: readonly string[];
}

/** The names a report uses for external ranges: LAN hosts, API, control plane, private ranges. */
export function rangeNamesOf(config: StackConfig): RangeName[] {
  const { cluster } = config;
  const names: RangeName[] = Object.entries(cluster.lanHosts).map(([name, address]) => ({
    name,
    cidr: address.includes("/") ? address : `${address}/32`,
  }));
  names.push({ name: "kube-api", cidr: `${cluster.apiServer.clusterIP}/32` });
  names.push({ name: "control-plane", cidr: cluster.controlPlane.cidr });
  if (cluster.mesh) names.push({ name: "ztunnel-probe", cidr: cluster.mesh.probeSource });
  for (const cidr of cluster.privateRanges) names.push({ name: `private`, cidr });
  return names;
}

function endName(end: StackConfig["flows"][number]["from"], names: readonly RangeName[]): string {
  if (end.kind === "workload") return end.namespace;
  const named = names.find((n) => n.cidr === end.cidr)?.name;
  if (named !== undefined) return named;
  if (end.host !== undefined) return end.host;
  return end.cidr === "0.0.0.0/0" ? "internet" : end.cidr;
}

/** Each declared connection with its ends named the way the explained diff names them. */
export function declaredEnds(config: StackConfig): DeclaredEnd[] {
  const rangeNames = rangeNamesOf(config);
  return expandConnections(config).map((c) => ({
    name: c.name,
    from: endName(c.from, rangeNames),
    to: endName(c.to, rangeNames),
  }));
}

/** What a stack file says beyond the pack's facts: names of ranges, declared flows, namespaces. */
export function stackFacts(stack: string, rootDir = PROJECT_ROOT): StackFacts {
  const config = loadStackConfig(stack, rootDir);
  const rangeNames = rangeNamesOf(config);
  const declared = declaredEnds(config);
  const namespaces = new Set(config.namespaces.map((n) => n.name));
  namespaces.add(config.cluster.dns.namespace);
  if (config.cluster.mesh) namespaces.add(config.cluster.mesh.namespace);
  return {
    config,
    engineOptions: { ...stackEngineOptions(config), extraNamespaces: [...namespaces] },
    rangeNames,
    declared,
    namespaces: [...namespaces].sort(),
  };
}
