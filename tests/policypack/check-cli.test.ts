/** `npm run check -- PATH`: exit codes and output, run as a child process like CI does. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIXTURES } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");

function check(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync(
    process.execPath,
    [require.resolve("tsx/cli"), "cli/check.ts", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe("npm run check", function () {
  this.timeout(60_000);

  it("exits 1 on a mandatory violation and prints the policy, the object and the fix", () => {
    const { status, out } = check(
      path.join(FIXTURES, "dns-and-semantics/fail-or-form.yaml"),
      "--partial",
    );
    assert.equal(status, 1, out);
    assert.match(
      out,
      /\[mandatory\] {2}zt-netpol-guard v\d+\.\d+\.\d+ {2}dns-and-semantics \(velero\/velero-network-policy @ /,
    );
    assert.match(out, /Fix: use one item/);
  });

  it("exits 0 on a clean directory (advisories allowed) and skips other kinds", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
    fs.copyFileSync(
      path.join(FIXTURES, "mesh-hbone-required/pass-meshed-localstack.yaml"),
      path.join(dir, "localstack.yaml"),
    );
    fs.writeFileSync(
      path.join(dir, "kustomization.yaml"),
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [localstack.yaml]\n",
    );
    const { status, out } = check(dir, "--partial");
    assert.equal(status, 0, out);
    assert.match(out, /Checked 2 objects in 2 file\(s\).*skipped 1 of other kinds: 0 mandatory/);
  });

  it("judges whole-cluster completeness without --partial", () => {
    const { status, out } = check(
      path.join(FIXTURES, "mesh-hbone-required/pass-meshed-localstack.yaml"),
    );
    assert.equal(status, 1, out);
    assert.match(out, /protected namespace velero has no baseline/);
  });

  it("takes cluster facts from a JSON file", () => {
    const facts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "facts-")), "facts.json");
    fs.writeFileSync(facts, JSON.stringify({ edge: { namespaces: ["argocd"], ports: [443] } }));
    const file = path.join(FIXTURES, "ingress-from-anywhere-edge-only/fail-not-edge.yaml");
    assert.match(check(file, "--partial").out, /ingress-from-anywhere-edge-only/);
    assert.doesNotMatch(
      check(file, "--partial", "--facts", facts).out,
      /ingress-from-anywhere-edge-only/,
    );
  });

  it("exits 2 on unreadable input", () => {
    assert.equal(check(path.join(FIXTURES, "does-not-exist.yaml")).status, 2);
  });
});
