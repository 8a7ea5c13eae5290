/**
 * `npm run list -- PATH… [--stack NAME | --facts FILE] [-o txt|json|csv|md|dot] [--focus-workload W]
 * [--focus-direction in|out]`
 *
 * Lists the workload-level connections a manifest set allows, in netpol-analyzer's `list`
 * output shapes (engine/report/connlist.ts, the code the conformance runner compares with
 * netpol-analyzer's expected outputs), so that its users can switch. `--stack NAME` judges with
 * that stack's cluster semantics (Calico ipBlocks match pods, its Istio ambient mesh); `--facts
 * FILE.json` gives the cluster facts (the mesh) as explain, diff and matrix take them; without
 * either the engine's defaults and flags apply.
 */
import { Option } from "commander";
import {
  buildModel,
  CONNLIST_FORMATS,
  computeConnectivity,
  connlist,
  type ConnlistFormat,
  didYouMean,
  type EngineOptions,
  type FocusDirection,
  renderConnlist,
} from "../engine";
import { addEngineOptions, type EngineFlags, engineOptionsFrom } from "./lib/engine-options";
import { addFactsOptions, factsFromFile } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import { EXIT_OK, main, namespaceOption, program, runProgram, UsageError } from "./lib/program";
import { modelNotes } from "./model-notes";

interface ListFlags extends EngineFlags {
  readonly stack?: string;
  readonly stackDir?: string;
  readonly facts?: string;
  readonly namespace?: string;
  readonly output: ConnlistFormat;
  readonly focusWorkload?: string[];
  readonly focusDirection?: string;
}

/** netpol-analyzer spells the directions ingress and egress; both spellings are accepted. */
const DIRECTIONS: Readonly<Record<string, FocusDirection>> = {
  in: "in",
  ingress: "in",
  out: "out",
  egress: "out",
};

/** The stack's engine semantics, overridden by any engine flag given. */
async function stackOptionsFor(flags: ListFlags): Promise<EngineOptions> {
  // Loaded lazily: only --stack needs the config code.
  const { loadStackConfig, PROJECT_ROOT } = await import("../config/load");
  const { stackEngineOptions } = await import("../plan/connectivity");
  const base = stackEngineOptions(loadStackConfig(flags.stack!, flags.stackDir ?? PROJECT_ROOT));
  const { options: given } = engineOptionsFrom(flags, []);
  return {
    ...base,
    ...(given.ipBlockMatchesPods !== undefined
      ? { ipBlockMatchesPods: given.ipBlockMatchesPods }
      : {}),
    ...(given.mesh ? { mesh: given.mesh } : {}),
  };
}

function focusDirection(flags: ListFlags): FocusDirection | undefined {
  if (flags.focusDirection === undefined) return undefined;
  const direction = DIRECTIONS[flags.focusDirection];
  if (!direction)
    throw new UsageError(
      `--focus-direction must be in or out (or ingress, egress), not ${JSON.stringify(flags.focusDirection)}`,
    );
  if (!flags.focusWorkload?.length)
    throw new UsageError("--focus-direction needs --focus-workload (whose direction?)");
  return direction;
}

async function list(paths: readonly string[], flags: ListFlags): Promise<number> {
  if (flags.stack === undefined && flags.stackDir !== undefined)
    throw new UsageError("--stack-dir needs --stack");
  if (flags.stack !== undefined && flags.facts !== undefined)
    throw new UsageError("use --stack or --facts, not both");
  const direction = focusDirection(flags);
  const focusWorkloads = (flags.focusWorkload ?? [])
    .flatMap((w) => w.split(","))
    .map((w) => w.trim())
    .filter(Boolean);
  const input = readInputs(paths, flags.namespace);
  let options: EngineOptions;
  if (flags.stack !== undefined) options = await stackOptionsFor(flags);
  else {
    const facts = flags.facts === undefined ? undefined : factsFromFile(flags.facts);
    const inferred = engineOptionsFrom(flags, input.objects, facts, flags.facts);
    for (const note of inferred.notes) process.stderr.write(`note: ${note}\n`);
    options = inferred.options;
  }
  const model = buildModel(input.objects, options);
  process.stderr.write(modelNotes(model));
  const result = connlist(model, computeConnectivity(model), {
    focusWorkloads,
    focusDirection: direction,
  });
  if (result.unmatchedFocus.length > 0) {
    const known = new Set(
      model.pods.flatMap((p) => [p.owner.name, `${p.namespace}/${p.owner.name}`]),
    );
    const name = result.unmatchedFocus[0];
    throw new UsageError(
      `--focus-workload ${name}: ${paths.join(", ")} has no workload ${name}` +
        `${didYouMean(name, known)} (give its name or namespace/name)`,
    );
  }
  if (model.pods.length === 0)
    process.stderr.write(
      `note: ${paths.join(", ")} holds no pods or workloads: there is no workload-level connection to list\n`,
    );
  process.stdout.write(renderConnlist(result, flags.output));
  return EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "list",
    description:
      "List the workload-level connections a manifest set allows, in netpol-analyzer's `list` output formats.",
    exitCodes: [{ code: EXIT_OK, meaning: "the list was printed (it may be empty)" }],
    examples: [
      "npm run list -- manifests/",
      "npm run list -- manifests/ -o dot --focus-workload default/frontend --focus-direction out",
      "kubectl get -A -o yaml pods,netpol,ns | npm run list -- - --stack homelab -o csv",
    ],
  })
    .usage("PATH… [--stack NAME] [-o txt|json|csv|md|dot] [options]")
    .argument(
      "<paths...>",
      "files, directories (recursively; a kustomization.yaml is followed) or - for standard input",
    );
  addFactsOptions(
    command,
    "judge with the cluster semantics of Pulumi.NAME.yaml (Calico ipBlocks, its mesh)",
    "the cluster facts (mesh) in a JSON file (policypack/lib/facts.ts)",
  )
    .addOption(
      new Option("-o, --output <format>", "output format").choices(CONNLIST_FORMATS).default("txt"),
    )
    .addOption(
      new Option(
        "--focus-workload <name>",
        "only connections of this workload (name or namespace/name; repeat or comma-separate for more)",
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(
      new Option(
        "--focus-direction <in|out>",
        "with --focus-workload: only connections into (in, ingress) or out of (out, egress) them",
      ),
    )
    .addOption(namespaceOption());
  addEngineOptions(command);
  return runProgram(command, argv, (c) =>
    list(c.processedArgs[0] as string[], c.opts<ListFlags>()),
  );
}

main(module, run);
