/**
 * npm run conformance -- [DIR]
 * Runs the netpol-analyzer sample (default ../shared/conformance/netpol-analyzer). Prints one
 * line per case and ends with "N passed, N failed"; every failure is printed with its reason.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { renderConformance, runConformance } from "../engine/conformance/netpol-analyzer";
import { EXIT_NEGATIVE, EXIT_OK, main, program, runProgram, UsageError } from "./lib/program";

const DEFAULT_DIR = path.join(__dirname, "..", "..", "shared", "conformance", "netpol-analyzer");

function conformance(dir: string | undefined): number {
  const root = path.resolve(dir ?? DEFAULT_DIR);
  if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(
      `${root} is not a directory: pass the netpol-analyzer sample's directory (a checkout of ../shared/conformance/netpol-analyzer)`,
    );
  if (!fs.existsSync(path.join(root, "INDEX.tsv")))
    throw new UsageError(`${root} is not a netpol-analyzer sample: it has no INDEX.tsv`);
  const results = runConformance(root);
  if (results.length === 0) throw new UsageError(`${root} holds no conformance case`);
  process.stdout.write(renderConformance(results));
  return results.some((r) => r.status === "FAIL" || r.status === "KNOWN-DIFF")
    ? EXIT_NEGATIVE
    : EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "conformance",
    description: "Run the netpol-analyzer conformance sample against the engine.",
    exitCodes: [
      { code: EXIT_OK, meaning: "every case passed (or was skipped with its reason)" },
      { code: EXIT_NEGATIVE, meaning: "a case failed" },
    ],
    examples: ["npm run conformance -- ../shared/conformance/netpol-analyzer"],
  })
    .usage("[DIR]")
    .argument("[dir]", "the sample's directory (default: ../shared/conformance/netpol-analyzer)");
  return runProgram(command, argv, (c) => conformance(c.processedArgs[0] as string | undefined));
}

main(module, run);
