/**
 * npm run diff -- OLD NEW [--workloads] [--ipblock-matches-pods=false]
 * OLD/NEW are YAML/JSON files or directories. Lists connections added, removed and changed
 * (namespace level by default). Exit code 0 whatever the changes; 1 on unreadable input.
 */
import {
  buildModel,
  diffModels,
  hasStagedPolicies,
  loadManifestPaths,
  promotionCloses,
  renderDiff,
  renderPromotionCloses,
} from "../engine";
import { modelNotes } from "./model-notes";

export function main(argv: readonly string[]): number {
  const flags = argv.filter((a) => a.startsWith("--"));
  const unknown = flags.filter(
    (f) =>
      f !== "--workloads" &&
      f !== "--promote" &&
      f !== "--ipblock-matches-pods=false" &&
      f !== "--ipblock-matches-pods=true",
  );
  if (unknown.length > 0) {
    process.stderr.write(`unknown arguments: ${unknown.join(" ")}\n`);
    return 1;
  }
  const paths = argv.filter((a) => !a.startsWith("--"));
  const ipBlockMatchesPods = !flags.includes("--ipblock-matches-pods=false");
  const granularity = flags.includes("--workloads") ? "workload" : "namespace";
  if (flags.includes("--promote")) return promoteMain(paths, ipBlockMatchesPods, granularity);
  if (paths.length !== 2) {
    process.stderr.write(
      "usage: diff OLD NEW [--workloads] [--ipblock-matches-pods=false]\n" +
        "       diff --promote PATH [--workloads]   (what promoting PATH's staged policies closes)\n",
    );
    return 1;
  }
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

/** `diff --promote PATH`: the connections allowed now that promoting the staged policies closes. */
function promoteMain(
  paths: readonly string[],
  ipBlockMatchesPods: boolean,
  granularity: "namespace" | "workload",
): number {
  if (paths.length !== 1) {
    process.stderr.write("usage: diff --promote PATH [--workloads]\n");
    return 1;
  }
  try {
    const model = buildModel(loadManifestPaths([paths[0]]), { ipBlockMatchesPods });
    process.stderr.write(modelNotes(model));
    if (!hasStagedPolicies(model)) {
      process.stderr.write(`${paths[0]}: no staged policies: promotion changes nothing\n`);
      return 1;
    }
    process.stdout.write(renderPromotionCloses(promotionCloses(model, granularity)));
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
