/** `explain` and `diff --promote` on a manifest set holding staged policies. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run as diff } from "../../cli/diff";
import { run as explain } from "../../cli/explain";

const MANIFESTS = `
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-open, namespace: a}
spec: {podSelector: {}, policyTypes: [Ingress], ingress: [{}]}
---
apiVersion: projectcalico.org/v3
kind: StagedKubernetesNetworkPolicy
metadata: {name: b-network-policy, namespace: b}
spec:
  stagedAction: Set
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}}]
      ports: [{port: 5432}]
`;

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  let out = "";
  process.stdout.write = ((c: string) => ((out += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((out += c), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
}

describe("explain and diff --promote with staged policies", () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zt-promote-")), "m.yaml");
  before(() => fs.writeFileSync(file, MANIFESTS));

  it("explain prints both verdicts and exits with the enforced one", async () => {
    const run = await capture(() =>
      explain(["--manifests", file, "--from", "a/app=web", "--to", "b/app=db", "--port", "80"]),
    );
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /Enforced now: ALLOWED; after promotion of 1 staged policy: DENIED/);
    assert.match(run.out, /1 staged policy: evaluated by Calico, never enforced/);
  });

  it("diff --promote lists what promotion closes, and only that", async () => {
    const run = await capture(() => diff(["--promote", file]));
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /a -> b: loses .*TCP 1-5431,5433-65535/);
    assert.match(run.out, /b -> a: closed entirely/);
    assert.doesNotMatch(run.out, /a -> a|b -> b/);
    const usage = await capture(() => diff(["--promote"]));
    assert.equal(usage.code, 2);
    assert.match(usage.out, /diff: --promote needs a PATH or --stack NAME/);
    const two = await capture(() => diff(["--promote", file, file]));
    assert.equal(two.code, 2);
    assert.match(two.out, /--promote takes one PATH/);
  });

  it("diff --promote on an input without staged policies is a user error, not 'closes nothing'", async () => {
    const enforced = path.join(path.dirname(file), "enforced.yaml");
    fs.writeFileSync(enforced, MANIFESTS.split("---\n").slice(0, 5).join("---\n"));
    const run = await capture(() => diff(["--promote", enforced]));
    assert.equal(run.code, 2, run.out);
    assert.match(run.out, /holds no staged policy: there is nothing to promote/);
  });

  it("explain exits 1 when the enforced verdict is denied, and still shows the promoted one", async () => {
    const run = await capture(() =>
      explain(["--manifests", file, "--from", "b/app=db", "--to", "a/app=web", "--port", "80"]),
    );
    assert.match(
      run.out,
      /Enforced now: (ALLOWED|DENIED); after promotion of 1 staged policy: DENIED/,
    );
    assert.equal(run.code, /Enforced now: ALLOWED/.test(run.out) ? 0 : 1, run.out);
  });
});
