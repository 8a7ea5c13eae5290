/**
 * Calico tiers, one test per rule of the evaluation (engine/evaluate/evaluator.ts header and
 * docs/engine.md "Tiers"): Tier objects and their validation, tier order, Pass, the end-of-tier
 * default action, the profile after the last tier, the tier a policy names, staged policies in
 * tiers, explain's wording and duplicate objects.
 */
import assert from "node:assert/strict";
import {
  ManifestError,
  buildModel,
  explainFlow,
  promotedModel,
  shadowedRules,
  type ClusterModel,
} from "../../engine";
import { Evaluator } from "../../engine/evaluate/evaluator";
import { allowsConnection } from "../../engine/model/connections";
import { allowed, cnp, endpoint, knp, model, ns, pod } from "./helpers";

type Obj = Record<string, unknown>;

function tier(name: string, spec: Obj = {}): Obj {
  return { apiVersion: "projectcalico.org/v3", kind: "Tier", metadata: { name }, spec };
}

function gnp(name: string, spec: Obj): Obj {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "GlobalNetworkPolicy",
    metadata: { name },
    spec,
  };
}

const base = [
  ns("a"),
  ns("b"),
  pod("a", "client", { app: "client" }),
  pod("a", "other", { app: "other" }),
  pod("b", "server", { app: "server" }),
];

/** Ingress to b/server from a/client is allowed by the default tier (Kubernetes policy). */
const defaultAllowsClient = knp("b", "allow-client", {
  podSelector: {},
  ingress: [
    {
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } },
          podSelector: { matchLabels: { app: "client" } },
        },
      ],
    },
  ],
});

function refused(objects: Obj[], pattern: RegExp): void {
  assert.throws(
    () => buildModel(objects),
    (e: unknown) => e instanceof ManifestError && pattern.test(e.message),
    `expected a refusal matching ${pattern}`,
  );
}

function decide(m: ClusterModel, from: string, to: string, port = 80) {
  return new Evaluator(m).cornerDecision(
    "ingress",
    endpoint(m, from),
    endpoint(m, to),
    "TCP",
    port,
  );
}

describe("Calico tiers", () => {
  it("reads Tier objects: order (absent = +Infinity), defaultAction (Deny by default)", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      tier("platform", { order: 50, defaultAction: "Pass" }),
      tier("last"),
    ]);
    assert.deepEqual(
      [...m.tiers.values()].map((t) => [t.name, t.order, t.defaultAction, t.declared]),
      [
        ["security", 100, "Deny", true],
        ["platform", 50, "Pass", true],
        ["last", Number.POSITIVE_INFINITY, "Deny", true],
        ["default", 1_000_000, "Deny", false],
      ],
    );
    assert.deepEqual(m.ignored, [], "Tier objects are read, not ignored");
    // The CRD group names the same kind (crd.projectcalico.org/v1, as stored).
    const crd = model([
      ...base,
      { ...tier("security", { order: 7 }), apiVersion: "crd.projectcalico.org/v1" },
    ]);
    assert.equal(crd.tiers.get("security")?.order, 7);
  });

  it("refuses invalid Tier objects where Calico's validation does", () => {
    refused(
      [tier("security", { defaultAction: "Allow" })],
      /spec\.defaultAction: must be Deny or Pass/,
    );
    refused([tier("security", { order: "10" })], /spec\.order: must be a number/);
    refused([tier("security", { types: [] })], /spec\.types: unknown field/);
    refused([tier("sec.urity")], /metadata\.name: a tier name must be one DNS-1123 label/);
    refused(
      [tier("default", { order: 100 })],
      /spec\.order: the default tier's order must be 1000000/,
    );
    refused(
      [tier("default", { order: 1_000_000, defaultAction: "Pass" })],
      /the default tier's defaultAction must be Deny/,
    );
    // The default tier written out as Calico creates it is fine.
    model([...base, tier("default", { order: 1_000_000, defaultAction: "Deny" })]);
  });

  it("refuses a policy naming a tier no Tier object defines, at spec.tier", () => {
    refused(
      [...base, gnp("security.deny", { tier: "security", ingress: [{ action: "Deny" }] })],
      /GlobalNetworkPolicy\/security\.deny spec\.tier: tier security is not defined by any Tier object/,
    );
  });

  it("refuses names Calico 3.30-3.31 refuse for the tier (tier.<name> outside the default tier)", () => {
    const security = tier("security", { order: 100 });
    refused(
      [security, gnp("deny", { tier: "security", ingress: [{ action: "Deny" }] })],
      /metadata\.name: a policy of tier security must be named security\.<name>.*rename it security\.deny/,
    );
    refused(
      [security, cnp("b", "security.deny", { ingress: [{ action: "Deny" }] })],
      /metadata\.name: Calico 3\.30-3\.31 read the part before the dot as the tier \("security"\), but spec\.tier is default/,
    );
    // default.<name> is a valid default-tier name.
    model([...base, cnp("b", "default.deny", { ingress: [{ action: "Deny" }] })]);
  });

  it("runs tiers by order: an earlier tier's Deny wins over a later tier's Allow", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      defaultAllowsClient,
      gnp("security.deny-a", {
        tier: "security",
        selector: "app == 'server'",
        ingress: [
          { action: "Deny", source: { namespaceSelector: "projectcalico.org/name == 'a'" } },
        ],
      }),
    ]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false);
    const d = decide(m, "a/client", "b/server");
    assert.equal(d.tier, "security");
    assert.equal(d.decidedBy?.policy.ref.name, "security.deny-a");
  });

  it("orders tiers with equal order by name, and a tier without order after every ordered one", () => {
    const allowAll = (t: string) =>
      gnp(`${t}.p`, { tier: t, selector: "app == 'server'", ingress: [{ action: "Allow" }] });
    const denyAll = (t: string) =>
      gnp(`${t}.p`, { tier: t, selector: "app == 'server'", ingress: [{ action: "Deny" }] });
    // Equal order: "aa" runs before "bb".
    const equal = model([
      ...base,
      tier("aa", { order: 5 }),
      tier("bb", { order: 5 }),
      allowAll("aa"),
      denyAll("bb"),
    ]);
    assert.equal(allowed(equal, "a/client", "b/server", 80), true);
    // "zz" has no order: it runs after "yy" at order 10 million (after the default tier too).
    const unordered = model([
      ...base,
      tier("zz"),
      tier("yy", { order: 10_000_000 }),
      denyAll("zz"),
      allowAll("yy"),
    ]);
    assert.equal(allowed(unordered, "a/client", "b/server", 80), true);
    assert.deepEqual(
      unordered.policies.map((p) => p.tier),
      ["yy", "zz"],
    );
  });

  it("Pass leaves the tier for the next tier that applies", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.pass-a", {
        tier: "security",
        order: 1,
        selector: "app == 'server'",
        ingress: [
          { action: "Pass", source: { namespaceSelector: "projectcalico.org/name == 'a'" } },
        ],
      }),
      // Never reached for a/*: the Pass above skips the rest of the tier.
      gnp("security.deny-all", {
        tier: "security",
        order: 2,
        selector: "app == 'server'",
        ingress: [{ action: "Deny" }],
      }),
      defaultAllowsClient,
    ]);
    assert.equal(
      allowed(m, "a/client", "b/server", 80),
      true,
      "passed, then allowed by the default tier",
    );
    assert.equal(
      allowed(m, "a/other", "b/server", 80),
      false,
      "passed, then end of the default tier",
    );
    const d = decide(m, "a/client", "b/server");
    assert.equal(d.tier, "default");
    assert.deepEqual(
      d.passed.map((p) => [p.tier, p.by?.policy.ref.name]),
      [["security", "security.pass-a"]],
    );
  });

  it("a tier that applies and decides nothing ends with Deny by default", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.only-dns", {
        tier: "security",
        selector: "app == 'server'",
        ingress: [{ action: "Allow", protocol: "UDP", destination: { ports: [53] } }],
      }),
      defaultAllowsClient,
    ]);
    assert.equal(
      allowed(m, "a/client", "b/server", 80),
      false,
      "the default tier's allow is never reached",
    );
    assert.equal(allowed(m, "a/client", "b/server", 53, "UDP"), true);
    const d = decide(m, "a/client", "b/server");
    assert.deepEqual(d.endOfTier, { tier: "security", action: "Deny" });
    assert.equal(d.decidedBy, undefined);
  });

  it("a tier with defaultAction Pass hands what it does not decide to the next tier", () => {
    const m = model([
      ...base,
      tier("security", { order: 100, defaultAction: "Pass" }),
      gnp("security.deny-other", {
        tier: "security",
        selector: "app == 'server'",
        ingress: [{ action: "Deny", source: { selector: "app == 'other'" } }],
      }),
      defaultAllowsClient,
    ]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true);
    assert.equal(allowed(m, "a/other", "b/server", 80), false, "denied in security");
    const d = decide(m, "a/client", "b/server");
    assert.deepEqual(d.passed, [{ tier: "security" }]);
    assert.equal(d.tier, "default");
  });

  it("skips a tier that selects no policy for the endpoint (its end-of-tier Deny does not apply)", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.clients-only", {
        tier: "security",
        selector: "app == 'client'",
        ingress: [{ action: "Deny" }],
      }),
      defaultAllowsClient,
    ]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true);
    // Egress is its own direction: the ingress-only tier does not apply to egress.
    const egressOnly = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.ingress-only", {
        tier: "security",
        selector: "app == 'client'",
        types: ["Ingress"],
        ingress: [],
      }),
    ]);
    assert.equal(allowed(egressOnly, "a/client", "b/server", 80), true);
  });

  it("after the last tier passes, the namespace profile allows; when no tier applies, too", () => {
    const passOnly = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.pass-all", {
        tier: "security",
        selector: "all()",
        ingress: [{ action: "Pass" }],
      }),
    ]);
    assert.equal(
      allowed(passOnly, "a/client", "b/server", 80),
      true,
      "last applicable tier passed: profile allows",
    );
    const d = decide(passOnly, "a/client", "b/server");
    assert.equal(d.isolated, true);
    assert.equal(d.decidedBy?.action, "Pass");
    const defaultPass = model([
      ...base,
      tier("security", { order: 100, defaultAction: "Pass" }),
      gnp("security.nothing", { tier: "security", selector: "all()", ingress: [] }),
    ]);
    assert.equal(allowed(defaultPass, "a/client", "b/server", 80), true);
    assert.deepEqual(decide(defaultPass, "a/client", "b/server").endOfTier, {
      tier: "security",
      action: "Pass",
    });
    const none = model([...base, tier("security", { order: 100 })]);
    assert.equal(decide(none, "a/client", "b/server").isolated, false);
  });

  it("cornerConnections and cornerDecision agree on every port (set algebra per tier)", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.rules", {
        tier: "security",
        selector: "app == 'server'",
        ingress: [
          { action: "Deny", protocol: "TCP", destination: { ports: [22] } },
          { action: "Pass", protocol: "TCP", destination: { ports: ["80:90"] } },
          { action: "Allow", protocol: "TCP", destination: { ports: [443] } },
        ],
      }),
      knp("b", "allow-85", { podSelector: {}, ingress: [{ ports: [{ port: 85 }] }] }),
    ]);
    const evaluator = new Evaluator(m);
    const src = endpoint(m, "a/client");
    const dst = endpoint(m, "b/server");
    const set = evaluator.cornerConnections("ingress", src, dst);
    for (const port of [22, 79, 80, 85, 90, 91, 443, 8080]) {
      const decision = evaluator.cornerDecision("ingress", src, dst, "TCP", port);
      const inSet = allowsConnection(set, "TCP", port);
      assert.equal(inSet, decision.allowed, `port ${port}`);
    }
    assert.deepEqual(set.TCP, [85, 85, 443, 443]);
  });

  it("staged policies never count as enforcing, in any tier; promotion puts them in their tier", () => {
    const staged = {
      apiVersion: "projectcalico.org/v3",
      kind: "StagedGlobalNetworkPolicy",
      metadata: { name: "security.deny-all" },
      spec: { tier: "security", selector: "all()", ingress: [{ action: "Deny" }] },
    };
    const m = model([...base, tier("security", { order: 100 }), staged, defaultAllowsClient]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true, "staged: not enforced");
    assert.equal(allowed(promotedModel(m), "a/client", "b/server", 80), false, "promoted: denies");
    assert.equal(promotedModel(m).policies[0].tier, "security");
    refused(
      [...base, staged],
      /StagedGlobalNetworkPolicy\/security\.deny-all spec\.tier: tier security is not defined/,
    );
  });

  it("explain names the tiers, the passes and the end-of-tier action", () => {
    const m = model([
      ...base,
      tier("security", { order: 100 }),
      gnp("security.pass-a", {
        tier: "security",
        selector: "app == 'server'",
        ingress: [
          { action: "Pass", source: { namespaceSelector: "projectcalico.org/name == 'a'" } },
        ],
      }),
      defaultAllowsClient,
    ]);
    const text = (from: Obj) =>
      explainFlow(m, {
        from: from as never,
        to: { namespace: "b", podLabels: { app: "server" } },
        port: 80,
      }).text;
    assert.match(
      text({ namespace: "a", podLabels: { app: "client" } }),
      /tier security passed it \(projectcalico\.org\/GlobalNetworkPolicy\/security\.pass-a spec\.ingress\[0\]\); then allowed by NetworkPolicy\/b\/allow-client .*tier default/,
    );
    assert.match(
      text({ namespace: "a", podLabels: { app: "other" } }),
      /tier security passed it .*; then denied at the end of tier default .*defaultAction is Deny/,
    );
  });

  it("sorts ties inside a tier by Felix's key: <namespace>/<name> for namespaced policies", () => {
    // Same order 10: the GlobalNetworkPolicy "b-deny" (key b-deny) runs before the
    // NetworkPolicy a-allow of namespace "b" (key b/a-allow), since "b-deny" < "b/a-allow".
    const m = model([
      ...base,
      gnp("b-deny", { order: 10, selector: "app == 'server'", ingress: [{ action: "Deny" }] }),
      cnp("b", "a-allow", {
        order: 10,
        selector: "app == 'server'",
        ingress: [{ action: "Allow" }],
      }),
    ]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false);
  });

  it("names both files of a duplicate object, across projectcalico.org and crd.projectcalico.org", () => {
    const first = {
      object: gnp("deny-all", { selector: "all()", ingress: [{ action: "Deny" }] }),
      source: "one.yaml#0",
    };
    const second = {
      object: {
        ...gnp("deny-all", { selector: "all()", types: ["Egress"] }),
        apiVersion: "crd.projectcalico.org/v1",
      },
      source: "two.yaml#0",
    };
    assert.throws(
      () => buildModel([first, second]),
      (e: unknown) =>
        e instanceof ManifestError &&
        /GlobalNetworkPolicy\/deny-all \(two\.yaml#0\) metadata\.name: duplicate object: one\.yaml#0 defines GlobalNetworkPolicy deny-all too/.test(
          e.message,
        ),
    );
  });
});

describe("shadowedRules", () => {
  const shadows = (objects: Obj[]) =>
    shadowedRules(model(objects)).map(
      (s) =>
        `${s.policy.ref.name} ${s.rule.path} by ${
          s.shadowedBy.kind === "rule"
            ? `${s.shadowedBy.policy.ref.name} ${s.shadowedBy.rule.path}`
            : `the end of tier ${s.shadowedBy.tier}`
        }`,
    );

  it("reports an Allow after a Deny of a superset of its peers and ports, in one policy", () => {
    const policy = cnp("b", "p", {
      selector: "app == 'server'",
      ingress: [
        { action: "Deny", source: { namespaceSelector: "projectcalico.org/name == 'a'" } },
        {
          action: "Allow",
          protocol: "TCP",
          source: {
            selector: "app == 'client'",
            namespaceSelector: "projectcalico.org/name == 'a'",
          },
          destination: { ports: [80] },
        },
      ],
    });
    assert.deepEqual(shadows([...base, policy]), ["p spec.ingress[1] by p spec.ingress[0]"]);
  });

  it("reports a Kubernetes allow shadowed by an earlier Calico Deny in the default tier", () => {
    const deny = cnp("b", "deny-a", {
      order: 10,
      selector: "all()",
      ingress: [{ action: "Deny", source: { namespaceSelector: "projectcalico.org/name == 'a'" } }],
    });
    assert.deepEqual(shadows([...base, deny, defaultAllowsClient]), [
      "allow-client spec.ingress[0] by deny-a spec.ingress[0]",
    ]);
    // After the allow (order 2000) the Deny shadows nothing.
    assert.deepEqual(
      shadows([
        ...base,
        { ...deny, spec: { ...(deny.spec as Obj), order: 2000 } },
        defaultAllowsClient,
      ]),
      [],
    );
  });

  it("does not report when the Deny covers fewer ports, fewer peers or fewer endpoints", () => {
    const allow = cnp("b", "z-allow", {
      order: 20,
      selector: "all()",
      ingress: [{ action: "Allow", protocol: "TCP", destination: { ports: [80, 443] } }],
    });
    const denyPort = cnp("b", "a-deny", {
      order: 10,
      selector: "all()",
      ingress: [{ action: "Deny", protocol: "TCP", destination: { ports: [80] } }],
    });
    const denyPeer = cnp("b", "a-deny", {
      order: 10,
      selector: "all()",
      ingress: [{ action: "Deny", source: { selector: "app == 'client'" } }],
    });
    const denyFewerEndpoints = cnp("b", "a-deny", {
      order: 10,
      selector: "app == 'server'",
      ingress: [{ action: "Deny" }],
    });
    const extra = pod("b", "cache", { app: "cache" });
    assert.deepEqual(shadows([...base, denyPort, allow]), []);
    assert.deepEqual(shadows([...base, denyPeer, allow]), []);
    assert.deepEqual(shadows([...base, extra, denyFewerEndpoints, allow]), []);
    const denyAll = cnp("b", "a-deny", {
      order: 10,
      selector: "all()",
      ingress: [{ action: "Deny" }],
    });
    assert.deepEqual(shadows([...base, extra, denyAll, allow]), [
      "z-allow spec.ingress[0] by a-deny spec.ingress[0]",
    ]);
  });

  it("compares nets address by address", () => {
    const policy = (denyNets: string[]) =>
      gnp("egress", {
        selector: "all()",
        types: ["Egress"],
        egress: [
          { action: "Deny", destination: { nets: denyNets } },
          { action: "Allow", destination: { nets: ["10.1.0.0/16"] } },
        ],
      });
    assert.deepEqual(shadows([...base, policy(["10.0.0.0/8"])]), [
      "egress spec.egress[1] by egress spec.egress[0]",
    ]);
    assert.deepEqual(shadows([...base, policy(["10.1.0.0/17"])]), []);
  });

  it("stays inside one tier: a Deny in an earlier tier shadows nothing in a later one", () => {
    const m = [
      ...base,
      tier("security", { order: 100 }),
      gnp("security.rules", {
        tier: "security",
        selector: "all()",
        ingress: [{ action: "Pass", source: { selector: "app == 'client'" } }, { action: "Deny" }],
      }),
      defaultAllowsClient,
    ];
    assert.deepEqual(shadows(m), []);
  });

  it("keeps an IPv4-only Deny from shadowing a rule that also opens IPv6", () => {
    const policy = (ipVersion?: number) =>
      cnp("b", "p", {
        selector: "all()",
        ingress: [
          { action: "Deny", ...(ipVersion ? { ipVersion } : {}) },
          { action: "Allow", protocol: "TCP", destination: { ports: [80] } },
        ],
      });
    assert.deepEqual(shadows([...base, policy(4)]), []);
    assert.deepEqual(shadows([...base, policy()]), ["p spec.ingress[1] by p spec.ingress[0]"]);
  });

  it("reports later-tier rules behind a tier that applies to their endpoints and passes nothing", () => {
    const security = tier("security", { order: 100 });
    const blockOnly = gnp("security.block-range", {
      tier: "security",
      selector: "all()",
      types: ["Ingress"],
      ingress: [{ action: "Deny", source: { nets: ["198.51.100.0/24"] } }],
    });
    assert.deepEqual(shadows([...base, security, blockOnly, defaultAllowsClient]), [
      "allow-client spec.ingress[0] by the end of tier security",
    ]);
    // With the Pass catch-all the default tier is reached again.
    const passAll = gnp("security.pass-rest", {
      tier: "security",
      order: 5000,
      types: ["Ingress"],
      ingress: [{ action: "Pass" }],
    });
    assert.deepEqual(shadows([...base, security, blockOnly, passAll, defaultAllowsClient]), []);
    // A tier that selects only some of the rule's endpoints does not shadow it.
    const someOnly = gnp("security.block-range", {
      tier: "security",
      selector: "app == 'nothing-here'",
      types: ["Ingress"],
      ingress: [{ action: "Deny" }],
    });
    assert.deepEqual(shadows([...base, security, someOnly, defaultAllowsClient]), []);
  });
});
