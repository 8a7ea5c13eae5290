/**
 * npm run import -- PATH --stack NAME [--stack-dir DIR] [--facts FILE] [--report FILE] [--force]
 *
 * Turns the NetworkPolicy / Calico YAML a cluster already runs into Pulumi.NAME.yaml, through
 * the engine's reading of it, then proves the result: the real program plans the new stack
 * offline and the original is diffed against the plan. Every difference is classified in the
 * report (docs/migration.md explains the classes); an unexplained one makes the import fail.
 *
 * Cluster facts are inferred from the tree; `--facts FILE.json` gives any of them instead (the
 * keys of policypack/lib/facts.ts, as check, diff, explain, list and matrix take them). `--stack`
 * here names the stack to write, so it cannot also be the source of facts.
 */
import * as fs from "fs";
import * as path from "path";
import { Option } from "commander";
import { stringify } from "yaml";
import { PROJECT_ROOT, stackFilePath } from "../config/load";
import { validateStackConfig } from "../config/validate";
import { buildModel } from "../engine";
import { factsFromFile } from "./lib/facts";
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
import { importPolicies } from "./migrate/infer";
import { renderImportReport } from "./migrate/report";
import { roundTrip } from "./migrate/roundtrip";

interface ImportFlags {
  readonly stack?: string;
  readonly stackDir?: string;
  readonly report?: string;
  readonly force?: boolean;
  readonly namespace?: string;
  readonly facts?: string;
}

/**
 * Provider settings for adopting objects that kubectl or ArgoCD applied (docs/migration.md, step
 * 5): server-side apply (the default of every v4 provider), and, from provider v4.29 on, where a
 * create no longer takes over an existing object, `upsertExistingObjects` to keep that takeover.
 * Older providers ignore the key (provider/v4 v4.25.0 pkg/provider/provider.go `Configure`
 * looks up only the keys it knows, and an unknown one is no error).
 */
export const ADOPTION_SETTINGS: Readonly<Record<string, string>> = {
  "kubernetes:enableServerSideApply": "true",
  "kubernetes:upsertExistingObjects": "true",
};

/**
 * The program's own adoption setting: `pulumi.com/patchForce` on every object (config/types.ts
 * `AdoptionConfig`), which forces the field-manager takeover on every provider version.
 */
export const ADOPTION_CONFIG = { patchForce: true } as const;

export function stackFileText(raw: Record<string, unknown>, source: string): string {
  const config: Record<string, unknown> = { ...ADOPTION_SETTINGS };
  for (const [key, value] of Object.entries(raw)) config[`zt-netpol:${key}`] = value;
  return (
    `# Imported by \`npm run import\` from ${source}: review every "Imported from" purpose,\n` +
    `# rename the lan-* hosts, and read the import report before the first \`pulumi up\`.\n` +
    stringify({ config }, { lineWidth: 0 })
  );
}

async function importTree(input: string, flags: ImportFlags): Promise<number> {
  if (flags.stack === undefined) throw new UsageError("--stack NAME is needed: the stack to write");
  const stackDir = path.resolve(flags.stackDir ?? PROJECT_ROOT);
  const file = stackFilePath(flags.stack, stackDir);
  if (fs.existsSync(file) && !flags.force)
    throw new UsageError(`${file} exists: give --force to overwrite it`);
  const { objects } = readInputs([input], flags.namespace);
  // The tree as it is, ICMP entries included (warned and dropped), without invented pods.
  const model = buildModel(objects, { representativePods: false, unsupportedProtocols: "drop" });
  if (model.policies.length === 0)
    throw new UsageError(`${input} holds no NetworkPolicy or Calico policy: nothing to import`);
  const given = flags.facts === undefined ? {} : factsFromFile(flags.facts);
  if (given.protectedNamespaces !== undefined)
    process.stderr.write(
      `note: ${flags.facts}: protectedNamespaces is not used: import protects the namespaces the tree has policies in (and the DNS and mesh namespaces)\n`,
    );
  const imported = importPolicies(model, flags.stack, given);
  const result = { ...imported, raw: { ...imported.raw, adoption: ADOPTION_CONFIG } };
  validateStackConfig(result.raw);
  fs.mkdirSync(stackDir, { recursive: true });
  fs.writeFileSync(file, stackFileText(result.raw, input));
  const proof = await roundTrip(objects, result, flags.stack, stackDir);
  const report = renderImportReport(input, file, result, proof, objects);
  process.stdout.write(report);
  if (flags.report) fs.writeFileSync(flags.report, report);
  // An unexplained round-trip difference is a negative answer: the stack is not the tree.
  return proof.counts.unexplained === 0 ? EXIT_OK : EXIT_NEGATIVE;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "import",
    description:
      "Write Pulumi.NAME.yaml from the policies a cluster already runs, and prove it by a round trip through the real plan.",
    exitCodes: [
      {
        code: EXIT_OK,
        meaning: "Pulumi.NAME.yaml written; every round-trip difference is explained",
      },
      {
        code: EXIT_NEGATIVE,
        meaning: "written, but the round trip found an unexplained difference (see the report)",
      },
    ],
    examples: ["npm run import -- cluster/network-policies/ --stack prod --report import.md"],
  })
    .usage("PATH --stack NAME [options]")
    .argument("<path>", "policy YAML/JSON file, directory, kustomization or -")
    .addOption(
      new Option("--report <file>", "also write the import report (markdown) to this file"),
    )
    .addOption(new Option("--force", "overwrite an existing stack file"))
    .addOption(
      new Option(
        "--facts <file>",
        "cluster facts in a JSON file (see policypack/lib/facts.ts), used instead of inferring them",
      ),
    )
    .addOption(namespaceOption());
  for (const option of stackOptions("the stack to write (Pulumi.NAME.yaml)"))
    command.addOption(option);
  return runProgram(command, argv, (c) => {
    const [input] = c.processedArgs as [string];
    return importTree(input, c.opts<ImportFlags>());
  });
}

main(module, run);
