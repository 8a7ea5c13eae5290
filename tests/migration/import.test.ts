import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackConfig } from "../../config/load";
import { buildModel, loadManifestPaths } from "../../engine";
import { run as main } from "../../cli/import";
import { importPolicies } from "../../cli/migrate/infer";
import { renderStack } from "../../plan/render";
import { toMultiDocumentYaml } from "../../plan/yaml";

const SEED_TREE = path.join(__dirname, "../fixtures/migration/seed-tree");

function quiet<T>(run: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
  return run().then(
    (value) => {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      return { value, out: out.join(""), err: err.join("") };
    },
    (error: unknown) => {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      throw error;
    },
  );
}

describe("npm run import on the 18-namespace seed-style tree", function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-import-"));
  let report = "";
  let code = -1;

  before(async () => {
    const run = await quiet(() =>
      main([
        SEED_TREE,
        "--stack",
        "imported",
        "--stack-dir",
        dir,
        "--report",
        path.join(dir, "r.md"),
      ]),
    );
    code = run.value;
    report = run.out;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes a stack file that validates, with all 18 namespaces and the adoption settings", () => {
    assert.strictEqual(code, 0, report);
    assert.strictEqual(fs.readFileSync(path.join(dir, "r.md"), "utf8"), report);
    const config = loadStackConfig("imported", dir);
    assert.strictEqual(config.namespaces.length, 18);
    assert.strictEqual(config.cluster.dns.namespace, "kube-system");
    assert.deepStrictEqual(config.cluster.dns.podLabels, { "k8s-app": "kube-dns" });
    assert.strictEqual(config.cluster.apiServer.clusterIP, "10.96.0.1");
    assert.strictEqual(config.cluster.controlPlane.cidr, "10.0.10.0/24");
    assert.strictEqual(config.cluster.monitoringNamespace, "default");
    assert.strictEqual(config.cluster.mesh?.namespace, "istio-system");
    const meshed = config.namespaces
      .filter((n) => n.meshed)
      .map((n) => n.name)
      .sort();
    assert.deepStrictEqual(meshed, [
      "argo-workflows",
      "default",
      "localstack",
      "loki",
      "trivy-system",
      "unipoller",
    ]);
    const text = fs.readFileSync(path.join(dir, "Pulumi.imported.yaml"), "utf8");
    assert.match(text, /kubernetes:enableServerSideApply: "true"/);
    assert.match(text, /kubernetes:upsertExistingObjects: "true"/);
    assert.deepStrictEqual(config.adoption, { patchForce: true });
  });

  it("names every flow's source location in its reason", () => {
    const config = loadStackConfig("imported", dir);
    assert.ok(config.flows.length > 0);
    for (const flow of config.flows)
      assert.match(
        flow.reason,
        /^Imported from .*network-policy\.yaml spec\.(ingress|egress)\[\d+\]/,
      );
  });

  it("lists each typical mistake with its location and what import did", () => {
    const expect: [RegExp, string][] = [
      [/velero\/network-policy\.yaml spec\.egress\[0\]\.to\[0\] \| OR-form DNS/, "narrowed"],
      [
        /falco\/network-policy\.yaml spec\.egress\[0\]\.to\[0\] \| namespaceSelector: \{\}/,
        "narrowed",
      ],
      [
        /tigera-operator\/network-policy\.yaml spec\.egress\[2\]\.to\[0\] \| API egress to 0\.0\.0\.0\/0:6443/,
        "narrowed",
      ],
      [
        /unipoller\/network-policy\.yaml spec\.egress\[4\]\.ports\[0\]\.protocol \| unsupported protocol "ICMP"/,
        "dropped",
      ],
      [
        /unipoller\/network-policy\.yaml spec\.ingress\[1\]\.from\[0\] \| admits monitoring/,
        "dropped",
      ],
      [/loki\/network-policy\.yaml spec\.ingress\[1\] \| bare HBONE rule/, "dropped"],
      [
        /kube-system\/network-policy\.yaml spec\.ingress\[1\] \| bare-port rule admits every source/,
        "narrowed",
      ],
      [
        /falco\/network-policy\.yaml spec\.ingress\[0\]\.from\[0\] \| metrics scrape of falco: the input has the ingress corner but no egress corner/,
        "made explicit",
      ],
    ];
    for (const [pattern, action] of expect) {
      const line = report.split("\n").find((l) => pattern.test(l));
      assert.ok(line, `no finding matching ${pattern}`);
      assert.ok(line.includes(`| ${action}:`), line);
    }
  });

  it("proves the round trip: every difference classified, none unexplained", () => {
    const count = (cls: string): number =>
      Number(
        new RegExp(`^- ${cls.replace(/[()]/g, "\\$&")}: (\\d+)$`, "m").exec(report)?.[1] ?? NaN,
      );
    assert.strictEqual(count("unexplained"), 0);
    assert.ok(count("closed (known-bad rule)") > 0);
    assert.ok(count("narrowed (known-bad rule)") > 0);
    assert.ok(count("missing corner added") > 0);
    assert.ok(count("pattern normalised") > 0);
    // The dashboard, SMTP and SNMP the cluster relies on are not broken.
    for (const broken of [
      /ingress-nginx → default \| -/,
      /default → internet.* \| - TCP 587/,
      /unipoller → lan-10-0-1-1 \| -/,
    ])
      assert.doesNotMatch(report, broken);
    // The log shipper keeps its port: ztunnel authorization narrows the rest of what the
    // original let through on HBONE, never 3100 itself.
    const loki = report.split("\n").filter((l) => l.includes("| default → loki | -"));
    assert.ok(loki.length > 0, "the HBONE narrowing of default → loki is reported");
    for (const line of loki) assert.match(line, /TCP 1-3099,3101-65535 \|/);
  });

  it("refuses to overwrite a stack file, and says so in one line", async () => {
    const run = await quiet(() => main([SEED_TREE, "--stack", "imported", "--stack-dir", dir]));
    assert.strictEqual(run.value, 2);
    assert.match(run.err, /^import: .*exists: give --force to overwrite it\n$/);
  });

  it("refuses a missing path and an input without policies, in one line each", async () => {
    const missing = await quiet(() =>
      main([path.join(dir, "nope"), "--stack", "x", "--stack-dir", dir]),
    );
    assert.strictEqual(missing.value, 2);
    assert.match(missing.err, /^import: .*nope.*\n$/);
    assert.strictEqual(missing.err.split("\n").length, 2, missing.err);
    const empty = path.join(dir, "empty.yaml");
    fs.writeFileSync(empty, "");
    const none = await quiet(() => main([empty, "--stack", "x", "--stack-dir", dir]));
    assert.strictEqual(none.value, 2);
    assert.match(none.err, /holds no NetworkPolicy or Calico policy: nothing to import\n$/);
    assert.ok(!fs.existsSync(path.join(dir, "Pulumi.x.yaml")));
  });

  it("prints help with the exit codes, and a usage error without a stack trace", async () => {
    const help = await quiet(() => main(["--help"]));
    assert.strictEqual(help.value, 0);
    assert.match(help.out + help.err, /Exit codes:/);
    const bad = await quiet(() => main([SEED_TREE]));
    assert.strictEqual(bad.value, 2);
    assert.doesNotMatch(bad.err, /\n\s+at /);
  });
});

describe("import on small trees", () => {
  const small = path.join(__dirname, "../fixtures/migration/small-tree");

  it("drops a Calico policy of a tier other than default, saying why", () => {
    const objects = [
      ...loadManifestPaths([small]),
      {
        object: {
          apiVersion: "projectcalico.org/v3",
          kind: "Tier",
          metadata: { name: "security" },
          spec: { order: 100 },
        },
        source: "tier.yaml#0",
      },
      {
        object: {
          apiVersion: "projectcalico.org/v3",
          kind: "NetworkPolicy",
          metadata: { name: "security.icmp", namespace: "loki" },
          spec: {
            tier: "security",
            selector: "all()",
            types: ["Egress"],
            egress: [{ action: "Allow", protocol: "ICMP", destination: { nets: ["10.0.0.1/32"] } }],
          },
        },
        source: "icmp.yaml#0",
      },
    ];
    const result = importPolicies(buildModel(objects, { representativePods: false }), "small");
    const dropped = result.findings.filter((f) => f.problem === "Calico policy in tier security");
    assert.ok(dropped.length > 0, JSON.stringify(result.findings));
    assert.ok(dropped.every((f) => f.action === "dropped" && f.location.startsWith("icmp.yaml#0")));
    const loki = (result.raw.namespaces as { name: string; calicoPolicies?: unknown[] }[]).find(
      (n) => n.name === "loki",
    );
    assert.equal(loki?.calicoPolicies, undefined);
  });

  it("protects only namespaces the tree has policies in, and reports flows to others", () => {
    const objects = [
      ...loadManifestPaths([small]),
      {
        object: { apiVersion: "v1", kind: "Namespace", metadata: { name: "web" } },
        source: "ns.yaml",
      },
      {
        object: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "to-web", namespace: "loki" },
          spec: {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
              {
                to: [
                  { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "web" } } },
                ],
                ports: [{ port: 80 }],
              },
            ],
          },
        },
        source: "to-web.yaml#0",
      },
    ];
    const result = importPolicies(buildModel(objects, { representativePods: false }), "small");
    const names = (result.raw.namespaces as { name: string }[]).map((n) => n.name).sort();
    assert.deepStrictEqual(names, ["default", "kube-system", "loki"]);
    const dropped = result.findings.find(
      (f) => f.location === "to-web.yaml#0 spec.egress[0].to[0]",
    );
    assert.ok(dropped);
    assert.strictEqual(dropped.action, "dropped");
    assert.match(dropped.problem, /web, which the input does not protect/);
    const kubeSystem = result.findings.find((f) => f.location === "kube-system");
    assert.strictEqual(kubeSystem?.action, "made explicit");
  });

  it("narrows OR-form DNS and fails closed on a tree without DNS", () => {
    const model = buildModel(
      loadManifestPaths([path.join(__dirname, "../fixtures/migration/small-tree")]),
      {
        representativePods: false,
      },
    );
    const result = importPolicies(model, "small");
    assert.ok(
      result.findings.some((f) => /OR-form DNS/.test(f.problem) && f.action === "narrowed"),
    );
    const noDns = buildModel(
      [
        {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "p", namespace: "a" },
          spec: { podSelector: {}, ingress: [] },
        },
      ],
      { representativePods: false },
    );
    assert.throws(() => importPolicies(noDns, "x"), /cannot infer the cluster DNS/);
  });
});

describe("npm run import on the homelab's own plan", function () {
  this.timeout(120000);

  it("gives back a config whose plan allows exactly what the input allows", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-reimport-"));
    try {
      await reimport(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Plans the homelab, imports that plan into stack "again" and checks the round trip. */
async function reimport(dir: string): Promise<void> {
  const rendered = await renderStack("homelab");
  const manifests = path.join(dir, "manifests.yaml");
  fs.writeFileSync(manifests, toMultiDocumentYaml(rendered.manifests, "# homelab plan"));
  const run = await quiet(() => main([manifests, "--stack", "again", "--stack-dir", dir]));
  assert.strictEqual(run.value, 0, run.out + run.err);
  const counts = [...run.out.matchAll(/^- (.+): (\d+)$/gm)].map(([, c, n]) => [c, Number(n)]);
  assert.deepStrictEqual(Object.fromEntries(counts), {
    "closed (known-bad rule)": 0,
    "narrowed (known-bad rule)": 0,
    "missing corner added": 0,
    // The identity layer (ztunnel authorization) is in both plans, so even the HBONE pairs,
    // where L4 rules cannot tell TCP ports apart, allow the same.
    "pattern normalised": 0,
    unexplained: 0,
  });
  // Only the ztunnel egress of the six meshed namespaces is normalised; nothing narrowed or dropped.
  assert.match(run.out, /## What the config cannot or should not express \(6\)/);
  const findings = run.out.split("\n").filter((l) => l.includes(" | ztunnel egress to "));
  assert.strictEqual(findings.length, 6);
  assert.ok(findings.every((l) => l.includes("| normalised:")));
  const config = loadStackConfig("again", dir);
  const homelab = rendered.config;
  assert.deepStrictEqual(config.cluster.mesh?.istiodPorts, homelab.cluster.mesh?.istiodPorts);
  assert.deepStrictEqual(
    config.namespaces
      .filter((n) => n.meshed)
      .map((n) => n.name)
      .sort(),
    homelab.namespaces
      .filter((n) => n.meshed)
      .map((n) => n.name)
      .sort(),
  );
}

describe("npm run import --facts FILE", function () {
  this.timeout(120000);
  // A tree that never reaches the API: nothing to infer the ClusterIP or the control plane from.
  const tree = [
    "apiVersion: networking.k8s.io/v1",
    "kind: NetworkPolicy",
    "metadata: {name: shop-network-policy, namespace: shop}",
    "spec:",
    "  podSelector: {}",
    "  policyTypes: [Ingress, Egress]",
    "  ingress:",
    "    - from: [{podSelector: {}}]",
    "      ports: [{port: 8080}]",
    "  egress:",
    "    - to: [{podSelector: {}}]",
    "      ports: [{port: 8080}]",
    "    - to:",
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: dns}}",
    "          podSelector: {matchLabels: {app: coredns}}",
    "      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]",
    "---",
    "apiVersion: networking.k8s.io/v1",
    "kind: NetworkPolicy",
    "metadata: {name: dns-network-policy, namespace: dns}",
    "spec:",
    "  podSelector: {}",
    "  policyTypes: [Ingress, Egress]",
    "  ingress:",
    "    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}}]",
    "      ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]",
  ].join("\n");
  const facts = {
    dns: { namespace: "dns", podLabels: { app: "coredns" }, port: 53 },
    apiServer: { clusterIP: "10.43.0.1", port: 443 },
    controlPlane: { cidr: "192.168.5.0/29", port: 6443 },
    privateRanges: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
    mesh: null,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-import-facts-"));
  const treeFile = path.join(dir, "tree.yaml");
  const factsFile = path.join(dir, "facts.json");
  fs.writeFileSync(treeFile, tree);
  fs.writeFileSync(factsFile, JSON.stringify(facts));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("without facts, fails closed in one line that names --facts", async () => {
    const run = await quiet(() => main([treeFile, "--stack", "nofacts", "--stack-dir", dir]));
    assert.strictEqual(run.value, 2, run.err);
    assert.match(
      run.err,
      /cannot infer the Kubernetes API: .*--facts FILE: apiServer, controlPlane/,
    );
    assert.strictEqual(run.err.trim().split("\n").length, 1, run.err);
    assert.ok(!fs.existsSync(path.join(dir, "Pulumi.nofacts.yaml")));
  });

  it("writes the given facts instead of inferred ones, and the round trip holds", async () => {
    const run = await quiet(() =>
      main([treeFile, "--stack", "given", "--stack-dir", dir, "--facts", factsFile]),
    );
    assert.strictEqual(run.value, 0, run.out + run.err);
    const config = loadStackConfig("given", dir);
    assert.strictEqual(config.cluster.dns.namespace, "dns");
    assert.deepStrictEqual(config.cluster.dns.podLabels, { app: "coredns" });
    assert.strictEqual(config.cluster.apiServer.clusterIP, "10.43.0.1");
    assert.strictEqual(config.cluster.controlPlane.cidr, "192.168.5.0/29");
    assert.ok(config.cluster.privateRanges.includes("100.64.0.0/10"));
    assert.strictEqual(config.cluster.mesh, undefined);
    const shop = config.namespaces.find((n) => n.name === "shop");
    assert.ok(shop, "shop is protected");
    assert.ok(
      config.namespaces.some((n) => n.name === "dns"),
      "the DNS namespace too",
    );
  });

  it("gives the mesh and its meshed namespaces from the facts", () => {
    const model = buildModel(loadManifestPaths([treeFile]), { representativePods: false });
    const result = importPolicies(model, "meshed", {
      ...facts,
      mesh: {
        namespace: "istio-system",
        hbonePort: 15008,
        istiodPorts: [15012],
        probeSource: "169.254.7.127/32",
        trustDomain: "example.org",
      },
      meshedNamespaces: ["shop"],
    });
    const cluster = result.raw.cluster as { mesh?: { namespace: string; trustDomain?: string } };
    assert.strictEqual(cluster.mesh?.namespace, "istio-system");
    assert.strictEqual(cluster.mesh?.trustDomain, "example.org");
    const shop = (result.raw.namespaces as { name: string; meshed?: boolean }[]).find(
      (n) => n.name === "shop",
    );
    assert.strictEqual(shop?.meshed, true);
  });

  it("refuses a facts file with an unknown key, in one line with the file", async () => {
    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ dnss: {} }));
    const run = await quiet(() =>
      main([treeFile, "--stack", "bad", "--stack-dir", dir, "--facts", bad]),
    );
    assert.strictEqual(run.value, 2);
    assert.match(run.err, /bad\.json:\n {2}dnss: not a cluster fact/);
  });
});
