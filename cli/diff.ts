/**
 * npm run diff -- OLD NEW [--workloads] [-n NS] [--stack S | --facts F] [engine flags as explain]
 * OLD/NEW are files, directories, kustomizations or `-` (standard input, for one side). Lists
 * connections opened, closed and changed, grouped by namespace pair, with the rule that explains
 * each line (`--workloads`: workload by workload). Inputs without workloads are evaluated on one
 * representative inventory derived from both sides' selectors. `--stack NAME` adds what the
 * stack file knows: mesh membership, probe source, names for LAN hosts and ranges, the declared
 * flows, and the stack's namespaces for the inventory.
 */
import { Option } from "commander";
import {
  alignInventories,
  buildModel,
  diffModels,
  explainedDiff,
  renderDiff,
  renderExplainedDiff,
  type SourcedObject,
} from "../engine";
import { addEngineOptions, type EngineFlags, engineOptionsFrom } from "./lib/engine-options";
import { addFactsOptions, type FactsOptions, givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import { EXIT_OK, main, namespaceOption, program, runProgram, UsageError } from "./lib/program";
import { modelNotes } from "./model-notes";

interface DiffFlags extends EngineFlags, FactsOptions {
  readonly workloads?: boolean;
  readonly namespace?: string;
}

function diff(oldPath: string, newPath: string, flags: DiffFlags): number {
  if (oldPath === "-" && newPath === "-")
    throw new UsageError("standard input can be only one side of the diff");
  const before = readInputs([oldPath], flags.namespace, "old");
  const after = readInputs([newPath], flags.namespace, "new");
  if (before.objects.length === 0 && after.objects.length === 0)
    throw new UsageError(`nothing to compare: ${oldPath} and ${newPath} hold no objects`);
  // One mesh for both sides: a namespace labelled ambient on either side is meshed on both,
  // so the diff shows policy changes, not a change of mesh settings.
  const all: SourcedObject[] = [...before.objects, ...after.objects];
  const given = givenFacts(flags);
  const { options, notes } = engineOptionsFrom(flags, all, given?.facts, given?.from);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
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
  process.stdout.write(
    flags.workloads
      ? renderDiff(diffModels(oldModel, newModel, "workload"))
      : renderExplainedDiff(
          explainedDiff(oldModel, newModel, {
            rangeNames: stack?.rangeNames,
            declared: stack?.declared,
          }),
        ),
  );
  return EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "diff",
    description:
      "Compare what two manifest sets allow: connections opened, closed and changed, by namespace pair, with the rule behind each line.",
    exitCodes: [{ code: EXIT_OK, meaning: "the comparison was printed (whatever changed)" }],
    examples: [
      "npm run diff -- old-manifests/ out/manifests.yaml",
      "kubectl kustomize cluster/ | npm run diff -- - out/manifests.yaml",
    ],
  })
    .usage("OLD NEW [options]")
    .argument("<old>", "the manifests before: a file, directory, kustomization or -")
    .argument("<new>", "the manifests after")
    .addOption(
      new Option("--workloads", "compare workload by workload, not namespace by namespace"),
    )
    .addOption(namespaceOption());
  addFactsOptions(command, "the cluster facts (mesh) of Pulumi.NAME.yaml");
  addEngineOptions(command);
  return runProgram(command, argv, (c) => {
    const [oldPath, newPath] = c.processedArgs as [string, string];
    return diff(oldPath, newPath, c.opts<DiffFlags>());
  });
}

main(module, run);
