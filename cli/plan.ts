/**
 * `npm run plan -- --stack homelab --out DIR [--stack-dir DIR]`: what `pulumi up` would apply,
 * offline. Pulumi.<stack>.yaml is read from --stack-dir (default: the project root).
 * Runs the real program under the in-memory engine, prints a preview-like summary, writes
 * DIR/manifests.yaml, and exits non-zero on any error.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { expandConnections } from "../components/connections";
import { PROJECT_ROOT } from "../config/load";
import { ConfigError } from "../config/validate";
import {
  computeConnectivity,
  ManifestError,
  renderHtml,
  renderMatrixMarkdown,
  renderMermaidMarkdown,
} from "../engine";
import { renderFlowCatalogue } from "../plan/catalogue";
import { buildStackModel, declaredFlowFocus } from "../plan/connectivity";
import { asPolicyEngineSees, renderStack } from "../plan/render";
import { summarise } from "../plan/summary";
import { toMultiDocumentYaml } from "../plan/yaml";
import { factsFromStackConfig } from "../policypack/lib/facts";
import {
  evaluateResources,
  formatViolations,
  hasMandatory,
  PackConfigError,
  packConfigFromFacts,
} from "../policypack/run";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "homelab" },
      out: { type: "string", default: "out" },
      "stack-dir": { type: "string", default: PROJECT_ROOT },
    },
  });
  const stack = values.stack as string;
  const outDir = path.resolve(values.out as string);
  const started = Date.now();
  const result = await renderStack(stack, path.resolve(values["stack-dir"] as string));
  const connections = expandConnections(result.config);
  console.log(summarise(result, connections));

  // The same policies `pulumi preview --policy-pack policypack` runs, with this stack's facts.
  const violations = evaluateResources(
    asPolicyEngineSees(result.resources),
    packConfigFromFacts(factsFromStackConfig(result.config)),
  );
  // What the rendered policies really allow, as a table and a picture.
  const model = buildStackModel(result.config, result.manifests, connections);
  const connectivity = computeConnectivity(model);
  const focus = declaredFlowFocus(result.config, connections);

  fs.mkdirSync(outDir, { recursive: true });
  const reports: [string, string][] = [
    ["flow-catalogue.md", renderFlowCatalogue(result.config, connections)],
    ["matrix.md", renderMatrixMarkdown(model, connectivity, focus)],
    ["diagram.md", renderMermaidMarkdown(model, connectivity, focus)],
    ["connectivity.html", await renderHtml(model, connectivity, focus)],
  ];
  for (const [file, content] of reports) fs.writeFileSync(path.join(outDir, file), content);
  console.log(
    `\nWrote ${reports.map(([f]) => f).join(", ")} to ${path.relative(process.cwd(), outDir) || "."}`,
  );

  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  console.log("");
  if (violations.length > 0) console.log(formatViolations(violations));
  console.log(
    `Policy pack: ${mandatory} mandatory and ${violations.length - mandatory} advisory violations`,
  );

  // manifests.yaml is what GitOps users commit: a plan that fails the pack must not leave one.
  const manifestsFile = path.join(outDir, "manifests.yaml");
  if (hasMandatory(violations)) {
    fs.rmSync(manifestsFile, { force: true });
    console.log(
      `Not writing ${path.relative(process.cwd(), manifestsFile)}: fix the mandatory violations first`,
    );
  } else {
    const header = `# Rendered by zt-netpol from Pulumi.${stack}.yaml: exactly what \`pulumi up\` applies.`;
    fs.writeFileSync(manifestsFile, toMultiDocumentYaml(result.manifests, header));
    console.log(
      `Wrote ${result.manifests.length} objects to ${path.relative(process.cwd(), manifestsFile)}`,
    );
  }
  console.log(`Plan finished in ${((Date.now() - started) / 1000).toFixed(2)}s`);
  return hasMandatory(violations) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Errors with a location (config key, manifest field, pack config) need no stack trace.
    if (
      error instanceof ConfigError ||
      error instanceof ManifestError ||
      error instanceof PackConfigError
    )
      console.error(error.message);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
