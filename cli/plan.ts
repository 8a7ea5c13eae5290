/**
 * `npm run plan -- --stack homelab --out DIR [--stack-dir DIR]`: what `pulumi up` would apply,
 * offline. Pulumi.<stack>.yaml is read from --stack-dir (default: the project root).
 * Runs the real program under the in-memory engine, prints a preview-like summary, runs the
 * policy pack with this stack's facts, writes the reports and, when the pack passes,
 * DIR/manifests.yaml and DIR/policy-pack-config.json (the stack's facts for
 * `pulumi preview --policy-pack policypack --policy-pack-config …`).
 *
 * A failed plan never leaves an older output behind: on an error every file the plan writes is
 * removed from DIR; on a mandatory violation manifests.yaml and policy-pack-config.json are.
 */
import * as fs from "fs";
import * as path from "path";
import { Option } from "commander";
import { expandConnections } from "../components/connections";
import { PROJECT_ROOT } from "../config/load";
import {
  computeConnectivity,
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
  packConfigFromFacts,
} from "../policypack/run";
import { EXIT_NEGATIVE, EXIT_OK, main, program, runProgram, stackOptions } from "./lib/program";

const REPORT_FILES = ["flow-catalogue.md", "matrix.md", "diagram.md", "connectivity.html"];
/** Written only when the plan passes the pack: what GitOps commits and what preview is fed. */
const APPROVED_FILES = ["manifests.yaml", "policy-pack-config.json"];
export const PLAN_OUTPUTS = [...REPORT_FILES, ...APPROVED_FILES];

interface PlanOptions {
  readonly stack: string;
  readonly out: string;
  readonly stackDir?: string;
}

function removeOutputs(outDir: string, files: readonly string[]): string[] {
  const removed: string[] = [];
  for (const file of files) {
    const full = path.join(outDir, file);
    if (fs.existsSync(full)) {
      fs.rmSync(full, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

const shown = (p: string): string => path.relative(process.cwd(), p) || ".";

async function plan(options: PlanOptions): Promise<number> {
  const outDir = path.resolve(options.out);
  const started = Date.now();
  try {
    return await planInto(
      options.stack,
      path.resolve(options.stackDir ?? PROJECT_ROOT),
      outDir,
      started,
    );
  } catch (error) {
    const removed = removeOutputs(outDir, PLAN_OUTPUTS);
    if (removed.length > 0)
      process.stderr.write(
        `plan failed: removed the older ${removed.join(", ")} from ${shown(outDir)}\n`,
      );
    throw error;
  }
}

async function planInto(
  stack: string,
  stackDir: string,
  outDir: string,
  started: number,
): Promise<number> {
  const result = await renderStack(stack, stackDir);
  const connections = expandConnections(result.config);
  console.log(summarise(result, connections));

  // The same policies `pulumi preview --policy-pack policypack` runs, with this stack's facts.
  const packConfig = packConfigFromFacts(factsFromStackConfig(result.config));
  const violations = evaluateResources(asPolicyEngineSees(result.resources), packConfig);
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
  console.log(`\nWrote ${reports.map(([f]) => f).join(", ")} to ${shown(outDir)}`);

  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  console.log("");
  if (violations.length > 0) console.log(formatViolations(violations));
  console.log(
    `Policy pack: ${mandatory} mandatory and ${violations.length - mandatory} advisory violations`,
  );

  // manifests.yaml is what GitOps users commit: a plan that fails the pack must not leave one.
  if (hasMandatory(violations)) {
    const removed = removeOutputs(outDir, APPROVED_FILES);
    console.log(
      `Not writing ${APPROVED_FILES.join(", ")}: fix the mandatory violations first` +
        (removed.length > 0 ? ` (removed the older ${removed.join(", ")})` : ""),
    );
  } else {
    const header = `# Rendered by zt-netpol from Pulumi.${stack}.yaml: exactly what \`pulumi up\` applies.`;
    const manifestsFile = path.join(outDir, "manifests.yaml");
    fs.writeFileSync(manifestsFile, toMultiDocumentYaml(result.manifests, header));
    fs.writeFileSync(
      path.join(outDir, "policy-pack-config.json"),
      JSON.stringify(packConfig, null, 2) + "\n",
    );
    console.log(
      `Wrote ${result.manifests.length} objects to ${shown(manifestsFile)}, and this stack's cluster facts for the pack to ${shown(path.join(outDir, "policy-pack-config.json"))}`,
    );
  }
  console.log(`Plan finished in ${((Date.now() - started) / 1000).toFixed(2)}s`);
  return hasMandatory(violations) ? EXIT_NEGATIVE : EXIT_OK;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "plan",
    description:
      "Render a stack offline (the real program under Pulumi's in-memory engine), run the policy pack on it and write the manifests and reports.",
    exitCodes: [
      { code: EXIT_OK, meaning: "the plan passes the pack; manifests.yaml written" },
      {
        code: EXIT_NEGATIVE,
        meaning: "a mandatory violation: reports written, manifests.yaml removed",
      },
    ],
    examples: [
      "npm run plan -- --stack homelab --out out",
      "npm run plan -- --stack minilab --stack-dir tests/fixtures --out /tmp/minilab",
    ],
  });
  for (const option of stackOptions("the stack: reads Pulumi.NAME.yaml", "homelab"))
    command.addOption(option);
  command.addOption(new Option("--out <dir>", "where the manifests and reports go").default("out"));
  return runProgram(command, argv, (c) => plan(c.opts<PlanOptions>()));
}

main(module, run);
