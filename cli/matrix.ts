/**
 * tsx cli/matrix.ts --manifests PATH… [--out DIR] [-n NS] [engine flags as explain]
 * Prints the markdown matrix; with --out also writes matrix.md, diagram.md and connectivity.html.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Option } from "commander";
import {
  buildModel,
  computeConnectivity,
  renderHtml,
  renderMatrixMarkdown,
  renderMermaidMarkdown,
} from "../engine";
import { addEngineOptions, type EngineFlags, engineOptionsFrom } from "./lib/engine-options";
import { addFactsOptions, type FactsOptions, givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import { EXIT_OK, main, namespaceOption, program, runProgram } from "./lib/program";
import { modelNotes, requirePolicies } from "./model-notes";

interface MatrixFlags extends EngineFlags, FactsOptions {
  readonly manifests: string[];
  readonly out?: string;
  readonly namespace?: string;
}

async function matrix(flags: MatrixFlags): Promise<number> {
  const input = readInputs(flags.manifests, flags.namespace);
  const given = givenFacts(flags);
  const { options, notes } = engineOptionsFrom(flags, input.objects, given?.facts, given?.from);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  const model = buildModel(input.objects, options);
  requirePolicies(model, flags.manifests.join(", "));
  process.stderr.write(modelNotes(model));
  const connectivity = computeConnectivity(model);
  const markdown = renderMatrixMarkdown(model, connectivity);
  process.stdout.write(markdown);
  if (flags.out) {
    fs.mkdirSync(flags.out, { recursive: true });
    fs.writeFileSync(path.join(flags.out, "matrix.md"), markdown);
    fs.writeFileSync(
      path.join(flags.out, "diagram.md"),
      renderMermaidMarkdown(model, connectivity),
    );
    fs.writeFileSync(
      path.join(flags.out, "connectivity.html"),
      await renderHtml(model, connectivity),
    );
  }
  return EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "matrix",
    description:
      "Print what a manifest set allows, namespace by namespace (markdown), and optionally write the pictures.",
    exitCodes: [{ code: EXIT_OK, meaning: "the matrix was printed" }],
    examples: ["tsx cli/matrix.ts --manifests policies/ --out /tmp/matrix"],
  })
    .addOption(
      new Option(
        "--manifests <path...>",
        "files, directories, kustomizations or - (standard input)",
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option("--out <dir>", "also write matrix.md, diagram.md and connectivity.html here"),
    )
    .addOption(namespaceOption());
  addFactsOptions(command, "the cluster facts (mesh) of Pulumi.NAME.yaml");
  addEngineOptions(command);
  return runProgram(command, argv, (c) => matrix(c.opts<MatrixFlags>()));
}

main(module, run);
