/**
 * npm run diff -- OLD NEW [--workloads] [--ipblock-matches-pods=false]
 * OLD/NEW are YAML/JSON files or directories. Lists connections added, removed and changed
 * (namespace level by default). Exit code 0 whatever the changes; 1 on unreadable input.
 */
import { buildModel, diffModels, loadManifestPaths, renderDiff } from "../engine";
import { modelNotes } from "./model-notes";

export function main(argv: readonly string[]): number {
  const flags = argv.filter((a) => a.startsWith("--"));
  const unknown = flags.filter(
    (f) =>
      f !== "--workloads" &&
      f !== "--ipblock-matches-pods=false" &&
      f !== "--ipblock-matches-pods=true",
  );
  if (unknown.length > 0) {
    process.stderr.write(`unknown arguments: ${unknown.join(" ")}\n`);
    return 1;
  }
  const paths = argv.filter((a) => !a.startsWith("--"));
  if (paths.length !== 2) {
    process.stderr.write("usage: diff OLD NEW [--workloads] [--ipblock-matches-pods=false]\n");
    return 1;
  }
  const ipBlockMatchesPods = !flags.includes("--ipblock-matches-pods=false");
  const granularity = flags.includes("--workloads") ? "workload" : "namespace";
  try {
    const before = buildModel(loadManifestPaths([paths[0]]), { ipBlockMatchesPods });
    const after = buildModel(loadManifestPaths([paths[1]]), { ipBlockMatchesPods });
    process.stderr.write(modelNotes(before, "old") + modelNotes(after, "new"));
    process.stdout.write(renderDiff(diffModels(before, after, granularity)));
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
