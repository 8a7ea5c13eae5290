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
import type { ConnectionSet } from "../model/connections";
import * as conn from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { isIpv6Text, parseCidr, rangeContains } from "../model/ipv4";
import type { LabelSelectorMatcher } from "../model/label-selector";
import { compileLabelSelector } from "../model/label-selector";
import type { ObjectRef } from "../model/problems";
import type { ProblemSink } from "../model/problems";
import type { Endpoint, EndpointMatcher, NormalPolicy, NormalRule } from "../model/types";
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
): PortEntry[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    fail(path, "must be a list");
    return [];
  }
  // An empty `ports: []` list, like a missing one, restricts nothing.
  if (raw.length === 0) return undefined;
  const entries: PortEntry[] = [];
  raw.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(item)) {
      fail(at, "must be an object");
      return;
    }
    for (const key of Object.keys(item)) {
      if (!PORT_KEYS.has(key)) fail(`${at}.${key}`, "unknown field (protocol, port, endPort)");
    }
    const protocolRaw = item.protocol ?? "TCP";
    const protocol = typeof protocolRaw === "string" ? protocolRaw.toUpperCase() : "";
    if (!conn.isPortProtocol(protocol)) {
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
      entries.push({ protocol });
      return;
    }
    if (typeof port === "string") {
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
      entries.push({ protocol, ports: { name: port } });
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
    entries.push({ protocol, ports: { from, to } });
  });
  return entries;
}

function parsePeers(
  raw: unknown,
  path: string,
  policyNamespace: string,
  ipBlockMatchesPods: boolean,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): "any" | EndpointMatcher[] {
  if (raw === undefined || raw === null) return "any";
  if (!Array.isArray(raw)) {
    fail(path, "must be a list");
    return [];
  }
  if (raw.length === 0) return "any";
  const peers: EndpointMatcher[] = [];
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
      if (!isObject(ipBlock) || typeof ipBlock.cidr !== "string") {
        fail(`${at}.ipBlock.cidr`, "must be a CIDR string");
        return;
      }
      if (isIpv6Text(ipBlock.cidr)) {
        // The model is IPv4 only: an IPv6 block can match no IPv4 address.
        warn(`${at}.ipBlock.cidr`, `IPv6 block ${ipBlock.cidr} ignored (IPv4 model)`);
        return;
      }
      const cidr = parseCidr(ipBlock.cidr);
      if (cidr === undefined) {
        fail(`${at}.ipBlock.cidr`, `invalid CIDR ${JSON.stringify(ipBlock.cidr)}`);
        return;
      }
      const except: Ipv4Range[] = [];
      const exceptRaw = ipBlock.except ?? [];
      if (!Array.isArray(exceptRaw)) {
        fail(`${at}.ipBlock.except`, "must be a list of CIDRs");
        return;
      }
      exceptRaw.forEach((e: unknown, j) => {
        const parsed = typeof e === "string" ? parseCidr(e) : undefined;
        if (parsed === undefined)
          fail(`${at}.ipBlock.except[${j}]`, `invalid CIDR ${JSON.stringify(e)}`);
        else if (!rangeContains(cidr, parsed) || (parsed.lo === cidr.lo && parsed.hi === cidr.hi))
          fail(
            `${at}.ipBlock.except[${j}]`,
            `${String(e)} must be strictly inside ${ipBlock.cidr}`,
          );
        else except.push(parsed);
      });
      peers.push(ipBlockPeer(cidr, except, ipBlockMatchesPods));
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
    peers.push(kubernetesPodPeer(nsSelector, pSelector, policyNamespace));
  });
  return peers;
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
      const peers = parsePeers(
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
      return {
        index,
        path,
        action: "Allow" as const,
        sources: direction === "ingress" ? peers : local,
        destinations: direction === "egress" ? peers : local,
        connections: portEntriesToConnections(ports),
        portsDescription: describePorts(ports),
        usesNamedPorts,
      };
    });
  const ingress = buildRules("ingress", ingressRaw);
  const egress = buildRules("egress", egressRaw);
  if (failed() || podSelector === undefined) return undefined;
  const namespace = ref.namespace;
  return {
    ref: { kind: "NetworkPolicy", namespace, name: ref.name },
    namespace,
    order: KUBERNETES_POLICY_ORDER,
    sortName: `knp.default.${ref.name}`,
    appliesTo: { ingress: appliesIngress, egress: appliesEgress },
    ingress: appliesIngress ? ingress : [],
    egress: appliesEgress ? egress : [],
    targetDescription:
      podSelector.requirements.length === 0
        ? `every pod in namespace ${namespace}`
        : `pods [${describeLabelSelector(podSelector)}] in namespace ${namespace}`,
    selects: (pod) => pod.namespace === namespace && podSelector.matches(pod.labels),
    targetLabelKeys: podSelector.requirements.map((r) => r.key),
    targetShape: { kind: "labels", requirements: podSelector.requirements },
  };
}
