// The e2e chain's comparisons (scripts/e2e/compare.ts), without the toolchain: what the API
// server returns versus the offline plan, and a preview's steps versus a plan diff.
import assert from "node:assert/strict";
import {
  compareLive,
  keyOf,
  normaliseSpec,
  parseManifests,
  planChanges,
  previewChanges,
  urnType,
  type KubeObject,
} from "../../scripts/e2e/compare";

const planned: KubeObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "a-network-policy", namespace: "a", labels: { team: "x" } },
  spec: {
    podSelector: {},
    policyTypes: ["Ingress", "Egress"],
    ingress: [],
    egress: [{ to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ port: 443 }] }],
  },
};

// What the API server hands back: protocol defaulted, the empty list dropped, extra metadata.
const live: KubeObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name: "a-network-policy",
    namespace: "a",
    labels: { team: "x" },
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
  },
  spec: {
    podSelector: {},
    policyTypes: ["Ingress", "Egress"],
    egress: [
      { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ],
  },
};

describe("e2e comparisons", () => {
  it("treats the server's defaulting and omitempty as equal, keeps empty selectors", () => {
    assert.deepEqual(
      normaliseSpec(planned.kind, planned.apiVersion, planned.spec),
      normaliseSpec(live.kind, live.apiVersion, live.spec),
    );
    const spec = normaliseSpec("NetworkPolicy", "networking.k8s.io/v1", { podSelector: {} });
    assert.deepEqual(spec, { podSelector: {} });
  });

  it("matches a live object to its planned twin and reports spec differences by path", () => {
    assert.deepEqual(compareLive([planned], [live]).matched, [keyOf(planned)]);
    const widened = structuredClone(live);
    (widened.spec as { egress: { ports: { port: number }[] }[] }).egress[0].ports[0].port = 80;
    const r = compareLive([planned], [widened]);
    assert.equal(r.differing.length, 1);
    assert.match(
      r.differing[0].differences.join("\n"),
      /spec\.egress\[0\]\.ports\[0\]\.port: 443 vs 80/,
    );
  });

  it("reports missing and extra objects and a lost label", () => {
    const other = { ...live, metadata: { ...live.metadata, name: "other", labels: {} } };
    const r = compareLive([planned], [other]);
    assert.deepEqual(r.missing, [keyOf(planned)]);
    assert.deepEqual(r.extra, [keyOf(other)]);
    const unlabelled = { ...live, metadata: { ...live.metadata, labels: {} } };
    assert.match(compareLive([planned], [unlabelled]).differing[0].differences[0], /labels\.team/);
  });

  it("derives a plan diff and reads the same objects out of a preview", () => {
    const before = parseManifests(
      [
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec: {podSelector: {}}",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: q, namespace: a}\nspec: {podSelector: {}}",
      ].join("\n---\n"),
    );
    const after = structuredClone(before);
    (after[0].spec as { policyTypes?: string[] }).policyTypes = ["Ingress"];
    after.pop();
    const expected = planChanges(before, after);
    assert.deepEqual(
      [...expected],
      [
        ["networking.k8s.io/v1/NetworkPolicy/a/p", "update"],
        ["networking.k8s.io/v1/NetworkPolicy/a/q", "delete"],
      ],
    );
    const urn = (t: string, n: string) =>
      `urn:pulumi:s::p::zt-netpol:network:NamespaceProtection$${t}::${n}`;
    const np = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
    const preview = previewChanges({
      steps: [
        { op: "same", urn: urn(np, "x"), newState: { inputs: before[0] } },
        { op: "update", urn: urn(np, "p"), newState: { inputs: after[0] } },
        { op: "delete", urn: urn(np, "q"), oldState: { inputs: before[1] } },
        {
          op: "update",
          urn: urn("zt-netpol:cluster:ClusterProtection", "c"),
          newState: { inputs: {} },
        },
      ],
    });
    assert.deepEqual([...preview.objects], [...expected]);
    assert.deepEqual([...preview.others.values()], ["update"]);
    assert.equal(urnType(urn(np, "p")), np);
  });
});
