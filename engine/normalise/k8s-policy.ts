/**
 * networking.k8s.io/v1 NetworkPolicy → NormalPolicy.
 * Semantics from https://kubernetes.io/docs/concepts/services-networking/network-policies/ and the
 * API reference (https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/):
 * - policyTypes defaults to Ingress, plus Egress when the policy has at least one egress rule;
 * - a missing `from`/`to` or `ports` list matches everything; an empty rule list isolates only;
 * - protocol defaults to TCP; a port entry without `port` means every port of its protocol;
 * - named ports resolve on the destination pod by name and protocol.
 * Every rule is an Allow rule with order 1000, as Calico converts Kubernetes policies
 * (https://docs.tigera.io/calico/latest/network-policy/get-started/calico-policy/calico-network-policy).
 */
import { DEFAULT_TIER, DEFAULT_TIER_ORDER } from "./tier";
import type { ConnectionSet } from "../model/connections";
import * as conn from "../model/connections";
import type { Ipv4Range, Ipv6Range } from "../model/ipv4";
import { isIpv6Text, parseCidr, parseIpv6Cidr } from "../model/ipv4";
import type { LabelSelectorMatcher } from "../model/label-selector";
import { compileLabelSelector } from "../model/label-selector";
import type { ObjectRef } from "../model/problems";
import type { ProblemSink } from "../model/problems";
import type {
  Endpoint,
  EndpointMatcher,
  NormalPolicy,
  NormalRule,
  WrittenPeer,
  WrittenPort,
} from "../model/types";
import { describeLabelSelector, ipBlockPeer, kubernetesPodPeer } from "./matchers";
import { isObject, readRuleList, startObject, type Raw } from "./raw";

const SPEC_KEYS = new Set(["podSelector", "policyTypes", "ingress", "egress"]);
const PORT_KEYS = new Set(["protocol", "port", "endPort"]);

export const KUBERNETES_POLICY_ORDER = 1000;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

export interface PortEntry {
  readonly protocol: conn.PortProtocol;
  /** Numeric range, or a named port, or undefined for every port of the protocol. */
  readonly ports?: { readonly from: number; readonly to: number } | { readonly name: string };
}

export function describePorts(entries: readonly PortEntry[] | undefined): string {
  if (entries === undefined) return "all ports";
  return entries
    .map((e) => {
      if (e.ports === undefined) return `${e.protocol} (all ports)`;
      if ("name" in e.ports) return `${e.protocol} ${e.ports.name} (named)`;
      return e.ports.from === e.ports.to
        ? `${e.protocol} ${e.ports.from}`
        : `${e.protocol} ${e.ports.from}-${e.ports.to}`;
    })
    .join(", ");
}

/** Turns port entries into a function of the destination (named ports need the pod). */
export function portEntriesToConnections(
  entries: readonly PortEntry[] | undefined,
): (destination: Endpoint) => ConnectionSet {
  if (entries === undefined) return () => conn.ALL_CONNECTIONS;
  let fixed: ConnectionSet = conn.NO_CONNECTIONS;
  const named: { name: string; protocol: conn.PortProtocol }[] = [];
  for (const entry of entries) {
    if (entry.ports === undefined)
      fixed = conn.unionConnections(fixed, conn.wholeProtocol(entry.protocol));
    else if ("name" in entry.ports)
      named.push({ name: entry.ports.name, protocol: entry.protocol });
    else
      fixed = conn.unionConnections(
        fixed,
        conn.portsOf(entry.protocol, [entry.ports.from, entry.ports.to]),
      );
  }
  if (named.length === 0) return () => fixed;
  return (destination) => {
    if (destination.kind !== "pod") return fixed;
    let result = fixed;
    for (const { name, protocol } of named) {
      for (const p of destination.pod.namedPorts) {
        if (p.name === name && p.protocol === protocol)
          result = conn.unionConnections(result, conn.portsOf(protocol, [p.port, p.port]));
      }
    }
    return result;
  };
}

/**
 * What port entries allow whatever the destination: `possible` takes a named port as every port
 * of its protocol (it may resolve to any), `certain` leaves it out.
 */
export function portEntriesBounds(entries: readonly PortEntry[] | undefined): {
  possible: ConnectionSet;
  certain: ConnectionSet;
} {
  if (entries === undefined)
    return { possible: conn.ALL_CONNECTIONS, certain: conn.ALL_CONNECTIONS };
  let possible: ConnectionSet = conn.NO_CONNECTIONS;
  let certain: ConnectionSet = conn.NO_CONNECTIONS;
  for (const entry of entries) {
    if (entry.ports !== undefined && "name" in entry.ports) {
      possible = conn.unionConnections(possible, conn.wholeProtocol(entry.protocol));
      continue;
    }
    const set =
      entry.ports === undefined
        ? conn.wholeProtocol(entry.protocol)
        : conn.portsOf(entry.protocol, [entry.ports.from, entry.ports.to]);
    possible = conn.unionConnections(possible, set);
    certain = conn.unionConnections(certain, set);
  }
  return { possible, certain };
}

export function parsePortNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535
    ? value
    : undefined;
}

function parseK8sPorts(
  raw: unknown,
  path: string,
  fail: (path: string, message: string) => void,
  /** Given, a port entry with a protocol Kubernetes lacks (ICMP) is reported here and dropped. */
  dropUnsupported?: (path: string, message: string) => void,
): WrittenPort[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    fail(path, "must be a list");
    return [];
  }
  // An empty `ports: []` list, like a missing one, restricts nothing.
  if (raw.length === 0) return undefined;
  const entries: WrittenPort[] = [];
  raw.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(item)) {
      fail(at, "must be an object");
      return;
    }
    const protocolText = typeof item.protocol === "string" ? item.protocol : undefined;
    const written = { path: at, protocolText };
    for (const key of Object.keys(item)) {
      if (!PORT_KEYS.has(key)) fail(`${at}.${key}`, "unknown field (protocol, port, endPort)");
    }
    // Case matters: the API server accepts exactly TCP, UDP and SCTP and refuses "tcp", so an
    // object written that way never takes effect (ValidateNetworkPolicyPort, field.NotSupported).
    const protocolRaw = item.protocol ?? "TCP";
    const protocol = typeof protocolRaw === "string" ? protocolRaw : "";
    if (!conn.isPortProtocol(protocol)) {
      const upper = protocol.toUpperCase();
      // A misspelt case has one fix and always fails; a protocol Kubernetes lacks may be dropped.
      if (conn.isPortProtocol(upper))
        fail(
          `${at}.protocol`,
          `${JSON.stringify(protocolRaw)} is rejected by the API server (protocols are case-sensitive): use ${upper}`,
        );
      else
        (dropUnsupported ?? fail)(
          `${at}.protocol`,
          `unsupported protocol ${JSON.stringify(protocolRaw)} (TCP, UDP or SCTP)`,
        );
      return;
    }
    const port = item.port;
    const endPort = item.endPort;
    if (port === undefined || port === null) {
      if (endPort !== undefined && endPort !== null)
        fail(`${at}.endPort`, "endPort needs a numeric port");
      entries.push({ ...written, protocol });
      return;
    }
    if (typeof port === "string") {
      if (/^\d+$/.test(port)) {
        // An IntOrString holding "8085" is a name, and a port name must contain a letter.
        fail(
          `${at}.port`,
          `${JSON.stringify(port)} is a string, which the API server reads as a port name (and a name needs a letter): write the number unquoted, port: ${port}`,
        );
        return;
      }
      if (!IANA_SVC_NAME.test(port)) {
        fail(
          `${at}.port`,
          `${JSON.stringify(port)} is neither a port number nor a valid port name`,
        );
        return;
      }
      if (endPort !== undefined && endPort !== null) {
        fail(`${at}.endPort`, "endPort cannot be used with a named port");
        return;
      }
      entries.push({ ...written, protocol, ports: { name: port } });
      return;
    }
    const from = parsePortNumber(port);
    if (from === undefined) {
      fail(`${at}.port`, `invalid port ${JSON.stringify(port)} (1-65535 or a name)`);
      return;
    }
    let to = from;
    if (endPort !== undefined && endPort !== null) {
      const end = parsePortNumber(endPort);
      if (end === undefined || end < from) {
        fail(
          `${at}.endPort`,
          `invalid port range ${from}-${JSON.stringify(endPort)} (endPort must be >= port)`,
        );
        return;
      }
      to = end;
    }
    entries.push({ ...written, protocol, ports: { from, to } });
  });
  return entries;
}

interface ParsedPeers {
  readonly matchers: "any" | EndpointMatcher[];
  readonly written: "any" | WrittenPeer[];
}

/**
 * An ipBlock, IPv4 or IPv6. The API server wants CIDR notation (no bare address) and every
 * except strictly inside the CIDR. IPv6 blocks are validated and kept in the written form;
 * the IPv4 model ignores them (with a warning, which can only deny more).
 */
function parseIpBlock(
  ipBlock: unknown,
  at: string,
  ipBlockMatchesPods: boolean,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): WrittenPeer | undefined {
  if (!isObject(ipBlock) || typeof ipBlock.cidr !== "string") {
    fail(`${at}.ipBlock.cidr`, "must be a CIDR string");
    return undefined;
  }
  for (const key of Object.keys(ipBlock))
    if (key !== "cidr" && key !== "except")
      fail(`${at}.ipBlock.${key}`, "unknown field (cidr, except)");
  const text = ipBlock.cidr;
  const family = isIpv6Text(text) ? 6 : 4;
  type Block = { lo: number; hi: number } | { lo: bigint; hi: bigint };
  const parse = (value: string): Block | undefined =>
    family === 6 ? parseIpv6Cidr(value, false) : parseCidr(value, false);
  // The API server parses cidr and every except as a CIDR (ValidateIPBlock →
  // IsValidCIDRForLegacyField): a bare address has no prefix length and is rejected.
  const noPrefix = (value: string): string =>
    `${JSON.stringify(value)} has no prefix length, which the API server rejects: write ${value}/${family === 6 ? 128 : 32} for one address`;
  if (!text.includes("/")) {
    fail(`${at}.ipBlock.cidr`, noPrefix(text));
    return undefined;
  }
  const cidr = parse(text);
  if (cidr === undefined) {
    fail(`${at}.ipBlock.cidr`, `invalid CIDR ${JSON.stringify(text)} (an address with /prefix)`);
    return undefined;
  }
  const exceptRaw = ipBlock.except ?? [];
  if (!Array.isArray(exceptRaw)) {
    fail(`${at}.ipBlock.except`, "must be a list of CIDRs");
    return undefined;
  }
  const except: Block[] = [];
  exceptRaw.forEach((e: unknown, j) => {
    const parsed = typeof e === "string" && isIpv6Text(e) === (family === 6) ? parse(e) : undefined;
    if (typeof e === "string" && !e.includes("/")) fail(`${at}.ipBlock.except[${j}]`, noPrefix(e));
    else if (parsed === undefined)
      fail(`${at}.ipBlock.except[${j}]`, `invalid IPv${family} CIDR ${JSON.stringify(e)}`);
    else if (
      parsed.lo < cidr.lo ||
      parsed.hi > cidr.hi ||
      (parsed.lo === cidr.lo && parsed.hi === cidr.hi)
    )
      fail(`${at}.ipBlock.except[${j}]`, `${String(e)} must be strictly inside ${text}`);
    else except.push(parsed);
  });
  const prefix = Number(text.split("/")[1]);
  if (family === 6) {
    warn(`${at}.ipBlock.cidr`, `IPv6 block ${text} ignored (IPv4 model)`);
    return {
      kind: "ipBlock",
      family: 6,
      path: at,
      text,
      prefix,
      cidr: cidr as Ipv6Range,
      except: except as Ipv6Range[],
    };
  }
  const v4 = cidr as Ipv4Range;
  const v4Except = except as Ipv4Range[];
  return {
    kind: "ipBlock",
    family: 4,
    path: at,
    text,
    prefix,
    cidr: v4,
    except: v4Except,
    matcher: ipBlockPeer(v4, v4Except, ipBlockMatchesPods),
  };
}

function parsePeers(
  raw: unknown,
  path: string,
  policyNamespace: string,
  ipBlockMatchesPods: boolean,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): ParsedPeers {
  if (raw === undefined || raw === null) return { matchers: "any", written: "any" };
  if (!Array.isArray(raw)) {
    fail(path, "must be a list");
    return { matchers: [], written: [] };
  }
  if (raw.length === 0) return { matchers: "any", written: "any" };
  const written: WrittenPeer[] = [];
  raw.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(item)) {
      fail(at, "must be an object");
      return;
    }
    const { ipBlock, namespaceSelector, podSelector } = item;
    const unknownFields = Object.keys(item).filter(
      (k) => !["ipBlock", "namespaceSelector", "podSelector"].includes(k),
    );
    if (unknownFields.length > 0) fail(at, `unknown peer field(s): ${unknownFields.join(", ")}`);
    const hasIpBlock = ipBlock !== undefined && ipBlock !== null;
    const hasNs = namespaceSelector !== undefined && namespaceSelector !== null;
    const hasPod = podSelector !== undefined && podSelector !== null;
    if (!hasIpBlock && !hasNs && !hasPod) {
      fail(at, "a peer must set ipBlock, namespaceSelector or podSelector");
      return;
    }
    if (hasIpBlock && (hasNs || hasPod)) {
      fail(at, "ipBlock cannot be combined with namespaceSelector or podSelector");
      return;
    }
    if (hasIpBlock) {
      const block = parseIpBlock(ipBlock, at, ipBlockMatchesPods, fail, warn);
      if (block) written.push(block);
      return;
    }
    const selectorProblems: [string, string][] = [];
    const nsSelector: LabelSelectorMatcher | undefined = hasNs
      ? compileLabelSelector(namespaceSelector, `${at}.namespaceSelector`, selectorProblems)
      : undefined;
    const pSelector: LabelSelectorMatcher | undefined = hasPod
      ? compileLabelSelector(podSelector, `${at}.podSelector`, selectorProblems)
      : undefined;
    for (const [p, m] of selectorProblems) fail(p, m);
    if (selectorProblems.length > 0) return;
    written.push({
      kind: "pods",
      path: at,
      namespaceSelector: nsSelector,
      podSelector: pSelector,
      matcher: kubernetesPodPeer(nsSelector, pSelector, policyNamespace),
    });
  });
  const matchers = written.flatMap((p) => ("matcher" in p ? [p.matcher] : []));
  return { matchers, written };
}

export function normaliseKubernetesPolicy(
  obj: Raw,
  ref: ObjectRef & { namespace: string },
  ipBlockMatchesPods: boolean,
  sink: ProblemSink,
  source?: string,
  unsupportedProtocols: "error" | "drop" = "error",
): NormalPolicy | undefined {
  const { fail, warn, failed, spec } = startObject(obj, ref, sink, source);
  // The API server rejects such an object; "drop" reads the rest for a migration (import).
  const dropUnsupported =
    unsupportedProtocols === "drop"
      ? (path: string, message: string) =>
          warn(path, `${message}: the API server rejects this; entry dropped (allows nothing)`)
      : undefined;
  if (!spec) return undefined;
  // A typo such as `egres` would otherwise leave a direction open without a word.
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key))
      fail(`spec.${key}`, "unknown field (podSelector, policyTypes, ingress, egress)");
  }
  const selectorProblems: [string, string][] = [];
  const podSelector =
    spec.podSelector === undefined || spec.podSelector === null
      ? undefined
      : compileLabelSelector(spec.podSelector, "spec.podSelector", selectorProblems);
  if (spec.podSelector === undefined || spec.podSelector === null)
    fail("spec.podSelector", "is required (use {} to select every pod of the namespace)");
  for (const [p, m] of selectorProblems) fail(p, m);

  const ingressRaw = readRuleList(spec, "ingress", fail);
  const egressRaw = readRuleList(spec, "egress", fail);

  let appliesIngress = true;
  let appliesEgress = egressRaw.length > 0;
  const writtenTypes: ("Ingress" | "Egress")[] = [];
  // An empty list is defaulted like an absent one (networking/v1 SetDefaults_NetworkPolicy).
  const typesGiven = Array.isArray(spec.policyTypes)
    ? spec.policyTypes.length > 0
    : spec.policyTypes != null;
  if (typesGiven) {
    if (!Array.isArray(spec.policyTypes)) {
      fail("spec.policyTypes", "must be a list of Ingress/Egress");
    } else {
      appliesIngress = false;
      appliesEgress = false;
      spec.policyTypes.forEach((t: unknown, i) => {
        if (t === "Ingress" || t === "Egress") writtenTypes.push(t);
        if (t === "Ingress") appliesIngress = true;
        else if (t === "Egress") appliesEgress = true;
        else fail(`spec.policyTypes[${i}]`, `unknown policy type ${JSON.stringify(t)}`);
      });
    }
  }
  if (!appliesIngress && ingressRaw.length > 0)
    warn("spec.ingress", "ingress rules are ignored because policyTypes does not list Ingress");
  if (!appliesEgress && egressRaw.length > 0)
    warn("spec.egress", "egress rules are ignored because policyTypes does not list Egress");

  const buildRules = (direction: "ingress" | "egress", rules: Raw[]): NormalRule[] =>
    rules.map((rule, index) => {
      const path = `spec.${direction}[${index}]`;
      const peerField = direction === "ingress" ? "from" : "to";
      const known = [peerField, "ports"];
      const extra = Object.keys(rule).filter((k) => !known.includes(k));
      if (extra.length > 0) fail(path, `unknown rule field(s): ${extra.join(", ")}`);
      const { matchers: peers, written: writtenPeers } = parsePeers(
        rule[peerField],
        `${path}.${peerField}`,
        ref.namespace,
        ipBlockMatchesPods,
        fail,
        warn,
      );
      const ports = parseK8sPorts(rule.ports, `${path}.ports`, fail, dropUnsupported);
      const usesNamedPorts = (ports ?? []).some((p) => p.ports !== undefined && "name" in p.ports);
      if (usesNamedPorts && direction === "egress" && peers !== "any" && peers.some((p) => p.byIp))
        // A named port can only be resolved on a pod; netpol-analyzer rejects this too.
        fail(`${path}.ports`, "a named port cannot be combined with an ipBlock peer");
      const local = "any" as const;
      const bounds = portEntriesBounds(ports);
      return {
        index,
        path,
        action: "Allow" as const,
        sources: direction === "ingress" ? peers : local,
        destinations: direction === "egress" ? peers : local,
        connections: portEntriesToConnections(ports),
        portsDescription: describePorts(ports),
        usesNamedPorts,
        possibleConnections: bounds.possible,
        certainConnections: bounds.certain,
        written: { peers: writtenPeers, ports },
      };
    });
  const ingress = buildRules("ingress", ingressRaw);
  const egress = buildRules("egress", egressRaw);
  if (failed() || podSelector === undefined) return undefined;
  const namespace = ref.namespace;
  return {
    ref: { kind: "NetworkPolicy", namespace, name: ref.name },
    namespace,
    // Calico puts Kubernetes policies in the default tier at order 1000, named
    // knp.default.<name> (libcalico-go k8s/conversion K8sNetworkPolicyToCalico); Felix's key
    // adds the namespace (syncer networkpolicyprocessor).
    tier: DEFAULT_TIER,
    tierOrder: DEFAULT_TIER_ORDER,
    order: KUBERNETES_POLICY_ORDER,
    sortName: `${namespace}/knp.default.${ref.name}`,
    appliesTo: { ingress: appliesIngress, egress: appliesEgress },
    ingress: appliesIngress ? ingress : [],
    egress: appliesEgress ? egress : [],
    targetDescription:
      podSelector.requirements.length === 0
        ? `every pod in namespace ${namespace}`
        : `pods [${describeLabelSelector(podSelector)}] in namespace ${namespace}`,
    selects: (pod) => pod.namespace === namespace && podSelector.matches(pod.labels),
    targetLabelKeys: podSelector.requirements.map((r) => r.key),
    written: {
      types: typesGiven ? writtenTypes : undefined,
      ruleCounts: { ingress: ingressRaw.length, egress: egressRaw.length },
      podSelector,
    },
  };
}
