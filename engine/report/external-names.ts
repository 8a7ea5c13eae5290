/**
 * External ends by the names people use (`gateway (10.0.1.1)`, `internet`, `kube-api`), not by the
 * address blocks the evaluator cuts. Each block belongs to the smallest named range that contains
 * it. A namespace's connection to a name is what it may reach on *every* address of that name;
 * what only some addresses get (ICMP to 8.8.8.8/32 from a Calico ping policy, say) stays on the
 * same edge as a qualified part ("ICMP to 8.8.8.8/32") instead of splitting the name into odd
 * blocks. Blocks outside every name keep the CIDR grouping of external-groups.ts. Names whose
 * treatment is identical everywhere are merged into one end.
 */
import * as conn from "../model/connections";
import type { ConnectionSet } from "../model/connections";
import { parseCidr, type Ipv4Range } from "../model/ipv4";
import { externalPeer, peerName, type Connection, type ConnectivityPeer } from "./connectivity";
import { describeRanges, groupExternalPeers, mergeRanges } from "./external-groups";

/** A named external range: CIDRs, minus the excepted ones (the internet minus private ranges). */
export interface ExternalName {
  readonly label: string;
  readonly cidrs: readonly string[];
  readonly except?: readonly string[];
  /** Only for egress destinations or only for ingress sources; both when absent. */
  readonly direction?: "egress" | "ingress";
}

/** Connections that hold for only part of a named end. */
export interface PartialConnection {
  /** The addresses, as CIDRs. */
  readonly ranges: string;
  readonly connections: ConnectionSet;
}

export interface NamedConnection extends Connection {
  /** Empty unless the end is a name and some of its addresses get more than `connections`. */
  readonly partial: readonly PartialConnection[];
}

function subtractRanges(from: readonly Ipv4Range[], cut: readonly Ipv4Range[]): Ipv4Range[] {
  let pieces = mergeRanges(from);
  for (const c of cut)
    pieces = pieces.flatMap((p) => {
      if (c.hi < p.lo || c.lo > p.hi) return [p];
      const out: Ipv4Range[] = [];
      if (c.lo > p.lo) out.push({ lo: p.lo, hi: c.lo - 1 });
      if (c.hi < p.hi) out.push({ lo: c.hi + 1, hi: p.hi });
      return out;
    });
  return pieces;
}

/** The addresses of one name on its own (its CIDRs minus its excepts). */
export function externalNameRanges(name: ExternalName): Ipv4Range[] {
  return parseNames([name])[0].ranges.slice();
}

/** Each name with the addresses left to it once every smaller name took its own. */
export function resolveExternalNames(
  names: readonly ExternalName[],
): { label: string; direction?: "egress" | "ingress"; ranges: Ipv4Range[] }[] {
  return resolveNames(names).map((n) => ({
    label: n.label,
    ranges: [...n.ranges],
    ...(n.direction ? { direction: n.direction } : {}),
  }));
}

interface ResolvedName {
  readonly label: string;
  /** What the name covers once every smaller name has taken its addresses. */
  readonly ranges: readonly Ipv4Range[];
  readonly size: number;
  readonly direction?: "egress" | "ingress";
}

function resolveNames(names: readonly ExternalName[]): ResolvedName[] {
  const bySize = parseNames(names);
  return bySize.map((n, i) => {
    const smaller = bySize
      .slice(0, i)
      .filter((m) => !m.direction || !n.direction || m.direction === n.direction)
      .flatMap((m) => m.ranges);
    return { ...n, ranges: subtractRanges(n.ranges, smaller) };
  });
}

function parseNames(names: readonly ExternalName[]): ResolvedName[] {
  const parse = (cidr: string, label: string): Ipv4Range => {
    const range = parseCidr(cidr);
    if (!range) throw new Error(`external name ${label}: ${cidr} is not an IPv4 CIDR`);
    return range;
  };
  return names
    .map((n) => {
      const ranges = subtractRanges(
        n.cidrs.map((c) => parse(c, n.label)),
        (n.except ?? []).map((c) => parse(c, n.label)),
      );
      return {
        label: n.label,
        ranges,
        size: ranges.reduce((s, r) => s + r.hi - r.lo + 1, 0),
        ...(n.direction ? { direction: n.direction } : {}),
      };
    })
    .sort((a, b) => a.size - b.size || a.label.localeCompare(b.label));
}

function sameRanges(a: readonly Ipv4Range[], b: readonly Ipv4Range[]): boolean {
  const x = mergeRanges(a);
  const y = mergeRanges(b);
  return x.length === y.length && x.every((r, i) => r.lo === y[i].lo && r.hi === y[i].hi);
}

/** The text of a named connection: what holds everywhere, then each qualified part. */
export function namedConnectionText(c: NamedConnection, hboneMark = ""): string {
  const parts: string[] = [];
  if (!conn.isEmptyConnections(c.connections))
    parts.push(conn.formatConnections(c.connections) + hboneMark);
  const preposition = c.to.kind === "external" ? "to" : "from";
  for (const p of c.partial)
    parts.push(`${conn.formatConnections(p.connections)} ${preposition} ${p.ranges}`);
  return parts.join("; ");
}

/**
 * `connections` at namespace level (external peers are the evaluator's blocks), with external
 * ends named. With no names this is `groupExternalPeers` with empty `partial`s.
 */
export function nameExternalPeers(
  connections: readonly Connection[],
  names: readonly ExternalName[] = [],
): NamedConnection[] {
  const resolved = resolveNames(names);
  const parsed = parseNames(names);
  const nameOf = (range: Ipv4Range, direction: "egress" | "ingress"): ResolvedName | undefined =>
    resolved.find(
      (n) =>
        (!n.direction || n.direction === direction) &&
        n.ranges.some((r) => r.lo <= range.lo && range.hi <= r.hi),
    );
  const internal: NamedConnection[] = [];
  const unnamed: Connection[] = [];
  type Direction = "egress" | "ingress";
  // direction → name → blocks seen (by block text) and, per namespace, the set for each block.
  const blocks = new Map<string, Map<string, Ipv4Range>>();
  const perNamespace = new Map<
    string,
    {
      direction: Direction;
      name: ResolvedName;
      namespace: ConnectivityPeer;
      sets: Map<string, ConnectionSet>;
    }
  >();
  // A block is treated uniformly, so cutting it at name boundaries is exact: afterwards every
  // piece lies inside one name or outside all of them.
  const bounds = [...new Set(resolved.flatMap((n) => n.ranges.flatMap((r) => [r.lo, r.hi + 1])))]
    .filter((b) => b > 0 && b <= 0xffffffff)
    .sort((a, b) => a - b);
  const pieces = (range: Ipv4Range): Ipv4Range[] => {
    const out: Ipv4Range[] = [];
    let lo = range.lo;
    for (const b of bounds)
      if (b > lo && b <= range.hi) {
        out.push({ lo, hi: b - 1 });
        lo = b;
      }
    out.push({ lo, hi: range.hi });
    return out;
  };
  for (const c of connections) {
    const external =
      c.to.kind === "external" ? c.to : c.from.kind === "external" ? c.from : undefined;
    if (!external || external.kind !== "external") {
      internal.push({ ...c, partial: [] });
      continue;
    }
    const direction: Direction = c.to.kind === "external" ? "egress" : "ingress";
    const namespace = direction === "egress" ? c.from : c.to;
    for (const piece of pieces(external.range)) {
      const name = nameOf(piece, direction);
      if (!name) {
        const peer = externalPeer(piece);
        unnamed.push(direction === "egress" ? { ...c, to: peer } : { ...c, from: peer });
        continue;
      }
      const pieceKey = `${piece.lo}-${piece.hi}`;
      const blockKey = `${direction}\u0000${name.label}`;
      if (!blocks.has(blockKey)) blocks.set(blockKey, new Map());
      blocks.get(blockKey)!.set(pieceKey, piece);
      const key = `${blockKey}\u0000${peerName(namespace)}`;
      if (!perNamespace.has(key))
        perNamespace.set(key, { direction, name, namespace, sets: new Map() });
      const sets = perNamespace.get(key)!.sets;
      sets.set(
        pieceKey,
        conn.unionConnections(sets.get(pieceKey) ?? conn.NO_CONNECTIONS, c.connections),
      );
    }
  }
  const commons = new Map<string, ConnectionSet>();
  const partialOf = new Map<string, PartialConnection[]>();
  for (const [key, entry] of perNamespace) {
    const all = blocks.get(`${entry.direction}\u0000${entry.name.label}`)!;
    // Addresses of the name that no block covers are reached by nobody: nothing holds everywhere.
    const covered = sameRanges([...all.values()], entry.name.ranges);
    const setOf = (text: string): ConnectionSet => entry.sets.get(text) ?? conn.NO_CONNECTIONS;
    let common = covered ? conn.ALL_CONNECTIONS : conn.NO_CONNECTIONS;
    for (const text of all.keys()) common = conn.intersectConnections(common, setOf(text));
    const extras = new Map<string, { connections: ConnectionSet; ranges: Ipv4Range[] }>();
    for (const [text, range] of all) {
      const extra = conn.subtractConnections(setOf(text), common);
      if (conn.isEmptyConnections(extra)) continue;
      const key = conn.formatConnections(extra);
      if (!extras.has(key)) extras.set(key, { connections: extra, ranges: [] });
      extras.get(key)!.ranges.push(range);
    }
    commons.set(key, common);
    partialOf.set(
      key,
      [...extras.values()]
        .map((e) => ({ ranges: describeRanges(e.ranges), connections: e.connections }))
        .sort((a, b) => a.ranges.localeCompare(b.ranges)),
    );
  }
  const named: NamedConnection[] = [];
  for (const [key, entry] of perNamespace) {
    const common = commons.get(key)!;
    const partial = partialOf.get(key)!;
    // A name inside a larger one (a LAN host inside "internet") is drawn apart only where it is
    // treated differently from the larger name; otherwise the larger name's edge covers it.
    const enclosing = enclosingName(entry.name, resolved, parsed, entry.direction);
    if (enclosing && partial.length === 0) {
      const outerKey = `${entry.direction}\u0000${enclosing.label}\u0000${peerName(entry.namespace)}`;
      const outer = commons.get(outerKey);
      if (
        outer &&
        (partialOf.get(outerKey) ?? []).length === 0 &&
        conn.equalConnections(outer, common)
      )
        continue;
    }
    const peer: ConnectivityPeer = {
      kind: "external",
      range: entry.name.ranges[0],
      text: entry.name.label,
      cidr: entry.name.label,
    };
    named.push({
      from: entry.direction === "egress" ? entry.namespace : peer,
      to: entry.direction === "egress" ? peer : entry.namespace,
      connections: common,
      ports: conn.connectionsToList(common),
      viaHbone: false,
      partial,
    });
  }
  const grouped = groupExternalPeers(unnamed).map((c) => ({ ...c, partial: [] }));
  return sortConnections([...internal, ...mergeIdenticalNames(named), ...grouped]);
}

/** The smallest other name whose own addresses contain all of `name`'s. */
function enclosingName(
  name: ResolvedName,
  resolved: readonly ResolvedName[],
  parsed: readonly ResolvedName[],
  direction: "egress" | "ingress",
): ResolvedName | undefined {
  const own = parsed.find((p) => p.label === name.label && p.direction === name.direction)!;
  return resolved.find((candidate) => {
    if (candidate === name || candidate.size <= name.size) return false;
    if (candidate.direction && candidate.direction !== direction) return false;
    const raw = parsed.find(
      (p) => p.label === candidate.label && p.direction === candidate.direction,
    )!;
    return own.ranges.every((r) => raw.ranges.some((o) => o.lo <= r.lo && r.hi <= o.hi));
  });
}

/** Named ends that every namespace treats the same way become one end labelled "a, b". */
function mergeIdenticalNames(connections: readonly NamedConnection[]): NamedConnection[] {
  const endOf = (c: NamedConnection): ConnectivityPeer =>
    c.to.kind === "external" ? c.to : c.from;
  const signatures = new Map<string, string[]>();
  for (const c of connections) {
    const end = endOf(c);
    const other = c.to.kind === "external" ? `out|${peerName(c.from)}` : `in|${peerName(c.to)}`;
    const key = end.kind === "external" ? end.text : "";
    signatures.set(key, [...(signatures.get(key) ?? []), `${other}|${namedConnectionText(c)}`]);
  }
  const labelsBySignature = new Map<string, string[]>();
  for (const [label, lines] of signatures) {
    const signature = lines.sort().join("\n");
    labelsBySignature.set(signature, [...(labelsBySignature.get(signature) ?? []), label]);
  }
  const mergedLabel = new Map<string, string>();
  for (const labels of labelsBySignature.values())
    for (const label of labels) mergedLabel.set(label, labels.sort().join(", "));
  const seen = new Set<string>();
  const out: NamedConnection[] = [];
  for (const c of connections) {
    const end = endOf(c);
    if (end.kind !== "external") continue;
    const label = mergedLabel.get(end.text) ?? end.text;
    const peer: ConnectivityPeer = { ...end, text: label, cidr: label };
    const merged = c.to.kind === "external" ? { ...c, to: peer } : { ...c, from: peer };
    const key = `${peerName(merged.from)}\u0000${peerName(merged.to)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(merged);
  }
  return out;
}

function sortConnections(connections: NamedConnection[]): NamedConnection[] {
  const key = (c: NamedConnection): string => `${peerName(c.from)}\u0000${peerName(c.to)}`;
  return connections.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
