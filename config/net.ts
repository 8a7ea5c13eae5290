/**
 * Config-side address rules on top of the engine's IPv4 arithmetic: stack config is stricter than
 * the API server and refuses host bits below the prefix (`10.0.0.5/8` is almost always a typo).
 */
import { formatIpv4, parseCidrRange, parseIpv4, type Ipv4Range } from "../engine";

export { formatIpv4, parseIpv4, rangeContains, type Ipv4Range } from "../engine";

/** Parses `a.b.c.d/n` with zero host bits, or returns undefined. */
export function parseStrictCidr(text: string): Ipv4Range | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const range = parseCidrRange(text);
  return range && parseIpv4(match[1]) === range.lo ? range : undefined;
}

/** Accepts a CIDR or a bare address (taken as /32) and returns the canonical CIDR text. */
export function normaliseCidr(text: string): string | undefined {
  if (parseIpv4(text) !== undefined) return `${formatIpv4(parseIpv4(text) as number)}/32`;
  return parseStrictCidr(text) ? text : undefined;
}
