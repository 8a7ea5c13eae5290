import assert from "node:assert/strict";
import { ManifestError, buildModel, explainFlow } from "../../engine";
import { allowed, knp, model, ns, pod } from "./helpers";

const base = [
  ns("a"),
  ns("b", { team: "blue" }),
  pod("a", "client", { app: "client" }),
  pod("b", "server", { app: "server" }),
];

describe("Kubernetes NetworkPolicy semantics", () => {
  it("allows everything when no policy selects either pod", () => {
    const m = model(base);
    assert.equal(allowed(m, "a/client", "b/server", 8080), true);
    assert.equal(allowed(m, "b/server", "a/client", 53, "UDP"), true);
  });

  it("isolates per direction: an ingress policy does not restrict egress", () => {
    const m = model([...base, knp("b", "deny-in", { podSelector: {}, policyTypes: ["Ingress"] })]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false);
    assert.equal(allowed(m, "b/server", "a/client", 80), true);
  });

  it("needs both the source's egress and the destination's ingress", () => {
    const egressOnly = knp("a", "client-out", {
      podSelector: {},
      egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }],
    });
    const denyIn = knp("b", "deny-in", { podSelector: {} });
    assert.equal(allowed(model([...base, egressOnly]), "a/client", "b/server", 80), true);
    assert.equal(allowed(model([...base, egressOnly, denyIn]), "a/client", "b/server", 80), false);
    assert.equal(allowed(model([...base, egressOnly]), "a/client", "b/server", 81), false);
  });

  it("adds allows up across policies selecting the same pod", () => {
    const p80 = knp("b", "p80", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    const p443 = knp("b", "p443", {
      podSelector: { matchLabels: { app: "server" } },
      ingress: [{ ports: [{ port: 443 }] }],
    });
    const m = model([...base, p80, p443]);
    assert.equal(allowed(m, "a/client", "b/server", 80), true);
    assert.equal(allowed(m, "a/client", "b/server", 443), true);
    assert.equal(allowed(m, "a/client", "b/server", 8080), false);
  });

  it("defaults policyTypes: Ingress always, Egress only when egress rules exist", () => {
    const withEgressRules = knp("a", "e", {
      podSelector: {},
      egress: [{ ports: [{ port: 53, protocol: "UDP" }] }],
    });
    const m = model([...base, withEgressRules]);
    assert.equal(allowed(m, "a/client", "b/server", 80), false, "egress isolated");
    assert.equal(
      allowed(m, "b/server", "a/client", 80),
      false,
      "ingress isolated too (Ingress is always a type)",
    );
    const emptyEgress = knp("a", "e2", { podSelector: {}, egress: [] });
    const m2 = model([...base, emptyEgress]);
    assert.equal(allowed(m2, "a/client", "b/server", 80), true, "egress: [] does not add Egress");
    assert.equal(allowed(m2, "b/server", "a/client", 80), false);
  });

  it("treats ingress: [] as deny-all and ingress: [{}] as allow-all", () => {
    assert.equal(
      allowed(
        model([...base, knp("b", "x", { podSelector: {}, ingress: [] })]),
        "a/client",
        "b/server",
        80,
      ),
      false,
    );
    assert.equal(
      allowed(
        model([...base, knp("b", "x", { podSelector: {}, ingress: [{}] })]),
        "a/client",
        "b/server",
        80,
      ),
      true,
    );
    assert.equal(
      allowed(
        model([...base, knp("b", "x", { podSelector: {}, ingress: [{}] })]),
        "a/client",
        "b/server",
        9,
        "SCTP",
      ),
      true,
    );
  });

  it("ANDs namespaceSelector and podSelector within one peer, ORs separate peers", () => {
    const objects = [
      ns("a"),
      ns("kube-system"),
      pod("kube-system", "dns", { "k8s-app": "kube-dns" }),
      pod("kube-system", "other", { app: "other" }),
      pod("a", "client"),
    ];
    const and = knp("a", "dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
        },
      ],
    });
    const or = knp("a", "dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            },
            { podSelector: { matchLabels: { "k8s-app": "kube-dns" } } },
          ],
        },
      ],
    });
    assert.equal(allowed(model([...objects, and]), "a/client", "kube-system/dns", 53), true);
    assert.equal(allowed(model([...objects, and]), "a/client", "kube-system/other", 53), false);
    assert.equal(allowed(model([...objects, or]), "a/client", "kube-system/other", 53), true);
  });

  it("reads a nil namespaceSelector as the policy's namespace and {} as every namespace, never external", () => {
    const own = knp("b", "own", { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] });
    const all = knp("b", "all", {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {} }] }],
    });
    const objs = [...base, pod("b", "peer")];
    assert.equal(allowed(model([...objs, own]), "b/peer", "b/server", 80), true);
    assert.equal(allowed(model([...objs, own]), "a/client", "b/server", 80), false);
    assert.equal(allowed(model([...objs, all]), "a/client", "b/server", 80), true);
    assert.equal(allowed(model([...objs, all]), "8.8.8.8", "b/server", 80), false);
  });

  it("supports matchExpressions In, NotIn, Exists and DoesNotExist", () => {
    const objs = [
      ns("x"),
      pod("x", "p1", { tier: "web" }),
      pod("x", "p2", { tier: "db" }),
      pod("x", "p3"),
      pod("x", "target", { role: "t" }),
    ];
    const policy = (operator: string, values?: string[]) =>
      knp("x", "t", {
        podSelector: { matchLabels: { role: "t" } },
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchExpressions: [{ key: "tier", operator, ...(values ? { values } : {}) }],
                },
              },
            ],
          },
        ],
      });
    const check = (p: ReturnType<typeof policy>) =>
      ["p1", "p2", "p3"].map((n) => allowed(model([...objs, p]), `x/${n}`, "x/target", 80));
    assert.deepEqual(check(policy("In", ["web"])), [true, false, false]);
    assert.deepEqual(check(policy("NotIn", ["web"])), [false, true, true]);
    assert.deepEqual(check(policy("Exists")), [true, true, false]);
    assert.deepEqual(check(policy("DoesNotExist")), [false, false, true]);
  });

  it("matches ipBlock with except, and pod IPs only when ipBlockMatchesPods is on", () => {
    const objs = [
      ns("a"),
      ns("b"),
      pod("a", "client", {}, { ip: "10.1.2.3" }),
      pod("b", "server", {}, { ip: "10.9.9.9" }),
    ];
    const policy = knp("b", "ip", {
      podSelector: {},
      ingress: [
        {
          from: [
            { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } },
            { ipBlock: { cidr: "192.168.1.0/24" } },
          ],
        },
      ],
    });
    const on = model([...objs, policy], { ipBlockMatchesPods: true });
    const off = model([...objs, policy], { ipBlockMatchesPods: false });
    assert.equal(allowed(on, "10.2.0.1", "b/server", 80), true);
    assert.equal(allowed(on, "10.1.0.1", "b/server", 80), false, "except");
    assert.equal(allowed(on, "192.168.1.7", "b/server", 80), true);
    assert.equal(
      allowed(on, "a/client", "b/server", 80),
      false,
      "client IP is in the except range",
    );
    const objs2 = [
      ns("a"),
      ns("b"),
      pod("a", "client", {}, { ip: "10.2.2.3" }),
      pod("b", "server", {}, { ip: "10.9.9.9" }),
    ];
    assert.equal(
      allowed(model([...objs2, policy], { ipBlockMatchesPods: true }), "a/client", "b/server", 80),
      true,
    );
    assert.equal(
      allowed(model([...objs2, policy], { ipBlockMatchesPods: false }), "a/client", "b/server", 80),
      false,
    );
    assert.equal(allowed(off, "10.2.0.1", "b/server", 80), true);
  });

  // A lowercase protocol is refused like the API server refuses it (tests/engine/loader.test.ts).
  it("defaults the protocol to TCP and opens every port when port is absent", () => {
    const m = model([
      ...base,
      knp("b", "p", {
        podSelector: {},
        ingress: [{ ports: [{ port: 53, protocol: "UDP" }, { protocol: "SCTP" }, { port: 80 }] }],
      }),
    ]);
    assert.equal(allowed(m, "a/client", "b/server", 53, "UDP"), true);
    assert.equal(allowed(m, "a/client", "b/server", 53, "TCP"), false);
    assert.equal(allowed(m, "a/client", "b/server", 80, "TCP"), true);
    assert.equal(allowed(m, "a/client", "b/server", 80, "UDP"), false);
    assert.equal(allowed(m, "a/client", "b/server", 40000, "SCTP"), true);
  });

  it("opens endPort ranges inclusively", () => {
    const m = model([
      ...base,
      knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 8000, endPort: 8010 }] }] }),
    ]);
    assert.deepEqual(
      [7999, 8000, 8010, 8011].map((p) => allowed(m, "a/client", "b/server", p)),
      [false, true, true, false],
    );
  });

  it("resolves named ports on the destination pod by name and protocol, also for egress rules", () => {
    const objs = [
      ns("a"),
      ns("b"),
      pod("a", "client", {}, { ports: [{ name: "web", containerPort: 7000 }] }),
      pod(
        "b",
        "server",
        {},
        {
          ports: [
            { name: "web", containerPort: 8080 },
            { name: "dns", containerPort: 5353, protocol: "UDP" },
          ],
        },
      ),
    ];
    const ingress = knp("b", "in", {
      podSelector: {},
      ingress: [{ ports: [{ port: "web" }, { port: "dns", protocol: "TCP" }] }],
    });
    const m = model([...objs, ingress]);
    assert.equal(allowed(m, "a/client", "b/server", 8080), true);
    assert.equal(
      allowed(m, "a/client", "b/server", 7000),
      false,
      "the source's web port is irrelevant",
    );
    assert.equal(
      allowed(m, "a/client", "b/server", 5353, "UDP"),
      false,
      "dns is UDP on the pod, the rule asks TCP",
    );
    assert.equal(allowed(m, "a/client", "b/server", 5353, "TCP"), false);
    const egress = knp("a", "out", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ ports: [{ port: "web" }] }],
    });
    const m2 = model([...objs, egress]);
    assert.equal(
      allowed(m2, "a/client", "b/server", 8080),
      true,
      "egress named port resolved on the destination",
    );
    assert.equal(allowed(m2, "a/client", "b/server", 7000), false);
  });

  it("still isolates TCP with a UDP-only or SCTP-only policy", () => {
    for (const protocol of ["UDP", "SCTP"]) {
      const m = model([
        ...base,
        knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 53, protocol }] }] }),
      ]);
      assert.equal(allowed(m, "a/client", "b/server", 53, "TCP"), false, protocol);
      assert.equal(
        allowed(m, "a/client", "b/server", 53, protocol as "UDP" | "SCTP"),
        true,
        protocol,
      );
    }
  });

  it("always allows a pod to itself and traffic from its own node (kubelet)", () => {
    const m = model([
      ...base,
      knp("b", "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    ]);
    assert.equal(allowed(m, "b/server", "b/server", 80), true);
    const probe = explainFlow(m, { from: { kubelet: true }, to: { namespace: "b" }, port: 8080 });
    assert.equal(probe.verdict, "allowed");
    assert.match(probe.text, /own node/);
  });

  it("fails closed on bad input, naming object and field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        knp("b", "cidr", {
          podSelector: {},
          ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/33" } }] }],
        }),
        /NetworkPolicy\/b\/cidr.*spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr/,
      ],
      [
        knp("b", "port", { podSelector: {}, ingress: [{ ports: [{ port: 70000 }] }] }),
        /spec\.ingress\[0\]\.ports\[0\]\.port/,
      ],
      [
        knp("b", "range", { podSelector: {}, ingress: [{ ports: [{ port: 10, endPort: 5 }] }] }),
        /endPort/,
      ],
      [
        knp("b", "proto", {
          podSelector: {},
          ingress: [{ ports: [{ port: 10, protocol: "ICMP" }] }],
        }),
        /protocol/,
      ],
      [
        knp("b", "sel", { podSelector: { matchExpressions: [{ key: "a", operator: "Near" }] } }),
        /spec\.podSelector\.matchExpressions\[0\]\.operator/,
      ],
      [knp("b", "peer", { podSelector: {}, ingress: [{ from: [{}] }] }), /from\[0\]/],
      [
        knp("b", "except", {
          podSelector: {},
          ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["11.0.0.0/24"] } }] }],
        }),
        /except\[0\]/,
      ],
      [knp("b", "types", { podSelector: {}, policyTypes: ["Sideways"] }), /policyTypes\[0\]/],
      [knp("b", "nosel", {}), /spec\.podSelector/],
    ];
    for (const [policy, pattern] of cases) {
      assert.throws(
        () => buildModel([...base, policy]),
        (error: unknown) => {
          assert.ok(error instanceof ManifestError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });

  it("synthesises referenced namespaces with kubernetes.io/metadata.name and lists unknown kinds", () => {
    const m = model([
      pod("ghost", "p"),
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ghost" } },
    ]);
    const ghost = m.namespaces.get("ghost");
    assert.ok(ghost);
    assert.equal(ghost.declared, false);
    assert.equal(ghost.labels["kubernetes.io/metadata.name"], "ghost");
    assert.deepEqual(
      m.ignored.map((i) => i.kind),
      ["ConfigMap"],
    );
  });

  it("turns workload kinds into one pod each, with the template labels", () => {
    const template = { metadata: { labels: { app: "w" } }, spec: { containers: [{ name: "c" }] } };
    const kinds = [
      "Deployment",
      "StatefulSet",
      "DaemonSet",
      "ReplicaSet",
      "ReplicationController",
      "Job",
    ];
    const objs = kinds.map((kind) => ({
      apiVersion: "apps/v1",
      kind,
      metadata: { name: kind.toLowerCase(), namespace: "w" },
      spec: { template },
    }));
    objs.push({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "cron", namespace: "w" },
      spec: { jobTemplate: { spec: { template } } },
    } as never);
    const m = model(objs);
    assert.equal(m.pods.length, 7);
    assert.ok(m.pods.every((p) => p.labels.app === "w"));
    assert.deepEqual(m.pods.map((p) => p.owner.kind).sort(), [...kinds, "CronJob"].sort());
  });
});
