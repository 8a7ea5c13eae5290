/**
 * npm run diff -- OLD NEW [--workloads] [--html FILE] [-n NS] [engine flags as explain]
 * OLD/NEW are files, directories, kustomizations or `-` (standard input, for one side). Lists
 * connections added, removed and changed (namespace level by default); --html also writes them as
 * a picture (added green, removed red, changed amber).
 */
import { Option } from "commander";
import { buildModel, diffModels, renderDiff, renderDiffHtml, type SourcedObject } from "../engine";
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
import { modelNotes } from "./model-notes";

interface DiffFlags extends EngineFlags, FactsOptions {
  readonly workloads?: boolean;
  readonly html?: string;
  readonly namespace?: string;
}

async function diff(oldPath: string, newPath: string, flags: DiffFlags): Promise<number> {
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
  const oldModel = buildModel(before.objects, options);
  const newModel = buildModel(after.objects, options);
  process.stderr.write(modelNotes(oldModel, "old") + modelNotes(newModel, "new"));
  const changes = diffModels(oldModel, newModel, flags.workloads ? "workload" : "namespace");
  process.stdout.write(renderDiff(changes));
  if (flags.html) writeOutputFile("--html", flags.html, await renderDiffHtml(changes));
  return EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "diff",
    description: "Compare what two manifest sets allow: connections added, removed and changed.",
    exitCodes: [{ code: EXIT_OK, meaning: "the comparison was printed (whatever changed)" }],
    examples: [
      "npm run diff -- old-manifests/ out/manifests.yaml",
      "kubectl kustomize cluster/ | npm run diff -- - out/manifests.yaml",
      "npm run diff -- old-manifests/ out/manifests.yaml --html diff.html",
    ],
  })
    .usage("OLD NEW [options]")
    .argument("<old>", "the manifests before: a file, directory, kustomization or -")
    .argument("<new>", "the manifests after")
    .addOption(
      new Option("--workloads", "compare workload by workload, not namespace by namespace"),
    )
    .addOption(
      new Option(
        "--html <file>",
        "also write the changes as a picture: added green, removed red, changed amber",
      ),
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
