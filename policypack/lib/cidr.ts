/**
 * CIDR arithmetic for ipBlocks and Calico nets, IPv4 and IPv6.
 *
 * Kubernetes validates `ipBlock.cidr` with a sloppy parser that accepts host bits
 * (`10.0.0.5/8` is stored as written and means `10.0.0.0/8`), so host bits are masked here
 * rather than refused: refusing would flag objects the API server accepts.
 * A bare address is not a CIDR for ipBlock; Calico `nets` accept one and mean /32 (/128).
 */
import { MalformedError } from "./errors";

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address with host bits cleared. */
  readonly network: bigint;
  readonly prefix: number;
  readonly text: string;
}

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => IPV4_OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] | undefined => {
    if (half === "") return [];
    const parts = half.split(":");
    // An embedded dotted IPv4 tail (::ffff:10.0.0.1) counts as two groups.
    const last = parts[parts.length - 1];
    if (last.includes(".")) {
      const v4 = parseIpv4(last);
      if (v4 === undefined) return undefined;
      parts.splice(parts.length - 1, 1, (v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16));
    }
    return parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p)) ? parts : undefined;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(bits(family));
  const host = width - BigInt(prefix);
  return ((1n << width) - 1n) ^ ((1n << host) - 1n);
}

/** Parses `address/prefix`; with `allowBareAddress`, a lone address is a host route. */
export function tryParseCidr(text: string, allowBareAddress = false): Cidr | undefined {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? undefined : text.slice(slash + 1);
  if (prefixText === undefined && !allowBareAddress) return undefined;
  const v4 = parseIpv4(addressText);
  const family: 4 | 6 = v4 !== undefined ? 4 : 6;
  const address = v4 ?? parseIpv6(addressText);
  if (address === undefined) return undefined;
  let prefix = bits(family);
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefix = Number(prefixText);
    if (prefix > bits(family)) return undefined;
  }
  return { family, network: address & mask(family, prefix), prefix, text };
}

export function parseCidr(text: unknown, path: string, allowBareAddress = false): Cidr {
  const parsed = typeof text === "string" ? tryParseCidr(text, allowBareAddress) : undefined;
  if (!parsed) {
    throw new MalformedError(
      path,
      `expected a CIDR such as 10.0.0.0/8, got ${JSON.stringify(text)}`,
    );
  }
  return parsed;
}

/** True when every address of `inner` is in `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  return (inner.network & mask(outer.family, outer.prefix)) === outer.network;
}

/** True when the two ranges share at least one address (aligned ranges nest or are disjoint). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** `0.0.0.0/0` or `::/0`: every address of the family. */
export function isWholeFamily(c: Cidr): boolean {
  return c.prefix === 0;
}

/** True when `address` (a CIDR, typically a /32) lies in `block` and in none of its excepts. */
export function blockAdmits(block: Cidr, excepts: readonly Cidr[], address: Cidr): boolean {
  return cidrContains(block, address) && !excepts.some((e) => cidrOverlaps(e, address));
}
