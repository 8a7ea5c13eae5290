/**
 * Presentation of external peers. The evaluator cuts the address space at every ipBlock boundary,
 * so "the internet" arrives as half a dozen blocks (split around the private ranges and every /32
 * some policy names). For people, blocks that every namespace treats the same way are one peer:
 * they are merged and labelled by the shorter of "these CIDRs" and "this CIDR except those".
 */
import * as conn from "../model/connections";
import { formatIpv4, type Ipv4Range } from "../model/ipv4";
import { externalPeer, peerName, type Connection, type ConnectivityPeer } from "./connectivity";

/** The fewest CIDR blocks covering exactly `range`. */
export function rangeToCidrs(range: Ipv4Range): string[] {
  const cidrs: string[] = [];
  let lo = range.lo;
  while (lo <= range.hi) {
    let size = 1;
    // Grow the block while it stays aligned and inside the range.
    while (lo % (size * 2) === 0 && lo + size * 2 - 1 <= range.hi && size < 2 ** 32) size *= 2;
    cidrs.push(`${formatIpv4(lo)}/${32 - Math.log2(size)}`);
    lo += size;
  }
  return cidrs;
}

/** Sorted, with touching or overlapping ranges joined. */
export function mergeRanges(ranges: readonly Ipv4Range[]): Ipv4Range[] {
  const merged: Ipv4Range[] = [];
  for (const r of [...ranges].sort((a, b) => a.lo - b.lo)) {
    const last = merged.at(-1);
    if (last && r.lo <= last.hi + 1)
      merged[merged.length - 1] = { lo: last.lo, hi: Math.max(last.hi, r.hi) };
    else merged.push(r);
  }
  return merged;
}

/** The smallest CIDR block containing every range. */
function coveringBlock(ranges: readonly Ipv4Range[]): Ipv4Range {
  const lo = Math.min(...ranges.map((r) => r.lo));
  const hi = Math.max(...ranges.map((r) => r.hi));
  let size = 1;
  while (Math.floor(lo / size) !== Math.floor(hi / size)) size *= 2;
  const base = Math.floor(lo / size) * size;
  return { lo: base, hi: base + size - 1 };
}

/** A short, exact label for a set of address ranges. */
export function describeRanges(ranges: readonly Ipv4Range[]): string {
  const merged = mergeRanges(ranges);
  const listed = merged.flatMap(rangeToCidrs);
  const cover = coveringBlock(merged);
  const holes: Ipv4Range[] = [];
  let next = cover.lo;
  for (const r of merged) {
    if (r.lo > next) holes.push({ lo: next, hi: r.lo - 1 });
    next = r.hi + 1;
  }
  if (next <= cover.hi) holes.push({ lo: next, hi: cover.hi });
  const excepted = holes.flatMap(rangeToCidrs);
  const coverText = rangeToCidrs(cover)[0];
  if (excepted.length === 0) return coverText;
  return excepted.length + 1 < listed.length
    ? `${coverText} except ${excepted.join(", ")}`
    : listed.join(", ");
}

function signatureOf(block: string, connections: readonly Connection[]): string {
  return connections
    .filter(
      (c) =>
        (c.from.kind === "external" && peerName(c.from) === block) ||
        (c.to.kind === "external" && peerName(c.to) === block),
    )
    .map((c) => {
      const [direction, other] = c.from.kind === "external" ? ["in", c.to] : ["out", c.from];
      return `${direction}|${peerName(other)}|${conn.formatConnections(c.connections)}|${c.viaHbone}`;
    })
    .sort()
    .join("\n");
}

/**
 * The same connections with every group of identically treated external blocks replaced by one
 * external peer labelled for people (its `cidr` and `text` carry the label).
 */
export function groupExternalPeers(connections: readonly Connection[]): Connection[] {
  const blocks = new Map<string, Ipv4Range>();
  for (const c of connections) {
    for (const peer of [c.from, c.to])
      if (peer.kind === "external") blocks.set(peerName(peer), peer.range);
  }
  const groups = new Map<string, Ipv4Range[]>();
  const groupOf = new Map<string, string>();
  for (const [name, range] of blocks) {
    const signature = signatureOf(name, connections);
    groups.set(signature, [...(groups.get(signature) ?? []), range]);
    groupOf.set(name, signature);
  }
  const peers = new Map<string, ConnectivityPeer>();
  for (const [signature, ranges] of groups) {
    const label = describeRanges(ranges);
    const first = externalPeer(mergeRanges(ranges)[0]);
    peers.set(signature, { ...first, text: label, cidr: label } as ConnectivityPeer);
  }
  const replace = (peer: ConnectivityPeer): ConnectivityPeer =>
    peer.kind === "external" ? (peers.get(groupOf.get(peerName(peer)) ?? "") ?? peer) : peer;
  const seen = new Set<string>();
  const out: Connection[] = [];
  for (const c of connections) {
    const grouped = { ...c, from: replace(c.from), to: replace(c.to) };
    // Members of a group have identical connections by construction: keep one per pair.
    const key = `${peerName(grouped.from)}\u0000${peerName(grouped.to)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(grouped);
  }
  return out;
}
