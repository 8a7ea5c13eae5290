/** IPv4 addresses as unsigned 32-bit integers, CIDRs as inclusive integer ranges. */

export interface Ipv4Range {
  readonly lo: number;
  readonly hi: number;
}

export const ALL_IPV4: Ipv4Range = { lo: 0, hi: 0xffffffff };

export function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

export function isIpv6Text(text: string): boolean {
  return text.includes(":");
}

/**
 * Parses `a.b.c.d/n` (a bare address is a /32). Host bits set below the prefix are accepted
 * and masked, as Kubernetes and Calico accept them.
 */
export function parseCidr(text: string): Ipv4Range | undefined {
  const [address, prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const base = parseIpv4(address);
  if (base === undefined) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText ?? "32") || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const lo = Math.floor(base / size) * size;
  return { lo, hi: lo + size - 1 };
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
