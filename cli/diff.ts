/**
 * npm run diff -- OLD NEW [--stack NAME] [--workloads] [--ipblock-matches-pods=false]
 * OLD/NEW are YAML/JSON files or directories. Lists connections opened, closed and changed,
 * grouped by namespace pair, with the rule that explains each line. Inputs without workloads
 * are evaluated on one representative inventory derived from both sides' selectors.
 * `--stack NAME` adds the cluster facts of Pulumi.NAME.yaml: mesh membership, probe source,
 * names for LAN hosts and ranges, and the declared flows. Exit code 0 whatever the changes;
 * 1 on unreadable input.
 */
import {
  alignInventories,
  buildModel,
  diffModels,
  explainedDiff,
  loadManifestPaths,
  renderDiff,
  renderExplainedDiff,
} from "../engine";
import { modelNotes } from "./model-notes";
import { stackFacts } from "./stack-facts";

export function main(argv: readonly string[]): number {
  const stackIndex = argv.indexOf("--stack");
  const stack = stackIndex >= 0 ? argv[stackIndex + 1] : undefined;
  const rest =
    stackIndex >= 0 ? argv.filter((_, i) => i !== stackIndex && i !== stackIndex + 1) : argv;
  if (stackIndex >= 0 && (stack === undefined || stack.startsWith("--"))) {
    process.stderr.write("--stack needs a stack name\n");
    return 1;
  }
  const flags = rest.filter((a) => a.startsWith("--"));
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
  const paths = rest.filter((a) => !a.startsWith("--"));
  if (paths.length !== 2) {
    process.stderr.write(
      "usage: diff OLD NEW [--stack NAME] [--workloads] [--ipblock-matches-pods=false]\n",
    );
    return 1;
  }
  const ipBlockMatchesPods = !flags.includes("--ipblock-matches-pods=false");
  try {
    const facts = stack === undefined ? undefined : stackFacts(stack);
    const options = { ...facts?.engineOptions, ipBlockMatchesPods, representativePods: false };
    const [before, after] = alignInventories(
      [
        buildModel(loadManifestPaths([paths[0]]), options),
        buildModel(loadManifestPaths([paths[1]]), options),
      ],
      facts?.namespaces,
    );
    process.stderr.write(modelNotes(before, "old") + modelNotes(after, "new"));
    if (flags.includes("--workloads"))
      process.stdout.write(renderDiff(diffModels(before, after, "workload")));
    else
      process.stdout.write(
        renderExplainedDiff(
          explainedDiff(before, after, {
            rangeNames: facts?.rangeNames,
            declared: facts?.declared,
          }),
        ),
      );
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
