/**
 * `npm run plan -- --stack homelab --out DIR`: what `pulumi up` would apply, offline.
 * Runs the real program under the in-memory engine, prints a preview-like summary, writes
 * DIR/manifests.yaml, and exits non-zero on any error.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { expandConnections } from "../components/connections";
import { ConfigError } from "../config/validate";
import { renderFlowCatalogue } from "../plan/catalogue";
import { renderStack } from "../plan/render";
import { summarise } from "../plan/summary";
import { toMultiDocumentYaml } from "../plan/yaml";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string", default: "homelab" },
      out: { type: "string", default: "out" },
    },
  });
  const stack = values.stack as string;
  const outDir = path.resolve(values.out as string);
  const started = Date.now();
  const result = await renderStack(stack);
  const connections = expandConnections(result.config);
  console.log(summarise(result, connections));

  fs.mkdirSync(outDir, { recursive: true });
  const manifestsFile = path.join(outDir, "manifests.yaml");
  const header = `# Rendered by zt-netpol from Pulumi.${stack}.yaml: exactly what \`pulumi up\` applies.`;
  fs.writeFileSync(manifestsFile, toMultiDocumentYaml(result.manifests, header));
  const catalogueFile = path.join(outDir, "flow-catalogue.md");
  fs.writeFileSync(catalogueFile, renderFlowCatalogue(result.config, connections));
  console.log(`Wrote the flow catalogue to ${path.relative(process.cwd(), catalogueFile)}`);
  console.log(
    `\nWrote ${result.manifests.length} objects to ${path.relative(process.cwd(), manifestsFile)}`,
  );
  console.log(`Plan finished in ${((Date.now() - started) / 1000).toFixed(2)}s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) console.error(error.message);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
