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
import { type ClusterFacts, factIfGiven } from "./facts";
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
export type RulePurpose = "dns" | "kubeApi" | "hbone" | "istiod" | "webhook" | "app";

/** The DNS port (RFC 1035); the cluster's own when the dns fact gives it. */
export const DNS_PORT = 53;
/** kube-apiserver's default --secure-port and the `kubernetes` Service's port. */
const API_SERVER_DEFAULT_PORT = 6443;
const API_SERVICE_DEFAULT_PORT = 443;
/**
 * istiod's ports (Istio "Ports used by Istio", https://istio.io/latest/docs/ops/deployment/application-requirements/):
 * 15010 xDS and CA over plaintext gRPC, 15012 xDS and CA over mTLS, 15014 control-plane
 * monitoring, 15017 the sidecar-injection and validation webhooks. The mesh fact's
 * istiodPorts are added when given.
 */
export const ISTIOD_PORTS = [15010, 15012, 15014, 15017];

/** Ports the purposes are read from: the facts' where given, else the documented defaults. */
function purposePorts(facts: ClusterFacts) {
  const dns = factIfGiven(facts, "dns");
  const apiServer = factIfGiven(facts, "apiServer");
  const controlPlane = factIfGiven(facts, "controlPlane");
  const mesh = factIfGiven(facts, "mesh");
  return {
    dns: dns?.port ?? DNS_PORT,
    apiService: apiServer?.port ?? API_SERVICE_DEFAULT_PORT,
    apiServer: controlPlane?.port ?? API_SERVER_DEFAULT_PORT,
    hbone: mesh?.hbonePort,
    istiod: [...new Set([...ISTIOD_PORTS, ...(mesh?.istiodPorts ?? [])])],
  };
}

/** True when `connections` is not empty and holds nothing but these ports. */
export function onlyPorts(
  connections: ConnectionSet,
  ports: readonly number[],
  protocols: readonly ("TCP" | "UDP")[],
): boolean {
  let allowed = NO_CONNECTIONS;
  for (const protocol of protocols)
    for (const port of ports) allowed = unionConnections(allowed, portsOf(protocol, [port, port]));
  return (
    !isEmptyConnections(connections) &&
    isEmptyConnections(subtractConnections(connections, allowed))
  );
}

/**
 * What a rule is for. The ports only choose the advice, never whether there is a finding, so
 * without facts the documented defaults are used (DNS 53, API 443/6443, istiod's ports).
 */
export function rulePurpose(
  connections: ConnectionSet,
  facts: ClusterFacts,
  webhookPorts: readonly number[] = [],
): RulePurpose {
  const ports = purposePorts(facts);
  const only = (list: readonly number[], protocols: readonly ("TCP" | "UDP")[]): boolean =>
    onlyPorts(connections, list, protocols);
  if (only([ports.dns], ["UDP", "TCP"])) return "dns";
  // Only the API server listens on the control-plane port; 443 alone is any HTTPS service.
  if (
    only([ports.apiServer], ["TCP"]) ||
    (only([ports.apiService, ports.apiServer], ["TCP"]) &&
      allowsConnection(connections, "TCP", ports.apiServer))
  )
    return "kubeApi";
  if (ports.hbone !== undefined && only([ports.hbone], ["TCP"])) return "hbone";
  if (only(ports.istiod, ["TCP"])) return "istiod";
  if (webhookPorts.length > 0 && only(webhookPorts, ["TCP"])) return "webhook";
  return "app";
}

/** A value of a fact, or a placeholder that says what to put there. */
function orPlaceholder(value: string | number | undefined, placeholder: string): string {
  return value === undefined ? placeholder : String(value);
}

/** The API pair, as the generator renders `kubeApi: true` (both corners of the same need). */
export function apiPairAdvice(facts: ClusterFacts): string {
  const apiServer = factIfGiven(facts, "apiServer");
  const controlPlane = factIfGiven(facts, "controlPlane");
  const clusterIP = orPlaceholder(
    apiServer?.clusterIP,
    "<ClusterIP of the default/kubernetes Service>",
  );
  const cidr = orPlaceholder(controlPlane?.cidr, "<control-plane node CIDR>");
  return `use the API pair instead of a wide block: - to: [{ipBlock: {cidr: ${clusterIP}/32}}]\n      ports: [{protocol: TCP, port: ${apiServer?.port ?? API_SERVICE_DEFAULT_PORT}}]\n    - to: [{ipBlock: {cidr: ${cidr}}}]\n      ports: [{protocol: TCP, port: ${controlPlane?.port ?? API_SERVER_DEFAULT_PORT}}]`;
}

/**
 * Where kube-apiserver calls a webhook from: the control-plane nodes (it runs in their host
 * network, so its source is a node address).
 */
export function controlPlaneSource(facts: ClusterFacts): string {
  const cidr = factIfGiven(facts, "controlPlane")?.cidr;
  return `from: [{ipBlock: {cidr: ${cidr ?? "<control-plane node CIDR>"}}}] (kube-apiserver calls webhooks from the control-plane nodes' host network${cidr === undefined ? "; put the nodes' addresses there" : ""})`;
}

/** The DNS peer in its AND form (CoreDNS's k8s-app: kube-dns when the pod labels are unknown). */
export function dnsPeerAdvice(dns: {
  readonly namespace: string;
  readonly podLabels?: Readonly<Record<string, string>>;
}): string {
  const podLabels =
    dns.podLabels && Object.keys(dns.podLabels).length > 0
      ? dns.podLabels
      : { "k8s-app": "kube-dns" };
  const labels = Object.entries(podLabels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return `- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${dns.namespace}}}\n      podSelector: {matchLabels: {${labels}}}`;
}

/** The DNS peer of the facts, or of kube-system's CoreDNS when they do not say. */
export function clusterDnsPeerAdvice(facts: ClusterFacts): string {
  const dns = factIfGiven(facts, "dns");
  return dnsPeerAdvice(dns ?? { namespace: "kube-system" });
}
