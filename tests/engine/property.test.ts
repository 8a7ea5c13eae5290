/**
 * Property: on random small clusters with random Kubernetes policies, the engine agrees with a
 * brute-force evaluator written here from the Kubernetes documentation alone, pod pair by pod
 * pair and port by port (plus a few external addresses).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { computeConnectivity, namespaceConnectivity, unionPairs } from "./property-helpers";
import {
  Evaluator,
  allowsConnection,
  buildModel,
  evaluatePair,
  type Endpoint,
  type ModelProtocol,
} from "../../engine";

type Labels = Record<string, string>;
interface Expr {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Expr[];
}
interface PortEntry {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Peer {
  ipBlock?: { cidr: string; except?: string[] };
  namespaceSelector?: Selector;
  podSelector?: Selector;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PortEntry[];
}
interface Spec {
  podSelector: Selector;
  policyTypes?: string[];
  ingress?: Rule[];
  egress?: Rule[];
}
interface TestPod {
  name: string;
  namespace: string;
  labels: Labels;
  ip: string;
  ports: { name: string; containerPort: number; protocol: string }[];
}
interface Cluster {
  namespaces: { name: string; labels: Labels }[];
  pods: TestPod[];
  policies: { namespace: string; name: string; spec: Spec }[];
}

// ---------- brute force, straight from the documented semantics ----------
function ipNumber(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}
function selectorMatches(sel: Selector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = k(labels, e.key);
    if (e.operator === "In" && !(has && e.values!.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values!.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
function k(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}
type Remote = { pod: TestPod } | { ip: string };
function peerMatches(
  c: Cluster,
  peer: Peer,
  policyNs: string,
  remote: Remote,
  ipMatchesPods: boolean,
): boolean {
  if (peer.ipBlock) {
    const ip = "ip" in remote ? remote.ip : ipMatchesPods ? remote.pod.ip : undefined;
    if (ip === undefined) return false;
    return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inCidr(ip, e));
  }
  if ("ip" in remote) return false;
  const pod = remote.pod;
  const nsLabels = {
    ...c.namespaces.find((n) => n.name === pod.namespace)!.labels,
    "kubernetes.io/metadata.name": pod.namespace,
  };
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, nsLabels)
    : pod.namespace === policyNs;
  return nsOk && (peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true);
}
function portMatches(
  ports: PortEntry[] | undefined,
  protocol: string,
  port: number,
  destination: TestPod | undefined,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return port >= p.port && port <= (p.endPort ?? p.port);
    return (
      destination !== undefined &&
      destination.ports.some(
        (cp) => cp.name === p.port && cp.protocol === protocol && cp.containerPort === port,
      )
    );
  });
}
function types(spec: Spec): string[] {
  if (spec.policyTypes) return spec.policyTypes;
  return spec.egress && spec.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}
function directionAllows(
  c: Cluster,
  direction: "ingress" | "egress",
  local: TestPod,
  remote: Remote,
  protocol: string,
  port: number,
  destination: TestPod | undefined,
  ipMatchesPods: boolean,
): boolean {
  const type = direction === "ingress" ? "Ingress" : "Egress";
  const selecting = c.policies.filter(
    (p) =>
      p.namespace === local.namespace &&
      selectorMatches(p.spec.podSelector, local.labels) &&
      types(p.spec).includes(type),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (p.spec[direction] ?? []).some((rule) => {
      const peers = direction === "ingress" ? rule.from : rule.to;
      const peerOk =
        !peers ||
        peers.length === 0 ||
        peers.some((peer) => peerMatches(c, peer, p.namespace, remote, ipMatchesPods));
      return peerOk && portMatches(rule.ports, protocol, port, destination);
    }),
  );
}
function bruteAllowed(
  c: Cluster,
  src: Remote,
  dst: Remote,
  protocol: string,
  port: number,
  ipMatchesPods: boolean,
): boolean {
  if ("pod" in src && "pod" in dst && src.pod === dst.pod) return true;
  const destinationPod = "pod" in dst ? dst.pod : undefined;
  const egressOk =
    "pod" in src
      ? directionAllows(c, "egress", src.pod, dst, protocol, port, destinationPod, ipMatchesPods)
      : true;
  const ingressOk =
    "pod" in dst
      ? directionAllows(c, "ingress", dst.pod, src, protocol, port, destinationPod, ipMatchesPods)
      : true;
  return egressOk && ingressOk;
}

// ---------- generators ----------
const labelKey = fc.constantFrom("app", "tier");
const labelValue = fc.constantFrom("x", "y");
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 2 });
const expr: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({
    key: labelKey,
    operator: fc.constantFrom("In" as const, "NotIn" as const),
    values: fc.uniqueArray(labelValue, { minLength: 1, maxLength: 2 }),
  }),
  fc.record({
    key: labelKey,
    operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const),
  }),
);
const selector: fc.Arbitrary<Selector> = fc.oneof(
  fc.constant({}),
  fc.record({ matchLabels: labels }),
  fc.record({ matchExpressions: fc.array(expr, { minLength: 1, maxLength: 2 }) }),
);
const CIDRS: Record<string, string[]> = {
  "10.0.0.0/29": ["10.0.0.0/30", "10.0.0.4/31"],
  "10.0.0.4/30": ["10.0.0.6/31"],
  "10.0.0.0/8": ["10.0.0.0/30", "10.0.0.4/30"],
  "0.0.0.0/0": ["10.0.0.0/8"],
  "8.8.8.0/24": [],
};
const ipBlock = fc
  .constantFrom(...Object.keys(CIDRS))
  .chain((cidr) =>
    fc.subarray(CIDRS[cidr]).map((except) => (except.length > 0 ? { cidr, except } : { cidr })),
  );
const peer: fc.Arbitrary<Peer> = fc.oneof(
  ipBlock.map((b) => ({ ipBlock: b })),
  fc
    .record({ namespaceSelector: selector, podSelector: selector }, { requiredKeys: [] })
    .filter((p) => Object.keys(p).length > 0),
);
const portEntry: fc.Arbitrary<PortEntry> = fc.oneof(
  fc.record(
    { protocol: fc.constantFrom("TCP", "UDP"), port: fc.integer({ min: 1, max: 4 }) },
    { requiredKeys: ["port"] },
  ),
  fc.record(
    {
      protocol: fc.constantFrom("TCP", "UDP"),
      port: fc.integer({ min: 1, max: 3 }),
      endPort: fc.integer({ min: 3, max: 5 }),
    },
    { requiredKeys: ["port", "endPort"] },
  ),
  fc.record({ protocol: fc.constantFrom("TCP", "UDP") }),
  fc.record(
    { protocol: fc.constantFrom("TCP", "UDP"), port: fc.constantFrom("pa", "pb") },
    { requiredKeys: ["port"] },
  ),
);
const rule = (peerField: "from" | "to"): fc.Arbitrary<Rule> =>
  fc.record(
    { [peerField]: fc.array(peer, { maxLength: 2 }), ports: fc.array(portEntry, { maxLength: 2 }) },
    { requiredKeys: [] },
  ) as fc.Arbitrary<Rule>;
const spec: fc.Arbitrary<Spec> = fc.record(
  {
    podSelector: selector,
    policyTypes: fc.constantFrom(["Ingress"], ["Egress"], ["Ingress", "Egress"]),
    ingress: fc.array(rule("from"), { maxLength: 2 }),
    egress: fc.array(rule("to"), { maxLength: 2 }),
  },
  { requiredKeys: ["podSelector"] },
);
const namedPorts = fc
  .subarray([
    { name: "pa", containerPort: 2, protocol: "TCP" },
    { name: "pb", containerPort: 4, protocol: "UDP" },
    { name: "pb", containerPort: 3, protocol: "TCP" },
  ])
  .filter((ports) => new Set(ports.map((p) => p.name)).size === ports.length);
const cluster: fc.Arbitrary<Cluster> = fc
  .record({
    nsLabels: fc.tuple(labels, labels),
    pods: fc.array(fc.record({ ns: fc.constantFrom("n1", "n2"), labels, ports: namedPorts }), {
      minLength: 1,
      maxLength: 4,
    }),
    policies: fc.array(fc.record({ ns: fc.constantFrom("n1", "n2"), spec }), { maxLength: 3 }),
  })
  .map(({ nsLabels, pods, policies }) => ({
    namespaces: [
      { name: "n1", labels: nsLabels[0] },
      { name: "n2", labels: nsLabels[1] },
    ],
    pods: pods.map((p, i) => ({
      name: `p${i}`,
      namespace: p.ns,
      labels: p.labels,
      ip: `10.0.0.${i + 1}`,
      ports: p.ports,
    })),
    policies: policies.map((p, i) => ({
      namespace: p.ns,
      name: `np${i}`,
      spec: withoutNamedPortsToIpBlocks(p.spec),
    })),
  }));

/** The engine rejects a named port next to an ipBlock egress peer (as netpol-analyzer does). */
function withoutNamedPortsToIpBlocks(spec: Spec): Spec {
  if (!spec.egress) return spec;
  return {
    ...spec,
    egress: spec.egress.map((r) =>
      r.to?.some((peer) => peer.ipBlock) && r.ports
        ? { ...r, ports: r.ports.filter((p) => typeof p.port !== "string") }
        : r,
    ),
  };
}

function toObjects(c: Cluster): Record<string, unknown>[] {
  return [
    ...c.namespaces.map((n) => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: n.name, labels: n.labels },
    })),
    ...c.pods.map((p) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
      spec: { containers: [{ name: "c", ports: p.ports }] },
      status: { podIP: p.ip },
    })),
    ...c.policies.map((p) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: p.name, namespace: p.namespace },
      spec: p.spec,
    })),
  ];
}

const EXTERNAL_IPS = ["10.0.0.6", "8.8.8.8", "192.168.1.1"];
const PROBES: [ModelProtocol, number][] = [1, 2, 3, 4, 5, 80].flatMap((port) => [
  ["TCP", port] as [ModelProtocol, number],
  ["UDP", port] as [ModelProtocol, number],
]);

describe("engine vs brute force (fast-check)", () => {
  it("agrees on every pod pair, external address and probe port", () => {
    fc.assert(
      fc.property(cluster, fc.boolean(), (c, ipMatchesPods) => {
        const model = buildModel(toObjects(c), { ipBlockMatchesPods: ipMatchesPods });
        const evaluator = new Evaluator(model);
        const engineEndpoint = (r: Remote): Endpoint =>
          "ip" in r
            ? { kind: "external", range: { lo: ipNumber(r.ip), hi: ipNumber(r.ip) } }
            : { kind: "pod", pod: model.pods.find((p) => p.name === r.pod.name)! };
        const remotes: Remote[] = [
          ...c.pods.map((pod) => ({ pod })),
          ...EXTERNAL_IPS.map((ip) => ({ ip })),
        ];
        for (const src of remotes) {
          for (const dst of remotes) {
            if ("ip" in src && "ip" in dst) continue;
            const result = evaluatePair(evaluator, engineEndpoint(src), engineEndpoint(dst));
            for (const [protocol, port] of PROBES) {
              const expected = bruteAllowed(c, src, dst, protocol, port, ipMatchesPods);
              const actual = allowsConnection(result.connections, protocol, port);
              if (expected !== actual)
                assert.fail(
                  `${"pod" in src ? src.pod.name : src.ip} -> ${"pod" in dst ? dst.pod.name : dst.ip} ${protocol} ${port}: engine ${actual}, brute force ${expected}`,
                );
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("gives the matrix the same answer as pair-by-pair evaluation (classes lose nothing)", () => {
    fc.assert(
      fc.property(cluster, fc.boolean(), (c, ipMatchesPods) => {
        const model = buildModel(toObjects(c), { ipBlockMatchesPods: ipMatchesPods });
        const fromMatrix = namespaceConnectivity(model, computeConnectivity(model));
        const byPairs = unionPairs(model);
        assert.deepEqual(fromMatrix, byPairs);
      }),
      { numRuns: 200 },
    );
  });
});
