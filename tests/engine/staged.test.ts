/**
 * Staged kinds in the engine: read once through the normaliser of the kind they stage, never
 * enforcing, and two views (promoted, pending). Properties on random clusters: staged objects never
 * change an enforced verdict, and promotion equals enforcing the staged objects.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ManifestError,
  buildModel,
  explainWithPromotion,
  pendingModel,
  promotedModel,
  promotionCloses,
  renderPromotionCloses,
} from "../../engine";
import { allowed, cnp, knp, model, ns, pod } from "./helpers";
import { unionPairs } from "./property-helpers";

type Obj = Record<string, unknown>;

/** The staged twin of an enforced manifest (same metadata; spec plus stagedAction). */
function stage(object: Obj, stagedAction?: string): Obj {
  const kind =
    object.apiVersion === "networking.k8s.io/v1"
      ? "StagedKubernetesNetworkPolicy"
      : object.kind === "GlobalNetworkPolicy"
        ? "StagedGlobalNetworkPolicy"
        : "StagedNetworkPolicy";
  return {
    apiVersion: "projectcalico.org/v3",
    kind,
    metadata: object.metadata,
    spec: { ...(stagedAction ? { stagedAction } : {}), ...(object.spec as Obj) },
  };
}

const base = [ns("a"), ns("b"), pod("a", "web", { app: "web" }), pod("b", "db", { app: "db" })];
const denyAllB = knp("b", "b-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
const allowWebToDb = knp("b", "b-allow", {
  podSelector: { matchLabels: { app: "db" } },
  policyTypes: ["Ingress"],
  ingress: [
    {
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } },
          podSelector: { matchLabels: { app: "web" } },
        },
      ],
      ports: [{ port: 5432 }],
    },
  ],
});

function problems(objects: Obj[]): string {
  try {
    buildModel(objects);
  } catch (error) {
    if (error instanceof ManifestError) return error.message;
    throw error;
  }
  return "";
}

describe("staged policies in the engine", () => {
  it("keeps staged policies out of the enforced model and marks them", () => {
    const m = model([...base, stage(denyAllB)]);
    assert.equal(m.policies.length, 0);
    assert.equal(m.stagedPolicies?.length, 1);
    const staged = m.stagedPolicies![0];
    assert.equal(staged.ref.kind, "projectcalico.org/StagedKubernetesNetworkPolicy");
    assert.deepEqual(staged.staged, {
      kind: "projectcalico.org/StagedKubernetesNetworkPolicy",
      action: "Set",
      enforcedKind: "NetworkPolicy",
    });
    assert.equal(allowed(m, "a/web", "b/db", 5432), true, "staged never enforces");
    assert.equal(allowed(promotedModel(m), "a/web", "b/db", 5432), false);
  });

  it("reads a staged object exactly as the kind it stages, problems at the staged object's paths", () => {
    const bad = stage(knp("b", "typo", { podSelector: {}, egres: [] }));
    assert.match(
      problems([bad]),
      /StagedKubernetesNetworkPolicy\/b\/typo spec\.egres: unknown field/,
    );
    const calico = stage(cnp("b", "c", { selector: "app = 'x'", types: ["Ingress"] }));
    assert.match(problems([calico]), /StagedNetworkPolicy\/b\/c spec\.selector/);
  });

  it("rejects stagedAction values it cannot model, and a Delete that carries a spec", () => {
    assert.match(problems([stage(denyAllB, "Learn")]), /spec\.stagedAction: Learn is not modelled/);
    assert.match(problems([stage(denyAllB, "Bogus")]), /spec\.stagedAction: must be Set, Delete/);
    assert.match(
      problems([stage(denyAllB, "Delete")]),
      /spec\.podSelector: must be empty when stagedAction is Delete/,
    );
    const doNotTrack = stage(cnp("b", "x", { selector: "all()", doNotTrack: true }));
    assert.match(problems([doNotTrack]), /spec\.doNotTrack: unknown field/);
  });

  it("promotion: Set replaces the enforced policy of the same name, Delete removes it", () => {
    const open = knp("b", "b-deny", { podSelector: {}, ingress: [{}] });
    const m = model([...base, open, stage(denyAllB)]);
    assert.equal(allowed(m, "a/web", "b/db", 80), true);
    assert.equal(allowed(promotedModel(m), "a/web", "b/db", 80), false, "Set replaced b-deny");
    // Felix's pending verdict evaluates both: the enforced allow-all still matches first.
    assert.equal(allowed(pendingModel(m), "a/web", "b/db", 80), true);
    const deletion = {
      apiVersion: "projectcalico.org/v3",
      kind: "StagedKubernetesNetworkPolicy",
      metadata: { name: "b-deny", namespace: "b" },
      spec: { stagedAction: "Delete" },
    };
    const withDelete = model([...base, denyAllB, deletion]);
    assert.equal(allowed(withDelete, "a/web", "b/db", 80), false);
    assert.equal(allowed(promotedModel(withDelete), "a/web", "b/db", 80), true);
    assert.equal(allowed(pendingModel(withDelete), "a/web", "b/db", 80), false);
  });

  it("explain shows both verdicts; diff --promote lists exactly what promotion closes", () => {
    const m = model([...base, stage(denyAllB), stage(allowWebToDb)]);
    const result = explainWithPromotion(m, {
      from: { namespace: "a", podLabels: { app: "web" } },
      to: { namespace: "b", podLabels: { app: "db" } },
      port: 5432,
    });
    assert.equal(result.now.verdict, "allowed");
    assert.equal(result.afterPromotion?.verdict, "allowed");
    const other = explainWithPromotion(m, {
      from: { namespace: "a", podLabels: { app: "web" } },
      to: { namespace: "b", podLabels: { app: "db" } },
      port: 80,
    });
    assert.equal(other.afterPromotion?.verdict, "denied");
    assert.match(other.text, /Enforced now: ALLOWED; after promotion of 2 staged policies: DENIED/);
    const closes = promotionCloses(m);
    const text = renderPromotionCloses(closes);
    assert.match(text, /a -> b: loses .*TCP 1-5431,5433-65535/);
    assert.match(text, /b -> a: closed entirely/);
    assert.ok(
      closes.every((c) => c.from === "b" || c.to === "b"),
      text,
    );
    assert.ok(!closes.some((c) => c.from === "a" && c.to === "a"), "a is untouched");
  });
});

// ---------- properties on random clusters ----------
const NAMESPACES = ["a", "b", "c"];
const APPS = ["web", "db", "api"];
const arbLabels = fc.constantFrom(...APPS).map((app) => ({ app }));
const arbPort = fc.constantFrom(53, 80, 443, 5432);
const arbPeer = fc.record({
  namespaceSelector: fc.constantFrom(...NAMESPACES).map((n) => ({
    matchLabels: { "kubernetes.io/metadata.name": n },
  })),
  podSelector: arbLabels.map((l) => ({ matchLabels: l })),
});
const arbK8sRule = fc.record({ peers: fc.array(arbPeer, { maxLength: 2 }), port: arbPort });
const arbK8sPolicy = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom("p1", "p2", "p3"),
  target: fc.option(arbLabels, { nil: undefined }),
  ingress: fc.array(arbK8sRule, { maxLength: 2 }),
  egress: fc.array(arbK8sRule, { maxLength: 2 }),
  staged: fc.boolean(),
});
const arbCalicoPolicy = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom("c1", "c2"),
  order: fc.constantFrom(100, 1000, 2000),
  action: fc.constantFrom("Allow", "Deny"),
  app: fc.constantFrom(...APPS),
  port: arbPort,
  staged: fc.boolean(),
});

type K8sPolicy = typeof arbK8sPolicy extends fc.Arbitrary<infer T> ? T : never;
type CalicoPolicy = typeof arbCalicoPolicy extends fc.Arbitrary<infer T> ? T : never;

function k8sObject(p: K8sPolicy): Obj {
  const rule = (peerField: "from" | "to") => (r: { peers: unknown[]; port: number }) => ({
    ...(r.peers.length > 0 ? { [peerField]: r.peers } : {}),
    ports: [{ port: r.port }],
  });
  return knp(p.namespace, p.name, {
    podSelector: p.target ? { matchLabels: p.target } : {},
    policyTypes: ["Ingress", "Egress"],
    ingress: p.ingress.map(rule("from")),
    egress: p.egress.map(rule("to")),
  });
}

function calicoObject(p: CalicoPolicy): Obj {
  return cnp(p.namespace, p.name, {
    order: p.order,
    selector: "all()",
    types: ["Ingress"],
    ingress: [
      {
        action: p.action,
        protocol: "TCP",
        source: { selector: `app == '${p.app}'`, namespaceSelector: "all()" },
        destination: { ports: [p.port] },
      },
    ],
  });
}

const arbCluster = fc.record({
  pods: fc.uniqueArray(
    fc.record({ namespace: fc.constantFrom(...NAMESPACES), app: fc.constantFrom(...APPS) }),
    { minLength: 2, maxLength: 6, selector: (p) => `${p.namespace}/${p.app}` },
  ),
  k8s: fc.uniqueArray(arbK8sPolicy, {
    maxLength: 4,
    selector: (p) => `${p.namespace}/${p.name}/${p.staged}`,
  }),
  calico: fc.uniqueArray(arbCalicoPolicy, {
    maxLength: 3,
    selector: (p) => `${p.namespace}/${p.name}/${p.staged}`,
  }),
});

type Cluster = typeof arbCluster extends fc.Arbitrary<infer T> ? T : never;

function inventory(c: Cluster): Obj[] {
  return [
    ...NAMESPACES.map((n) => ns(n)),
    ...c.pods.map((p) => pod(p.namespace, p.app, { app: p.app })),
  ];
}

function policyObjects(c: Cluster, which: "enforced" | "staged"): Obj[] {
  return [
    ...c.k8s.filter((p) => p.staged === (which === "staged")).map(k8sObject),
    ...c.calico.filter((p) => p.staged === (which === "staged")).map(calicoObject),
  ];
}

describe("staged policies: properties", () => {
  it("staged objects never change an enforced verdict", () => {
    fc.assert(
      fc.property(arbCluster, (c) => {
        const enforcedOnly = buildModel([...inventory(c), ...policyObjects(c, "enforced")]);
        const withStaged = buildModel([
          ...inventory(c),
          ...policyObjects(c, "enforced"),
          ...policyObjects(c, "staged").map((o) => stage(o)),
        ]);
        assert.deepEqual(unionPairs(withStaged), unionPairs(enforcedOnly));
      }),
      { numRuns: 150 },
    );
  });

  it("promotion equals enforcing the staged objects (Set creates or replaces by name)", () => {
    fc.assert(
      fc.property(arbCluster, (c) => {
        const staged = policyObjects(c, "staged");
        const stagedNames = new Set(
          staged.map((o) => `${String(o.apiVersion)}|${JSON.stringify(o.metadata)}`),
        );
        const survivors = policyObjects(c, "enforced").filter(
          (o) => !stagedNames.has(`${String(o.apiVersion)}|${JSON.stringify(o.metadata)}`),
        );
        const promoted = promotedModel(
          buildModel([
            ...inventory(c),
            ...policyObjects(c, "enforced"),
            ...staged.map((o) => stage(o, "Set")),
          ]),
        );
        const enforcedByHand = buildModel([...inventory(c), ...survivors, ...staged]);
        assert.deepEqual(unionPairs(promoted), unionPairs(enforcedByHand));
      }),
      { numRuns: 150 },
    );
  });
});
