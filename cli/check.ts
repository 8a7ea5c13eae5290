/**
 * `npm run check -- PATH… [--stack NAME | --facts FILE.json] [--config FILE.json] [--partial] [-n NS]`
 *
 * Judges every NetworkPolicy and Calico policy in PATH (files, directories, kustomizations, `-`
 * for standard input; read by the engine's loader, engine/load) with the policy pack,
 * in-process. Prints each violation the way `pulumi preview` does (policy, object, how to fix it).
 *
 * Two modes:
 * - `--stack NAME`: PATH is judged as that stack's output, with its facts; the stack-shaped rules
 *   (one baseline object per namespace) apply and advice may name the stack's config keys.
 * - without `--stack`: PATH is plain YAML. Facts come from `--facts` (a JSON object, see
 *   policypack/lib/facts.ts) or not at all. What plain YAML can go without is decided here and
 *   nowhere else: the private ranges are RFC 1918 (the definition, not one cluster's values) and
 *   the cluster has no mesh unless the facts say so; every other missing fact is missing, and
 *   each policy that reads one says what it judges without it (`withoutFacts`, printed as a
 *   note) — it never guesses a permissive answer. Completeness is isolation of every pod in both
 *   directions by any combination of objects (namespace-baseline-deny-all), and advice gives the
 *   YAML change.
 *
 * `--config` is a `--policy-pack-config` file, applied on top. `--partial` says PATH is part of
 * a cluster: the completeness policies then judge only namespaces PATH has policies in.
 */
import * as fs from "node:fs";
import { Option } from "commander";
import * as path from "node:path";
import {
  buildModel,
  InputError,
  kustomizationFileIn,
  readKustomization,
  loadInputs,
  ManifestError,
  NOT_IN_KUSTOMIZATION,
  type NormalPolicy,
  RFC1918_CIDRS,
  type SkippedInput,
} from "../engine";
import { describePolicy } from "../policypack/lib/findings";
import type { ClusterFacts, FactKey } from "../policypack/lib/facts";
import { policies as packPolicies } from "../policypack/policies";
import { resourcesFromObjects } from "../policypack/lib/manifests";
import { CALICO_TIER_TYPE, withNetworkSets } from "../policypack/lib/reading";
import {
  evaluateResources,
  formatViolations,
  hasMandatory,
  type PackConfig,
  packConfigFromFacts,
  type Violation,
} from "../policypack/run";
import { addFactsOptions, givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import {
  EXIT_NEGATIVE,
  EXIT_OK,
  main,
  namespaceOption,
  program,
  runProgram,
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
  /** What plain YAML was judged without: one line per fact default and per policy limited by it. */
  readonly notes: readonly string[];
  readonly summary: string;
  readonly exitCode: number;
}

/**
 * The facts plain YAML goes without, filled with the values that are definitions rather than one
 * cluster's (RFC 1918 private ranges; no mesh unless told), and a note for each.
 */
function plainYamlFacts(given: Partial<ClusterFacts>): {
  facts: Partial<ClusterFacts>;
  notes: string[];
} {
  const facts: { -readonly [K in FactKey]?: ClusterFacts[K] } = { ...given };
  const notes: string[] = [];
  if (facts.privateRanges === undefined) {
    facts.privateRanges = [...RFC1918_CIDRS];
    notes.push(
      `private ranges: RFC 1918 (${RFC1918_CIDRS.join(", ")}); --facts privateRanges adds yours`,
    );
  }
  if (facts.mesh === undefined) {
    facts.mesh = null;
    notes.push(
      "mesh: none (a namespace labelled istio.io/dataplane-mode=ambient cannot be verified without --facts mesh)",
    );
  }
  const missing = (keys: readonly FactKey[]): FactKey[] =>
    keys.filter((k) => facts[k] === undefined);
  for (const policy of packPolicies) {
    const absent = missing(policy.meta.facts);
    if (absent.length > 0 && policy.meta.withoutFacts)
      notes.push(`${policy.name} without ${absent.join(", ")}: ${policy.meta.withoutFacts}`);
  }
  return { facts, notes };
}

/**
 * Judges PATH… as `npm run check` does and returns the findings; the CLI prints them. The
 * corpus test (tests/policypack/corpus.test.ts) calls this directly.
 * @throws UsageError for input that cannot be judged (located), as the CLI reports it.
 */
/** Not a pack policy: only `check` sees the files a kustomization leaves out. */
export const UNDEPLOYED_DENY_ALL = "undeployed-deny-all";

/** The directions a policy denies outright: it selects every pod and has no rule for them. */
function deniedOutright(policy: NormalPolicy): string[] {
  const everyPod =
    policy.written.podSelector !== undefined
      ? policy.written.podSelector.requirements.length === 0
      : policy.written.selectorText === undefined || policy.written.selectorText.trim() === "all()";
  if (!everyPod) return [];
  return (["ingress", "egress"] as const).filter(
    (d) => policy.appliesTo[d] && policy.written.ruleCounts[d] === 0,
  );
}

/** The kustomization nearest above `file`: the one that leaves it out. */
function kustomizationAbove(file: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const found = kustomizationFileIn(dir);
    if (found || path.dirname(dir) === dir) return found;
  }
}

/**
 * Deny-all policies in files of the tree that its kustomization never lists, so never deploys:
 * the tree looks protected and is not. Each file is read by the engine's loader, as the listed
 * ones are; a file it cannot read was already named as skipped and says nothing here.
 */
function undeployedDenyAlls(skipped: readonly SkippedInput[], namespace?: string): Violation[] {
  const out: Violation[] = [];
  for (const entry of skipped) {
    if (entry.reason !== NOT_IN_KUSTOMIZATION || !/\.(ya?ml|json)$/i.test(entry.path)) continue;
    const kustomization = kustomizationAbove(entry.path);
    // Had the kustomization listed the file, its namespace would apply: read it the same way.
    const kustomized = kustomization ? readKustomization(kustomization, () => {}) : undefined;
    let policies: readonly NormalPolicy[];
    try {
      const loaded = loadInputs([entry.path], { namespace: kustomized?.namespace ?? namespace });
      policies = buildModel(loaded.objects, { representativePods: false }).policies;
    } catch (error) {
      if (error instanceof InputError || error instanceof ManifestError) continue;
      throw error;
    }
    for (const policy of policies) {
      const directions = deniedOutright(policy);
      if (directions.length === 0) continue;
      const listed = kustomization
        ? path.relative(path.dirname(kustomization), entry.path)
        : entry.path;
      out.push({
        policyName: UNDEPLOYED_DENY_ALL,
        enforcementLevel: "advisory",
        message:
          `A deny-all policy in the tree is deployed by its kustomization.\n` +
          `${entry.path}: ${describePolicy(policy)} denies all ${directions.join(" and ")}, but ${kustomization ?? "the kustomization"} does not list the file in resources: it is never deployed\n` +
          `Fix: add ${listed} to the resources of ${kustomization ?? "the kustomization"} (with the allows its namespace needs), or delete the file`,
        resourceName: `${policy.namespace ? `${policy.namespace}/` : ""}${policy.ref.name} @ ${entry.path}`,
        resourceType: "file",
      });
    }
  }
  return out;
}

export function checkPaths(paths: readonly string[], options: CheckOptions): CheckResult {
  const given = givenFacts(options);
  const plainYaml = options.stack === undefined;
  const { facts, notes } = plainYaml
    ? plainYamlFacts(given?.facts ?? {})
    : { facts: given?.facts ?? {}, notes: [] };
  const input = readInputs(paths, options.namespace);
  // Every object is first read by the engine's normaliser, as the API server would validate it:
  // an object the API server rejects (a cidr without prefix, protocol "tcp", port "8085") never
  // takes effect, so judging it as if it did would hide an outage. Problems throw, located.
  const model = buildModel(input.objects);
  for (const warning of model.warnings) process.stderr.write(`warning: ${warning}\n`);
  const reading = resourcesFromObjects(input.objects);
  const { resources } = reading;
  // Network sets are not judged on their own, but every Calico policy is read with them.
  const setCount = model.networkSets?.length ?? 0;
  const skipped = reading.skipped.filter(
    (item) => !/ (crd\.)?projectcalico\.org\/v\d\/(Global)?NetworkSet$/.test(item),
  );
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
  // Calico rule selectors match the input's network sets: the pack reads each policy with them.
  const setContext = model.networkSets
    ? input.objects
        .map((o) => o.object)
        .filter((o) => o.kind === "Namespace" || /^(Global)?NetworkSet$/.test(String(o.kind)))
    : [];
  const violations = [
    ...withNetworkSets(setContext, () =>
      evaluateResources(
        resources,
        packConfigFromFacts(facts, base, plainYaml ? "plain-yaml" : "stack"),
      ),
    ),
    ...undeployedDenyAlls(input.skipped, options.namespace),
  ];
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  const summary =
    `Checked ${resources.length} objects in ${input.files.length} file(s) ${given ? `with cluster facts from ${given.from}` : "as plain YAML without cluster facts"}` +
    (setCount > 0 ? `, reading ${setCount} Calico network set(s) as rule peers` : "") +
    (skipped.length > 0 ? `; skipped ${skipped.length} of other kinds` : "") +
    (input.skipped.length > 0 ? `; skipped ${input.skipped.length} file(s)` : "") +
    `: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s).`;
  return {
    violations,
    skipped,
    notes,
    summary,
    exitCode: hasMandatory(violations) ? EXIT_NEGATIVE : EXIT_OK,
  };
}

function check(paths: readonly string[], options: CheckOptions): number {
  const result = checkPaths(paths, options);
  if (result.violations.length > 0) console.log(formatViolations([...result.violations]));
  for (const item of result.skipped) console.log(`skipped (not a kind the pack judges): ${item}`);
  for (const note of result.notes) console.log(`note: ${note}`);
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
      "npm run check -- policies/",
      "npm run check -- policies/ --facts cluster-facts.json",
      "npm run check -- out/manifests.yaml --stack homelab",
      "kubectl kustomize overlays/prod | npm run check -- - --stack homelab --partial",
    ],
  })
    .usage("PATH… [--stack NAME | --facts FILE.json] [options]")
    .argument(
      "<paths...>",
      "files, directories (recursively; a kustomization.yaml is followed) or - for standard input",
    );
  addFactsOptions(
    command,
    "judge PATH as stack NAME's output, with the cluster facts of Pulumi.NAME.yaml",
    "judge with the cluster facts in this JSON file",
  )
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
