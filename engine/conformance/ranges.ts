/**
 * Address-by-address comparison of netpol-analyzer style output rows.
 *
 * Two tools may cut the external IPv4 space into different blocks and still mean the same thing
 * (`0.0.0.0-255.255.255.255` vs `0.0.0.0-9.255.255.255` + `10.0.0.0-255.255.255.255`). A row whose
 * source or destination is an external range is therefore read as "every address in the range,
 * with the rest of the row" (the key: diff-type, the other endpoint, which side is external,
 * ref1/ref2 or the connection set, workloads-diff-info…). Per key, the address intervals are
 * merged (overlapping or adjacent ones join); the canonical row set has one row per merged
 * interval. Two outputs are equal address by address iff their canonical row sets are equal.
 * Rows without an external range, or with one on both sides, are kept as they are.
 */
import { fromRanges, toPairs } from "../model/intervals";
import { formatRange, parseCidr, parseIpv4 } from "../model/ipv4";
import type { Ipv4Range } from "../model/ipv4";

const IP = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const RANGE_RE = new RegExp(`^(${IP})-(${IP})\\[External\\]$`);
const CIDR_RE = new RegExp(`^(${IP}/\\d{1,2})(?:\\[External\\])?$`);

/** `a.b.c.d-e.f.g.h[External]`, `a.b.c.d/n[External]` or a bare `a.b.c.d/n`; else undefined. */
export function parseExternalEndpoint(text: string): Ipv4Range | undefined {
  const t = text.trim();
  const range = RANGE_RE.exec(t);
  if (range) {
    const lo = parseIpv4(range[1]);
    const hi = parseIpv4(range[2]);
    return lo !== undefined && hi !== undefined && lo <= hi ? { lo, hi } : undefined;
  }
  const cidr = CIDR_RE.exec(t);
  return cidr ? parseCidr(cidr[1]) : undefined;
}

/** A row split into its two endpoints and a way to print it back with other endpoints. */
interface RowShape {
  readonly source: string;
  readonly destination: string;
  readonly render: (source: string, destination: string) => string;
}

// `src => dst : conns` (connlist) and `diff-type: t, source: s, destination: d, ref1: …` (diff).
// Peer names never contain " => ", " : " or ", "; port lists use "," without a space.
const CONNLIST_RE = /^(.+?) => (.+?)( : .*)$/;
const DIFF_RE = /^(diff-type: [^,]*, source: )(.+?)(, destination: )(.+?)(, ref1: .*)$/;

function shapeOf(row: string): RowShape | undefined {
  const c = CONNLIST_RE.exec(row);
  if (c) return { source: c[1], destination: c[2], render: (s, d) => `${s} => ${d}${c[3]}` };
  const d = DIFF_RE.exec(row);
  if (d)
    return { source: d[2], destination: d[4], render: (s, t) => `${d[1]}${s}${d[3]}${t}${d[5]}` };
  return undefined;
}

const HOLE = "\u0000external\u0000";

/**
 * The canonical form of a set of rows (blank lines dropped, whitespace trimmed, duplicates
 * removed, sorted). Only rows with exactly one external endpoint are rewritten.
 */
export function canonicaliseRows(rows: readonly string[]): string[] {
  const plain = new Set<string>();
  const byKey = new Map<string, [number, number][]>();
  for (const raw of rows) {
    const row = raw.trim();
    if (row === "") continue;
    const shape = shapeOf(row);
    const src = shape && parseExternalEndpoint(shape.source);
    const dst = shape && parseExternalEndpoint(shape.destination);
    if (!shape || (src === undefined) === (dst === undefined)) {
      plain.add(row);
      continue;
    }
    const key = src ? shape.render(HOLE, shape.destination) : shape.render(shape.source, HOLE);
    const block = (src ?? dst)!;
    const list = byKey.get(key) ?? [];
    list.push([block.lo, block.hi]);
    byKey.set(key, list);
  }
  const out = [...plain];
  for (const [key, ranges] of byKey)
    for (const [lo, hi] of toPairs(fromRanges(ranges)))
      out.push(key.replace(HOLE, `${formatRange({ lo, hi })}[External]`));
  return out.sort();
}

export interface RowComparison {
  readonly equal: boolean;
  /** True when the raw rows differ but their canonical forms are equal. */
  readonly byRanges: boolean;
  /** Canonical rows present in `expected` only / in `actual` only. */
  readonly missing: readonly string[];
  readonly extra: readonly string[];
  readonly expectedCount: number;
  readonly actualCount: number;
}

/** Compares two row sets, first as text, then address by address. */
export function compareRows(expected: readonly string[], actual: readonly string[]): RowComparison {
  const rawSet = (rows: readonly string[]): Set<string> =>
    new Set(rows.map((l) => l.trim()).filter(Boolean));
  const rawWant = rawSet(expected);
  const rawGot = rawSet(actual);
  const rawEqual = rawWant.size === rawGot.size && [...rawWant].every((l) => rawGot.has(l));
  const want = new Set(canonicaliseRows(expected));
  const got = new Set(canonicaliseRows(actual));
  const missing = [...want].filter((l) => !got.has(l));
  const extra = [...got].filter((l) => !want.has(l));
  const equal = missing.length === 0 && extra.length === 0;
  return {
    equal,
    byRanges: equal && !rawEqual,
    missing,
    extra,
    expectedCount: rawWant.size,
    actualCount: rawGot.size,
  };
}
