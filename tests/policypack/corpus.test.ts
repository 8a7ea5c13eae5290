/**
 * The check corpus: small policy trees written for this project, each reproducing a pattern found
 * in public hand-written trees (homelabs, platform manifests, reference apps, Calico tier demos).
 * `check` must report exactly the findings listed, so noise cannot creep back in.
 *
 * Layout: tests/fixtures/corpus/<case>/case.yaml beside the tree it judges, <case>/tree/.
 *
 *   about: the pattern, and where it was studied (URL)
 *   stack: homelab              # optional: judge with the facts of Pulumi.homelab.yaml
 *   facts: facts.json           # optional: a --facts file, relative to the case directory
 *   partial: true               # optional: --partial
 *   namespace: apps             # optional: --namespace
 *   exit: 1                     # the exit code check gives (0 or 1)
 *   error: "text"               # instead of findings: the input is refused with this message part
 *   findings:                   # exactly these, as "<level> <policy> <object>", sorted or not
 *     - mandatory dns-and-semantics velero/velero-network-policy
 *   advice:                     # optional: what a finding's message must and must not say
 *     - finding: mandatory dns-and-semantics velero/velero-network-policy
 *       says: [ "use one item" ]
 *       never: [ "Pulumi." ]
 *   fixedBy: other-case         # optional: the same tree with this case's advice applied …
 *   fixes: [ "…finding…" ]      # … whose findings are exactly these findings minus `fixes`
 *
 * <object> is the violation's resource without its "@ file#doc" location, or "-" for a finding
 * about no single object, followed then by " | " and the first line of its message.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { checkPaths } from "../../cli/check";
import type { Violation } from "../../policypack/run";

const CORPUS = path.join(__dirname, "../fixtures/corpus");

interface Advice {
  readonly finding: string;
  readonly says?: readonly string[];
  readonly never?: readonly string[];
}

interface CorpusCase {
  readonly about: string;
  readonly stack?: string;
  readonly facts?: string;
  readonly partial?: boolean;
  readonly namespace?: string;
  readonly exit?: number;
  readonly error?: string;
  readonly findings?: readonly string[];
  readonly advice?: readonly Advice[];
  readonly fixedBy?: string;
  readonly fixes?: readonly string[];
}

export function findingKey(v: Violation): string {
  const object = v.resourceName === undefined ? "-" : v.resourceName.replace(/ @ .*$/, "");
  const detail = v.resourceName === undefined ? ` | ${v.message.split("\n")[0]}` : "";
  return `${v.enforcementLevel} ${v.policyName} ${object}${detail}`;
}

function readCase(name: string): CorpusCase {
  const spec = parse(fs.readFileSync(path.join(CORPUS, name, "case.yaml"), "utf8")) as CorpusCase;
  assert.ok(typeof spec.about === "string" && spec.about !== "", `${name}: case.yaml needs about`);
  assert.ok(
    (spec.error === undefined) !== (spec.findings === undefined),
    `${name}: case.yaml needs exactly one of findings and error`,
  );
  return spec;
}

function judge(name: string, spec: CorpusCase) {
  const dir = path.join(CORPUS, name);
  return checkPaths([path.join(dir, "tree")], {
    stack: spec.stack,
    facts: spec.facts === undefined ? undefined : path.join(dir, spec.facts),
    partial: spec.partial,
    namespace: spec.namespace,
  });
}

const cases = fs.existsSync(CORPUS)
  ? fs
      .readdirSync(CORPUS)
      .filter((name) => fs.existsSync(path.join(CORPUS, name, "case.yaml")))
      .sort()
  : [];

describe("check corpus: exact findings per tree", function () {
  this.timeout(60_000);

  it("has cases", () => assert.ok(cases.length > 0, `no case under ${CORPUS}`));

  for (const name of cases) {
    it(name, () => {
      const spec = readCase(name);
      if (spec.error !== undefined) {
        assert.throws(
          () => judge(name, spec),
          (error: Error) => {
            assert.ok(
              error.message.includes(spec.error as string),
              `${name}: refused, but with: ${error.message}`,
            );
            return true;
          },
        );
        return;
      }
      const result = judge(name, spec);
      const got = result.violations.map(findingKey).sort();
      assert.deepEqual(got, [...(spec.findings ?? [])].sort(), `${name}: findings`);
      if (spec.exit !== undefined) assert.equal(result.exitCode, spec.exit, `${name}: exit code`);
      for (const advice of spec.advice ?? []) {
        const found = result.violations.filter((v) => findingKey(v) === advice.finding);
        assert.ok(
          found.length > 0,
          `${name}: advice for a finding not reported: ${advice.finding}`,
        );
        const text = found.map((v) => v.message).join("\n");
        for (const part of advice.says ?? [])
          assert.ok(
            text.includes(part),
            `${name}: ${advice.finding} should say "${part}":\n${text}`,
          );
        for (const part of advice.never ?? [])
          assert.ok(
            !text.includes(part),
            `${name}: ${advice.finding} must not say "${part}":\n${text}`,
          );
      }
      if (spec.fixedBy !== undefined) {
        const fixed = readCase(spec.fixedBy);
        const fixes = new Set(spec.fixes ?? []);
        assert.ok(fixes.size > 0, `${name}: fixedBy needs the findings it fixes`);
        for (const key of fixes) assert.ok(got.includes(key), `${name}: fixes unreported ${key}`);
        assert.deepEqual(
          [...(fixed.findings ?? [])].sort(),
          got.filter((key) => !fixes.has(key)),
          `${name}: applying the advice (${spec.fixedBy}) must remove exactly the fixed findings and add none`,
        );
      }
    });
  }
});
