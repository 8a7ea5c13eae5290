/**
 * `npm run check -- PATH… (--stack NAME | --facts FILE.json) [--config FILE.json] [--partial] [-n NS]`
 *
 * Judges every NetworkPolicy and Calico policy in PATH (files, directories, kustomizations, `-`
 * for standard input; read by the engine's loader, engine/load) with the policy pack,
 * in-process. Prints each violation the way `pulumi preview` does (policy, object, how to fix it).
 * Cluster facts are passed in: `--stack NAME` reads those of Pulumi.NAME.yaml, `--facts` a JSON
 * object of facts (see policypack/lib/facts.ts). `--config` is a `--policy-pack-config` file,
 * applied on top. `--partial` says PATH is part of a cluster: the completeness policies then
 * judge only namespaces PATH has NetworkPolicies in.
 */
import * as fs from "node:fs";
import { Option } from "commander";
import { buildModel } from "../engine";
import { resourcesFromObjects } from "../policypack/lib/manifests";
import { CALICO_TIER_TYPE } from "../policypack/lib/reading";
import {
  evaluateResources,
  formatViolations,
  hasMandatory,
  type PackConfig,
  packConfigFromFacts,
  type Violation,
} from "../policypack/run";
import { givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import {
  EXIT_NEGATIVE,
  EXIT_OK,
  main,
  namespaceOption,
  program,
  runProgram,
  stackOptions,
  UsageError,
} from "./lib/program";

export interface CheckOptions {
  readonly stack?: string;
  readonly stackDir?: string;
  readonly facts?: string;
  readonly config?: string;
  readonly partial?: boolean;
  readonly namespace?: string;
}

function readPackConfig(file: string): PackConfig {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PackConfig;
  } catch (error) {
    throw new UsageError(`--config ${file}: ${(error as Error).message}`);
  }
}

/** What `check` found: the pack's violations and what it could not judge, before printing. */
export interface CheckResult {
  readonly violations: readonly Violation[];
  /** Objects of kinds the pack does not judge, named so none passes unnoticed. */
  readonly skipped: readonly string[];
  readonly summary: string;
  readonly exitCode: number;
}

/**
 * Judges PATH… as `npm run check` does and returns the findings; the CLI prints them. The
 * corpus test (tests/policypack/corpus.test.ts) calls this directly.
 * @throws UsageError for input that cannot be judged (located), as the CLI reports it.
 */
export function checkPaths(paths: readonly string[], options: CheckOptions): CheckResult {
  const given = givenFacts(options);
  if (!given)
    throw new UsageError(
      "cluster facts needed: pass --stack NAME (the facts of Pulumi.NAME.yaml) or --facts FILE.json",
    );
  const input = readInputs(paths, options.namespace);
  // Every object is first read by the engine's normaliser, as the API server would validate it:
  // an object the API server rejects (a cidr without prefix, protocol "tcp", port "8085") never
  // takes effect, so judging it as if it did would hide an outage. Problems throw, located.
  const model = buildModel(input.objects);
  for (const warning of model.warnings) process.stderr.write(`warning: ${warning}\n`);
  const { resources, skipped } = resourcesFromObjects(input.objects);
  // Namespaces and Tiers only give the policies their context: alone they are nothing to check.
  const policies = resources.filter(
    (r) => !r.type.endsWith(":Namespace") && r.type !== CALICO_TIER_TYPE,
  );
  if (policies.length === 0)
    throw new UsageError(
      `nothing checked: ${paths.join(", ")} holds no NetworkPolicy or Calico policy` +
        (input.skipped.length > 0
          ? ` (${input.skipped.length} file(s) skipped, listed above)`
          : ""),
    );
  const base: PackConfig = options.config ? readPackConfig(options.config) : {};
  if (options.partial) {
    for (const name of [
      "namespace-baseline-deny-all",
      "one-baseline-per-namespace",
      "missing-corners",
    ]) {
      const existing = base[name];
      base[name] = {
        ...(typeof existing === "string" ? { enforcementLevel: existing } : existing),
        partialInput: true,
      };
    }
  }
  const violations = evaluateResources(resources, packConfigFromFacts(given.facts, base));
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const summary =
    `Checked ${resources.length} objects in ${input.files.length} file(s) with cluster facts from ${given.from}` +
    (skipped.length > 0 ? `; skipped ${skipped.length} of other kinds` : "") +
    (input.skipped.length > 0 ? `; skipped ${input.skipped.length} file(s)` : "") +
    `: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s).`;
  return {
    violations,
    skipped,
    summary,
    exitCode: hasMandatory(violations) ? EXIT_NEGATIVE : EXIT_OK,
  };
}

function check(paths: readonly string[], options: CheckOptions): number {
  const result = checkPaths(paths, options);
  if (result.violations.length > 0) console.log(formatViolations([...result.violations]));
  for (const item of result.skipped) console.log(`skipped (not a kind the pack judges): ${item}`);
  console.log(result.summary);
  return result.exitCode;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "check",
    description:
      "Judge hand-written NetworkPolicy and Calico YAML with the policy pack, as `pulumi preview --policy-pack` would.",
    exitCodes: [
      { code: EXIT_OK, meaning: "no mandatory violation (advisories allowed)" },
      { code: EXIT_NEGATIVE, meaning: "at least one mandatory violation" },
    ],
    examples: [
      "npm run check -- policies/ --stack homelab",
      "kubectl kustomize overlays/prod | npm run check -- - --stack homelab --partial",
    ],
  })
    .usage("PATH… (--stack NAME | --facts FILE.json) [options]")
    .argument(
      "<paths...>",
      "files, directories (recursively; a kustomization.yaml is followed) or - for standard input",
    );
  for (const option of stackOptions("judge with the cluster facts of Pulumi.NAME.yaml"))
    command.addOption(option);
  command
    .addOption(new Option("--facts <file>", "judge with the cluster facts in this JSON file"))
    .addOption(new Option("--config <file>", "a --policy-pack-config file, applied on top"))
    .addOption(
      new Option(
        "--partial",
        "PATH is part of a cluster: judge completeness only where it has policies",
      ),
    )
    .addOption(namespaceOption());
  return runProgram(command, argv, (c) =>
    check(c.processedArgs[0] as string[], c.opts<CheckOptions>()),
  );
}

main(module, run);
