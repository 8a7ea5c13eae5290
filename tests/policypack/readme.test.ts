/** The pack README documents every policy with its enforcement level. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { policies } from "../../policypack/policies";

describe("policy pack README", () => {
  const readme = fs.readFileSync(path.resolve(__dirname, "../../policypack/README.md"), "utf8");
  for (const policy of policies) {
    it(`lists ${policy.name} as ${policy.enforcementLevel}`, () => {
      assert.match(readme, new RegExp(`\\| \`${policy.name}\` \\| ${policy.enforcementLevel} \\|`));
    });
  }
});
