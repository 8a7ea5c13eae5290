/**
 * The intent check: the rendered policies allow every declared connection end to end, no
 * namespace-to-namespace connection the config does not declare, and no traffic between a
 * namespace and external addresses outside the declared external ends (flows to or from a CIDR,
 * host or the internet, LAN and internet egress, the Kubernetes API, DNS upstreams, webhooks, the
 * mesh probe source, the config's Calico Allow rules). "Declared" is the stack config
 * expanded by components/connections.ts (flows plus universal patterns); "allowed" is what the
 * connectivity engine computes from the rendered objects, so a rendering bug or a hand edit shows.
 */
import { ztunnelSees } from "../../components/authorization";
import { cornerPorts, ipBlockPeer } from "../../components/rules";
import type { Connection as Declared } from "../../components/connections";
import { expandConnections } from "../../components/connections";
import { formatIpv4, parseStrictCidr } from "../../config/net";
import type { CalicoRuleConfig, Endpoint, StackConfig } from "../../config/types";
import {
  explainFlow,
  formatRangeAsCidr,
  intervals,
  namespaceConnectivity,
  type ClusterModel,
  type ModelProtocol,
  type QueryEndpoint,
} from "../../engine";
import { buildStackModel } from "../../components/stackModel";

export interface IntentFinding {
  readonly message: string;
  readonly fix: string;
  readonly namespace?: string;
}

/** An address inside `cidr`, outside the private ranges when the CIDR is wider than them. */
function representativeAddress(cidr: string, privateRanges: readonly string[]): string {
  const block = parseStrictCidr(cidr);
  if (!block) return cidr.replace(/\/\d+$/, "");
  if (block.lo === block.hi) return formatIpv4(block.lo);
  // A host address (not the network address) of the block, public when the block has one.
  const hosts: intervals.IntervalSet = [block.lo + 1, block.hi];
  const privates = intervals.fromRanges(
    privateRanges.flatMap((r) => {
      const range = parseStrictCidr(r);
      return range ? [[range.lo, range.hi] as const] : [];
    }),
  );
  const publicHosts = intervals.subtract(hosts, privates);
  return formatIpv4(publicHosts.length > 0 ? publicHosts[0] : hosts[0]);
}

function queryEndpoint(endpoint: Endpoint, config: StackConfig): QueryEndpoint {
  return endpoint.kind === "workload"
    ? {
        namespace: endpoint.namespace,
        podLabels: { ...endpoint.podLabels },
        ...(endpoint.serviceAccount ? { serviceAccount: endpoint.serviceAccount } : {}),
      }
    : { ip: representativeAddress(endpoint.cidr, config.cluster.privateRanges) };
}

function describe(endpoint: Endpoint): string {
  if (endpoint.kind === "external")
    return endpoint.host ? `${endpoint.host} (${endpoint.cidr})` : endpoint.cidr;
  const labels = Object.entries(endpoint.podLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return labels ? `${endpoint.namespace}/${labels}` : endpoint.namespace;
}

/** Probes use any port: one representative port stands for them. */
const PROBE_PORT = 8080;

function missingCorners(
  model: ClusterModel,
  declared: Declared,
  config: StackConfig,
): IntentFinding[] {
  const findings: IntentFinding[] = [];
  const ports =
    declared.ports.length > 0 ? declared.ports : [{ port: PROBE_PORT, protocol: "TCP" as const }];
  for (const port of ports) {
    for (const number of new Set([port.port, port.endPort ?? port.port])) {
      const explanation = explainFlow(model, {
        from: queryEndpoint(declared.from, config),
        to: queryEndpoint(declared.to, config),
        port: number,
        protocol: port.protocol as ModelProtocol,
      });
      if (explanation.verdict === "allowed") continue;
      // A pattern ztunnel never judges (probes, the seed's mesh-namespace ingress) only needs the CNI.
      const cniOnly = !ztunnelSees(declared);
      if (cniOnly && explanation.pairs.every((p) => p.egress.allowed && p.ingress.allowed))
        continue;
      const denied = explanation.pairs.find((p) =>
        cniOnly ? !(p.egress.allowed && p.ingress.allowed) : !p.allowed,
      );
      const corners = denied
        ? [
            denied.egress.allowed ? undefined : `egress at ${denied.source}`,
            denied.ingress.allowed ? undefined : `ingress at ${denied.destination}`,
            cniOnly || denied.ztunnel === undefined || denied.ztunnel.allowed
              ? undefined
              : `ztunnel authorization at ${denied.destination}`,
          ]
            .filter(Boolean)
            .join(" and ")
        : "no pod pair";
      findings.push({
        message: `declared ${declared.kind} "${declared.name}" (${describe(declared.from)} -> ${describe(declared.to)} on ${port.protocol} ${number}) is denied: missing ${corners}`,
        fix: `render the stack again (npm run plan) and do not edit generated policies by hand; \`npm run explain\` shows the deciding rules`,
        namespace:
          declared.to.kind === "workload"
            ? declared.to.namespace
            : declared.from.kind === "workload"
              ? declared.from.namespace
              : undefined,
      });
    }
  }
  return findings;
}

type Ranges = Map<string, [number, number][]>;

function addRange(ranges: Ranges, protocol: string, from: number, to: number): void {
  ranges.set(protocol, [...(ranges.get(protocol) ?? []), [from, to]]);
}

/** The parts of [from, to] that the declared ranges do not cover. */
function uncovered(ranges: Ranges, protocol: string, from: number, to: number): [number, number][] {
  const gaps: [number, number][] = [];
  let next = from;
  for (const [a, b] of [...(ranges.get(protocol) ?? [])].sort((x, y) => x[0] - y[0])) {
    if (b < next) continue;
    if (a > to) break;
    if (a > next) gaps.push([next, a - 1]);
    next = Math.max(next, b + 1);
    if (next > to) return gaps;
  }
  if (next <= to) gaps.push([next, to]);
  return gaps;
}

/** Declared port ranges per ordered namespace pair, as the CNI sees them (HBONE included). */
function declaredPairs(
  connections: readonly Declared[],
  hbonePort: number | undefined,
): Map<string, { ranges: Ranges; hbone: boolean }> {
  const pairs = new Map<string, { ranges: Ranges; hbone: boolean }>();
  for (const c of connections) {
    if (c.from.kind !== "workload" || c.to.kind !== "workload") continue;
    const key = `${c.from.namespace}\u0000${c.to.namespace}`;
    const entry = pairs.get(key) ?? { ranges: new Map(), hbone: false };
    for (const p of cornerPorts(c, hbonePort))
      addRange(entry.ranges, p.protocol, p.port, p.endPort ?? p.port);
    entry.hbone ||= c.hbone;
    pairs.set(key, entry);
  }
  return pairs;
}

function undeclaredConnections(
  model: ClusterModel,
  connections: readonly Declared[],
  config: StackConfig,
): IntentFinding[] {
  const declared = declaredPairs(connections, config.cluster.mesh?.hbonePort);
  const findings: IntentFinding[] = [];
  for (const allowed of namespaceConnectivity(model)) {
    if (allowed.from.kind !== "namespace" || allowed.to.kind !== "namespace") continue;
    const entry = declared.get(`${allowed.from.name}\u0000${allowed.to.name}`);
    const extra: string[] = [];
    for (const { protocol, ranges } of allowed.ports) {
      // No HBONE shortcut: ztunnel authorization at the meshed destination makes the engine see
      // the application ports, so a meshed pair is declared port by port like any other.
      for (const [from, to] of ranges) {
        const gaps = entry ? uncovered(entry.ranges, protocol, from, to) : [[from, to]];
        for (const [a, b] of gaps) extra.push(`${protocol} ${a === b ? a : `${a}-${b}`}`);
      }
    }
    if (extra.length === 0) continue;
    findings.push({
      message: `${allowed.from.name} -> ${allowed.to.name} is allowed on ${extra.join(", ")}${allowed.viaHbone ? " (HBONE)" : ""} but the config declares no such connection`,
      fix: `declare a flow from ${allowed.from.name} to ${allowed.to.name} under zt-netpol:flows, or remove the rule that opens it`,
      namespace: allowed.to.name,
    });
  }
  return findings;
}

type Direction = "egress" | "ingress";

/** What the config admits between one namespace and a set of external addresses. */
interface ExternalGrant {
  readonly namespace: string;
  readonly direction: Direction;
  readonly addresses: intervals.IntervalSet;
  readonly ranges: Ranges;
}

const ENGINE_PROTOCOLS: readonly ModelProtocol[] = ["TCP", "UDP", "SCTP", "ICMP"];

/** Every port of every protocol (the engine keeps ICMP as the single "port" 0). */
function everyPort(): Ranges {
  const ranges: Ranges = new Map();
  for (const protocol of ENGINE_PROTOCOLS)
    addRange(ranges, protocol, protocol === "ICMP" ? 0 : 1, protocol === "ICMP" ? 0 : 65535);
  return ranges;
}

/**
 * The addresses an external end stands for. Egress uses the renderer's own ipBlock (the CIDR
 * minus the private ranges it excepts): "the internet" is declared without the LAN.
 */
function declaredAddresses(
  cidr: string,
  direction: Direction,
  privateRanges: readonly string[],
): intervals.IntervalSet {
  const peer = ipBlockPeer(cidr, direction === "egress" ? "Egress" : "Ingress", privateRanges);
  const range = (text: string): intervals.IntervalSet => {
    const block = parseStrictCidr(text);
    return block ? [block.lo, block.hi] : [];
  };
  const excepted = intervals.fromRanges(
    (peer.ipBlock?.except ?? []).flatMap((e) => intervals.toPairs(range(e))),
  );
  return intervals.subtract(range(peer.ipBlock?.cidr ?? cidr), excepted);
}

/** The declared connections with one workload end and one external end, as grants. */
function connectionGrants(connections: readonly Declared[], config: StackConfig): ExternalGrant[] {
  const grants: ExternalGrant[] = [];
  for (const c of connections) {
    const egress = c.from.kind === "workload" && c.to.kind === "external";
    const ingress = c.from.kind === "external" && c.to.kind === "workload";
    if (!egress && !ingress) continue;
    const [local, remote] = egress ? [c.from, c.to] : [c.to, c.from];
    if (local.kind !== "workload" || remote.kind !== "external") continue;
    const direction: Direction = egress ? "egress" : "ingress";
    // An empty port list (the probe source) admits every port.
    const ranges: Ranges = c.ports.length === 0 ? everyPort() : new Map();
    for (const p of c.ports) addRange(ranges, p.protocol, p.port, p.endPort ?? p.port);
    grants.push({
      namespace: local.namespace,
      direction,
      addresses: declaredAddresses(remote.cidr, direction, config.cluster.privateRanges),
      ranges,
    });
  }
  return grants;
}

/** The config's Calico Allow rules toward external nets (validation resolved host names). */
function calicoGrants(config: StackConfig): ExternalGrant[] {
  const grants: ExternalGrant[] = [];
  const grant = (namespace: string, direction: Direction, rule: CalicoRuleConfig): void => {
    if (rule.action !== "Allow") return;
    const ranges: Ranges = new Map();
    const protocols = rule.protocol
      ? ENGINE_PROTOCOLS.filter((p) => p === rule.protocol)
      : ENGINE_PROTOCOLS;
    for (const protocol of protocols) {
      if (protocol === "ICMP" || !rule.ports?.length) {
        for (const [a, b] of everyPort().get(protocol) ?? []) addRange(ranges, protocol, a, b);
      } else for (const port of rule.ports) addRange(ranges, protocol, port, port);
    }
    const addresses = intervals.fromRanges(
      rule.nets.flatMap((net) => {
        const block = parseStrictCidr(net);
        return block ? [[block.lo, block.hi] as const] : [];
      }),
    );
    grants.push({ namespace, direction, addresses, ranges });
  };
  for (const ns of config.namespaces)
    for (const policy of ns.calicoPolicies) {
      for (const rule of policy.egress) grant(ns.name, "egress", rule);
      for (const rule of policy.ingress) grant(ns.name, "ingress", rule);
    }
  return grants;
}

/**
 * Splits `block` where the grants' address sets start or end, so each piece is either wholly
 * inside or wholly outside every grant.
 */
function pieces(
  block: readonly [number, number],
  grants: readonly ExternalGrant[],
): [number, number][] {
  const [lo, hi] = block;
  const cuts = new Set<number>([lo, hi + 1]);
  for (const g of grants)
    for (const [a, b] of intervals.toPairs(g.addresses)) {
      if (a > lo && a <= hi) cuts.add(a);
      if (b >= lo && b < hi) cuts.add(b + 1);
    }
  const sorted = [...cuts].sort((x, y) => x - y);
  return sorted.slice(0, -1).map((start, i) => [start, sorted[i + 1] - 1]);
}

interface UndeclaredPiece {
  readonly namespace: string;
  readonly direction: Direction;
  readonly lo: number;
  hi: number;
  readonly ports: string;
}

/** The parts of one engine block, namespace and direction that no grant declares. */
function undeclaredPieces(
  namespace: string,
  direction: Direction,
  range: { readonly lo: number; readonly hi: number },
  allowedPorts: ReturnType<typeof namespaceConnectivity>[number]["ports"],
  grants: readonly ExternalGrant[],
): UndeclaredPiece[] {
  const relevant = grants.filter(
    (g) =>
      g.namespace === namespace &&
      g.direction === direction &&
      !intervals.isEmpty(intervals.intersect(g.addresses, [range.lo, range.hi])),
  );
  const out: UndeclaredPiece[] = [];
  for (const [lo, hi] of pieces([range.lo, range.hi], relevant)) {
    const declared: Ranges = new Map();
    for (const g of relevant)
      if (intervals.isEmpty(intervals.subtract([lo, hi], g.addresses)))
        for (const [protocol, ranges] of g.ranges)
          for (const [x, y] of ranges) addRange(declared, protocol, x, y);
    const extra: string[] = [];
    for (const { protocol, ranges } of allowedPorts)
      for (const [from, to] of ranges)
        for (const [x, y] of uncovered(declared, protocol, from, to))
          extra.push(protocol === "ICMP" ? "ICMP" : `${protocol} ${x === y ? x : `${x}-${y}`}`);
    if (extra.length > 0) out.push({ namespace, direction, lo, hi, ports: extra.join(", ") });
  }
  return out;
}

/**
 * Everything the engine allows between a namespace and external addresses must lie inside the
 * declared external ends, address by address and port by port. The engine cuts the address
 * space into blocks at every CIDR the policies name; neighbouring blocks with the same undeclared
 * ports are reported as one range.
 */
function undeclaredExternal(
  model: ClusterModel,
  connections: readonly Declared[],
  config: StackConfig,
): IntentFinding[] {
  const grants = [...connectionGrants(connections, config), ...calicoGrants(config)];
  const found: UndeclaredPiece[] = [];
  for (const allowed of namespaceConnectivity(model)) {
    const { from, to } = allowed;
    if (from.kind === "namespace" && to.kind === "external")
      found.push(...undeclaredPieces(from.name, "egress", to.range, allowed.ports, grants));
    else if (from.kind === "external" && to.kind === "namespace")
      found.push(...undeclaredPieces(to.name, "ingress", from.range, allowed.ports, grants));
  }
  const key = (p: UndeclaredPiece) => `${p.namespace}\u0000${p.direction}`;
  found.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.lo - b.lo));
  const merged: UndeclaredPiece[] = [];
  for (const piece of found) {
    const last = merged[merged.length - 1];
    if (last && key(last) === key(piece) && last.hi + 1 === piece.lo && last.ports === piece.ports)
      last.hi = piece.hi;
    else merged.push({ ...piece });
  }
  return merged.map(({ namespace, direction, lo, hi, ports }) => {
    const block = formatRangeAsCidr({ lo, hi });
    const toOrFrom = direction === "egress" ? "to" : "from";
    return {
      message: `${namespace} ${direction} ${toOrFrom} ${block} is allowed on ${ports} but the config declares no such connection`,
      fix:
        direction === "egress"
          ? `declare a flow from ${namespace} to {cidr: ...} inside ${block} (or lanEgress/externalEgress) under zt-netpol:flows, or remove the rule that opens it`
          : `declare a flow from {cidr: ...} inside ${block} to ${namespace} under zt-netpol:flows, or remove the rule that opens it`,
      namespace,
    };
  });
}

/**
 * Checks rendered `manifests` against the intent in `config`. Throws the engine's ManifestError
 * when the manifests cannot be modelled (the caller reports that as a violation: fail closed).
 */
export function checkIntent(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
): IntentFinding[] {
  const connections = expandConnections(config);
  const model = buildStackModel(config, manifests, connections);
  return [
    ...connections.flatMap((c) => missingCorners(model, c, config)),
    ...undeclaredConnections(model, connections, config),
    ...undeclaredExternal(model, connections, config),
  ];
}
