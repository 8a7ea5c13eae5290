/**
 * tsx cli/matrix.ts --manifests PATH [--out DIR] [--ipblock-matches-pods=false] [mesh flags as explain]
 * Prints the markdown matrix; with --out also writes matrix.md, diagram.md and connectivity.html.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  buildModel,
  computeConnectivity,
  loadManifestPaths,
  renderHtml,
  renderMatrixMarkdown,
  renderMermaidMarkdown,
} from "../engine";
import { parseExplainArgs } from "./explain";
import { modelNotes } from "./model-notes";

export async function main(argv: readonly string[]): Promise<number> {
  const outIndex = argv.indexOf("--out");
  const out = outIndex >= 0 ? argv[outIndex + 1] : undefined;
  const rest = argv.filter((_, i) => (i !== outIndex && i !== outIndex + 1) || outIndex < 0);
  try {
    // Reuse the explain parser for --manifests and the engine switches (with a dummy flow).
    const args = parseExplainArgs([...rest, "--from", "x", "--to", "x", "--port", "1"]);
    const model = buildModel(loadManifestPaths(args.manifests), args.options);
    process.stderr.write(modelNotes(model));
    const connectivity = computeConnectivity(model);
    const markdown = renderMatrixMarkdown(model, connectivity);
    process.stdout.write(markdown);
    if (out) {
      fs.mkdirSync(out, { recursive: true });
      fs.writeFileSync(path.join(out, "matrix.md"), markdown);
      fs.writeFileSync(path.join(out, "diagram.md"), renderMermaidMarkdown(model, connectivity));
      fs.writeFileSync(path.join(out, "connectivity.html"), await renderHtml(model, connectivity));
    }
    return 0;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
}

if (require.main === module)
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
