/**
 * npm run conformance -- [DIR]
 * Runs the netpol-analyzer sample (default ../shared/conformance/netpol-analyzer). Prints one
 * line per case and ends with "N passed, N failed". Exit code 1 when any case failed, so CI
 * notices; every failure is printed with its reason either way.
 */
import * as path from "node:path";
import { renderConformance, runConformance } from "../engine/conformance/netpol-analyzer";

export function main(argv: readonly string[]): number {
  const root = path.resolve(
    argv[0] ?? path.join(__dirname, "..", "..", "shared", "conformance", "netpol-analyzer"),
  );
  const results = runConformance(root);
  process.stdout.write(renderConformance(results));
  return results.some((r) => r.status === "FAIL" || r.status === "KNOWN-DIFF") ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
