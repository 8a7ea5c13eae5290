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
import { PROJECT_ROOT } from "../config/load";
import { modelNotes } from "./model-notes";

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes("--promote")) return promoteMain(argv.filter((a) => a !== "--promote"));
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
  const ipBlockMatchesPods = !flags.includes("--ipblock-matches-pods=false");
  const granularity = flags.includes("--workloads") ? "workload" : "namespace";
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

const PROMOTE_USAGE =
  "usage: diff --promote (PATH | --stack NAME [--stack-dir DIR]) [--workloads]\n" +
  "  lists every connection allowed now that promoting the staged policies would close\n";

/** The value of `--name VALUE` or `--name=VALUE`, and argv without it. */
function takeOption(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const [arg] = argv.splice(i, 1);
  if (arg.includes("=")) return arg.slice(name.length + 1);
  const [value] = argv.splice(i, 1);
  if (value === undefined || value.startsWith("--")) throw new Error(`${name} needs a value`);
  return value;
}

/**
 * `diff --promote`: what promotion closes. A stack is rendered with its representative pods (like
 * `explain --stack`); a manifest PATH needs its own Pods or workloads to show pod connections.
 */
async function promoteMain(argv: readonly string[]): Promise<number> {
  const rest = [...argv];
  try {
    const stack = takeOption(rest, "--stack");
    const stackDir = takeOption(rest, "--stack-dir");
    const granularity = rest.includes("--workloads") ? "workload" : "namespace";
    const unknown = rest.filter((a) => a.startsWith("--") && a !== "--workloads");
    const paths = rest.filter((a) => !a.startsWith("--"));
    if (unknown.length > 0) throw new Error(`unknown arguments: ${unknown.join(" ")}`);
    if ((stack === undefined) === (paths.length !== 1) || paths.length > 1) {
      process.stderr.write(PROMOTE_USAGE);
      return 1;
    }
    let model;
    if (stack !== undefined) {
      // Loaded lazily: rendering a stack pulls in the Pulumi SDK.
      const { renderStack } = await import("../plan/render");
      const { buildStackModel } = await import("../plan/connectivity");
      const { expandConnections } = await import("../components/connections");
      const rendered = await renderStack(stack, stackDir ?? PROJECT_ROOT);
      const connections = expandConnections(rendered.config);
      model = buildStackModel(rendered.config, rendered.manifests, connections);
    } else model = buildModel(loadManifestPaths([paths[0]]));
    process.stderr.write(modelNotes(model));
    if (!hasStagedPolicies(model)) {
      process.stderr.write(`${stack ?? paths[0]}: no staged policies: promotion changes nothing\n`);
      return 1;
    }
    process.stdout.write(renderPromotionCloses(promotionCloses(model, granularity)));
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
