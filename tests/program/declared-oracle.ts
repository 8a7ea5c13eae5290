/**
 * The property tests' oracle: is what the engine computes from some manifests inside what a stack
 * config declares (its flows plus the universal patterns, the Calico policies it configures)?
 *
 * Written from the README's statement of what each declaration means, not from the renderer, at
 * pod level and for external blocks (the pack's intent check works per namespace, coarser):
 * - a connection admits its ports between pods matching its ends (labels are a subset match);
 * - an empty port list (the probe source) admits everything;
 * - both ends meshed: every TCP port, because TCP between ambient pods travels as HBONE;
 * - an external end admits the blocks inside its CIDR; egress to a CIDR wider than a private
 *   range leaves that range out ("the internet" never reaches the LAN), unless the CIDR lies
 *   wholly inside the private ranges (the LAN, named on purpose);
 * - a Calico Allow rule admits its protocol (all when absent) and ports to or from its nets, for
 *   the pods its selector picks.
 */
import type { Connection as Declared } from "../../components/connections";
import { expandConnections } from "../../components/connections";
import { parseStrictCidr } from "../../config/net";
import type { Endpoint, StackConfig } from "../../config/types";
import {
  buildModel,
  computeConnectivity,
  intervalsFromRanges,
  parseCalicoSelector,
  subtractIntervals,
  workloadConnections,
  type ConnectivityPeer,
  type IntervalSet,
  type ModelProtocol,
} from "../../engine";
import { stackEngineOptions } from "../../plan/connectivity";
import { stackInventory } from "../../components/inventory";

const PROTOCOLS: readonly ModelProtocol[] = ["TCP", "UDP", "SCTP", "ICMP"];
const UNIVERSE: Record<ModelProtocol, IntervalSet> = {
  TCP: [1, 65535],
  UDP: [1, 65535],
  SCTP: [1, 65535],
  // The engine keeps ICMP as one "port" 0.
  ICMP: [0, 0],
};

type Ports = Record<ModelProtocol, IntervalSet>;

const none = (): Ports => ({ TCP: [], UDP: [], SCTP: [], ICMP: [] });

function union(a: Ports, b: Partial<Ports>): Ports {
  const out = none();
  for (const p of PROTOCOLS) {
    const pairs: [number, number][] = [];
    for (const set of [a[p], b[p] ?? []])
      for (let i = 0; i < set.length; i += 2) pairs.push([set[i], set[i + 1]]);
    out[p] = intervalsFromRanges(pairs);
  }
  return out;
}

/** A pod of the representative inventory, or an external block. */
type Peer =
  | { kind: "pod"; namespace: string; labels: Readonly<Record<string, string>> }
  | { kind: "external"; lo: number; hi: number };

function rangeOf(cidr: string): { lo: number; hi: number } | undefined {
  return parseStrictCidr(cidr);
}

function endMatches(
  end: Endpoint,
  peer: Peer,
  direction: "from" | "to",
  config: StackConfig,
): boolean {
  if (end.kind === "workload")
    return (
      peer.kind === "pod" &&
      peer.namespace === end.namespace &&
      Object.entries(end.podLabels).every(([k, v]) => peer.labels[k] === v)
    );
  // An external end is declared for external blocks only. Calico also matches ipBlocks against
  // pod IPs, so a CIDR covering the pod network admits pods; that is not declared (the pack's
  // intent check reports it as an undeclared namespace pair).
  if (peer.kind !== "external") return false;
  const address = peer;
  const block = rangeOf(end.cidr);
  if (!block || address.lo < block.lo || address.hi > block.hi) return false;
  if (direction === "from") return true;
  // Egress to a CIDR wider than a private range leaves that range out, unless the CIDR is itself
  // private (the LAN named on purpose).
  const privates = config.cluster.privateRanges.flatMap((r) => rangeOf(r) ?? []);
  const isPrivate =
    subtractIntervals(
      [block.lo, block.hi],
      intervalsFromRanges(privates.map((p): [number, number] => [p.lo, p.hi])),
    ).length === 0;
  if (isPrivate) return true;
  return !config.cluster.privateRanges.some((range) => {
    const inner = rangeOf(range);
    return (
      inner !== undefined &&
      inner.hi - inner.lo < block.hi - block.lo &&
      inner.lo <= address.lo &&
      address.hi <= inner.hi
    );
  });
}

function portsOfDeclared(c: Declared): Partial<Ports> {
  if (c.ports.length === 0) return { ...UNIVERSE };
  const out = none();
  for (const p of c.ports)
    out[p.protocol] = intervalsFromRanges([
      ...pairsOf(out[p.protocol]),
      [p.port, p.endPort ?? p.port],
    ]);
  if (c.hbone) out.TCP = UNIVERSE.TCP;
  return out;
}

function pairsOf(set: IntervalSet): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < set.length; i += 2) out.push([set[i], set[i + 1]]);
  return out;
}

/** What the config's Calico policies admit between a pod and an external block. */
function calicoAllows(config: StackConfig, from: Peer, to: Peer): Ports {
  let out = none();
  for (const ns of config.namespaces) {
    for (const policy of ns.calicoPolicies) {
      const selector = parseCalicoSelector(policy.selector);
      for (const [direction, rules] of [
        ["egress", policy.egress],
        ["ingress", policy.ingress],
      ] as const) {
        const local = direction === "egress" ? from : to;
        const remote = direction === "egress" ? to : from;
        if (local.kind !== "pod" || local.namespace !== ns.name) continue;
        if (!selector.matches({ ...local.labels })) continue;
        for (const rule of rules) {
          if (rule.action !== "Allow" || remote.kind !== "external") continue;
          const inNets = rule.nets.some((net) => {
            const block = rangeOf(net);
            return block !== undefined && block.lo <= remote.lo && remote.hi <= block.hi;
          });
          if (!inNets) continue;
          const protocols = rule.protocol
            ? PROTOCOLS.filter((p) => p === rule.protocol)
            : PROTOCOLS;
          for (const protocol of protocols) {
            const ports = rule.ports?.length
              ? intervalsFromRanges(rule.ports.map((p): [number, number] => [p, p]))
              : UNIVERSE[protocol];
            out = union(out, { [protocol]: ports });
          }
        }
      }
    }
  }
  return out;
}

export interface Excess {
  readonly from: string;
  readonly to: string;
  readonly protocol: ModelProtocol;
  readonly ports: IntervalSet;
  /** One end is an external block (not a pod). */
  readonly external: boolean;
}

/**
 * Every connection the engine allows on `manifests` (with the stack's representative pods) that
 * `config` does not declare. Empty means "inside the declared set plus the universal patterns".
 */
export function undeclaredAllows(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
): Excess[] {
  const declared = expandConnections(config);
  const model = buildModel(
    [...stackInventory(config, declared), ...manifests],
    stackEngineOptions(config),
  );
  // The inventory's pods have no owners: a workload is its pod, by namespace and name.
  const pods = new Map(model.pods.map((pod) => [`${pod.namespace}/${pod.name}`, pod]));
  const peerOf = (peer: ConnectivityPeer): Peer => {
    if (peer.kind === "external") return { kind: "external", ...peer.range };
    if (peer.kind !== "workload") throw new Error(`unexpected peer ${peer.kind}`);
    const pod = pods.get(`${peer.namespace}/${peer.name}`);
    if (!pod) throw new Error(`no inventory pod ${peer.namespace}/${peer.name}`);
    return { kind: "pod", namespace: pod.namespace, labels: pod.labels };
  };
  const name = (peer: ConnectivityPeer) =>
    peer.kind === "external"
      ? peer.text
      : peer.kind === "workload"
        ? `${peer.namespace}/${peer.name}`
        : peer.kind === "domains"
          ? `domains: ${peer.domains.join(", ")}`
          : peer.name;
  const excess: Excess[] = [];
  for (const allowed of workloadConnections(computeConnectivity(model))) {
    const from = peerOf(allowed.from);
    const to = peerOf(allowed.to);
    let admitted = calicoAllows(config, from, to);
    for (const c of declared)
      if (endMatches(c.from, from, "from", config) && endMatches(c.to, to, "to", config))
        admitted = union(admitted, portsOfDeclared(c));
    for (const protocol of PROTOCOLS) {
      const extra = subtractIntervals(allowed.connections[protocol], admitted[protocol]);
      if (extra.length > 0)
        excess.push({
          from: name(allowed.from),
          to: name(allowed.to),
          protocol,
          ports: extra,
          external: from.kind === "external" || to.kind === "external",
        });
    }
  }
  return excess;
}

export function describeExcess(excess: readonly Excess[]): string {
  return excess
    .map(
      (e) =>
        `${e.from} -> ${e.to} ${e.protocol} ${pairsOf(e.ports)
          .map(([a, b]) => (a === b ? a : `${a}-${b}`))
          .join(",")}`,
    )
    .join("\n");
}
