/**
 * npm run import -- PATH --stack NAME [--stack-dir DIR] [--report FILE] [--force]
 *
 * Turns the NetworkPolicy / Calico YAML a cluster already runs into Pulumi.NAME.yaml, through
 * the engine's reading of it, then proves the result: the real program plans the new stack
 * offline and the original is diffed against the plan. Every difference is classified in the
 * report (docs/migration.md explains the classes); an unexplained one makes the import fail.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError } from "commander";
import { stringify } from "yaml";
import { PROJECT_ROOT, stackFilePath } from "../config/load";
import { ConfigError, validateStackConfig } from "../config/validate";
import { buildModel, loadManifestPaths, ManifestError } from "../engine";
import { ImportError, importPolicies } from "./migrate/infer";
import { renderImportReport } from "./migrate/report";
import { roundTrip } from "./migrate/roundtrip";

const EXIT_HELP = `
Exit codes:
  0  Pulumi.NAME.yaml written; every round-trip difference is explained
  1  written, but the round trip found an unexplained difference (see the report)
  2  usage or input error (nothing written)
`;

/**
 * Provider settings for adopting objects that kubectl or ArgoCD applied: server-side apply,
 * create-or-adopt for objects of the same name, forced field-manager takeover (docs/migration.md).
 */
export const ADOPTION_SETTINGS: Readonly<Record<string, string>> = {
  "kubernetes:enableServerSideApply": "true",
  "kubernetes:upsertExistingObjects": "true",
  "kubernetes:enablePatchForce": "true",
};

export function stackFileText(raw: Record<string, unknown>, source: string): string {
  const config: Record<string, unknown> = { ...ADOPTION_SETTINGS };
  for (const [key, value] of Object.entries(raw)) config[`zt-netpol:${key}`] = value;
  return (
    `# Imported by \`npm run import\` from ${source}: review every "Imported from" purpose,\n` +
    `# rename the lan-* hosts, and read the import report before the first \`pulumi up\`.\n` +
    stringify({ config }, { lineWidth: 0 })
  );
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("import")
    .description("Write Pulumi.NAME.yaml from the policies a cluster already runs, and prove it")
    .argument("<path>", "policy YAML/JSON file or directory")
    .requiredOption("--stack <name>", "stack to write (Pulumi.NAME.yaml)")
    .option("--stack-dir <dir>", "where the stack file goes", PROJECT_ROOT)
    .option("--report <file>", "also write the import report (markdown) to this file")
    .option("--force", "overwrite an existing stack file", false)
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  let input: string;
  let opts: { stack: string; stackDir: string; report?: string; force: boolean };
  try {
    program.parse(argv, { from: "user" });
    input = program.args[0];
    opts = program.opts();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  try {
    const stackDir = path.resolve(opts.stackDir);
    const file = stackFilePath(opts.stack, stackDir);
    if (fs.existsSync(file) && !opts.force)
      throw new ImportError(`${file} exists: give --force to overwrite it`);
    const objects = loadManifestPaths([input]);
    // The tree as it is, ICMP entries included (warned and dropped), without invented pods.
    const model = buildModel(objects, { representativePods: false, unsupportedProtocols: "drop" });
    if (model.policies.length === 0)
      throw new ImportError(`${input} holds no NetworkPolicy or Calico policy: nothing to import`);
    const result = importPolicies(model, opts.stack);
    validateStackConfig(result.raw);
    fs.mkdirSync(stackDir, { recursive: true });
    fs.writeFileSync(file, stackFileText(result.raw, input));
    const proof = await roundTrip(objects, result, opts.stack, stackDir);
    const report = renderImportReport(input, file, result, proof, objects);
    process.stdout.write(report);
    if (opts.report) fs.writeFileSync(opts.report, report);
    return proof.counts.unexplained === 0 ? 0 : 1;
  } catch (error) {
    if (
      error instanceof ImportError ||
      error instanceof ManifestError ||
      error instanceof ConfigError ||
      (error instanceof Error && "code" in error && error.code === "ENOENT")
    ) {
      process.stderr.write(`import: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`import: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
