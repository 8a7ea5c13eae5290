/**
 * Turns raw stack config (YAML/JSON values) into a typed StackConfig, or fails with every problem
 * found, each naming its config key path. Nothing is registered before this passes.
 */
import { parseCalicoSelector } from "../engine/calico/selector";
import {
  editDistance,
  intervalPairs,
  intervalsFromRanges,
  rangeToCidrs,
  subtractIntervals,
  type IntervalSet,
} from "../engine";
import { normaliseCidr, parseIpv4, parseStrictCidr } from "./net";
import { effectiveRollout, rolloutProblem } from "./rollout";
import type {
  AdoptionConfig,
  CalicoPolicyConfig,
  CalicoRuleConfig,
  CertManagerConfig,
  ClusterConfig,
  Endpoint,
  ExternalEndpoint,
  FlowConfig,
  LanTarget,
  MeshConfig,
  NamespaceConfig,
  PortSpec,
  PrivateRangeExemption,
  Protocol,
  StackConfig,
  Tier,
} from "./types";
import { EXTERNAL_NAMES, TIERS } from "./types";

export const CONFIG_NAMESPACE = "zt-netpol";

/**
 * ztunnel enforces a meshed namespace's TCP ports through an Istio AuthorizationPolicy, whose
 * `operation.ports` are single ports written as strings, with no range form
 * (https://istio.io/latest/docs/reference/config/security/authorization-policy/#Operation). A
 * declared range is therefore listed port by port; wider than this, the policy would grow to
 * thousands of entries, so the config is refused instead.
 */
export const MAX_AUTHORIZATION_PORTS = 256;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid stack config (${problems.length} problem(s)):\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Raw config as Pulumi hands it over: the keys under `zt-netpol:` with parsed values. */
export type RawStackConfig = Readonly<Record<string, unknown>>;

type Raw = Record<string, unknown>;

const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];
const CALICO_PROTOCOLS = ["TCP", "UDP", "ICMP", "ICMPv6", "SCTP", "UDPLite"] as const;
const CALICO_ACTIONS = ["Allow", "Deny", "Log", "Pass"] as const;
const PORTED_CALICO_PROTOCOLS: readonly string[] = ["TCP", "UDP", "SCTP", "UDPLite"];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Words the flow-end grammar reads as something other than a namespace. A namespace of that name
 * could never be a flow end (`to: internet` would mean 0.0.0.0/0), so the names are reserved.
 */
const ENDPOINT_KEYWORDS: Readonly<Record<string, ExternalEndpoint>> = {
  internet: { kind: "external", cidr: "0.0.0.0/0", host: EXTERNAL_NAMES.internet },
};

/** The endpoint a keyword stands for; own keys only, so `constructor` is not a keyword. */
function keywordEndpoint(value: string): ExternalEndpoint | undefined {
  return Object.prototype.hasOwnProperty.call(ENDPOINT_KEYWORDS, value)
    ? ENDPOINT_KEYWORDS[value]
    : undefined;
}

/** The address of a declared LAN host; own keys only, like keywordEndpoint. */
function lanHostAddress(
  lanHosts: Readonly<Record<string, string>>,
  name: unknown,
): string | undefined {
  return typeof name === "string" && Object.prototype.hasOwnProperty.call(lanHosts, name)
    ? lanHosts[name]
    : undefined;
}

/**
 * LAN host names that would read as another endpoint in reports and diffs: the keywords and the
 * names the generated connections give the API, the control plane and the probe source.
 */
const RESERVED_HOST_NAMES: readonly string[] = [
  ...new Set([...Object.keys(ENDPOINT_KEYWORDS), ...Object.values(EXTERNAL_NAMES)]),
];

/** The private ranges of RFC 1918 section 3, which "the internet" must never include. */
const RFC1918_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

const PORT_RANGE: IntervalSet = [1, 65535];

/** Collects problems with their key paths so the user sees all of them at once. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${CONFIG_NAMESPACE}:${path}: ${message}`);
  }
}

function isObject(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const best = allowed
    .map((candidate) => ({ candidate, distance: editDistance(key, candidate) }))
    .sort((x, y) => x.distance - y.distance)[0];
  const hint = best && best.distance <= 3 ? ` (did you mean "${best.candidate}"?)` : "";
  return `unknown key "${key}"${hint}; allowed keys: ${allowed.join(", ")}`;
}

/** Reads one object's fields, flagging missing required keys and keys nobody reads. */
class ObjectReader {
  constructor(
    private readonly problems: Problems,
    readonly path: string,
    private readonly raw: Raw,
    allowed: readonly string[],
  ) {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) problems.add(`${path}.${key}`, unknownKeyMessage(key, allowed));
    }
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  value(key: string): unknown {
    return this.raw[key];
  }

  string(key: string, fallback?: string): string {
    const value = this.raw[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      this.problems.add(this.at(key), "is required (a string)");
      return "";
    }
    if (typeof value !== "string" || value.trim() === "") {
      this.problems.add(this.at(key), `must be a non-empty string, got ${JSON.stringify(value)}`);
      return "";
    }
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") {
      this.problems.add(this.at(key), `must be true or false, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  port(key: string, fallback?: number): number {
    const value = this.raw[key];
    if (value === undefined && fallback !== undefined) return fallback;
    return checkPortNumber(this.problems, this.at(key), value);
  }

  object(key: string, required: boolean): Raw | undefined {
    const value = this.raw[key];
    if (value === undefined || value === null) {
      if (required) this.problems.add(this.at(key), "is required (a mapping)");
      return undefined;
    }
    if (!isObject(value)) {
      this.problems.add(this.at(key), `must be a mapping, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  }

  list(key: string): unknown[] {
    const value = this.raw[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problems.add(this.at(key), `must be a list, got ${JSON.stringify(value)}`);
      return [];
    }
    return value;
  }
}

function checkPortNumber(problems: Problems, path: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    problems.add(path, `port must be an integer from 1 to 65535, got ${JSON.stringify(value)}`);
    return 0;
  }
  return value;
}

function checkProtocol(problems: Problems, path: string, value: unknown): Protocol {
  const upper = typeof value === "string" ? value.toUpperCase() : "";
  if (!(PROTOCOLS as readonly string[]).includes(upper)) {
    const icmpHint = upper.startsWith("ICMP")
      ? "; Kubernetes NetworkPolicy cannot express ICMP, declare a calicoPolicies entry instead"
      : "";
    problems.add(
      path,
      `unknown protocol ${JSON.stringify(value)}: use TCP, UDP or SCTP${icmpHint}`,
    );
    return "TCP";
  }
  return upper as Protocol;
}

/** Ports are written `443`, `"53/UDP"`, `"30000-32767/TCP"` or `{port, protocol, endPort}`. */
function readPort(problems: Problems, path: string, raw: unknown): PortSpec {
  if (typeof raw === "number")
    return { port: checkPortNumber(problems, path, raw), protocol: "TCP" };
  if (typeof raw === "string") {
    const match = /^(\d+)(?:-(\d+))?(?:\/([A-Za-z0-9]+))?$/.exec(raw.trim());
    if (!match) {
      problems.add(
        path,
        `cannot read port ${JSON.stringify(raw)}: write 443, "53/UDP" or "8000-8010/TCP"`,
      );
      return { port: 0, protocol: "TCP" };
    }
    return finishPort(
      problems,
      path,
      Number(match[1]),
      match[2] ? Number(match[2]) : undefined,
      match[3] ?? "TCP",
    );
  }
  if (isObject(raw)) {
    const reader = new ObjectReader(problems, path, raw, ["port", "protocol", "endPort"]);
    const endPort = reader.has("endPort") ? reader.value("endPort") : undefined;
    return finishPort(
      problems,
      path,
      reader.value("port"),
      endPort,
      reader.value("protocol") ?? "TCP",
    );
  }
  problems.add(path, `cannot read port ${JSON.stringify(raw)}`);
  return { port: 0, protocol: "TCP" };
}

function finishPort(
  problems: Problems,
  path: string,
  port: unknown,
  endPort: unknown,
  protocol: unknown,
): PortSpec {
  const start = checkPortNumber(problems, path, port);
  const proto = checkProtocol(problems, `${path}.protocol`, protocol);
  if (endPort === undefined) return { port: start, protocol: proto };
  const end = checkPortNumber(problems, `${path}.endPort`, endPort);
  if (end !== 0 && start !== 0 && end < start)
    problems.add(`${path}.endPort`, `endPort ${end} is below port ${start}`);
  return end === start
    ? { port: start, protocol: proto }
    : { port: start, protocol: proto, endPort: end };
}

function readPorts(problems: Problems, reader: ObjectReader, key: string): PortSpec[] {
  const ports = reader
    .list(key)
    .map((raw, i) => readPort(problems, `${reader.at(key)}[${i}]`, raw));
  checkNotEveryPort(problems, reader.at(key), ports);
  return ports;
}

/**
 * A port list whose union covers a protocol's whole range (`1-65535`, or `1-1000` plus
 * `1001-65535`) means "every port": the policy pack's rules-name-ports rejects exactly that, so
 * the config refuses it first, at its key.
 */
function checkNotEveryPort(problems: Problems, path: string, ports: readonly PortSpec[]): void {
  for (const protocol of PROTOCOLS) {
    const covered = intervalsFromRanges(
      ports
        .filter((p) => p.protocol === protocol && p.port > 0)
        .map((p): [number, number] => [p.port, p.endPort ?? p.port]),
    );
    if (covered.length > 0 && subtractIntervals(PORT_RANGE, covered).length === 0) {
      problems.add(
        path,
        `covers every ${protocol} port (1-65535), which means "any port": name the ports the workload serves`,
      );
    }
  }
}

function readCidr(problems: Problems, path: string, value: unknown): string {
  const cidr = typeof value === "string" ? normaliseCidr(value) : undefined;
  if (!cidr) {
    problems.add(
      path,
      `invalid IPv4 CIDR ${JSON.stringify(value)} (expected a.b.c.d/n with zero host bits)`,
    );
    return "0.0.0.0/32";
  }
  return cidr;
}

/** Kubernetes label key: optional DNS-subdomain prefix (≤ 253, labels ≤ 63) and a name ≤ 63. */
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? "" : key.slice(0, slash);
  const prefixOk = prefix.length <= 253 && prefix.split(".").every((part) => part.length <= 63);
  return LABEL_KEY.test(key) && prefixOk;
}

function readLabels(problems: Problems, path: string, raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) {
    problems.add(path, `must be a mapping of label key to value, got ${JSON.stringify(raw)}`);
    return {};
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!isLabelKey(key))
      problems.add(`${path}.${key}`, `invalid label key ${JSON.stringify(key)}`);
    if (typeof value !== "string" || !LABEL_VALUE.test(value)) {
      problems.add(`${path}.${key}`, `invalid label value ${JSON.stringify(value)}`);
      continue;
    }
    labels[key] = value;
  }
  return labels;
}

function readNamespaceName(problems: Problems, path: string, value: unknown): string {
  if (typeof value !== "string" || !DNS_LABEL.test(value) || value.length > 63) {
    problems.add(path, `invalid namespace name ${JSON.stringify(value)} (RFC 1123 label)`);
    return "";
  }
  const keyword = keywordEndpoint(value);
  if (keyword) {
    problems.add(
      path,
      `"${value}" is reserved: a flow end written ${value} means ${keyword.cidr}, so a namespace of that name could never be a flow end; rename the namespace`,
    );
    return "";
  }
  return value;
}

function readMesh(problems: Problems, path: string, raw: Raw): MeshConfig {
  const reader = new ObjectReader(problems, path, raw, [
    "namespace",
    "hbonePort",
    "istiodPorts",
    "probeSource",
    "trustDomain",
    "portPreserving",
  ]);
  const trustDomain = reader.string("trustDomain", "cluster.local");
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(trustDomain))
    problems.add(reader.at("trustDomain"), `invalid trust domain ${JSON.stringify(trustDomain)}`);
  const probeSource = readCidr(problems, reader.at("probeSource"), reader.string("probeSource"));
  if (!probeSource.endsWith("/32"))
    problems.add(reader.at("probeSource"), "must be a single address (/32)");
  return {
    namespace: readNamespaceName(problems, reader.at("namespace"), reader.string("namespace")),
    hbonePort: reader.port("hbonePort"),
    istiodPorts: reader
      .list("istiodPorts")
      .map((p, i) => checkPortNumber(problems, `${reader.at("istiodPorts")}[${i}]`, p)),
    probeSource,
    trustDomain,
    portPreserving: reader.boolean("portPreserving", false),
  };
}

function readCluster(problems: Problems, raw: Raw | undefined): ClusterConfig {
  const reader = new ObjectReader(problems, "cluster", raw ?? {}, [
    "name",
    "apiServer",
    "controlPlane",
    "dns",
    "privateRanges",
    "privateRangesExemptions",
    "monitoringNamespace",
    "mesh",
    "lanHosts",
    "edge",
  ]);
  const api = new ObjectReader(
    problems,
    reader.at("apiServer"),
    reader.object("apiServer", true) ?? {},
    ["clusterIP", "port"],
  );
  const clusterIP = api.string("clusterIP");
  if (clusterIP && parseIpv4(clusterIP) === undefined)
    problems.add(api.at("clusterIP"), `invalid IPv4 address ${JSON.stringify(clusterIP)}`);
  const control = new ObjectReader(
    problems,
    reader.at("controlPlane"),
    reader.object("controlPlane", true) ?? {},
    ["cidr", "port"],
  );
  const dns = new ObjectReader(problems, reader.at("dns"), reader.object("dns", true) ?? {}, [
    "namespace",
    "podLabels",
    "port",
    "upstream",
  ]);
  const dnsLabels = readLabels(problems, dns.at("podLabels"), dns.value("podLabels"));
  if (Object.keys(dnsLabels).length === 0) {
    problems.add(
      dns.at("podLabels"),
      "must name the DNS pods' labels: without them the DNS rule would open the whole DNS namespace",
    );
  }
  const lanRaw = reader.object("lanHosts", false) ?? {};
  const lanHosts: Record<string, string> = {};
  for (const [host, address] of Object.entries(lanRaw)) {
    const path = `${reader.at("lanHosts")}.${host}`;
    if (!DNS_LABEL.test(host) || host.length > 63) {
      problems.add(
        path,
        `LAN host name ${JSON.stringify(host)} must be a lowercase RFC 1123 label`,
      );
      continue;
    }
    if (RESERVED_HOST_NAMES.includes(host)) {
      problems.add(
        path,
        `"${host}" is reserved: reports and diffs use ${RESERVED_HOST_NAMES.join(", ")} for generated ends; rename the LAN host`,
      );
    }
    lanHosts[host] = readCidr(problems, path, address);
  }
  const edge = new ObjectReader(problems, reader.at("edge"), reader.object("edge", false) ?? {}, [
    "namespaces",
    "ports",
  ]);
  const meshRaw = reader.object("mesh", false);
  return {
    name: reader.string("name"),
    apiServer: { clusterIP, port: api.port("port", 443) },
    controlPlane: {
      cidr: readCidr(problems, control.at("cidr"), control.string("cidr")),
      port: control.port("port", 6443),
    },
    dns: {
      namespace: readNamespaceName(problems, dns.at("namespace"), dns.string("namespace")),
      podLabels: dnsLabels,
      port: dns.port("port", 53),
      upstream: readDnsUpstream(problems, dns.at("upstream"), dns.value("upstream"), lanHosts),
    },
    privateRanges: reader
      .list("privateRanges")
      .map((c, i) => readCidr(problems, `${reader.at("privateRanges")}[${i}]`, c)),
    privateRangesExemptions: reader
      .list("privateRangesExemptions")
      .map((e, i) =>
        readPrivateRangeExemption(problems, `${reader.at("privateRangesExemptions")}[${i}]`, e),
      ),
    ...(reader.has("monitoringNamespace")
      ? {
          monitoringNamespace: readNamespaceName(
            problems,
            reader.at("monitoringNamespace"),
            reader.string("monitoringNamespace"),
          ),
        }
      : {}),
    mesh: meshRaw ? readMesh(problems, reader.at("mesh"), meshRaw) : undefined,
    lanHosts,
    edge: {
      namespaces: edge
        .list("namespaces")
        .map((n, i) => readNamespaceName(problems, `${edge.at("namespaces")}[${i}]`, n)),
      ports: edge
        .list("ports")
        .map((p, i) => checkPortNumber(problems, `${edge.at("ports")}[${i}]`, p)),
    },
  };
}

/**
 * `cluster.dns.upstream`: the resolvers CoreDNS forwards to, as LAN host names or CIDRs, or `none`.
 * Required: once the DNS namespace is protected, the DNS pods reach nothing that is not declared,
 * and without an upstream every name outside the cluster fails to resolve.
 */
function readDnsUpstream(
  problems: Problems,
  path: string,
  raw: unknown,
  lanHosts: Readonly<Record<string, string>>,
): ExternalEndpoint[] {
  const how = `write upstream: [<LAN host from cluster.lanHosts or CIDR>, …] for the resolvers the DNS pods forward to, or upstream: none if they resolve cluster names only`;
  if (raw === "none") return [];
  if (raw === undefined || raw === null) {
    problems.add(
      path,
      `is required: the DNS pods are protected like every pod, so without a declared upstream resolver every lookup of a name outside the cluster fails; ${how}`,
    );
    return [];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.add(
      path,
      `must be a non-empty list or the word none, got ${JSON.stringify(raw)}; ${how}`,
    );
    return [];
  }
  return raw.map((value, i): ExternalEndpoint => {
    const net = resolveNet(problems, `${path}[${i}]`, value, lanHosts);
    if (net.cidr === "0.0.0.0/0")
      problems.add(`${path}[${i}]`, "name the resolvers' addresses, not the whole internet");
    return { kind: "external", ...net };
  });
}

function readPrivateRangeExemption(
  problems: Problems,
  path: string,
  raw: unknown,
): PrivateRangeExemption {
  if (!isObject(raw)) {
    problems.add(path, "must be a mapping {range, reason}");
    return { range: "0.0.0.0/32", reason: "" };
  }
  const reader = new ObjectReader(problems, path, raw, ["range", "reason"]);
  return {
    range: readCidr(problems, reader.at("range"), reader.string("range")),
    reason: reader.string("reason"),
  };
}

/** A LAN host name from cluster.lanHosts, or a literal address/CIDR. */
function resolveNet(
  problems: Problems,
  path: string,
  value: unknown,
  lanHosts: Readonly<Record<string, string>>,
): { cidr: string; host?: string } {
  const address = lanHostAddress(lanHosts, value);
  if (address !== undefined) return { cidr: address, host: value as string };
  if (typeof value === "string" && normaliseCidr(value))
    return { cidr: normaliseCidr(value) as string };
  const known = Object.keys(lanHosts);
  problems.add(
    path,
    `${JSON.stringify(value)} is neither a CIDR nor a LAN host from cluster.lanHosts (${known.join(", ") || "none declared"})`,
  );
  return { cidr: "0.0.0.0/32" };
}

function readCalicoRule(
  problems: Problems,
  path: string,
  raw: unknown,
  cluster: ClusterConfig,
): CalicoRuleConfig {
  if (!isObject(raw)) {
    problems.add(path, "must be a mapping with action, protocol and nets");
    return { action: "Deny", nets: [] };
  }
  const reader = new ObjectReader(problems, path, raw, ["action", "protocol", "nets", "ports"]);
  const action = reader.string("action");
  if (action && !(CALICO_ACTIONS as readonly string[]).includes(action)) {
    problems.add(
      reader.at("action"),
      `unknown Calico action ${JSON.stringify(action)}: use ${CALICO_ACTIONS.join(", ")}`,
    );
  }
  const protocol = reader.has("protocol") ? reader.string("protocol") : undefined;
  if (protocol !== undefined && !(CALICO_PROTOCOLS as readonly string[]).includes(protocol)) {
    problems.add(
      reader.at("protocol"),
      `unknown Calico protocol ${JSON.stringify(protocol)}: use ${CALICO_PROTOCOLS.join(", ")}`,
    );
  }
  const nets = reader
    .list("nets")
    .map((n, i) => resolveNet(problems, `${reader.at("nets")}[${i}]`, n, cluster.lanHosts).cidr);
  if (nets.length === 0)
    problems.add(
      reader.at("nets"),
      "must name at least one network: a Calico rule without nets matches everything",
    );
  const ports = reader
    .list("ports")
    .map((p, i) => checkPortNumber(problems, `${reader.at("ports")}[${i}]`, p));
  // Calico only accepts ports with a protocol that has them (projectcalico.org/v3 Rule).
  if (ports.length > 0 && !(protocol && PORTED_CALICO_PROTOCOLS.includes(protocol))) {
    problems.add(
      reader.at("ports"),
      `ports need protocol ${PORTED_CALICO_PROTOCOLS.join(", ")} (got ${protocol ?? "none"})`,
    );
  }
  return {
    action: action as CalicoRuleConfig["action"],
    ...(protocol ? { protocol: protocol as CalicoRuleConfig["protocol"] } : {}),
    nets,
    ...(ports.length ? { ports } : {}),
  };
}

function readCalicoPolicy(
  problems: Problems,
  path: string,
  raw: unknown,
  cluster: ClusterConfig,
): CalicoPolicyConfig | undefined {
  if (!isObject(raw)) {
    problems.add(path, "must be a mapping");
    return undefined;
  }
  const reader = new ObjectReader(problems, path, raw, [
    "name",
    "selector",
    "order",
    "types",
    "ingress",
    "egress",
  ]);
  const selector = reader.string("selector");
  if (selector) {
    try {
      parseCalicoSelector(selector);
    } catch (error) {
      problems.add(
        reader.at("selector"),
        `Calico selector does not parse: ${(error as Error).message}`,
      );
    }
  }
  const ingress = reader
    .list("ingress")
    .map((r, i) => readCalicoRule(problems, `${reader.at("ingress")}[${i}]`, r, cluster));
  const egress = reader
    .list("egress")
    .map((r, i) => readCalicoRule(problems, `${reader.at("egress")}[${i}]`, r, cluster));
  const types = reader.list("types").map((t, i) => {
    if (t !== "Ingress" && t !== "Egress")
      problems.add(
        `${reader.at("types")}[${i}]`,
        `must be Ingress or Egress, got ${JSON.stringify(t)}`,
      );
    return t as "Ingress" | "Egress";
  });
  if (types.length === 0)
    problems.add(
      reader.at("types"),
      "must be explicit (Ingress and/or Egress): Calico's defaulting differs from Kubernetes",
    );
  if (new Set(types).size !== types.length)
    problems.add(reader.at("types"), "lists a direction twice");
  // Rules for a direction the policy does not apply to would be silently dead.
  for (const [direction, rules] of [
    ["Ingress", ingress],
    ["Egress", egress],
  ] as const) {
    if (rules.length > 0 && types.length > 0 && !types.includes(direction)) {
      problems.add(
        reader.at(direction.toLowerCase()),
        `has rules but types does not include ${direction}: Calico would ignore them`,
      );
    }
  }
  const order = reader.value("order");
  if (order !== undefined && (typeof order !== "number" || !Number.isFinite(order) || order < 0))
    problems.add(reader.at("order"), "must be a finite, non-negative number");
  return {
    name: readNamespaceName(problems, reader.at("name"), reader.string("name")),
    selector,
    ...(typeof order === "number" ? { order } : {}),
    types,
    ingress,
    egress,
  };
}

function readLanTargets(
  problems: Problems,
  reader: ObjectReader,
  cluster: ClusterConfig,
): LanTarget[] {
  return reader.list("lanEgress").map((raw, i) => {
    const path = `${reader.at("lanEgress")}[${i}]`;
    const target = new ObjectReader(problems, path, isObject(raw) ? raw : {}, ["host", "ports"]);
    if (!isObject(raw)) problems.add(path, "must be a mapping {host, ports}");
    const host = target.string("host");
    if (host && lanHostAddress(cluster.lanHosts, host) === undefined) {
      problems.add(
        target.at("host"),
        `unknown LAN host "${host}": declare it under cluster.lanHosts (${Object.keys(cluster.lanHosts).join(", ")})`,
      );
    }
    const ports = readPorts(problems, target, "ports");
    if (ports.length === 0) problems.add(target.at("ports"), "must name at least one port");
    return { host, ports };
  });
}

function readNamespace(
  problems: Problems,
  index: number,
  raw: unknown,
  cluster: ClusterConfig,
  stackRollout?: unknown,
): NamespaceConfig | undefined {
  const path = `namespaces[${index}]`;
  if (!isObject(raw)) {
    problems.add(path, "must be a mapping with at least name and purpose");
    return undefined;
  }
  const reader = new ObjectReader(problems, path, raw, [
    "name",
    "purpose",
    "meshed",
    "kubeApi",
    "externalEgress",
    "metricsPorts",
    "intraNamespace",
    "webhookPorts",
    "lanEgress",
    "calicoPolicies",
    "notes",
    "rollout",
    "tier",
  ]);
  const name = readNamespaceName(problems, reader.at("name"), reader.string("name"));
  const rolloutIssue = rolloutProblem(reader.value("rollout"));
  if (rolloutIssue) problems.add(reader.at("rollout"), rolloutIssue);
  const tier = readTier(problems, reader);
  return {
    name,
    purpose: reader.string("purpose"),
    meshed: reader.boolean("meshed", false),
    kubeApi: reader.boolean("kubeApi", false),
    externalEgress: readPorts(problems, reader, "externalEgress"),
    metricsPorts: readPorts(problems, reader, "metricsPorts"),
    intraNamespace: readPorts(problems, reader, "intraNamespace"),
    webhookPorts: readPorts(problems, reader, "webhookPorts"),
    lanEgress: readLanTargets(problems, reader, cluster),
    calicoPolicies: reader
      .list("calicoPolicies")
      .flatMap(
        (p, i) =>
          readCalicoPolicy(problems, `${reader.at("calicoPolicies")}[${i}]`, p, cluster) ?? [],
      ),
    ...(reader.has("notes") ? { notes: reader.string("notes") } : {}),
    // Only a staged namespace carries the key: absent means enforced, as before the setting existed.
    ...(effectiveRollout(reader.value("rollout"), stackRollout) === "staged"
      ? { rollout: "staged" as const }
      : {}),
    ...(tier !== undefined ? { tier } : {}),
  };
}

/** A namespace's optional `tier` (groups the pictures only): one of TIERS, else an error at its key. */
function readTier(problems: Problems, reader: ObjectReader): Tier | undefined {
  if (!reader.has("tier")) return undefined;
  const tier = reader.string("tier");
  if ((TIERS as readonly string[]).includes(tier)) return tier as Tier;
  problems.add(reader.at("tier"), `must be one of ${TIERS.join(", ")}; got "${tier}"`);
  return undefined;
}

/**
 * Endpoints are written `ns`, `internet`, `{namespace, podLabels}`, `{host}` (a LAN host) or
 * `{cidr}`.
 */
function readEndpoint(
  problems: Problems,
  path: string,
  raw: unknown,
  cluster: ClusterConfig,
): Endpoint {
  const keyword = typeof raw === "string" ? keywordEndpoint(raw) : undefined;
  if (keyword) return keyword;
  if (typeof raw === "string")
    return { kind: "workload", namespace: readNamespaceName(problems, path, raw), podLabels: {} };
  if (!isObject(raw)) {
    problems.add(
      path,
      `must be a namespace name, "internet", {namespace, podLabels}, {host} or {cidr}; got ${JSON.stringify(raw)}`,
    );
    return { kind: "external", cidr: "0.0.0.0/32" };
  }
  const reader = new ObjectReader(problems, path, raw, [
    "namespace",
    "podLabels",
    "serviceAccount",
    "host",
    "cidr",
  ]);
  const given = ["namespace", "host", "cidr"].filter((k) => reader.has(k));
  if (given.length !== 1) {
    problems.add(
      path,
      `must have exactly one of namespace, host or cidr (found ${given.join(", ") || "none"})`,
    );
    return { kind: "external", cidr: "0.0.0.0/32" };
  }
  if (reader.has("namespace")) {
    const endpoint = {
      kind: "workload" as const,
      namespace: readNamespaceName(problems, reader.at("namespace"), reader.value("namespace")),
      podLabels: readLabels(problems, reader.at("podLabels"), reader.value("podLabels")),
    };
    if (!reader.has("serviceAccount")) return endpoint;
    // A Kubernetes ServiceAccount name is a DNS subdomain.
    const serviceAccount = reader.string("serviceAccount");
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(serviceAccount))
      problems.add(
        reader.at("serviceAccount"),
        `invalid service account name ${JSON.stringify(serviceAccount)}`,
      );
    return { ...endpoint, serviceAccount };
  }
  for (const key of ["podLabels", "serviceAccount"])
    if (reader.has(key)) problems.add(reader.at(key), `${key} only apply to a namespace endpoint`);
  if (reader.has("host")) {
    const net = resolveNet(problems, reader.at("host"), reader.value("host"), cluster.lanHosts);
    return { kind: "external", ...net };
  }
  return { kind: "external", cidr: readCidr(problems, reader.at("cidr"), reader.value("cidr")) };
}

function readFlow(
  problems: Problems,
  index: number,
  raw: unknown,
  cluster: ClusterConfig,
): FlowConfig | undefined {
  const path = `flows[${index}]`;
  if (!isObject(raw)) {
    problems.add(path, "must be a mapping {name, from, to, ports, reason}");
    return undefined;
  }
  const reader = new ObjectReader(problems, path, raw, ["name", "from", "to", "ports", "reason"]);
  const name = reader.string("name");
  if (name && !DNS_LABEL.test(name))
    problems.add(
      reader.at("name"),
      `flow name ${JSON.stringify(name)} must be a lowercase RFC 1123 label (it names Kubernetes objects)`,
    );
  const ports = readPorts(problems, reader, "ports");
  if (ports.length === 0)
    problems.add(
      reader.at("ports"),
      "must name at least one port: a flow on every port is not zero-trust",
    );
  return {
    name,
    from: readEndpoint(problems, reader.at("from"), reader.value("from"), cluster),
    to: readEndpoint(problems, reader.at("to"), reader.value("to"), cluster),
    ports,
    reason: reader.string("reason"),
  };
}

function readCertManager(problems: Problems, raw: Raw | undefined): CertManagerConfig | undefined {
  if (!raw) return undefined;
  const reader = new ObjectReader(problems, "certManager", raw, [
    "enabled",
    "namespace",
    "version",
  ]);
  return {
    enabled: reader.boolean("enabled", false),
    namespace: readNamespaceName(
      problems,
      reader.at("namespace"),
      reader.string("namespace", "cert-manager"),
    ),
    ...(reader.has("version") ? { version: reader.string("version") } : {}),
  };
}

/** `adoption`: the takeover of objects another field manager applied (config/types.ts). */
function readAdoption(problems: Problems, raw: Raw | undefined): AdoptionConfig | undefined {
  if (!raw) return undefined;
  const reader = new ObjectReader(problems, "adoption", raw, ["patchForce"]);
  return { patchForce: reader.boolean("patchForce", false) };
}

/** Cross-field checks: references, duplicates and mesh settings. */
function checkReferences(problems: Problems, config: StackConfig): void {
  const declared = new Map<string, NamespaceConfig>();
  config.namespaces.forEach((ns, i) => {
    if (!ns.name) return;
    if (declared.has(ns.name))
      problems.add(`namespaces[${i}].name`, `duplicate namespace "${ns.name}"`);
    declared.set(ns.name, ns);
  });
  const requireDeclared = (path: string, name: string, role: string) => {
    if (name && !declared.has(name)) {
      problems.add(
        path,
        `${role} "${name}" is not a declared namespace (declare it under ${CONFIG_NAMESPACE}:namespaces)`,
      );
    }
  };
  const monitoring = config.cluster.monitoringNamespace;
  if (monitoring !== undefined)
    requireDeclared("cluster.monitoringNamespace", monitoring, "monitoring namespace");
  config.namespaces.forEach((ns, i) => {
    if (monitoring === undefined && ns.metricsPorts.length > 0) {
      problems.add(
        `namespaces[${i}].metricsPorts`,
        "nothing scrapes them: cluster.monitoringNamespace is not set, so there is no Prometheus to admit; set it to the namespace where Prometheus runs, or drop metricsPorts",
      );
    }
  });
  checkDnsNamespace(problems, config, declared);
  config.cluster.edge.namespaces.forEach((n, i) =>
    requireDeclared(`cluster.edge.namespaces[${i}]`, n, "edge namespace"),
  );
  config.namespaces.forEach((ns, i) => {
    const seen = new Set<string>();
    ns.calicoPolicies.forEach((policy, j) => {
      if (seen.has(policy.name)) {
        problems.add(
          `namespaces[${i}].calicoPolicies[${j}].name`,
          `duplicate Calico policy name "${policy.name}"`,
        );
      }
      seen.add(policy.name);
    });
  });
  const meshedAt = config.namespaces.findIndex((ns) => ns.meshed);
  if (meshedAt >= 0 && !config.cluster.mesh) {
    problems.add(
      `namespaces[${meshedAt}].meshed`,
      `namespace "${config.namespaces[meshedAt].name}" is meshed but cluster.mesh (namespace, hbonePort, istiodPorts, probeSource) is not set`,
    );
  }
  if (config.cluster.mesh && declared.get(config.cluster.mesh.namespace)?.meshed) {
    problems.add(
      "cluster.mesh.namespace",
      "the mesh control-plane namespace cannot itself be meshed",
    );
  }
  // Like the DNS namespace: every meshed namespace's egress names it, so unprotected it would be
  // an open neighbour that takes connections from anywhere.
  const meshNamespace = config.cluster.mesh?.namespace;
  if (meshedAt >= 0 && meshNamespace && !declared.has(meshNamespace)) {
    problems.add(
      "cluster.mesh.namespace",
      `the mesh namespace "${meshNamespace}" must itself be protected: every meshed namespace's egress points at it (ztunnel, istiod), and left unprotected it takes connections from anywhere; declare it under ${CONFIG_NAMESPACE}:namespaces`,
    );
  }
  // A peer selecting the DNS namespace without pod labels would admit every pod there (policy 6).
  const dnsNamespace = config.cluster.dns.namespace;
  config.namespaces.forEach((ns, i) => {
    if (ns.name === dnsNamespace && ns.metricsPorts.length > 0) {
      problems.add(
        `namespaces[${i}].metricsPorts`,
        `the DNS namespace "${dnsNamespace}" cannot be scraped namespace-wide: declare a flow from the monitoring namespace to {namespace: ${dnsNamespace}, podLabels: …}`,
      );
    }
  });
  const names = new Set<string>();
  config.flows.forEach((flow, i) => {
    if (flow.name && names.has(flow.name))
      problems.add(`flows[${i}].name`, `duplicate flow name "${flow.name}"`);
    names.add(flow.name);
    if (flow.from.kind === "workload")
      requireDeclared(`flows[${i}].from`, flow.from.namespace, "flow source");
    if (flow.to.kind === "workload")
      requireDeclared(`flows[${i}].to`, flow.to.namespace, "flow destination");
    if (flow.from.kind === "external" && flow.to.kind === "external") {
      problems.add(`flows[${i}]`, "a flow needs at least one end inside the cluster");
    }
    const crossNamespace =
      flow.from.kind !== "workload" ||
      flow.to.kind !== "workload" ||
      flow.from.namespace !== flow.to.namespace;
    for (const end of ["from", "to"] as const) {
      const endpoint = flow[end];
      const wholeDnsNamespace =
        endpoint.kind === "workload" &&
        endpoint.namespace === dnsNamespace &&
        Object.keys(endpoint.podLabels).length === 0;
      if (wholeDnsNamespace && crossNamespace) {
        problems.add(
          `flows[${i}].${end}`,
          `selects the whole DNS namespace "${dnsNamespace}": name podLabels so the peer keeps AND semantics`,
        );
      }
    }
  });
  checkPrivateRanges(problems, config.cluster);
}

/**
 * The DNS namespace must be protected. Every protected namespace's DNS egress names it, so an
 * unprotected one is an open neighbour: whatever else runs there (kube-system: controllers,
 * metrics-server, CSI drivers) takes connections from any pod and reaches anything, and the DNS
 * pods answer every namespace, declared or not. Protecting it is what limits the DNS pods to
 * answering on the DNS port and to forwarding only to the declared upstream resolvers.
 */
function checkDnsNamespace(
  problems: Problems,
  config: StackConfig,
  declared: ReadonlyMap<string, NamespaceConfig>,
): void {
  const dnsNamespace = config.cluster.dns.namespace;
  if (!dnsNamespace || declared.has(dnsNamespace)) return;
  problems.add(
    "cluster.dns.namespace",
    `the DNS namespace "${dnsNamespace}" must itself be protected: every protected namespace's DNS egress points at it, and left unprotected it is an open neighbour (its other pods take connections from anywhere and reach anything, and the DNS pods answer undeclared namespaces). Declare it under ${CONFIG_NAMESPACE}:namespaces (e.g. {name: ${dnsNamespace}, purpose: CoreDNS, kubeApi: true}) and say where the DNS pods forward with cluster.dns.upstream`,
  );
}

function cidrIntervals(cidrs: readonly string[]): IntervalSet {
  return intervalsFromRanges(
    cidrs.flatMap((cidr) => {
      const range = parseStrictCidr(cidr);
      return range ? [[range.lo, range.hi] as [number, number]] : [];
    }),
  );
}

function describeIntervals(set: IntervalSet): string {
  return intervalPairs(set)
    .flatMap(([lo, hi]) => rangeToCidrs({ lo, hi }))
    .join(", ");
}

/**
 * Internet egress is 0.0.0.0/0 minus `privateRanges`, so the ranges must cover RFC 1918; a part
 * deliberately left out (a provider that routes 172.16/12 publicly, say) needs an exemption with a
 * reason. An exemption of something already covered, or outside RFC 1918, is stale: an error too.
 */
function checkPrivateRanges(problems: Problems, cluster: ClusterConfig): void {
  if (cluster.privateRanges.length === 0) {
    problems.add(
      "cluster.privateRanges",
      `must list the private ranges (${RFC1918_RANGES.join(", ")}): internet egress excepts them, and without them it would reach the LAN`,
    );
    return;
  }
  const rfc1918 = cidrIntervals(RFC1918_RANGES);
  const covered = cidrIntervals(cluster.privateRanges);
  const exempted = cidrIntervals(cluster.privateRangesExemptions.map((e) => e.range));
  const missing = subtractIntervals(subtractIntervals(rfc1918, covered), exempted);
  if (missing.length > 0) {
    problems.add(
      "cluster.privateRanges",
      `does not cover ${describeIntervals(missing)} of RFC 1918 (${RFC1918_RANGES.join(", ")}), so "internet" egress would reach it: add it, or, if that range really is not private in this network, declare privateRangesExemptions: [{range: …, reason: …}]`,
    );
  }
  cluster.privateRangesExemptions.forEach((exemption, i) => {
    const path = `cluster.privateRangesExemptions[${i}].range`;
    const own = cidrIntervals([exemption.range]);
    if (own.length === 0) return;
    if (subtractIntervals(own, rfc1918).length > 0)
      problems.add(path, `${exemption.range} is not inside RFC 1918: nothing to exempt`);
    else if (subtractIntervals(own, covered).length === 0)
      problems.add(
        path,
        `${exemption.range} is already in privateRanges: the exemption is stale, remove it`,
      );
  });
}

/** Validates raw `zt-netpol:*` config. Throws ConfigError listing every problem with its key path. */
export function validateStackConfig(raw: RawStackConfig): StackConfig {
  const problems = new Problems();
  const known = ["cluster", "namespaces", "flows", "certManager", "rollout", "adoption"];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) problems.add(key, unknownKeyMessage(key, known));
  }
  const clusterRaw = raw.cluster;
  if (!isObject(clusterRaw)) problems.add("cluster", "is required (a mapping of cluster facts)");
  const cluster = readCluster(problems, isObject(clusterRaw) ? clusterRaw : undefined);
  const listOf = (key: string): unknown[] => {
    const value = raw[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      problems.add(key, `must be a list, got ${JSON.stringify(value)}`);
      return [];
    }
    return value;
  };
  const stackRolloutIssue = rolloutProblem(raw.rollout);
  if (stackRolloutIssue) problems.add("rollout", stackRolloutIssue);
  const namespaces = listOf("namespaces").flatMap(
    (n, i) => readNamespace(problems, i, n, cluster, raw.rollout) ?? [],
  );
  if (namespaces.length === 0)
    problems.add("namespaces", "must declare at least one protected namespace");
  const flows = listOf("flows").flatMap((f, i) => readFlow(problems, i, f, cluster) ?? []);
  const certRaw = raw.certManager;
  if (certRaw !== undefined && !isObject(certRaw)) problems.add("certManager", "must be a mapping");
  const certManager = readCertManager(problems, isObject(certRaw) ? certRaw : undefined);
  const adoptionRaw = raw.adoption;
  if (adoptionRaw !== undefined && !isObject(adoptionRaw))
    problems.add("adoption", "must be a mapping (patchForce: true|false)");
  const adoption = readAdoption(problems, isObject(adoptionRaw) ? adoptionRaw : undefined);
  const config: StackConfig = {
    cluster,
    namespaces,
    flows,
    ...(certManager ? { certManager } : {}),
    ...(raw.rollout !== undefined ? { rollout: effectiveRollout(undefined, raw.rollout) } : {}),
    ...(adoption ? { adoption } : {}),
  };
  checkReferences(problems, config);
  checkAuthorizationPortWidths(problems, config);
  if (certManager?.enabled && !namespaces.some((n) => n.name === certManager.namespace)) {
    problems.add(
      "certManager.namespace",
      `cert-manager is enabled but namespace "${certManager.namespace}" is not protected: declare it under ${CONFIG_NAMESPACE}:namespaces`,
    );
  }
  const certNs = namespaces.find((n) => n.name === certManager?.namespace);
  if (certManager?.enabled && certNs && cluster.monitoringNamespace === undefined) {
    problems.add(
      "certManager",
      "cert-manager exports metrics for Prometheus on its namespace's metricsPorts[0], and metricsPorts need cluster.monitoringNamespace: set it",
    );
  } else if (
    certManager?.enabled &&
    certNs &&
    (certNs.webhookPorts.length === 0 || certNs.metricsPorts.length === 0)
  ) {
    problems.add(
      "certManager",
      `cert-manager takes its webhook securePort and metrics port from namespaces "${certNs.name}" webhookPorts[0] and metricsPorts[0]: declare both`,
    );
  }
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  return config;
}

/**
 * TCP ranges that reach a meshed namespace become ztunnel authorization ports, one by one (see
 * MAX_AUTHORIZATION_PORTS): flows into a meshed namespace and the namespace's own port lists.
 */
function checkAuthorizationPortWidths(problems: Problems, config: StackConfig): void {
  if (config.cluster.mesh === undefined) return;
  const meshed = new Set(config.namespaces.filter((ns) => ns.meshed).map((ns) => ns.name));
  const check = (path: string, ports: readonly PortSpec[]) => {
    for (const p of ports) {
      const last = p.endPort ?? p.port;
      if (p.protocol !== "TCP" || last - p.port + 1 <= MAX_AUTHORIZATION_PORTS) continue;
      problems.add(
        path,
        `TCP ${p.port}-${last} reaches a meshed namespace and is ${last - p.port + 1} ports wide: ztunnel's AuthorizationPolicy lists ports one by one (Istio has no port ranges), at most ${MAX_AUTHORIZATION_PORTS}; name the ports the service listens on`,
      );
    }
  };
  config.flows.forEach((flow, i) => {
    if (flow.to.kind === "workload" && meshed.has(flow.to.namespace))
      check(`flows[${i}].ports`, flow.ports);
  });
  config.namespaces.forEach((ns, i) => {
    if (!ns.meshed) return;
    check(`namespaces[${i}].metricsPorts`, ns.metricsPorts);
    check(`namespaces[${i}].intraNamespace`, ns.intraNamespace);
    check(`namespaces[${i}].webhookPorts`, ns.webhookPorts);
  });
}

function endpointKey(endpoint: Endpoint): string {
  if (endpoint.kind === "external") return `cidr:${endpoint.cidr}`;
  const labels = Object.entries(endpoint.podLabels).sort(([a], [b]) => a.localeCompare(b));
  return `ns:${endpoint.namespace}:${JSON.stringify(labels)}`;
}

function portIntervals(ports: readonly PortSpec[], protocol: Protocol): IntervalSet {
  return intervalsFromRanges(
    ports
      .filter((p) => p.protocol === protocol)
      .map((p): [number, number] => [p.port, p.endPort ?? p.port]),
  );
}

/** Every port of `inner` is also a port of `outer`. */
function portsWithin(inner: readonly PortSpec[], outer: readonly PortSpec[]): boolean {
  return PROTOCOLS.every(
    (protocol) =>
      subtractIntervals(portIntervals(inner, protocol), portIntervals(outer, protocol)).length ===
      0,
  );
}

/**
 * Things that are valid but almost certainly a mistake, each with its key path: a flow with the
 * same ends as another flow whose ports it adds nothing to (a pasted example, a second name for
 * one flow). Exact twins are reported once, at the later flow.
 */
export function stackConfigWarnings(config: StackConfig): string[] {
  const warnings: { readonly at: number; readonly text: string }[] = [];
  // Only flows with the same ends can be twins: group them once instead of comparing every pair
  // (a stack of thousands of flows made this quadratic loop dominate `npm run plan`).
  const sameEnds = new Map<string, number[]>();
  config.flows.forEach((flow, i) => {
    const ends = `${endpointKey(flow.from)}>${endpointKey(flow.to)}`;
    const group = sameEnds.get(ends);
    if (group) group.push(i);
    else sameEnds.set(ends, [i]);
  });
  for (const group of sameEnds.values()) {
    if (group.length < 2) continue;
    for (const i of group) {
      const flow = config.flows[i];
      const twin = group.find((j) => {
        const other = config.flows[j];
        if (j === i || !portsWithin(flow.ports, other.ports)) return false;
        // Equal port sets: only the later of the two is the duplicate.
        return !portsWithin(other.ports, flow.ports) || j < i;
      });
      if (twin === undefined) continue;
      warnings.push({
        at: i,
        text: `${CONFIG_NAMESPACE}:flows[${i}]: flow "${flow.name}" duplicates flows[${twin}] "${config.flows[twin].name}": same ends, and every port is already declared there; remove it or merge the reasons`,
      });
    }
  }
  return warnings.sort((a, b) => a.at - b.at).map((w) => w.text);
}
