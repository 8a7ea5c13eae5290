import * as assert from "assert";
import * as path from "path";
import {
  alignInventories,
  buildModel,
  explainedDiff,
  isRepresentative,
  loadManifestPaths,
  OTHER_NAMESPACE,
  renderExplainedDiff,
} from "../../engine";
import { run as diffMain } from "../../cli/diff";

const knp = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { namespace, name },
  spec,
});
const nsSel = (name: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});

describe("representative inventory (inputs without workloads)", () => {
  it("invents one pod per label set the selectors name, plus any other pod and namespace", () => {
    const model = buildModel([
      knp("loki", "p", {
        podSelector: { matchLabels: { app: "loki" } },
        ingress: [
          { from: [{ ...nsSel("default"), podSelector: { matchLabels: { app: "grafana" } } }] },
        ],
      }),
    ]);
    assert.ok(isRepresentative(model));
    const names = model.pods.map((p) => `${p.namespace}/${p.name}`).sort();
    assert.deepStrictEqual(names, [
      `${OTHER_NAMESPACE}/(any other pod)`,
      "default/(any other pod)",
      "default/app=grafana",
      "loki/(any other pod)",
      "loki/app=loki",
    ]);
  });

  it("keeps a model without workloads pod-less when asked", () => {
    const model = buildModel([knp("a", "p", { podSelector: {} })], { representativePods: false });
    assert.strictEqual(model.pods.length, 0);
  });

  it("makes a diff of two pod-less policy sets see the difference, with the rule that explains it", () => {
    const open = knp("b", "p", {
      podSelector: {},
      ingress: [{ from: [nsSel("a")], ports: [{ port: 80 }] }],
    });
    const wider = knp("b", "p", {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }, { port: 443 }] }],
    });
    const options = { representativePods: false };
    const [before, after] = alignInventories([
      buildModel([{ object: open, source: "old.yaml#0" }], options),
      buildModel([{ object: wider, source: "new.yaml#0" }], options),
    ]);
    const changes = explainedDiff(before, after);
    const ab = changes.find((c) => c.from === "a" && c.to === "b");
    assert.ok(ab, renderExplainedDiff(changes));
    assert.strictEqual(ab.type, "changed");
    assert.match(ab.opened!.because, /spec\.ingress\[0\] \(new\.yaml#0\)/);
    const other = changes.find((c) => c.from === OTHER_NAMESPACE && c.to === "b");
    assert.strictEqual(other?.type, "opened");
    assert.match(renderExplainedDiff(changes), /Opened:[\s\S]*\[other-namespace\] -> b/);
  });

  it("names external ranges by the names it is given", () => {
    const egress = (cidr: string) =>
      knp("a", "p", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ port: 443 }] }],
      });
    const options = { representativePods: false };
    const [before, after] = alignInventories([
      buildModel([egress("10.0.1.1/32")], options),
      buildModel([egress("10.0.1.2/32")], options),
    ]);
    const text = renderExplainedDiff(
      explainedDiff(before, after, { rangeNames: [{ name: "gateway", cidr: "10.0.1.1/32" }] }),
    );
    assert.match(text, /Closed:\n {2}a -> gateway\n/);
    assert.match(text, /Opened:\n {2}a -> internet 10\.0\.1\.2\/32\n/);
  });

  it("sees everything a policy tree allows against an empty set (diff is never blind)", () => {
    const tree = path.join(__dirname, "../fixtures/migration/small-tree");
    const options = { representativePods: false };
    const [before, after] = alignInventories([
      buildModel(loadManifestPaths([tree]), options),
      buildModel([], options),
    ]);
    const changes = explainedDiff(before, after);
    assert.ok(changes.length > 0);
    assert.ok(
      changes.every((c) => c.type === "closed" || c.type === "changed" || c.type === "opened"),
    );
  });
});

describe("npm run diff (the CLI)", () => {
  const small = path.join(__dirname, "../fixtures/migration/small-tree");
  const seed = path.join(__dirname, "../fixtures/migration/seed-tree");
  async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => err.push(s) > 0) as typeof process.stderr.write;
    try {
      const code = await diffMain(args);
      return { code, out: out.join(""), err: err.join("") };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }

  it("with --stack, names ranges like the stack and finds no change between equal trees", async () => {
    const same = await run([small, small, "--stack", "homelab"]);
    assert.strictEqual(same.code, 0, same.err);
    assert.strictEqual(same.out, "No connectivity changes.\n");
  });

  it("fails closed, with the location, on a tree the API server would reject (ICMP)", async () => {
    const bad = await run([seed, small]);
    assert.strictEqual(bad.code, 2);
    assert.match(
      bad.err,
      /unipoller\/network-policy\.yaml\) spec\.egress\[4\]\.ports\[0\]\.protocol: unsupported protocol "ICMP"/,
    );
  });

  it("refuses --stack without a name", async () => {
    assert.strictEqual((await run([small, small, "--stack"])).code, 2);
  });
});

describe("representative namespaces for namespace label selectors", () => {
  it("invents a namespace with the labels a selector asks for, so the rule is exercised", () => {
    const policy = knp("api", "p", {
      podSelector: {},
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { team: "web" } } }], ports: [{ port: 80 }] },
      ],
    });
    const model = buildModel([policy]);
    const ns = model.namespaces.get("[namespace team=web]");
    assert.strictEqual(ns?.labels.team, "web");
    const narrower = knp("api", "p", { podSelector: {}, ingress: [] });
    const options = { representativePods: false };
    const [before, after] = alignInventories([
      buildModel([policy], options),
      buildModel([narrower], options),
    ]);
    const change = explainedDiff(before, after).find((c) => c.from === "[namespace team=web]");
    assert.strictEqual(change?.type, "closed");
  });
});
