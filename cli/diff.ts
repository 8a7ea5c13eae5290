/**
 * npm run diff -- OLD NEW [--workloads] [--ipblock-matches-pods=false] [--html=FILE]
 * OLD/NEW are YAML/JSON files or directories. Lists connections added, removed and changed
 * (namespace level by default); --html also writes them as a picture (added green, removed red,
 * changed amber). Exit code 0 whatever the changes; 1 on unreadable input.
 */
import * as fs from "fs";
import { buildModel, diffModels, loadManifestPaths, renderDiff, renderDiffHtml } from "../engine";
import { modelNotes } from "./model-notes";

export async function main(argv: readonly string[]): Promise<number> {
  const flags = argv.filter((a) => a.startsWith("--"));
  const htmlFile = flags.find((f) => f.startsWith("--html="))?.slice("--html=".length);
  const unknown = flags.filter(
    (f) =>
      f !== "--workloads" &&
      !f.startsWith("--html=") &&
      f !== "--ipblock-matches-pods=false" &&
      f !== "--ipblock-matches-pods=true",
  );
  if (unknown.length > 0) {
    process.stderr.write(`unknown arguments: ${unknown.join(" ")}\n`);
    return 1;
  }
  const paths = argv.filter((a) => !a.startsWith("--"));
  if (paths.length !== 2) {
    process.stderr.write(
      "usage: diff OLD NEW [--workloads] [--ipblock-matches-pods=false] [--html=FILE]\n",
    );
    return 1;
  }
  const ipBlockMatchesPods = !flags.includes("--ipblock-matches-pods=false");
  const granularity = flags.includes("--workloads") ? "workload" : "namespace";
  try {
    const before = buildModel(loadManifestPaths([paths[0]]), { ipBlockMatchesPods });
    const after = buildModel(loadManifestPaths([paths[1]]), { ipBlockMatchesPods });
    process.stderr.write(modelNotes(before, "old") + modelNotes(after, "new"));
    const changes = diffModels(before, after, granularity);
    process.stdout.write(renderDiff(changes));
    if (htmlFile) fs.writeFileSync(htmlFile, await renderDiffHtml(changes));
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module)
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
