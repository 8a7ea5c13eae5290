/** `npm run list -- PATH`: output, flags and exit codes, run as a child process like a user. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";

const ROOT = path.resolve(__dirname, "../..");

function list(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), "cli/list.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function manifestDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "list-"));
  const docs = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
    ...["web", "db"].map((app) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: app, namespace: "shop", labels: { app } },
      spec: { containers: [{ name: "main" }] },
    })),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "db", namespace: "shop" },
      spec: {
        podSelector: { matchLabels: { app: "db" } },
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          { from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 5432 }] },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "web", namespace: "shop" },
      spec: {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Ingress", "Egress"],
        egress: [
          { to: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: 5432 }] },
        ],
      },
    },
  ];
  fs.writeFileSync(path.join(dir, "all.yaml"), docs.map((d) => stringify(d)).join("---\n"));
  return dir;
}

describe("npm run list", function () {
  this.timeout(60_000);
  const dir = manifestDir();

  it("prints the workload-level connections as txt by default and exits 0", () => {
    const { status, stdout, stderr } = list(dir);
    assert.equal(status, 0, stderr);
    assert.equal(stdout, "shop/web[Pod] => shop/db[Pod] : TCP 5432\n");
  });

  it("prints csv with -o csv, and an empty list for a direction without connections", () => {
    assert.equal(
      list(dir, "-o", "csv").stdout,
      "src,dst,conn\nshop/web[Pod],shop/db[Pod],TCP 5432\n",
    );
    const { status, stdout } = list(
      dir,
      "--focus-workload",
      "shop/db",
      "--focus-direction",
      "egress",
    );
    assert.equal(status, 0);
    assert.equal(stdout, "");
  });

  it("refuses an unknown focus workload with a did-you-mean, one line, exit 2", () => {
    const { status, stdout, stderr } = list(dir, "--focus-workload", "webb");
    assert.equal(status, 2);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      /^list: --focus-workload webb: .* has no workload webb \(did you mean "web"\?\)/,
    );
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  });

  it("refuses --focus-direction without --focus-workload, and an unknown format", () => {
    const direction = list(dir, "--focus-direction", "in");
    assert.equal(direction.status, 2);
    assert.match(direction.stderr, /--focus-direction needs --focus-workload/);
    const format = list(dir, "-o", "xml");
    assert.equal(format.status, 2);
    assert.match(format.stderr, /Allowed choices are txt, json, csv, md, dot/);
  });

  it("takes the cluster facts from --facts FILE: meshed, web reaches db only on HBONE", () => {
    // Outside the manifest directory: list reads every .json file of it.
    const facts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "list-facts-")), "facts.json");
    fs.writeFileSync(
      facts,
      JSON.stringify({
        mesh: {
          namespace: "istio-system",
          hbonePort: 15008,
          istiodPorts: [15012],
          probeSource: "169.254.7.127/32",
        },
        meshedNamespaces: ["shop"],
      }),
    );
    const plain = list(dir);
    assert.match(plain.stdout, /shop\/web\[Pod\] => shop\/db\[Pod\] : TCP 5432/);
    // Both ends meshed: the CNI sees HBONE on 15008, which the policies do not admit.
    const meshed = list(dir, "--facts", facts);
    assert.equal(meshed.status, 0, meshed.stderr);
    assert.doesNotMatch(meshed.stdout, /shop\/db/);
    assert.match(meshed.stderr, /mesh from .*facts\.json: istio-system, HBONE 15008/);
    const both = list(dir, "--facts", facts, "--stack", "homelab");
    assert.equal(both.status, 2);
    assert.match(both.stderr, /use --stack or --facts, not both/);
    fs.writeFileSync(facts, "{");
    const broken = list(dir, "--facts", facts);
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /facts\.json: /);
  });

  it("documents its exit codes in --help", () => {
    const { status, stdout } = list("--help");
    assert.equal(status, 0);
    assert.match(stdout, /Exit codes:\n {2}0 {2}the list was printed/);
  });
});
