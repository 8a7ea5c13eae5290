/**
 * Address arithmetic for the whole project (engine, pack, config): the one IP library.
 *
 * Parsing and classification are `ipaddr.js`'s; this module only turns its addresses into
 * intervals. IPv4 addresses are unsigned 32-bit integers and CIDRs inclusive integer ranges (the
 * connectivity model is IPv4); IPv6 addresses are 128-bit `bigint`s, used where the written form
 * must be judged (an `::/0` ipBlock is internet ingress on a dual-stack cluster even though the
 * IPv4 model ignores it).
 *
 * Accepted text, as the API servers read it:
 * - IPv4 in four-part decimal only (`10.0.0.1`; no `10.1`, hex or octal forms, which ipaddr.js
 *   would otherwise accept and Go's netip refuses);
 * - host bits below the prefix are masked (`10.0.0.5/8` means `10.0.0.0/8`): Kubernetes
 *   validates ipBlocks with ParseCIDRSloppy and Calico masks nets, so refusing would reject
 *   objects the API server stores; stack config is stricter (`parseStrictCidr`).
 */
import * as ipaddr from "ipaddr.js";

export interface Ipv4Range {
  readonly lo: number;
  readonly hi: number;
}

export interface Ipv6Range {
  readonly lo: bigint;
  readonly hi: bigint;
}

export const ALL_IPV4: Ipv4Range = { lo: 0, hi: 0xffffffff };
export const ALL_IPV6: Ipv6Range = { lo: 0n, hi: (1n << 128n) - 1n };

const PREFIX_TEXT = /^\d{1,3}$/;

function ipv4ToNumber(address: ipaddr.IPv4): number {
  return address.octets.reduce((value, octet) => value * 256 + octet, 0);
}

function ipv6ToBigint(address: ipaddr.IPv6): bigint {
  return address.parts.reduce((value, part) => (value << 16n) | BigInt(part), 0n);
}

export function parseIpv4(text: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return ipv4ToNumber(ipaddr.IPv4.parse(text));
}

export function parseIpv6(text: string): bigint | undefined {
  // A zone (`fe80::1%eth0`) names an interface, not an address a policy can hold.
  if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return undefined;
  return ipv6ToBigint(ipaddr.IPv6.parse(text));
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export function formatIpv6(value: bigint): string {
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export function isIpv6Text(text: string): boolean {
  return text.includes(":");
}

function splitCidr(
  text: string,
  allowBareAddress: boolean,
): { address: string; prefix?: number } | undefined {
  const parts = text.trim().split("/");
  if (parts.length > 2) return undefined;
  if (parts.length === 1) return allowBareAddress ? { address: parts[0] } : undefined;
  if (!PREFIX_TEXT.test(parts[1])) return undefined;
  return { address: parts[0], prefix: Number(parts[1]) };
}

function blockOf<T extends number | bigint>(
  base: T,
  prefix: number,
  width: number,
): { lo: T; hi: T } {
  if (typeof base === "bigint") {
    const size = 1n << BigInt(width - prefix);
    const lo = (base / size) * size;
    return { lo: lo as T, hi: (lo + size - 1n) as T };
  }
  const size = 2 ** (width - prefix);
  const lo = Math.floor(base / size) * size;
  return { lo: lo as T, hi: (lo + size - 1) as T };
}

/**
 * Parses `a.b.c.d/n`; a bare address is a /32 unless `allowBareAddress` is false (a Kubernetes
 * ipBlock needs the prefix; Calico nets take a bare address).
 */
export function parseCidr(text: string, allowBareAddress = true): Ipv4Range | undefined {
  const split = splitCidr(text, allowBareAddress);
  if (!split) return undefined;
  const base = parseIpv4(split.address);
  const prefix = split.prefix ?? 32;
  if (base === undefined || prefix > 32) return undefined;
  return blockOf(base, prefix, 32);
}

/** `parseCidr` for IPv6 (`::/0`, `2001:db8::/32`; bare address = /128 when allowed). */
export function parseIpv6Cidr(text: string, allowBareAddress = true): Ipv6Range | undefined {
  const split = splitCidr(text, allowBareAddress);
  if (!split) return undefined;
  const base = parseIpv6(split.address);
  const prefix = split.prefix ?? 128;
  if (base === undefined || prefix > 128) return undefined;
  return blockOf(base, prefix, 128);
}

/** `a.b.c.d/n` with zero host bits (stack config refuses `10.0.0.5/8`: almost always a typo). */
export function parseStrictCidr(text: string): Ipv4Range | undefined {
  const split = splitCidr(text, false);
  if (!split) return undefined;
  const range = parseCidr(text, false);
  return range && parseIpv4(split.address) === range.lo ? range : undefined;
}

/** Number of addresses in a CIDR prefix of the family (2^(width - prefix)). */
export function prefixSize(family: 4 | 6, prefix: number): bigint {
  return 1n << BigInt((family === 4 ? 32 : 128) - prefix);
}

export function formatRange(r: Ipv4Range): string {
  return `${formatIpv4(r.lo)}-${formatIpv4(r.hi)}`;
}

/** The CIDR text when the range is exactly one CIDR block, else `a-b`. */
export function formatRangeAsCidr(r: Ipv4Range): string {
  const size = r.hi - r.lo + 1;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && r.lo % size === 0) return `${formatIpv4(r.lo)}/${prefix}`;
  return formatRange(r);
}

export function formatIpv6RangeAsCidr(r: Ipv6Range): string {
  const size = r.hi - r.lo + 1n;
  const bits = size.toString(2).length - 1;
  if (size === 1n << BigInt(bits) && r.lo % size === 0n) return `${formatIpv6(r.lo)}/${128 - bits}`;
  return `${formatIpv6(r.lo)}-${formatIpv6(r.hi)}`;
}

export function rangeContains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return outer.lo <= inner.lo && inner.hi <= outer.hi;
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}

/** Cuts the IPv4 space into contiguous blocks at every range boundary. */
export function partitionIpv4(ranges: Iterable<Ipv4Range>): Ipv4Range[] {
  const cuts = new Set<number>([0]);
  for (const r of ranges) {
    cuts.add(r.lo);
    if (r.hi < 0xffffffff) cuts.add(r.hi + 1);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.map((lo, i) => ({
    lo,
    hi: i + 1 < sorted.length ? sorted[i + 1] - 1 : 0xffffffff,
  }));
}

/** RFC 1918 private space (ipaddr.js's `private`): never public, whatever a config lists. */
export const RFC1918_CIDRS: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/**
 * IPv4 space never routed on the internet whatever the cluster's private ranges: the blocks
 * ipaddr.js classifies as `unspecified` (0/8), `loopback`, `linkLocal` (where the ambient probe
 * source lives), `carrierGradeNat`, `multicast` and `reserved` (tests/engine/ip.test.ts).
 */
export const NON_PUBLIC_IPV4: readonly Ipv4Range[] = [
  "0.0.0.0/8",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "100.64.0.0/10",
  "224.0.0.0/4",
  "240.0.0.0/4",
].map((text) => parseCidr(text) as Ipv4Range);

/**
 * IPv6 space that is not reachable across the internet: the blocks ipaddr.js classifies as
 * `unspecified`, `loopback`, `ipv4Mapped` (IPv4 addresses, judged as such), `uniqueLocal`
 * (fc00::/7), `linkLocal` and `multicast` (tests/engine/ip.test.ts checks them against it).
 */
export const NON_PUBLIC_IPV6: readonly Ipv6Range[] = [
  "::/128",
  "::1/128",
  "::ffff:0:0/96",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
].map((text) => parseIpv6Cidr(text) as Ipv6Range);

/** Sorted, merged union of IPv6 ranges. */
export function mergeIpv6(ranges: Iterable<Ipv6Range>): Ipv6Range[] {
  const sorted = [...ranges].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: { lo: bigint; hi: bigint }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1n) {
      if (r.hi > last.hi) last.hi = r.hi;
    } else out.push({ lo: r.lo, hi: r.hi });
  }
  return out;
}

/** `from` minus every range of `remove` (IPv6). */
export function subtractIpv6(
  from: readonly Ipv6Range[],
  remove: readonly Ipv6Range[],
): Ipv6Range[] {
  let current = mergeIpv6(from);
  for (const cut of mergeIpv6(remove)) {
    current = current.flatMap((r) => {
      if (cut.hi < r.lo || cut.lo > r.hi) return [r];
      const pieces: Ipv6Range[] = [];
      if (cut.lo > r.lo) pieces.push({ lo: r.lo, hi: cut.lo - 1n });
      if (cut.hi < r.hi) pieces.push({ lo: cut.hi + 1n, hi: r.hi });
      return pieces;
    });
  }
  return current;
}

export function ipv6Size(ranges: readonly Ipv6Range[]): bigint {
  return ranges.reduce((total, r) => total + (r.hi - r.lo + 1n), 0n);
}
