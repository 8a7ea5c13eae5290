/**
 * Config-side address rules, on the project's one IP library (engine/model/ipv4.ts via the
 * engine's public API): stack config is stricter than the API server and refuses host bits
 * below the prefix (`10.0.0.5/8` is almost always a typo).
 */
import { formatIpv4, parseIpv4, parseStrictCidr } from "../engine";

export { formatIpv4, parseIpv4, parseStrictCidr, rangeContains, type Ipv4Range } from "../engine";

/** Accepts a CIDR or a bare address (taken as /32) and returns the canonical CIDR text. */
export function normaliseCidr(text: string): string | undefined {
  const address = parseIpv4(text);
  if (address !== undefined) return `${formatIpv4(address)}/32`;
  return parseStrictCidr(text) ? text : undefined;
}
