/**
 * npm run diff -- OLD NEW [--workloads] [--html FILE] [-n NS] [--stack S | --facts F] [engine flags]
 * npm run diff -- --promote (PATH | --stack NAME) [--workloads]
 * OLD/NEW are files, directories, kustomizations or `-` (standard input, for one side). Lists
 * connections opened, closed and changed, grouped by namespace pair, with the rule that explains
 * each line (`--workloads`: workload by workload). Inputs without workloads are evaluated on one
 * representative inventory derived from both sides' selectors. `--stack NAME` adds what the
 * stack file knows: mesh membership, probe source, names for LAN hosts and ranges, the declared
 * flows, and the stack's namespaces for the inventory. --html also writes the changes as a
 * picture (added green, removed red, changed amber). With `--promote`, lists every connection
 * allowed now that promoting the staged policies would close.
 */
import { Option } from "commander";
import {
  alignInventories,
  buildModel,
  type ClusterModel,
  diffModels,
  explainedDiff,
  hasStagedPolicies,
  promotionCloses,
  renderDiff,
  renderDiffHtml,
  renderExplainedDiff,
  renderPromotionCloses,
  type SourcedObject,
} from "../engine";
import { addEngineOptions, type EngineFlags, engineOptionsFrom } from "./lib/engine-options";
import { addFactsOptions, type FactsOptions, givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import {
  EXIT_OK,
  main,
  namespaceOption,
  program,
  runProgram,
  UsageError,
  writeOutputFile,
} from "./lib/program";
import { renderedStackModel } from "./lib/stack-model";
import { modelNotes } from "./model-notes";

interface DiffFlags extends EngineFlags, FactsOptions {
  readonly workloads?: boolean;
  readonly html?: string;
  readonly namespace?: string;
  readonly promote?: boolean;
}

/** The engine options of the flags and facts for these objects, with what was inferred printed. */
function optionsFor(flags: DiffFlags, objects: readonly SourcedObject[]) {
  const given = givenFacts(flags);
  const { options, notes } = engineOptionsFrom(flags, objects, given?.facts, given?.from);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  return options;
}

async function diff(paths: readonly string[], flags: DiffFlags): Promise<number> {
  if (paths.length !== 2) throw new UsageError("give OLD and NEW (or --promote PATH)");
  const [oldPath, newPath] = paths;
  if (oldPath === "-" && newPath === "-")
    throw new UsageError("standard input can be only one side of the diff");
  const before = readInputs([oldPath], flags.namespace, "old");
  const after = readInputs([newPath], flags.namespace, "new");
  if (before.objects.length === 0 && after.objects.length === 0)
    throw new UsageError(`nothing to compare: ${oldPath} and ${newPath} hold no objects`);
  // One mesh for both sides: a namespace labelled ambient on either side is meshed on both,
  // so the diff shows policy changes, not a change of mesh settings.
  const given = givenFacts(flags);
  const options = optionsFor(flags, [...before.objects, ...after.objects]);
  const stack = given?.stack;
  // Both sides on the same pods: one inventory from both sides' selectors (and the stack's
  // namespaces) when neither holds workloads, else the workloads one side has.
  const engineOptions = {
    ...options,
    representativePods: false,
    extraNamespaces: stack?.namespaces,
  };
  const [oldModel, newModel] = alignInventories(
    [buildModel(before.objects, engineOptions), buildModel(after.objects, engineOptions)],
    stack?.namespaces,
  );
  process.stderr.write(modelNotes(oldModel, "old") + modelNotes(newModel, "new"));
  const changes = diffModels(oldModel, newModel, flags.workloads ? "workload" : "namespace");
  process.stdout.write(
    flags.workloads
      ? renderDiff(changes)
      : renderExplainedDiff(
          explainedDiff(oldModel, newModel, {
            rangeNames: stack?.rangeNames,
            declared: stack?.declared,
          }),
        ),
  );
  // The picture draws the same pairs (or workloads) added, removed and changed.
  if (flags.html) writeOutputFile("--html", flags.html, await renderDiffHtml(changes));
  return EXIT_OK;
}

/**
 * `--promote`: what promotion closes. A stack (`--stack NAME` without a PATH) is rendered with
 * its representative pods, like `explain --stack`; a manifest PATH needs its own Pods or
 * workloads to show pod connections (`--stack`/`--facts` then only give the cluster facts).
 */
async function promote(paths: readonly string[], flags: DiffFlags): Promise<number> {
  if (paths.length > 1) throw new UsageError("--promote takes one PATH (or --stack NAME)");
  let model: ClusterModel;
  let where: string;
  if (paths.length === 1) {
    const input = readInputs(paths, flags.namespace);
    model = buildModel(input.objects, optionsFor(flags, input.objects));
    where = paths[0];
  } else {
    if (flags.stack === undefined) throw new UsageError("--promote needs a PATH or --stack NAME");
    if (flags.facts !== undefined)
      throw new UsageError("--facts applies to a PATH (a stack brings its own facts)");
    if (flags.namespace !== undefined) throw new UsageError("--namespace applies to a PATH only");
    model = await renderedStackModel(flags.stack, flags.stackDir, flags);
    where = `stack ${flags.stack}`;
  }
  process.stderr.write(modelNotes(model));
  // Nothing to promote is a wrong input, not "promotion closes nothing".
  if (!hasStagedPolicies(model))
    throw new UsageError(`${where} holds no staged policy: there is nothing to promote`);
  process.stdout.write(
    renderPromotionCloses(promotionCloses(model, flags.workloads ? "workload" : "namespace")),
  );
  return EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "diff",
    description:
      "Compare what two manifest sets allow: connections opened, closed and changed, by namespace pair, with the rule behind each line; with --promote, what promoting the staged policies would close.",
    exitCodes: [{ code: EXIT_OK, meaning: "the comparison was printed (whatever changed)" }],
    examples: [
      "npm run diff -- old-manifests/ out/manifests.yaml",
      "kubectl kustomize cluster/ | npm run diff -- - out/manifests.yaml",
      "npm run diff -- old-manifests/ out/manifests.yaml --html diff.html",
      "npm run diff -- --promote --stack homelab",
    ],
  })
    .usage("OLD NEW [options] | --promote (PATH | --stack NAME) [options]")
    .argument("[old]", "the manifests before: a file, directory, kustomization or -")
    .argument("[new]", "the manifests after")
    .addOption(
      new Option("--workloads", "compare workload by workload, not namespace by namespace"),
    )
    .addOption(
      new Option(
        "--html <file>",
        "also write the changes as a picture: added green, removed red, changed amber",
      ),
    )
    .addOption(
      new Option(
        "--promote",
        "list what promoting the staged policies of PATH (or of --stack NAME, rendered offline) would close",
      ),
    )
    .addOption(namespaceOption());
  addFactsOptions(
    command,
    "the cluster facts (mesh) of Pulumi.NAME.yaml; with --promote and no PATH, the stack to render",
  );
  addEngineOptions(command);
  return runProgram(command, argv, (c) => {
    const paths = (c.processedArgs as (string | undefined)[]).filter(
      (p): p is string => p !== undefined,
    );
    const flags = c.opts<DiffFlags>();
    return flags.promote ? promote(paths, flags) : diff(paths, flags);
  });
}

main(module, run);
