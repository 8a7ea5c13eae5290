import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { loadStackConfig } from "../../config/load";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { type PackConfig, reconcilePackConfig } from "../../policypack/run";

const ROOT = path.join(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function plan(args: string[]) {
  return spawnSync(TSX, ["cli/plan.ts", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

describe("npm run plan (the CLI)", function () {
  this.timeout(120_000);

  it("writes manifests.yaml and the flow catalogue, and reports zero violations for homelab", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "zt-plan-"));
    const run = plan(["--stack", "homelab", "--out", out]);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /Policy pack: 0 mandatory and 0 advisory violations/);
    const docs = parseAllDocuments(fs.readFileSync(path.join(out, "manifests.yaml"), "utf8")).map(
      (d) => d.toJS(),
    );
    assert.equal(
      docs.filter((d) => d.kind === "NetworkPolicy" && d.apiVersion === "networking.k8s.io/v1")
        .length >= 18,
      true,
    );
    assert.ok(
      fs
        .readFileSync(path.join(out, "flow-catalogue.md"), "utf8")
        .startsWith("# Flow catalogue: homelab"),
    );
    assert.match(fs.readFileSync(path.join(out, "matrix.md"), "utf8"), /\| \*\*velero\*\* \|/);
    // The declared-flows picture: the seed's segmentation diagram, without the universal patterns.
    const diagram = fs.readFileSync(path.join(out, "diagram.md"), "utf8");
    const everything = diagram.indexOf("## Every allowed connection");
    const focus = diagram.slice(diagram.indexOf("## Declared flows"), everything);
    assert.match(focus, /n_velero -->\|"TCP 4566"\| n_localstack/);
    assert.match(focus, /n_ingress_nginx -->\|"TCP 2746"\| n_argo_workflows/);
    assert.doesNotMatch(focus, /n_velero -->[^\n]*n_kube_system/);
    assert.match(diagram.slice(everything), /n_velero -->[^\n]*n_kube_system/);
    const html = fs.readFileSync(path.join(out, "connectivity.html"), "utf8");
    // Declared flows, the cluster inside and outside, hidden layers, one picture per namespace.
    for (const id of ["declared-svg", "inside-svg", "outside-svg", "layer-svg-layer-dns"])
      assert.match(html, new RegExp(`<svg [^>]*id="${id}"`));
    assert.equal((html.match(/<svg [^>]*class="picture-svg"/g) ?? []).length >= 20, true);
    // The stack's facts for `pulumi preview --policy-pack-config`: valid pack config, and the
    // resource policies get what they read (the pack has no defaults of its own).
    const packConfig = JSON.parse(
      fs.readFileSync(path.join(out, "policy-pack-config.json"), "utf8"),
    ) as PackConfig;
    const reconciled = reconcilePackConfig(packConfig);
    const homelab = factsFromStackConfig(loadStackConfig("homelab"));
    assert.deepEqual(reconciled["dns-and-semantics"].properties.dns, homelab.dns);
    assert.deepEqual(reconciled["ingress-from-anywhere-edge-only"].properties.edge, homelab.edge);
  });

  it("passes the whole pack on a second cluster too (minilab)", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "zt-plan-"));
    const run = plan([
      "--stack",
      "minilab",
      "--stack-dir",
      path.join(ROOT, "tests/fixtures"),
      "--out",
      out,
    ]);
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /Policy pack: 0 mandatory and 0 advisory violations/);
  });

  it("exits non-zero when the pack finds a mandatory violation", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-plan-"));
    const document = parse(
      fs.readFileSync(path.join(ROOT, "tests/fixtures/Pulumi.minilab.yaml"), "utf8"),
    );
    // Internet ingress into a namespace that is not an edge namespace: valid config, unsafe policy.
    document.config["zt-netpol:flows"].push({
      name: "internet-to-api",
      from: "internet",
      to: "api",
      ports: [8080],
      reason: "oops",
    });
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), stringify(document));
    const run = plan(["--stack", "bad", "--stack-dir", dir, "--out", path.join(dir, "out")]);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stdout, /\[mandatory\].*ingress-from-anywhere-edge-only/);
    // GitOps users commit manifests.yaml: a failing plan leaves none behind.
    assert.equal(fs.existsSync(path.join(dir, "out", "manifests.yaml")), false);
    assert.ok(
      fs.existsSync(path.join(dir, "out", "matrix.md")),
      "reports are still written to help fix it",
    );
  });

  it("exits non-zero with the config key on invalid config, writing nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-plan-"));
    const document = parse(
      fs.readFileSync(path.join(ROOT, "tests/fixtures/Pulumi.minilab.yaml"), "utf8"),
    );
    document.config["zt-netpol:flows"][0].ports = [65536];
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), stringify(document));
    const run = plan(["--stack", "bad", "--stack-dir", dir, "--out", path.join(dir, "out")]);
    assert.equal(run.status, 2);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "a config error prints no stack trace");
    assert.match(
      run.stderr,
      /zt-netpol:flows\[0\]\.ports\[0\]: port must be an integer from 1 to 65535/,
    );
    assert.equal(fs.existsSync(path.join(dir, "out")), false);
  });
});
