/**
 * The README's YAML examples run as pasted: each block names where it goes in its first line
 * (`# append to zt-netpol:KEY in Pulumi.homelab.yaml`); the test inserts the block's text, as is,
 * at the end of that list in the homelab stack file, then plans the result under the pack.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { stackConfigWarnings } from "../../config/validate";
import { formatViolations } from "../../policypack/run";
import { HOMELAB_FILE, planAndJudge } from "./stacks";

const README = path.join(__dirname, "../../README.md");
const MARKER = /^# append to (zt-netpol:[A-Za-z]+) in Pulumi\.homelab\.yaml$/;

interface Example {
  readonly line: number;
  readonly key: string;
  readonly text: string;
}

function yamlExamples(): Example[] {
  const lines = fs.readFileSync(README, "utf8").split("\n");
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "```yaml") continue;
    const end = lines.indexOf("```", i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unterminated yaml block`);
    const body = lines.slice(i + 1, end);
    const marker = MARKER.exec(body[0] ?? "");
    assert.ok(
      marker,
      `README.md:${i + 2}: a yaml example must start with "# append to zt-netpol:KEY in Pulumi.homelab.yaml"`,
    );
    examples.push({ line: i + 1, key: marker[1], text: body.join("\n") });
    i = end;
  }
  return examples;
}

/** The stack file's text with `example` inserted after the last line of its key's block. */
function paste(stackText: string, example: Example): string {
  const lines = stackText.split("\n");
  const start = lines.indexOf(`  ${example.key}:`);
  assert.ok(start >= 0, `Pulumi.homelab.yaml has no "${example.key}:" key`);
  let end = start + 1;
  // The block runs while lines are blank, comments or indented deeper than the key.
  while (end < lines.length && (lines[end].trim() === "" || /^ {3,}|^\s*#/.test(lines[end]))) end++;
  while (end > start + 1 && lines[end - 1].trim() === "") end--;
  return [...lines.slice(0, end), example.text, ...lines.slice(end)].join("\n");
}

async function planPasted(stackText: string, label: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-readme-"));
  fs.writeFileSync(path.join(dir, "Pulumi.readme.yaml"), stackText);
  // The YAML library refuses duplicate keys, as Pulumi does: the old example's failure mode.
  assert.doesNotThrow(() => parse(stackText), `${label}: the pasted stack file is not valid YAML`);
  const judged = await planAndJudge("readme", dir);
  assert.equal(judged.mandatory.length, 0, `${label}:\n${formatViolations(judged.mandatory)}`);
  assert.deepEqual(stackConfigWarnings(judged.result.config), [], label);
  return judged;
}

describe("README examples, pasted into the homelab stack", () => {
  const homelab = fs.readFileSync(HOMELAB_FILE, "utf8");
  const examples = yamlExamples();

  it("has examples to check", () => {
    assert.ok(examples.length >= 2, `found ${examples.length}`);
  });

  for (const example of examples) {
    it(`README.md:${example.line} (${example.key}) plans as pasted and adds what it shows`, async () => {
      const { result } = await planPasted(paste(homelab, example), `README.md:${example.line}`);
      const shown = parse(example.text) as { name: string }[];
      const list =
        example.key === "zt-netpol:flows" ? result.config.flows : result.config.namespaces;
      for (const item of shown)
        assert.ok(
          list.some((x) => x.name === item.name),
          `${item.name} is not in the planned config`,
        );
    });
  }

  it("plans with every example pasted at once", async () => {
    const all = examples.reduce((text, example) => paste(text, example), homelab);
    await planPasted(all, "all README examples");
  });

  it("catches the example the README used to show (a second zt-netpol:flows key)", () => {
    const old = [
      "  zt-netpol:flows:",
      "    - name: grafana-to-prometheus-remote",
      "      from: {namespace: default, podLabels: {app.kubernetes.io/name: grafana}}",
      "      to: loki",
      "      ports: [3100]",
      "      reason: Grafana queries Loki.",
    ].join("\n");
    assert.throws(() => parse(`${homelab}\n${old}\n`), /Map keys must be unique/);
  });
});
