/**
 * Property: on random tiered Calico clusters, the engine agrees with a brute-force evaluator
 * written here from Felix's endpoint chain (felix/rules/endpoints.go: tiers by (order, name),
 * policies by (order, name), first Allow/Deny decides, Pass leaves the tier, end of tier by
 * defaultAction, the profile allows after the last tier), and the matrix (classes, candidate
 * pruning) gives the same namespace connectivity as pair-by-pair evaluation.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { allowsConnection, buildModel, Evaluator, evaluatePair } from "../../engine";
import { computeConnectivity, namespaceConnectivity, unionPairs } from "./property-helpers";

type Action = "Allow" | "Deny" | "Pass" | "Log";
interface Rule {
  action: Action;
  /** Remote side: a pod's app label, or any endpoint. */
  peer?: string;
  /** TCP ports; absent = every protocol and port. */
  ports?: number[];
}
interface Policy {
  tier: string;
  name: string;
  order?: number;
  /** Target: an app label, or every endpoint. */
  target?: string;
  types: ("Ingress" | "Egress")[];
  ingress: Rule[];
  egress: Rule[];
}
interface TierSpec {
  name: string;
  order?: number;
  defaultAction: "Deny" | "Pass";
}
interface Cluster {
  tiers: TierSpec[];
  policies: Policy[];
}

const APPS = ["a", "b", "c"];
const PODS = [
  { namespace: "x", name: "pa", app: "a" },
  { namespace: "x", name: "pb", app: "b" },
  { namespace: "y", name: "pc", app: "c" },
  { namespace: "y", name: "pa2", app: "a" },
];
const PORTS = [80, 443, 8080];

const rule: fc.Arbitrary<Rule> = fc.record(
  {
    action: fc.constantFrom<Action>("Allow", "Deny", "Pass", "Log"),
    peer: fc.constantFrom(...APPS),
    ports: fc.subarray(PORTS, { minLength: 1 }),
  },
  { requiredKeys: ["action"] },
);

const cluster: fc.Arbitrary<Cluster> = fc
  .record({
    tiers: fc.uniqueArray(
      fc.record(
        {
          name: fc.constantFrom("alpha", "beta", "gamma"),
          order: fc.constantFrom(10, 20, 2_000_000),
          defaultAction: fc.constantFrom<"Deny" | "Pass">("Deny", "Pass"),
        },
        { requiredKeys: ["name", "defaultAction"] },
      ),
      { selector: (t) => t.name, maxLength: 3 },
    ),
    policies: fc.array(
      fc.record(
        {
          tierIndex: fc.nat(3),
          order: fc.constantFrom(1, 2, 1000),
          target: fc.constantFrom(...APPS),
          types: fc.subarray<"Ingress" | "Egress">(["Ingress", "Egress"], { minLength: 1 }),
          ingress: fc.array(rule, { maxLength: 3 }),
          egress: fc.array(rule, { maxLength: 3 }),
        },
        { requiredKeys: ["tierIndex", "types", "ingress", "egress"] },
      ),
      { maxLength: 6 },
    ),
  })
  .map(({ tiers, policies }) => {
    const tierNames = ["default", ...tiers.map((t) => t.name)];
    return {
      tiers,
      policies: policies.map((p, i) => {
        const tier = tierNames[p.tierIndex % tierNames.length];
        const { tierIndex: _t, ...rest } = p;
        void _t;
        return { ...rest, tier, name: tier === "default" ? `p${i}` : `${tier}.p${i}` };
      }),
    };
  });

function toObjects(c: Cluster): Record<string, unknown>[] {
  const calicoRule = (r: Rule, direction: "ingress" | "egress") => {
    const remote = direction === "ingress" ? "source" : "destination";
    return {
      action: r.action,
      ...(r.ports ? { protocol: "TCP" } : {}),
      ...(r.peer ? { [remote]: { selector: `app == '${r.peer}'` } } : {}),
      ...(r.ports
        ? {
            destination: {
              ...(direction === "egress" && r.peer ? { selector: `app == '${r.peer}'` } : {}),
              ports: r.ports,
            },
          }
        : {}),
    };
  };
  return [
    ...["x", "y"].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
    ...PODS.map((p) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, namespace: p.namespace, labels: { app: p.app } },
      spec: { containers: [{ name: "c" }] },
    })),
    ...c.tiers.map((t) => ({
      apiVersion: "projectcalico.org/v3",
      kind: "Tier",
      metadata: { name: t.name },
      spec: {
        ...(t.order !== undefined ? { order: t.order } : {}),
        defaultAction: t.defaultAction,
      },
    })),
    ...c.policies.map((p) => ({
      apiVersion: "projectcalico.org/v3",
      kind: "GlobalNetworkPolicy",
      metadata: { name: p.name },
      spec: {
        tier: p.tier,
        ...(p.order !== undefined ? { order: p.order } : {}),
        selector: p.target ? `app == '${p.target}'` : "all()",
        types: p.types,
        ingress: p.ingress.map((r) => calicoRule(r, "ingress")),
        egress: p.egress.map((r) => calicoRule(r, "egress")),
      },
    })),
  ];
}

type TestPod = (typeof PODS)[number];

/** One corner as Felix's chain decides it, from the definitions above only. */
function bruteCorner(
  c: Cluster,
  direction: "ingress" | "egress",
  local: TestPod,
  remote: TestPod,
  port: number,
): boolean {
  const order = (o: number | undefined) => o ?? Number.POSITIVE_INFINITY;
  const byOrderThenName = (
    a: { order?: number; name: string },
    b: { order?: number; name: string },
  ) =>
    order(a.order) !== order(b.order)
      ? order(a.order) - order(b.order)
      : a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0;
  const tiers: TierSpec[] = [
    ...c.tiers,
    { name: "default", order: 1_000_000, defaultAction: "Deny" as const },
  ].sort(byOrderThenName);
  const type = direction === "ingress" ? "Ingress" : "Egress";
  tierLoop: for (const tier of tiers) {
    const policies = c.policies
      .filter(
        (p) =>
          p.tier === tier.name &&
          p.types.includes(type) &&
          (p.target === undefined || p.target === local.app),
      )
      .sort(byOrderThenName);
    if (policies.length === 0) continue;
    for (const policy of policies)
      for (const r of policy[direction]) {
        if (r.peer !== undefined && r.peer !== remote.app) continue;
        if (r.ports !== undefined && !r.ports.includes(port)) continue;
        if (r.action === "Log") continue;
        if (r.action === "Pass") continue tierLoop;
        return r.action === "Allow";
      }
    if (tier.defaultAction === "Deny") return false;
  }
  return true;
}

describe("Calico tiers vs brute force (fast-check)", () => {
  it("agrees on every pod pair and port", () => {
    fc.assert(
      fc.property(cluster, (c) => {
        const model = buildModel(toObjects(c));
        const evaluator = new Evaluator(model);
        const pod = (p: TestPod) => ({
          kind: "pod" as const,
          pod: model.pods.find((m) => m.name === p.name)!,
        });
        for (const src of PODS)
          for (const dst of PODS) {
            if (src === dst) continue;
            const result = evaluatePair(evaluator, pod(src), pod(dst));
            for (const port of PORTS) {
              const expected =
                bruteCorner(c, "egress", src, dst, port) &&
                bruteCorner(c, "ingress", dst, src, port);
              const actual = allowsConnection(result.connections, "TCP", port);
              if (expected !== actual)
                assert.fail(
                  `${src.name} -> ${dst.name} TCP ${port}: engine ${actual}, brute force ${expected}`,
                );
              for (const direction of ["egress", "ingress"] as const) {
                const decision = evaluator.cornerDecision(
                  direction,
                  pod(src),
                  pod(dst),
                  "TCP",
                  port,
                );
                const corner = direction === "egress" ? result.egress : result.ingress;
                assert.equal(decision.allowed, allowsConnection(corner, "TCP", port));
              }
            }
          }
      }),
      { numRuns: 300 },
    );
  });

  it("gives the matrix the same answer as pair-by-pair evaluation", () => {
    fc.assert(
      fc.property(cluster, (c) => {
        const model = buildModel(toObjects(c));
        assert.deepEqual(
          namespaceConnectivity(model, computeConnectivity(model)),
          unionPairs(model),
        );
      }),
      { numRuns: 150 },
    );
  });
});
