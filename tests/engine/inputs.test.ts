import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildModel, explainFlow, ManifestError } from "../../engine";

const pod = (namespace: string, app: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: app, namespace, labels: { app } },
  spec: { containers: [{ name: "c" }] },
});

describe("engine inputs: nothing that decides traffic is skipped silently", () => {
  it("evaluates Calico policies stored as crd.projectcalico.org/v1 like projectcalico.org/v3", () => {
    const denyEgress = {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny", namespace: "a" },
      spec: { selector: "all()", types: ["Egress"], egress: [{ action: "Deny" }] },
    };
    const model = buildModel([pod("a", "web"), pod("b", "db"), denyEgress]);
    const result = explainFlow(model, {
      from: { namespace: "a" },
      to: { namespace: "b" },
      port: 5432,
    });
    assert.equal(result.verdict, "denied");
  });

  it("refuses policy kinds it does not model, naming the object", () => {
    const anp = {
      apiVersion: "policy.networking.k8s.io/v1alpha1",
      kind: "AdminNetworkPolicy",
      metadata: { name: "anp" },
      spec: { priority: 1, subject: { namespaces: {} }, egress: [] },
    };
    assert.throws(
      () => buildModel([pod("a", "web"), anp]),
      (error: unknown) =>
        error instanceof ManifestError && /AdminNetworkPolicy.*not modelled/.test(error.message),
    );
  });

  it("models staged kinds apart (never enforcing, not ignored) and lists what it ignored", () => {
    // AuthorizationPolicy is modelled (gate 3, tests/engine/ambient-authorization.test.ts); the
    // staged kinds are too, in stagedPolicies (tests/engine/staged.test.ts).
    const staged = {
      apiVersion: "projectcalico.org/v3",
      kind: "StagedNetworkPolicy",
      metadata: { name: "staged", namespace: "b" },
      spec: {},
    };
    const config = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "a" } };
    const model = buildModel([pod("a", "web"), staged, config]);
    assert.equal(model.policies.length, 0);
    assert.deepEqual(
      (model.stagedPolicies ?? []).map((p) => p.ref.kind),
      ["projectcalico.org/StagedNetworkPolicy"],
    );
    assert.ok(
      !model.warnings.some((w) => /StagedNetworkPolicy/.test(w)),
      model.warnings.join("\n"),
    );
    assert.deepEqual(
      model.ignored.map((o) => o.kind),
      ["ConfigMap"],
    );
  });

  it("explain exits 2 on an input without any policy rather than calling everything allowed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-empty-"));
    fs.writeFileSync(path.join(dir, "pods.yaml"), JSON.stringify(pod("a", "web")));
    const tsx = path.join(__dirname, "../../node_modules/.bin/tsx");
    const run = spawnSync(
      tsx,
      ["cli/explain.ts", "--manifests", dir, "--from", "a", "--to", "b", "--port", "443"],
      {
        cwd: path.join(__dirname, "../.."),
        encoding: "utf8",
      },
    );
    assert.equal(run.status, 2, run.stdout);
    assert.match(run.stderr, /holds no NetworkPolicy or Calico policy/);
  });

  it("refuses unknown spec and port fields (a typo must not leave a direction open)", () => {
    const typo = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "a" },
      spec: { podSelector: {}, egres: [], ingress: [{ ports: [{ prot: "TCP", port: 80 }] }] },
    };
    assert.throws(
      () => buildModel([pod("a", "web"), typo]),
      (error: unknown) =>
        error instanceof ManifestError &&
        /spec\.egres: unknown field/.test(error.message) &&
        /ports\[0\]\.prot: unknown field/.test(error.message),
    );
  });

  it("defaults an empty policyTypes like an absent one, as the API server does", () => {
    const empty = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: "b" },
      spec: { podSelector: {}, policyTypes: [] },
    };
    const model = buildModel([pod("a", "web"), pod("b", "db"), empty]);
    const inbound = explainFlow(model, {
      from: { namespace: "a" },
      to: { namespace: "b" },
      port: 80,
    });
    const outbound = explainFlow(model, {
      from: { namespace: "b" },
      to: { namespace: "a" },
      port: 80,
    });
    assert.equal(inbound.verdict, "denied");
    assert.equal(outbound.verdict, "allowed");
  });
});
