/**
 * Which public (internet) addresses a policy admits, judged over all its rules, and what a rule
 * is for, so advice fits the case.
 *
 * How wide may an admitted public range be? A policy may admit public addresses only up to the
 * size of one party's network: **256 IPv4 addresses (a /24) or one IPv6 /48**, summed over the
 * policy's rules for the namespace or ports in question. Those are the smallest blocks routed
 * across the internet (operators filter longer BGP prefixes: RFC 7454 (BCP 194) section 6.1.3
 * "prefixes that are too specific"; e.g. https://inter-ix.net/en/route-server-filtering drops
 * IPv4 longer than /24 and IPv6 longer than /48), so a
 * range up to that size names one organisation: a partner's egress NAT, an uptime checker, a
 * monitoring SaaS. Anything wider spans several parties and is "the internet" whatever the peers
 * look like (`0.0.0.0/1` + `128.0.0.0/1`, 256 /8s, a rule without `from`): it belongs in an edge
 * namespace, on an edge port, or in an exemption with a reason.
 *
 * Non-public addresses are the cluster's `privateRanges` plus what is never routed on the
 * internet (the engine's NON_PUBLIC_IPV4 and NON_PUBLIC_IPV6: this host, loopback, link-local,
 * shared CGNAT space, multicast, reserved, unique-local).
 */
import {
  allowsConnection,
  type ConnectionSet,
  formatIpv6RangeAsCidr,
  formatRangeAsCidr,
  intervals,
  type Ipv4Range,
  type Ipv6Range,
  ipv6Size,
  mergeIpv6,
  NON_PUBLIC_IPV4,
  NON_PUBLIC_IPV6,
  RFC1918_CIDRS,
  isEmptyConnections,
  NO_CONNECTIONS,
  parseCidrRange,
  portsOf,
  subtractConnections,
  subtractIpv6,
  unionConnections,
  type ExternalAdmission,
} from "../../engine";
import type { ClusterFacts } from "./facts";
import { MalformedError } from "./errors";

export const MAX_PUBLIC_IPV4_ADDRESSES = 256;
export const MAX_PUBLIC_IPV6_PREFIX = 48;
const MAX_PUBLIC_IPV6_ADDRESSES = 1n << BigInt(128 - MAX_PUBLIC_IPV6_PREFIX);

function toIntervals(ranges: readonly Ipv4Range[]): intervals.IntervalSet {
  return intervals.fromRanges(ranges.map((r) => [r.lo, r.hi] as const));
}

function fromIntervals(set: intervals.IntervalSet): Ipv4Range[] {
  return intervals.toPairs(set).map(([lo, hi]) => ({ lo, hi }));
}

/**
 * The private ranges to judge against: the cluster's, plus RFC 1918 whatever the config says (a
 * `privateRanges` that forgets 172.16.0.0/12 must not make it public).
 */
export function privateRangesOf(facts: Pick<ClusterFacts, "privateRanges">): string[] {
  return [...new Set([...facts.privateRanges, ...RFC1918_CIDRS])];
}

/** The cluster's private ranges plus the never-public ones, as one address set. */
export function nonPublicIpv4(privateRanges: readonly string[]): intervals.IntervalSet {
  const ranges = [...privateRanges, ...RFC1918_CIDRS].map((text, i) => {
    const range = parseCidrRange(text);
    if (!range) throw new MalformedError(`privateRanges[${i}]`, `invalid CIDR ${text}`);
    return range;
  });
  return toIntervals([...ranges, ...NON_PUBLIC_IPV4]);
}

export interface PublicExposure {
  readonly ipv4: readonly Ipv4Range[];
  readonly ipv6: readonly Ipv6Range[];
  readonly connections: ConnectionSet;
  readonly rules: readonly string[];
}

/**
 * The public part of what `v4`/`v6` admissions let through, after `restrict` (e.g. "outside the
 * edge ports") is applied to each admission's connections.
 */
export function publicExposure(
  v4: readonly ExternalAdmission[],
  v6: readonly ExternalAdmission<Ipv6Range>[],
  privateRanges: readonly string[],
  restrict: (c: ConnectionSet) => ConnectionSet = (c) => c,
): PublicExposure {
  const hidden = nonPublicIpv4(privateRanges);
  let ipv4: intervals.IntervalSet = intervals.EMPTY_INTERVALS;
  let ipv6: Ipv6Range[] = [];
  let connections = NO_CONNECTIONS;
  const rules = new Set<string>();
  for (const a of v4) {
    const rest = restrict(a.connections);
    const open = intervals.subtract([a.addresses.lo, a.addresses.hi], hidden);
    if (intervals.isEmpty(open) || isEmptyConnections(rest)) continue;
    ipv4 = intervals.union(ipv4, open);
    connections = unionConnections(connections, rest);
    a.rules.forEach((r) => rules.add(r));
  }
  for (const a of v6) {
    const rest = restrict(a.connections);
    const open = subtractIpv6([a.addresses], NON_PUBLIC_IPV6);
    if (open.length === 0 || isEmptyConnections(rest)) continue;
    ipv6 = mergeIpv6([...ipv6, ...open]);
    connections = unionConnections(connections, rest);
    a.rules.forEach((r) => rules.add(r));
  }
  return { ipv4: fromIntervals(ipv4), ipv6, connections, rules: [...rules] };
}

/** True when the exposure is wider than one party's network (see the header). */
export function isInternetWide(e: PublicExposure): boolean {
  return (
    intervals.size(toIntervals(e.ipv4)) > MAX_PUBLIC_IPV4_ADDRESSES ||
    ipv6Size(e.ipv6) > MAX_PUBLIC_IPV6_ADDRESSES
  );
}

export function isEmptyExposure(e: PublicExposure): boolean {
  return e.ipv4.length === 0 && e.ipv6.length === 0;
}

/** `N public IPv4 addresses (a, b, …)`, shortened after a few blocks. */
export function describeExposure(e: PublicExposure): string {
  const parts: string[] = [];
  const count = intervals.size(toIntervals(e.ipv4));
  if (count > 0) {
    const blocks = e.ipv4.map(formatRangeAsCidr);
    parts.push(
      `${count} public IPv4 addresses (${blocks.slice(0, 4).join(", ")}${blocks.length > 4 ? `, … ${blocks.length} blocks` : ""})`,
    );
  }
  if (e.ipv6.length > 0)
    parts.push(
      `public IPv6 (${e.ipv6.slice(0, 2).map(formatIpv6RangeAsCidr).join(", ")}${e.ipv6.length > 2 ? `, … ${e.ipv6.length} blocks` : ""})`,
    );
  return parts.join(" and ");
}

export const WIDTH_RULE = `at most ${MAX_PUBLIC_IPV4_ADDRESSES} public IPv4 addresses (a /24) or one IPv6 /${MAX_PUBLIC_IPV6_PREFIX}`;

/** What a rule is for, read from the ports it admits: decides which advice fits. */
export type RulePurpose = "dns" | "kubeApi" | "hbone" | "webhook" | "app";

export function rulePurpose(
  connections: ConnectionSet,
  facts: ClusterFacts,
  webhookPorts: readonly number[] = [],
): RulePurpose {
  const only = (ports: readonly number[], protocols: readonly ("TCP" | "UDP")[]): boolean => {
    let allowed = NO_CONNECTIONS;
    for (const protocol of protocols)
      for (const port of ports)
        allowed = unionConnections(allowed, portsOf(protocol, [port, port]));
    return (
      !isEmptyConnections(connections) &&
      isEmptyConnections(subtractConnections(connections, allowed))
    );
  };
  if (only([facts.dns.port], ["UDP", "TCP"])) return "dns";
  // Only the API server listens on the control-plane port; 443 alone is any HTTPS service.
  if (
    only([facts.controlPlane.port], ["TCP"]) ||
    (only([facts.apiServer.port, facts.controlPlane.port], ["TCP"]) &&
      allowsConnection(connections, "TCP", facts.controlPlane.port))
  )
    return "kubeApi";
  if (facts.mesh && only([facts.mesh.hbonePort], ["TCP"])) return "hbone";
  if (webhookPorts.length > 0 && only(webhookPorts, ["TCP"])) return "webhook";
  return "app";
}

/** The API pair, as the generator renders `kubeApi: true` (both corners of the same need). */
export function apiPairAdvice(facts: ClusterFacts): string {
  return `use the API pair instead of a wide block: - to: [{ipBlock: {cidr: ${facts.apiServer.clusterIP}/32}}]\n      ports: [{protocol: TCP, port: ${facts.apiServer.port}}]\n    - to: [{ipBlock: {cidr: ${facts.controlPlane.cidr}}}]\n      ports: [{protocol: TCP, port: ${facts.controlPlane.port}}]`;
}

/** The DNS peer in its AND form. */
export function dnsPeerAdvice(facts: ClusterFacts): string {
  const labels = Object.entries(facts.dns.podLabels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return `- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${facts.dns.namespace}}}\n      podSelector: {matchLabels: {${labels}}}`;
}
