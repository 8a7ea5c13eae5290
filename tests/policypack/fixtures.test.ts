/**
 * Every policy against its own passing and failing fixtures (tests/policypack/fixtures/<policy>/):
 * a `pass-*` file gives the policy nothing to report, a `fail-*` file makes it report every
 * `# expect:` text, at the policy's enforcement level.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../../policypack/policies";
import { FIXTURES, loadFixture, violationsOf } from "./helpers";

describe("policy pack fixtures", () => {
  for (const policy of policies) {
    describe(policy.name, () => {
      const dir = path.join(FIXTURES, policy.name);
      const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];

      it("has at least one passing and one failing fixture", () => {
        assert.ok(
          files.some((f) => f.startsWith("pass-")),
          `no pass-*.yaml in ${dir}`,
        );
        assert.ok(
          files.some((f) => f.startsWith("fail-")),
          `no fail-*.yaml in ${dir}`,
        );
      });

      for (const file of files) {
        const fixture = loadFixture(path.join(dir, file));
        if (file.startsWith("pass-")) {
          it(`passes ${file}`, () => {
            const found = violationsOf(policy.name, fixture.resources, fixture.config);
            assert.deepEqual(
              found.map((v) => v.message),
              [],
            );
          });
        } else {
          it(`fails ${file}`, () => {
            assert.ok(fixture.expects.length > 0, `${file} has no # expect: line`);
            const found = violationsOf(policy.name, fixture.resources, fixture.config);
            assert.ok(found.length > 0, `${policy.name} reported nothing on ${file}`);
            for (const v of found) assert.equal(v.enforcementLevel, policy.enforcementLevel);
            const text = found.map((v) => v.message).join("\n---\n");
            for (const expected of fixture.expects) {
              assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
            }
            assert.ok(text.includes("Fix: "), "every message says how to fix the object");
          });
        }
      }
    });
  }
});
