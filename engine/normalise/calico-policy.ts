/**
 * projectcalico.org/v3 NetworkPolicy (and GlobalNetworkPolicy) → NormalPolicy.
 * Reference: https://docs.tigera.io/calico/latest/reference/resources/networkpolicy and
 * https://docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy
 * - `order`: lower first; a missing order sorts after every ordered policy;
 * - `types` defaults from the rules present: egress rules only → [Egress]; otherwise [Ingress],
 *   plus Egress when both kinds of rules are present;
 * - rules run in order; Allow and Deny decide, Log continues, Pass leaves the tier.
 * Fields this engine cannot model faithfully (tiers other than default, serviceAccount selectors,
 * services, HTTP match, ICMP type/code, source ports) are rejected rather than approximated.
 */
import type { SelectorNode } from "../calico/selector-ast";
import { CalicoSelectorError, parseSelectorAst, selectorLabelKeys } from "../calico/selector-ast";
import type { ConnectionSet } from "../model/connections";
import * as conn from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { isIpv6Text, parseCidr } from "../model/ipv4";
import type { ObjectRef, ProblemSink } from "../model/problems";
import type {
  Endpoint,
  EndpointMatcher,
  NormalPolicy,
  NormalRule,
  PolicyKind,
  RuleAction,
} from "../model/types";
import { evaluateSelector } from "../calico/selector-ast";
import type { CalicoEntityCriteria } from "./matchers";
import { calicoEntity } from "./matchers";
import type { PortEntry } from "./k8s-policy";
import { describePorts, parsePortNumber, portEntriesToConnections } from "./k8s-policy";
import { isObject, readRuleList, startObject, type Raw } from "./raw";

const PROTOCOL_NUMBERS: Readonly<Record<number, string>> = {
  1: "ICMP",
  6: "TCP",
  17: "UDP",
  58: "ICMPv6",
  132: "SCTP",
  136: "UDPLite",
};

/** Protocols whose traffic this engine models; others match nothing (documented). */
type CalicoProtocol = conn.ModelProtocol | "unmodelled";

function parseProtocol(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): CalicoProtocol | undefined {
  if (raw === undefined || raw === null) return undefined;
  let name: string | undefined;
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 1 && raw <= 255)
    name = PROTOCOL_NUMBERS[raw] ?? `protocol ${raw}`;
  else if (typeof raw === "string") name = raw;
  if (name === undefined) {
    fail(at, `invalid protocol ${JSON.stringify(raw)}`);
    return undefined;
  }
  const upper = name.toUpperCase();
  if (upper === "TCP" || upper === "UDP" || upper === "SCTP" || upper === "ICMP") return upper;
  if (upper === "ICMPV6" || upper === "UDPLITE" || upper.startsWith("PROTOCOL ")) {
    warn(at, `${name} traffic is not modelled; the rule matches nothing here`);
    return "unmodelled";
  }
  fail(at, `unknown protocol ${JSON.stringify(raw)}`);
  return undefined;
}

function parseCalicoPorts(
  raw: unknown,
  at: string,
  protocol: CalicoProtocol | undefined,
  fail: (path: string, message: string) => void,
): PortEntry[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    fail(at, "must be a list");
    return undefined;
  }
  if (
    protocol === undefined ||
    !(protocol === "TCP" || protocol === "UDP" || protocol === "SCTP")
  ) {
    // Calico's validation requires a port-carrying protocol when ports are given.
    fail(at, "ports need protocol TCP, UDP or SCTP on the rule");
    return undefined;
  }
  const entries: PortEntry[] = [];
  raw.forEach((item: unknown, i) => {
    const itemAt = `${at}[${i}]`;
    const single = parsePortNumber(item);
    if (single !== undefined) {
      entries.push({ protocol, ports: { from: single, to: single } });
      return;
    }
    if (typeof item === "string") {
      const rangeMatch = /^(\d+):(\d+)$/.exec(item);
      if (rangeMatch) {
        const from = parsePortNumber(Number(rangeMatch[1]));
        const to = parsePortNumber(Number(rangeMatch[2]));
        if (from === undefined || to === undefined || to < from)
          fail(itemAt, `invalid port range ${item}`);
        else entries.push({ protocol, ports: { from, to } });
        return;
      }
      if (/^\d+$/.test(item)) {
        const n = parsePortNumber(Number(item));
        if (n === undefined) fail(itemAt, `invalid port ${item}`);
        else entries.push({ protocol, ports: { from: n, to: n } });
        return;
      }
      if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(item)) {
        entries.push({ protocol, ports: { name: item } });
        return;
      }
    }
    fail(itemAt, `invalid port ${JSON.stringify(item)}`);
  });
  return entries;
}

function parseNets(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): Ipv4Range[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) {
    fail(at, "must be a list of CIDRs");
    return undefined;
  }
  const out: Ipv4Range[] = [];
  raw.forEach((item: unknown, i) => {
    if (typeof item === "string" && isIpv6Text(item)) {
      warn(`${at}[${i}]`, `IPv6 net ${item} ignored (IPv4 model)`);
      return;
    }
    const parsed = typeof item === "string" ? parseCidr(item) : undefined;
    if (parsed === undefined) fail(`${at}[${i}]`, `invalid CIDR ${JSON.stringify(item)}`);
    else out.push(parsed);
  });
  return out;
}

function parseSelectorField(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
): { node: SelectorNode; text: string } | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string") {
    fail(at, "must be a selector string");
    return undefined;
  }
  try {
    return { node: parseSelectorAst(raw), text: raw };
  } catch (error) {
    if (error instanceof CalicoSelectorError)
      fail(at, `${error.message.replace(/^invalid Calico selector /, "invalid selector ")}`);
    else throw error;
    return undefined;
  }
}

interface ParsedEntity {
  readonly matcher: EndpointMatcher | "any";
  readonly ports?: PortEntry[];
  readonly notPorts?: PortEntry[];
}

function parseEntity(
  raw: unknown,
  at: string,
  side: "source" | "destination",
  protocol: CalicoProtocol | undefined,
  policyNamespace: string | undefined,
  ipBlockMatchesPods: boolean,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): ParsedEntity {
  if (raw === undefined || raw === null) return { matcher: "any" };
  if (!isObject(raw)) {
    fail(at, "must be an object");
    return { matcher: "any" };
  }
  const supported = [
    "selector",
    "notSelector",
    "namespaceSelector",
    "nets",
    "notNets",
    "ports",
    "notPorts",
  ];
  for (const key of Object.keys(raw)) {
    if (!supported.includes(key))
      fail(`${at}.${key}`, "not supported by this engine (cannot be evaluated offline)");
  }
  if (side === "source" && (raw.ports !== undefined || raw.notPorts !== undefined))
    fail(`${at}.ports`, "source ports are not modelled");
  const selector = parseSelectorField(raw.selector, `${at}.selector`, fail);
  const notSelector = parseSelectorField(raw.notSelector, `${at}.notSelector`, fail);
  const namespaceSelector = parseSelectorField(
    raw.namespaceSelector,
    `${at}.namespaceSelector`,
    fail,
  );
  const nets = parseNets(raw.nets, `${at}.nets`, fail, warn);
  const notNets = parseNets(raw.notNets, `${at}.notNets`, fail, warn);
  const criteria: CalicoEntityCriteria = {
    selector: selector?.node,
    selectorText: selector?.text,
    notSelector: notSelector?.node,
    notSelectorText: notSelector?.text,
    namespaceSelector: namespaceSelector?.node,
    namespaceSelectorText: namespaceSelector?.text,
    nets,
    notNets,
  };
  return {
    matcher: calicoEntity(criteria, policyNamespace, ipBlockMatchesPods),
    ports:
      side === "destination"
        ? parseCalicoPorts(raw.ports, `${at}.ports`, protocol, fail)
        : undefined,
    notPorts:
      side === "destination"
        ? parseCalicoPorts(raw.notPorts, `${at}.notPorts`, protocol, fail)
        : undefined,
  };
}

function ruleConnections(
  protocol: CalicoProtocol | undefined,
  notProtocol: CalicoProtocol | undefined,
  ports: PortEntry[] | undefined,
  notPorts: PortEntry[] | undefined,
): (destination: Endpoint) => ConnectionSet {
  let base: ConnectionSet =
    protocol === undefined
      ? conn.ALL_CONNECTIONS
      : protocol === "unmodelled"
        ? conn.NO_CONNECTIONS
        : conn.wholeProtocol(protocol);
  if (notProtocol !== undefined && notProtocol !== "unmodelled")
    base = conn.subtractConnections(base, conn.wholeProtocol(notProtocol));
  const allowed = ports === undefined ? undefined : portEntriesToConnections(ports);
  const excluded = notPorts === undefined ? undefined : portEntriesToConnections(notPorts);
  return (destination) => {
    let result = base;
    if (allowed) result = conn.intersectConnections(result, allowed(destination));
    if (excluded) result = conn.subtractConnections(result, excluded(destination));
    return result;
  };
}

export function normaliseCalicoPolicy(
  obj: Raw,
  ref: ObjectRef,
  global: boolean,
  ipBlockMatchesPods: boolean,
  sink: ProblemSink,
  source?: string,
): NormalPolicy | undefined {
  const { fail, warn, failed, spec } = startObject(obj, ref, sink, source);
  if (!spec) return undefined;
  const policyNamespace = global ? undefined : (ref.namespace ?? "default");
  const known = [
    "order",
    "selector",
    "types",
    "ingress",
    "egress",
    "tier",
    "serviceAccountSelector",
    "namespaceSelector",
    "doNotTrack",
    "preDNAT",
    "applyOnForward",
    "performanceHints",
  ];
  for (const key of Object.keys(spec))
    if (!known.includes(key)) fail(`spec.${key}`, "unknown field");
  if (spec.tier !== undefined && spec.tier !== "default")
    fail("spec.tier", "only the default tier is modelled");
  if (
    typeof spec.serviceAccountSelector === "string" &&
    spec.serviceAccountSelector.trim() !== "" &&
    spec.serviceAccountSelector.trim() !== "all()"
  )
    fail("spec.serviceAccountSelector", "service-account selection is not modelled");
  for (const flag of ["doNotTrack", "preDNAT"] as const)
    if (spec[flag] === true) fail(`spec.${flag}`, "host-endpoint policies are not modelled");
  if (spec.namespaceSelector !== undefined && !global)
    fail("spec.namespaceSelector", "only valid on a GlobalNetworkPolicy");

  let order = Number.POSITIVE_INFINITY;
  if (spec.order !== undefined && spec.order !== null) {
    if (typeof spec.order !== "number" || !Number.isFinite(spec.order))
      fail("spec.order", "must be a number");
    else order = spec.order;
  }
  const selector = parseSelectorField(spec.selector ?? "", "spec.selector", fail);
  const namespaceSelector = global
    ? parseSelectorField(spec.namespaceSelector, "spec.namespaceSelector", fail)
    : undefined;

  const ingressRaw = readRuleList(spec, "ingress", fail);
  const egressRaw = readRuleList(spec, "egress", fail);

  let appliesIngress: boolean;
  let appliesEgress: boolean;
  if (spec.types === undefined || spec.types === null) {
    appliesEgress = egressRaw.length > 0;
    appliesIngress = ingressRaw.length > 0 || !appliesEgress;
  } else if (!Array.isArray(spec.types)) {
    fail("spec.types", "must be a list");
    appliesIngress = appliesEgress = false;
  } else {
    appliesIngress = appliesEgress = false;
    spec.types.forEach((t: unknown, i) => {
      if (t === "Ingress") appliesIngress = true;
      else if (t === "Egress") appliesEgress = true;
      else fail(`spec.types[${i}]`, `unknown type ${JSON.stringify(t)}`);
    });
  }

  const buildRules = (direction: "ingress" | "egress", rules: Raw[]): NormalRule[] =>
    rules.map((rule, index) => {
      const path = `spec.${direction}[${index}]`;
      const knownRule = [
        "action",
        "protocol",
        "notProtocol",
        "source",
        "destination",
        "ipVersion",
        "metadata",
        "icmp",
        "notICMP",
        "http",
      ];
      for (const key of Object.keys(rule))
        if (!knownRule.includes(key)) fail(`${path}.${key}`, "unknown rule field");
      for (const key of ["icmp", "notICMP", "http"] as const)
        if (rule[key] !== undefined)
          fail(
            `${path}.${key}`,
            "not modelled (ICMP type/code and HTTP match need finer analysis)",
          );
      const action = rule.action;
      if (action !== "Allow" && action !== "Deny" && action !== "Log" && action !== "Pass")
        fail(`${path}.action`, `must be Allow, Deny, Log or Pass (got ${JSON.stringify(action)})`);
      if (rule.ipVersion !== undefined && rule.ipVersion !== 4 && rule.ipVersion !== 6)
        fail(`${path}.ipVersion`, "must be 4 or 6");
      const protocol = parseProtocol(rule.protocol, `${path}.protocol`, fail, warn);
      const notProtocol = parseProtocol(rule.notProtocol, `${path}.notProtocol`, fail, warn);
      const src = parseEntity(
        rule.source,
        `${path}.source`,
        "source",
        protocol,
        policyNamespace,
        ipBlockMatchesPods,
        fail,
        warn,
      );
      const dst = parseEntity(
        rule.destination,
        `${path}.destination`,
        "destination",
        protocol,
        policyNamespace,
        ipBlockMatchesPods,
        fail,
        warn,
      );
      const ipv6Only = rule.ipVersion === 6;
      const connections = ipv6Only
        ? () => conn.NO_CONNECTIONS
        : ruleConnections(protocol, notProtocol, dst.ports, dst.notPorts);
      const protoText =
        protocol === undefined
          ? "any protocol"
          : protocol === "unmodelled"
            ? String(rule.protocol)
            : protocol;
      const portsText = dst.ports ? describePorts(dst.ports) : protoText;
      const usesNamedPorts = [...(dst.ports ?? []), ...(dst.notPorts ?? [])].some(
        (p) => p.ports !== undefined && "name" in p.ports,
      );
      return {
        index,
        path,
        action: (action as RuleAction) ?? "Deny",
        sources: src.matcher === "any" ? "any" : [src.matcher],
        destinations: dst.matcher === "any" ? "any" : [dst.matcher],
        connections,
        portsDescription:
          portsText +
          (dst.notPorts ? ` except ${describePorts(dst.notPorts)}` : "") +
          (ipv6Only ? " (IPv6 only: matches nothing here)" : ""),
        usesNamedPorts,
      };
    });
  const ingress = buildRules("ingress", ingressRaw);
  const egress = buildRules("egress", egressRaw);
  if (failed() || selector === undefined) return undefined;
  const target = selector.node;
  const nsTarget = namespaceSelector?.node;
  const kind: PolicyKind = global
    ? "projectcalico.org/GlobalNetworkPolicy"
    : "projectcalico.org/NetworkPolicy";
  const keys = selectorLabelKeys(target);
  return {
    ref: { kind, namespace: policyNamespace, name: ref.name },
    namespace: policyNamespace,
    order,
    sortName: ref.name,
    appliesTo: { ingress: appliesIngress, egress: appliesEgress },
    ingress: appliesIngress ? ingress : [],
    egress: appliesEgress ? egress : [],
    targetDescription:
      `endpoints matching "${selector.text || "all()"}"` +
      (policyNamespace ? ` in namespace ${policyNamespace}` : ""),
    selects: (pod) =>
      (policyNamespace === undefined || pod.namespace === policyNamespace) &&
      (nsTarget === undefined || evaluateSelector(nsTarget, pod.calicoNamespaceLabels)) &&
      evaluateSelector(target, pod.calicoLabels),
    targetLabelKeys: [...keys],
    targetShape: { kind: "calico", selector: target, text: selector.text },
  };
}
