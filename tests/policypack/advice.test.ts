/**
 * Issue 8 item 6: advice that fits the case. Every `fail-*` fixture with a `# fixed-by:` header
 * is checked three ways: its Fix text contains each `# fix-contains:` and none of the
 * `# fix-lacks:` texts; the named fixture (the same object with that fix applied) gives the
 * policy nothing to report, nor any policy it names in `# also-passes:`.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../../policypack/policies";
import { FIXTURES, loadFixture, violationsOf } from "./helpers";

function headers(file: string, key: string): string[] {
  const prefix = `# ${key}: `;
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

function fixesOf(messages: readonly string[]): string {
  return messages.map((m) => m.slice(m.indexOf("\nFix: ") + 6)).join("\n---\n");
}

describe("advice that fits the case (fix once applied passes)", () => {
  let cases = 0;
  for (const policy of policies) {
    const dir = path.join(FIXTURES, policy.name);
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir).sort()) {
      const failing = path.join(dir, file);
      const [fixedBy] = headers(failing, "fixed-by");
      if (!file.startsWith("fail-") || fixedBy === undefined) continue;
      cases++;
      it(`${policy.name}: ${file} → ${fixedBy}`, () => {
        const before = loadFixture(failing);
        const messages = violationsOf(policy.name, before.resources, before.config).map(
          (v) => v.message,
        );
        assert.ok(messages.length > 0, `${file} reports nothing`);
        const fix = fixesOf(messages);
        for (const wanted of headers(failing, "fix-contains"))
          assert.ok(fix.includes(wanted), `fix lacks "${wanted}":\n${fix}`);
        for (const unwanted of headers(failing, "fix-lacks"))
          assert.ok(!fix.includes(unwanted), `fix says "${unwanted}":\n${fix}`);
        const fixedFile = path.join(dir, fixedBy);
        const after = loadFixture(fixedFile);
        const also = headers(fixedFile, "also-passes").flatMap((l) => l.split(/,\s*/));
        for (const name of [policy.name, ...also]) {
          assert.deepEqual(
            violationsOf(name, after.resources, after.config).map((v) => v.message),
            [],
            `${name} still reports on ${fixedBy}`,
          );
        }
      });
    }
  }
  it("covers webhook, HBONE, DNS pods, API, LAN host and internet advice", () => {
    assert.ok(cases >= 8, `only ${cases} advice cases`);
  });
});

describe("DNS advice only for DNS rules", () => {
  it("is silent on a namespace-wide peer on another port and on the DNS pods' own rule", () => {
    for (const file of [
      "pass-advice-all-namespaces-other-port.yaml",
      "pass-advice-kube-system-own-rule.yaml",
    ]) {
      const fixture = loadFixture(path.join(FIXTURES, "dns-and-semantics", file));
      assert.deepEqual(violationsOf("dns-and-semantics", fixture.resources), [], file);
    }
  });
});
