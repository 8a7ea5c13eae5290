/**
 * projectcalico.org/v3 NetworkPolicy (and GlobalNetworkPolicy) → NormalPolicy.
 * Reference: https://docs.tigera.io/calico/latest/reference/resources/networkpolicy and
 * https://docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy
 * - `order`: lower first; a missing order sorts after every ordered policy;
 * - `types` defaults from the rules present: egress rules only → [Egress]; otherwise [Ingress],
 *   plus Egress when both kinds of rules are present;
 * - rules run in order; Allow and Deny decide, Log continues, Pass leaves the tier.
 * - `tier`: the policy's tier (engine/normalise/tier.ts), `default` when absent.
 * Fields this engine cannot model faithfully (policy-level serviceAccountSelector,
 * services, HTTP match, ICMP type/code, source ports) are rejected rather than approximated.
 */
import { CalicoSelectorError, parseSelectorAst, selectorLabelKeys } from "../calico/selector-ast";
import type { ConnectionSet } from "../model/connections";
import * as conn from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { isIpv6Text, parseCidr, parseIpv6Cidr } from "../model/ipv4";
import type { ObjectRef, ProblemSink } from "../model/problems";
import type {
  Endpoint,
  EndpointMatcher,
  NormalPolicy,
  NormalRule,
  PolicyKind,
  RuleAction,
  WrittenCalicoEntity,
  WrittenNet,
} from "../model/types";
import { evaluateSelector } from "../calico/selector-ast";
import type { CalicoEntityCriteria, CalicoSelectorField, NetworkSetScope } from "./matchers";
import { calicoEntity, domainsPeer } from "./matchers";
import type { PortEntry } from "./k8s-policy";
import {
  describePorts,
  parsePortNumber,
  portEntriesBounds,
  portEntriesToConnections,
} from "./k8s-policy";
import { isObject, readRuleList, startObject, type Raw } from "./raw";
import { DEFAULT_TIER_ORDER, readPolicyTier } from "./tier";

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
  written: WrittenNet[],
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
    const itemAt = `${at}[${i}]`;
    if (typeof item === "string" && isIpv6Text(item)) {
      // Validated and kept in the written form; the IPv4 model ignores it.
      const ipv6 = parseIpv6Cidr(item);
      if (ipv6 === undefined) fail(itemAt, `invalid CIDR ${JSON.stringify(item)}`);
      else {
        warn(itemAt, `IPv6 net ${item} ignored (IPv4 model)`);
        written.push({ path: itemAt, text: item, family: 6, prefix: prefixOf(item, 128), ipv6 });
      }
      return;
    }
    const parsed = typeof item === "string" ? parseCidr(item) : undefined;
    if (parsed === undefined) fail(itemAt, `invalid CIDR ${JSON.stringify(item)}`);
    else {
      out.push(parsed);
      written.push({
        path: itemAt,
        text: item as string,
        family: 4,
        prefix: prefixOf(item as string, 32),
        ipv4: parsed,
      });
    }
  });
  return out;
}

/** A net's prefix length; a bare address is a host route. */
function prefixOf(text: string, hostPrefix: number): number {
  const slash = text.indexOf("/");
  return slash < 0 ? hostPrefix : Number(text.slice(slash + 1));
}

function parseSelectorField(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
  allowGlobal = false,
): CalicoSelectorField | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "string") {
    fail(at, "must be a selector string");
    return undefined;
  }
  try {
    return { node: parseSelectorAst(raw, { allowGlobal }), text: raw };
  } catch (error) {
    if (error instanceof CalicoSelectorError)
      fail(at, `${error.message.replace(/^invalid Calico selector /, "invalid selector ")}`);
    else throw error;
    return undefined;
  }
}

/**
 * An entity-rule selector field. Calico's Go structs cannot tell `""` from an absent field, and
 * getEndpointSelector only scopes fields that are non-empty, so `""` is absent here too.
 */
function parseEntitySelector(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
  allowGlobal = false,
): CalicoSelectorField | undefined {
  return raw === "" ? undefined : parseSelectorField(raw, at, fail, allowGlobal);
}

/**
 * A domain name of `destination.domains`: DNS labels, where a label may be `*` (Calico
 * Enterprise matches one or more labels at that position).
 */
const DOMAIN_NAME =
  /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?))*\.?$/i;

/** Where the rule a `domains` field sits in stands, for the checks Calico Enterprise makes. */
interface RuleContext {
  readonly direction: "ingress" | "egress";
  readonly action: unknown;
}

/**
 * `destination.domains`, which only Calico Enterprise and Calico Cloud serve (Calico Open Source
 * 3.30-3.32 has no such field in EntityRule, projectcalico/calico
 * api/pkg/apis/projectcalico/v3/policy_common.go). Domain names are for egress Allow rules only
 * (https://docs.tigera.io/calico-enterprise/latest/network-policy/domain-based-policy). With
 * other destination criteria the addresses the rule matches would be the intersection of a
 * DNS answer with them, which cannot be judged here: refused with the field's location.
 */
function parseDomains(
  raw: Raw,
  at: string,
  side: "source" | "destination",
  rule: RuleContext,
  fail: (path: string, message: string) => void,
): string[] | undefined {
  if (raw.domains === undefined || raw.domains === null) return undefined;
  const path = `${at}.domains`;
  if (side !== "destination") {
    fail(path, "domains can only name a destination (Calico Enterprise egress rules)");
    return undefined;
  }
  if (rule.direction !== "egress" || rule.action !== "Allow") {
    fail(path, "domains are only valid in egress Allow rules (Calico Enterprise)");
    return undefined;
  }
  if (!Array.isArray(raw.domains) || raw.domains.length === 0) {
    fail(path, "must be a non-empty list of domain names");
    return undefined;
  }
  const others = [
    "selector",
    "notSelector",
    "namespaceSelector",
    "serviceAccounts",
    "nets",
    "notNets",
  ].filter((key) => raw[key] !== undefined && raw[key] !== null && raw[key] !== "");
  if (others.length > 0) {
    fail(
      path,
      `cannot be judged together with ${others.map((k) => `${at}.${k}`).join(", ")}: which of the addresses DNS returns also match them is unknown statically; give the domains a rule of their own`,
    );
    return undefined;
  }
  const domains: string[] = [];
  raw.domains.forEach((item: unknown, i) => {
    if (typeof item === "string" && item.length <= 253 && DOMAIN_NAME.test(item))
      domains.push(item);
    else fail(`${path}[${i}]`, `invalid domain name ${JSON.stringify(item)}`);
  });
  return domains.length === raw.domains.length ? domains : undefined;
}

/** Kubernetes object names (DNS subdomain), as a ServiceAccount name must be. */
const SERVICE_ACCOUNT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function parseServiceAccounts(
  raw: unknown,
  at: string,
  fail: (path: string, message: string) => void,
): { names?: string[]; selector?: CalicoSelectorField } {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) {
    fail(at, "must be an object with names and/or selector");
    return {};
  }
  for (const key of Object.keys(raw))
    if (key !== "names" && key !== "selector") fail(`${at}.${key}`, "unknown field");
  let names: string[] | undefined;
  if (raw.names !== undefined && raw.names !== null) {
    if (!Array.isArray(raw.names)) fail(`${at}.names`, "must be a list of service account names");
    else {
      names = [];
      raw.names.forEach((name: unknown, i) => {
        if (typeof name === "string" && name.length <= 253 && SERVICE_ACCOUNT_NAME.test(name))
          names?.push(name);
        else fail(`${at}.names[${i}]`, `invalid service account name ${JSON.stringify(name)}`);
      });
    }
  }
  return { names, selector: parseEntitySelector(raw.selector, `${at}.selector`, fail) };
}

interface ParsedEntity {
  readonly matcher: EndpointMatcher | "any";
  readonly written: WrittenCalicoEntity;
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
  rule: RuleContext,
  networkSets: NetworkSetScope | undefined,
  fail: (path: string, message: string) => void,
  warn: (path: string, message: string) => void,
): ParsedEntity {
  const nothingWritten: WrittenCalicoEntity = { path: at, nets: [], notNets: [], hasPorts: false };
  if (raw === undefined || raw === null) return { matcher: "any", written: nothingWritten };
  if (!isObject(raw)) {
    fail(at, "must be an object");
    return { matcher: "any", written: nothingWritten };
  }
  const supported = [
    "selector",
    "notSelector",
    "namespaceSelector",
    "serviceAccounts",
    "nets",
    "notNets",
    "ports",
    "notPorts",
    "domains",
  ];
  for (const key of Object.keys(raw)) {
    if (!supported.includes(key))
      fail(`${at}.${key}`, "not supported by this engine (cannot be evaluated offline)");
  }
  const domains = parseDomains(raw, at, side, rule, fail);
  if (side === "source" && (raw.ports !== undefined || raw.notPorts !== undefined))
    fail(`${at}.ports`, "source ports are not modelled");
  const selector = parseEntitySelector(raw.selector, `${at}.selector`, fail);
  const notSelector = parseEntitySelector(raw.notSelector, `${at}.notSelector`, fail);
  // `global()` means "non-namespaced entities" in a rule's namespaceSelector, and only there.
  const namespaceSelector = parseEntitySelector(
    raw.namespaceSelector,
    `${at}.namespaceSelector`,
    fail,
    true,
  );
  const serviceAccounts = parseServiceAccounts(raw.serviceAccounts, `${at}.serviceAccounts`, fail);
  const writtenNets: WrittenNet[] = [];
  const writtenNotNets: WrittenNet[] = [];
  const criteria: CalicoEntityCriteria = {
    selector,
    notSelector,
    namespaceSelector,
    serviceAccountNames: serviceAccounts.names,
    serviceAccountSelector: serviceAccounts.selector,
    nets: parseNets(raw.nets, `${at}.nets`, writtenNets, fail, warn),
    notNets: parseNets(raw.notNets, `${at}.notNets`, writtenNotNets, fail, warn),
  };
  return {
    matcher: domains
      ? domainsPeer(domains)
      : calicoEntity(criteria, policyNamespace, ipBlockMatchesPods, networkSets),
    written: {
      ...(domains ? { domains } : {}),
      path: at,
      selector: selector?.text,
      notSelector: notSelector?.text,
      namespaceSelector: namespaceSelector?.text,
      selectorNode: selector?.node,
      namespaceSelectorNode: namespaceSelector?.node,
      nets: writtenNets,
      notNets: writtenNotNets,
      hasPorts: Array.isArray(raw.ports) && raw.ports.length > 0,
    },
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

function protocolBase(
  protocol: CalicoProtocol | undefined,
  notProtocol: CalicoProtocol | undefined,
): ConnectionSet {
  let base: ConnectionSet =
    protocol === undefined
      ? conn.ALL_CONNECTIONS
      : protocol === "unmodelled"
        ? conn.NO_CONNECTIONS
        : conn.wholeProtocol(protocol);
  if (notProtocol !== undefined && notProtocol !== "unmodelled")
    base = conn.subtractConnections(base, conn.wholeProtocol(notProtocol));
  return base;
}

/** What a rule allows whatever the destination, named ports taken at most / at least. */
function ruleConnectionBounds(
  protocol: CalicoProtocol | undefined,
  notProtocol: CalicoProtocol | undefined,
  ports: PortEntry[] | undefined,
  notPorts: PortEntry[] | undefined,
): { possible: ConnectionSet; certain: ConnectionSet } {
  const base = protocolBase(protocol, notProtocol);
  const allowed = ports === undefined ? undefined : portEntriesBounds(ports);
  const excluded = notPorts === undefined ? undefined : portEntriesBounds(notPorts);
  let possible = allowed ? conn.intersectConnections(base, allowed.possible) : base;
  let certain = allowed ? conn.intersectConnections(base, allowed.certain) : base;
  if (excluded) {
    possible = conn.subtractConnections(possible, excluded.certain);
    certain = conn.subtractConnections(certain, excluded.possible);
  }
  return { possible, certain };
}

function ruleConnections(
  protocol: CalicoProtocol | undefined,
  notProtocol: CalicoProtocol | undefined,
  ports: PortEntry[] | undefined,
  notPorts: PortEntry[] | undefined,
): (destination: Endpoint) => ConnectionSet {
  const base = protocolBase(protocol, notProtocol);
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
  networkSets?: NetworkSetScope,
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
  const tier = readPolicyTier(spec, ref.name, fail);
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
  const writtenTypes: ("Ingress" | "Egress")[] = [];
  if (spec.types === undefined || spec.types === null) {
    appliesEgress = egressRaw.length > 0;
    appliesIngress = ingressRaw.length > 0 || !appliesEgress;
  } else if (!Array.isArray(spec.types)) {
    fail("spec.types", "must be a list");
    appliesIngress = appliesEgress = false;
  } else {
    appliesIngress = appliesEgress = false;
    spec.types.forEach((t: unknown, i) => {
      if (t === "Ingress" || t === "Egress") writtenTypes.push(t);
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
        { direction, action },
        networkSets,
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
        { direction, action },
        networkSets,
        fail,
        warn,
      );
      const ipv6Only = rule.ipVersion === 6;
      const connections = ipv6Only
        ? () => conn.NO_CONNECTIONS
        : ruleConnections(protocol, notProtocol, dst.ports, dst.notPorts);
      const anyFamily = ruleConnectionBounds(protocol, notProtocol, dst.ports, dst.notPorts);
      const bounds = ipv6Only
        ? { possible: conn.NO_CONNECTIONS, certain: conn.NO_CONNECTIONS }
        : anyFamily;
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
        possibleConnections: bounds.possible,
        certainConnections: bounds.certain,
        calico: {
          protocol:
            typeof rule.protocol === "string" || typeof rule.protocol === "number"
              ? rule.protocol
              : undefined,
          ipv6Connections: rule.ipVersion === 4 ? undefined : anyFamily.possible,
          source: src.written,
          destination: dst.written,
        },
      };
    });
  const ingress = buildRules("ingress", ingressRaw);
  const egress = buildRules("egress", egressRaw);
  if (failed() || selector === undefined || tier === undefined) return undefined;
  const target = selector.node;
  const nsTarget = namespaceSelector?.node;
  const kind: PolicyKind = global
    ? "projectcalico.org/GlobalNetworkPolicy"
    : "projectcalico.org/NetworkPolicy";
  const keys = selectorLabelKeys(target);
  return {
    ref: { kind, namespace: policyNamespace, name: ref.name },
    namespace: policyNamespace,
    tier,
    // The tier's order is known once every Tier object is read (buildModel sets it).
    tierOrder: DEFAULT_TIER_ORDER,
    order,
    sortName: policyNamespace === undefined ? ref.name : `${policyNamespace}/${ref.name}`,
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
    written: {
      types: writtenTypes.length > 0 ? writtenTypes : undefined,
      ruleCounts: { ingress: ingressRaw.length, egress: egressRaw.length },
      selectorText: typeof spec.selector === "string" ? spec.selector : undefined,
      selector: target,
    },
  };
}
