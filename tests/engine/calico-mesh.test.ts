import assert from "node:assert/strict";
import { ManifestError, buildModel, explainFlow } from "../../engine";
import { allowed, cnp, knp, model, ns, pod } from "./helpers";

const base = [
  ns("a"),
  ns("b"),
  pod("a", "client", { app: "client" }),
  pod("b", "server", { app: "server" }, { ports: [{ name: "http", containerPort: 8080 }] }),
];
const mesh = { namespace: "istio-system", hbonePort: 15008, probeSource: "169.254.7.127" };

describe("Calico v3 NetworkPolicy semantics", () => {
  it("lets a lower-order Deny win over a Kubernetes allow (order 1000)", () => {
    const allow = knp("b", "allow", { podSelector: {}, ingress: [{}] });
    const deny = cnp("b", "deny-80", {
      order: 10,
      selector: "app == 'server'",
      ingress: [{ action: "Deny", protocol: "TCP", destination: { ports: [80] } }],
    });
    const m = model([...base, allow, deny]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false);
    assert.equal(allowed(m, "a/client", "b/server", 81), true);
    const late = cnp("b", "deny-80", {
      order: 2000,
      selector: "all()",
      ingress: [{ action: "Deny" }],
    });
    assert.equal(
      allowed(model([...base, allow, late]), "a/client", "b/server", 80),
      true,
      "order 2000 comes after the k8s allow",
    );
  });

  it("puts a policy without order after every ordered one", () => {
    const unordered = cnp("b", "a-deny", { selector: "", ingress: [{ action: "Deny" }] });
    const ordered = cnp("b", "z-allow", { order: 5000, ingress: [{ action: "Allow" }] });
    assert.equal(allowed(model([...base, unordered, ordered]), "a/client", "b/server", 80), true);
  });

  it("continues after Log, and treats Pass as leaving the tier (profile allows)", () => {
    const log = cnp("b", "log", { order: 1, ingress: [{ action: "Log" }] });
    const deny = cnp("b", "deny", { order: 2, ingress: [{ action: "Deny" }] });
    assert.equal(allowed(model([...base, log, deny]), "a/client", "b/server", 80), false);
    const pass = cnp("b", "pass", {
      order: 1,
      ingress: [
        { action: "Pass", source: { selector: "app == 'client'", namespaceSelector: "all()" } },
      ],
    });
    const m = model([...base, pass, deny]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true);
    assert.match(
      explainFlow(m, { from: { namespace: "a" }, to: { namespace: "b" }, port: 80 }).text,
      /Pass leaves tier default; no later tier applies/,
    );
  });

  it("denies when policies select the endpoint but no rule decides; allows when nothing selects", () => {
    const unrelated = cnp("b", "x", { order: 1, ingress: [{ action: "Allow", protocol: "UDP" }] });
    const m = model([...base, unrelated]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false);
    assert.equal(allowed(m, "a/client", "b/server", 80, "UDP"), true);
    const other = cnp("b", "x", {
      order: 1,
      selector: "app == 'nobody'",
      ingress: [{ action: "Deny" }],
    });
    assert.equal(allowed(model([...base, other]), "a/client", "b/server", 80), true);
  });

  it("defaults types from the rules: egress rules only → Egress only", () => {
    const egressOnly = cnp("b", "e", { egress: [{ action: "Deny" }] });
    const m = model([...base, egressOnly]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true, "ingress untouched");
    assert.equal(allowed(m, "b/server", "a/client", 80), false);
    const none = cnp("b", "n", {});
    assert.equal(
      allowed(model([...base, none]), "a/client", "b/server", 80),
      false,
      "no rules → Ingress",
    );
  });

  it("matches nets/notNets, selectors with namespaceSelector, named ports and ICMP", () => {
    const p = cnp("b", "p", {
      order: 1,
      ingress: [
        {
          action: "Allow",
          protocol: "TCP",
          source: { nets: ["192.168.0.0/16"], notNets: ["192.168.5.0/24"] },
          destination: { ports: ["8000:8100"] },
        },
        {
          action: "Allow",
          protocol: "TCP",
          source: {
            namespaceSelector: "projectcalico.org/name == 'a'",
            selector: "app == 'client'",
          },
          destination: { ports: ["http"] },
        },
        { action: "Allow", protocol: "ICMP" },
      ],
    });
    const m = model([...base, p]);
    assert.equal(allowed(m, "192.168.1.1", "b/server", 8050), true);
    assert.equal(allowed(m, "192.168.5.1", "b/server", 8050), false);
    assert.equal(allowed(m, "a/client", "b/server", 8080), true);
    assert.equal(allowed(m, "a/client", "b/server", 8081), false);
    assert.equal(allowed(m, "a/client", "b/server", 0, "ICMP"), true);
    assert.equal(
      allowed(
        model([...base, knp("b", "k", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })]),
        "a/client",
        "b/server",
        0,
        "ICMP",
      ),
      false,
    );
  });

  it("rejects unmodelled or malformed Calico fields with the field path", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [cnp("b", "s", { selector: "app = 'x'" }), /spec\.selector: invalid selector/],
      // A tier no Tier object defines (tests/engine/calico-tiers.test.ts has the rest).
      [cnp("b", "security.t", { tier: "security", ingress: [] }), /spec\.tier: tier security/],
      [cnp("b", "a", { ingress: [{ action: "Accept" }] }), /spec\.ingress\[0\]\.action/],
      [
        cnp("b", "p", { ingress: [{ action: "Allow", destination: { ports: [80] } }] }),
        /needs protocol|ports need protocol/,
      ],
      [
        cnp("b", "n", { egress: [{ action: "Allow", destination: { nets: ["10.0.0.300/8"] } }] }),
        /spec\.egress\[0\]\.destination\.nets\[0\]/,
      ],
      [
        cnp("b", "sa", {
          ingress: [{ action: "Allow", source: { serviceAccounts: { names: ["Not_A_Name"] } } }],
        }),
        /spec\.ingress\[0\]\.source\.serviceAccounts\.names\[0\]: invalid service account name/,
      ],
      [
        cnp("b", "sb", {
          ingress: [{ action: "Allow", source: { serviceAccounts: { selector: "team = 'x'" } } }],
        }),
        /spec\.ingress\[0\]\.source\.serviceAccounts\.selector: invalid selector/,
      ],
    ];
    for (const [policy, pattern] of cases)
      assert.throws(
        () => buildModel([...base, policy]),
        (e: unknown) => e instanceof ManifestError && pattern.test(e.message),
      );
  });
});

describe("Istio ambient mesh", () => {
  const meshed = [
    ns("a", { "istio.io/dataplane-mode": "ambient" }),
    ns("b", { "istio.io/dataplane-mode": "ambient" }),
    ns("plain"),
    ...base.slice(2),
    pod("plain", "old"),
  ];
  const appPortOnly = knp("b", "app", {
    podSelector: {},
    ingress: [{ ports: [{ port: 8080 }, { port: 53, protocol: "UDP" }] }],
  });
  const hbone = knp("b", "hbone", { podSelector: {}, ingress: [{ ports: [{ port: 15008 }] }] });

  it("judges meshed-to-meshed TCP on the HBONE port, with the app port invisible", () => {
    const m = model([...meshed, appPortOnly], { mesh });
    assert.equal(allowed(m, "a/client", "b/server", 8080), false, "8080 allowed but 15008 not");
    const m2 = model([...meshed, hbone], { mesh });
    assert.equal(
      allowed(m2, "a/client", "b/server", 9999),
      true,
      "15008 open → every TCP app port",
    );
    const text = explainFlow(m2, {
      from: { namespace: "a" },
      to: { namespace: "b" },
      port: 8080,
    }).text;
    assert.match(text, /15008/);
    assert.match(
      text,
      /the application port 8080 is invisible to L4 policy at the CNI and is judged by ztunnel at the destination/,
    );
  });

  it("uses the app port from a non-meshed source, and leaves UDP uncaptured", () => {
    const m = model([...meshed, appPortOnly], { mesh });
    assert.equal(allowed(m, "plain/old", "b/server", 8080), true);
    assert.equal(allowed(m, "a/client", "b/server", 53, "UDP"), true);
  });

  it("counts meshedNamespaces as meshed too, and honours the pod opt-out label", () => {
    const objs = [
      ns("a"),
      ns("b"),
      pod("a", "client"),
      pod("a", "optout", { "istio.io/dataplane-mode": "none" }),
      pod("b", "server"),
    ];
    const m = model([...objs, hbone], { mesh: { ...mesh, meshedNamespaces: ["a", "b"] } });
    assert.equal(allowed(m, "a/client", "b/server", 8080), true);
    assert.equal(
      allowed(m, "a/optout", "b/server", 8080),
      false,
      "not meshed: app port 8080 is not allowed",
    );
  });

  it("needs an explicit allow for kubelet probes to meshed pods (probe source is not the node)", () => {
    const m = model([...meshed, appPortOnly], { mesh });
    const denied = explainFlow(m, { from: { kubelet: true }, to: { namespace: "b" }, port: 8080 });
    assert.equal(
      denied.verdict,
      "allowed",
      "the app-port rule has no from, so the probe source is allowed",
    );
    const strict = knp("b", "app", {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 8080 }] }],
    });
    const m2 = model([...meshed, strict], { mesh });
    const result = explainFlow(m2, { from: { kubelet: true }, to: { namespace: "b" }, port: 8080 });
    assert.equal(result.verdict, "denied");
    assert.match(result.text, /169\.254\.7\.127/);
    assert.match(result.suggestion ?? "", /cidr: 169\.254\.7\.127\/32/);
    const probeAllow = knp("b", "probe", {
      podSelector: {},
      ingress: [{ from: [{ ipBlock: { cidr: "169.254.7.127/32" } }] }],
    });
    assert.equal(
      explainFlow(model([...meshed, strict, probeAllow], { mesh }), {
        from: { kubelet: true },
        to: { namespace: "b" },
        port: 8080,
      }).verdict,
      "allowed",
    );
  });
});
