/**
 * Existing policies (as the engine read them) → stack config for `zt-netpol`.
 *
 * Works on the engine's model only (peer and target shapes, resolved port sets, the file each
 * policy came from): no second reading of the YAML. Three passes:
 * 1. cluster facts: the DNS pods, the API ClusterIP and control-plane CIDR, private ranges, the
 *    monitoring namespace, the mesh (namespace, istiod ports, meshed namespaces), LAN hosts, edge;
 * 2. every rule peer becomes a pattern of its namespace (DNS, kubeApi, metricsPorts,
 *    webhookPorts, intraNamespace, externalEgress, lanEgress, meshed) or one corner of a flow;
 * 3. corners are joined: a flow, metrics port or intra-namespace port seen at one corner only is
 *    declared anyway (the config always generates both) and recorded as a missing corner.
 * Whatever the config cannot or should not express is a Finding with its location and what was
 * done with it. Nothing is dropped without one.
 */
import type {
  ClusterModel,
  ConnectionSet,
  EndpointMatcher,
  ModelProtocol,
  Ipv4Range,
  NormalPolicy,
  NormalRule,
  PeerShape,
} from "../../engine";
import {
  connectionsToList,
  formatRef,
  isFlowAllowed,
  OTHER_NAMESPACE,
  parseCidrRange,
  peerShape,
  targetShape,
} from "../../engine";
import { formatRangeAsCidr, rangeContains } from "../../engine/model/ipv4";
import type { ClusterFacts } from "../../policypack/lib/facts";
import type { LabelRequirement } from "../../engine/model/label-selector";

export type FindingAction = "narrowed" | "made explicit" | "dropped" | "normalised";

export interface Finding {
  /** `FILE#doc spec.egress[2].to[0]` or the policy reference. */
  readonly location: string;
  readonly problem: string;
  readonly action: FindingAction;
  readonly detail: string;
  /** The namespace pair the finding is about, when there is one (for the round trip). */
  readonly from?: string;
  readonly to?: string;
}

/** A flow or pattern seen at one or both corners. */
interface Corners {
  readonly egress: string[];
  readonly ingress: string[];
}

export interface FlowEnd {
  readonly namespace?: string;
  readonly podLabels?: Record<string, string>;
  readonly cidr?: string;
  readonly host?: string;
  readonly internet?: boolean;
}

interface FlowDraft extends Corners {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  readonly ports: Set<string>;
  /** Ports seen at each corner: a port seen at one only is a missing corner. */
  readonly cornerPorts: { readonly egress: Set<string>; readonly ingress: Set<string> };
}

interface NamespaceDraft {
  readonly name: string;
  readonly sources: Set<string>;
  meshed: boolean;
  kubeApi: Set<string>;
  readonly externalEgress: Set<string>;
  readonly webhookPorts: Set<string>;
  readonly metrics: { ports: Set<string> } & Corners;
  readonly intra: { ports: Set<string> } & Corners;
  readonly lan: Map<string, Set<string>>;
  readonly calico: Record<string, unknown>[];
}

export interface InferredFacts {
  readonly dns: { namespace: string; podLabels: Record<string, string>; port: number };
  readonly apiServer: { clusterIP: string; port: number };
  readonly controlPlane: { cidr: string; port: number };
  readonly privateRanges: string[];
  readonly monitoringNamespace?: string;
  readonly mesh?: {
    namespace: string;
    hbonePort: number;
    istiodPorts: number[];
    probeSource: string;
    trustDomain?: string;
    portPreserving?: boolean;
  };
  /** Namespaces the given facts say are meshed (`--facts FILE`: meshedNamespaces). */
  readonly meshedNamespaces?: readonly string[];
  readonly lanHosts: Record<string, string>;
  readonly edge: { namespaces: string[]; ports: number[] };
}

/** What the import produced: the raw config (as written to the stack file) and its audit trail. */
export interface ImportResult {
  readonly raw: Record<string, unknown>;
  readonly facts: InferredFacts;
  readonly findings: Finding[];
  /** Pairs `from\u0000to` declared although the input had only one of their corners. */
  readonly halfCorners: Map<string, string>;
  /** How many rule peers were read, and how many became patterns or flows. */
  readonly counts: { peers: number; patterns: number; flowCorners: number };
}

/** What the import cannot translate, located; a user error for the CLI layer (exit 2). */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportError";
  }
}

const NAME_LABEL = "kubernetes.io/metadata.name";
const AMBIENT_LABEL = "istio.io/dataplane-mode";
const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const ISTIO_PROBE_SOURCE = "169.254.7.127/32";
const EXTERNAL = { kind: "external" as const, range: { lo: 0x08080808, hi: 0x08080808 } };

// ---------------------------------------------------------------------------------------------
// Ports

/** `443`, `53/UDP`, `7000-7010/TCP`: the config's port notation, as a set key. */
function portKeys(set: ConnectionSet): { keys: string[]; icmp: boolean; everyPort: string[] } {
  const keys: string[] = [];
  const everyPort: string[] = [];
  let icmp = false;
  for (const { protocol, ranges } of connectionsToList(set)) {
    if (protocol === "ICMP") {
      icmp = true;
      continue;
    }
    for (const [lo, hi] of ranges) {
      if (lo === 1 && hi === 65535) everyPort.push(protocol);
      else keys.push(lo === hi ? `${lo}/${protocol}` : `${lo}-${hi}/${protocol}`);
    }
  }
  return { keys, icmp, everyPort };
}

function configPort(key: string): number | string {
  const [range, protocol] = key.split("/");
  return protocol === "TCP" && !range.includes("-") ? Number(range) : key;
}

function sortPorts(keys: Iterable<string>): (number | string)[] {
  const start = (k: string): number => Number(k.split(/[-/]/)[0]);
  return [...new Set(keys)].sort((a, b) => start(a) - start(b) || (a < b ? -1 : 1)).map(configPort);
}

const portOf = (key: string): number => Number(key.split(/[-/]/)[0]);
const isTcp = (key: string): boolean => key.endsWith("/TCP");

// ---------------------------------------------------------------------------------------------
// Selectors

/** Labels a requirement list pins down exactly (only `In` with one value), or undefined. */
function exactLabels(
  requirements: readonly LabelRequirement[],
): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (const r of requirements) {
    if (r.operator !== "In" || r.values.length !== 1) return undefined;
    labels[r.key] = r.values[0];
  }
  return labels;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Namespaces a peer selects: "own", "all" (`{}`), a name list, or undefined (by other labels). */
function peerNamespaces(
  shape: PeerShape | undefined,
  policy: NormalPolicy,
  model: ClusterModel,
): string[] | "all" | undefined {
  if (shape?.kind !== "pods") return undefined;
  if (shape.namespaces === "own") return policy.namespace ? [policy.namespace] : undefined;
  if (shape.namespaces.length === 0) return "all";
  const byName = shape.namespaces.find((r) => r.key === NAME_LABEL && r.operator === "In");
  if (byName && shape.namespaces.length === 1) return [...byName.values];
  // Other namespace labels: resolved against the Namespace objects of the input, if any.
  const matching = [...model.namespaces.values()].filter(
    (ns) => ns.declared && ns.name !== OTHER_NAMESPACE,
  );
  const requirements = shape.namespaces;
  const names = matching
    .filter((ns) =>
      requirements.every((r) => {
        const value = ns.labels[r.key];
        switch (r.operator) {
          case "In":
            return value !== undefined && r.values.includes(value);
          case "NotIn":
            return value === undefined || !r.values.includes(value);
          case "Exists":
            return value !== undefined;
          case "DoesNotExist":
            return value === undefined;
        }
      }),
    )
    .map((ns) => ns.name);
  return names.length > 0 ? names : undefined;
}

function counts<T>(items: T[]): [T, number][] {
  const m = new Map<string, [T, number]>();
  for (const item of items) {
    const key = JSON.stringify(item);
    const entry = m.get(key);
    if (entry) entry[1]++;
    else m.set(key, [item, 1]);
  }
  return [...m.values()].sort((a, b) => b[1] - a[1]);
}

// ---------------------------------------------------------------------------------------------

interface PeerSite {
  readonly policy: NormalPolicy;
  readonly rule: NormalRule;
  readonly direction: "ingress" | "egress";
  /** `spec.egress[2].to[0]`, or the rule path when the rule has no peers. */
  readonly path: string;
  readonly location: string;
  readonly peer: EndpointMatcher | "any";
  /** The peer as written (engine `peerShape`); undefined for "any". */
  readonly shape?: PeerShape;
  readonly ports: ReturnType<typeof portKeys>;
}

const isNamespaceWide = (policy: NormalPolicy): boolean =>
  policy.ref.kind === "NetworkPolicy" && policy.written.podSelector?.requirements.length === 0;

/**
 * The rules of pod-scoped Kubernetes policies that repeat, as written, a rule of a namespace-wide
 * Kubernetes policy of the same namespace and direction. The program renders such copies on
 * purpose (components/rules.ts: a pod-scoped object carries the baseline's namespace-wide allows,
 * for the first enforcement), and in any tree they add nothing: a pod both policies select admits
 * the union, which already holds the rule through the namespace-wide one. Read once, there.
 */
function writtenRuleKey(rule: NormalRule): string | undefined {
  // Where a rule is written (paths, the spelling of a protocol) is not what it says.
  const unwritten = new Set(["path", "matcher", "protocolText"]);
  return rule.written
    ? JSON.stringify(rule.written, (key, value: unknown) =>
        unwritten.has(key) ? undefined : typeof value === "bigint" ? value.toString() : value,
      )
    : undefined;
}

function namespaceWideCopies(model: ClusterModel): Set<NormalRule> {
  const copies = new Set<NormalRule>();
  const wide = model.policies.filter(isNamespaceWide);
  for (const policy of model.policies) {
    if (policy.ref.kind !== "NetworkPolicy" || isNamespaceWide(policy)) continue;
    for (const direction of ["ingress", "egress"] as const) {
      if (!policy.appliesTo[direction]) continue;
      const written = new Set(
        wide
          .filter((w) => w.namespace === policy.namespace && w.appliesTo[direction])
          .flatMap((w) => w[direction].map(writtenRuleKey)),
      );
      for (const rule of policy[direction]) {
        const key = writtenRuleKey(rule);
        if (key !== undefined && written.has(key)) copies.add(rule);
      }
    }
  }
  return copies;
}

/**
 * Does the input admit every port of a pod-to-pod flow draft, by the engine's verdict? A port
 * range is not judged port by port: it counts as not admitted, so its finding stays.
 */
function admittedEndToEnd(model: ClusterModel, flow: FlowDraft): boolean {
  const end = (e: FlowEnd) => ({ namespace: e.namespace!, podLabels: e.podLabels ?? {} });
  return (
    flow.ports.size > 0 &&
    [...flow.ports].every((key) => {
      const [port, protocol] = key.split("/");
      return (
        /^\d+$/.test(port) &&
        isFlowAllowed(model, {
          from: end(flow.from),
          to: end(flow.to),
          port: Number(port),
          protocol: protocol as ModelProtocol,
        })
      );
    })
  );
}

function sitesOf(model: ClusterModel): PeerSite[] {
  const out: PeerSite[] = [];
  const copies = namespaceWideCopies(model);
  for (const policy of model.policies) {
    for (const direction of ["ingress", "egress"] as const) {
      for (const rule of policy[direction]) {
        if (copies.has(rule)) continue;
        const remote = direction === "ingress" ? rule.sources : rule.destinations;
        const ports = portKeys(rule.connections(EXTERNAL));
        const field = direction === "ingress" ? "from" : "to";
        const base = policy.source ?? formatRef(policy.ref);
        if (remote === "any") {
          out.push({
            policy,
            rule,
            direction,
            path: rule.path,
            location: `${base} ${rule.path}`,
            peer: "any",
            ports,
          });
          continue;
        }
        remote.forEach((peer, i) => {
          const path =
            policy.ref.kind === "NetworkPolicy" ? `${rule.path}.${field}[${i}]` : rule.path;
          const shape = peerShape(rule, peer);
          out.push({
            policy,
            rule,
            direction,
            path,
            location: `${base} ${path}`,
            peer,
            shape,
            ports,
          });
        });
      }
    }
  }
  return out;
}

/**
 * The cluster facts: those given (`--facts FILE`) are taken as they are, the rest are inferred
 * from the tree. A given fact replaces its inference, so a tree that never reaches the DNS pods
 * or the API can still be imported when the facts say where they are.
 */
function inferFacts(
  model: ClusterModel,
  sites: readonly PeerSite[],
  given: Partial<ClusterFacts> = {},
): InferredFacts {
  const k8s = sites.filter((s) => s.policy.ref.kind === "NetworkPolicy");
  const egressIp = k8s.filter((s) => s.direction === "egress" && s.shape?.kind === "ipBlock");
  const ipOf = (s: PeerSite): { cidr: Ipv4Range; except: readonly Ipv4Range[] } => {
    const shape = s.shape;
    if (shape?.kind !== "ipBlock") throw new Error("internal: not an ipBlock");
    return shape;
  };

  // DNS: the most common (namespace, pod labels) reached on UDP 53.
  const dnsCandidates: { namespace: string; podLabels: Record<string, string> }[] = [];
  for (const s of k8s) {
    if (s.direction !== "egress" || s.peer === "any" || !s.ports.keys.includes("53/UDP")) continue;
    const shape = s.shape;
    if (shape?.kind !== "pods" || shape.namespaces === "own") continue;
    const names = peerNamespaces(s.shape, s.policy, model);
    const labels = exactLabels(shape.pods);
    if (Array.isArray(names) && names.length === 1 && labels && Object.keys(labels).length > 0)
      dnsCandidates.push({ namespace: names[0], podLabels: labels });
  }
  const dns = given.dns
    ? { namespace: given.dns.namespace, podLabels: { ...given.dns.podLabels } }
    : counts(dnsCandidates)[0]?.[0];
  if (!dns)
    throw new ImportError(
      "cannot infer the cluster DNS: no egress rule reaches pods selected by namespace and labels on UDP 53 (give it with --facts FILE: dns)",
    );

  const clusterIps = egressIp
    .filter((s) => s.ports.keys.includes("443/TCP"))
    .map(ipOf)
    .filter((b) => b.cidr.lo === b.cidr.hi)
    .map((b) => formatRangeAsCidr(b.cidr));
  const controlPlanes = egressIp
    .filter((s) => s.ports.keys.includes("6443/TCP"))
    .map(ipOf)
    .filter((b) => b.cidr.hi - b.cidr.lo < 0xffffffff)
    .map((b) => formatRangeAsCidr(b.cidr));
  const clusterIp = given.apiServer
    ? `${given.apiServer.clusterIP}/32`
    : counts(clusterIps)[0]?.[0];
  const controlPlane = given.controlPlane?.cidr ?? counts(controlPlanes)[0]?.[0];
  if (!clusterIp || !controlPlane)
    throw new ImportError(
      `cannot infer the Kubernetes API: ${clusterIp ? "" : "no egress to a /32 on TCP 443 (the API ClusterIP); "}${controlPlane ? "" : "no egress to a control-plane CIDR on TCP 6443"} (give them with --facts FILE: apiServer, controlPlane)`,
    );

  // Private ranges: the excepts of internet blocks, always with RFC 1918.
  const privateRanges = new Set(given.privateRanges ?? RFC1918);
  for (const s of given.privateRanges ? [] : egressIp) {
    const b = ipOf(s);
    if (b.cidr.lo === 0 && b.cidr.hi === 0xffffffff)
      for (const e of b.except) privateRanges.add(formatRangeAsCidr(e));
  }

  // The mesh: the namespace many others reach on 15008 together with other ports (istiod).
  const meshTargets: string[] = [];
  const istiodPorts = new Set<number>();
  let sawMeshEgress = false;
  for (const s of k8s) {
    if (s.direction !== "egress" || s.peer === "any" || !s.ports.keys.includes("15008/TCP"))
      continue;
    const names = peerNamespaces(s.shape, s.policy, model);
    if (!Array.isArray(names) || names.length !== 1 || names[0] === s.policy.namespace) continue;
    const others = s.ports.keys.filter((k) => k !== "15008/TCP");
    if (others.length === 0) continue;
    meshTargets.push(names[0]);
  }
  // Given facts: `mesh: null` says there is none, whatever the tree reaches on 15008.
  const meshNamespace =
    given.mesh === null ? undefined : (given.mesh?.namespace ?? counts(meshTargets)[0]?.[0]);
  if (meshNamespace && !given.mesh) {
    for (const s of k8s) {
      if (s.direction !== "egress" || s.peer === "any" || !s.ports.keys.includes("15008/TCP"))
        continue;
      const names = peerNamespaces(s.shape, s.policy, model);
      if (!Array.isArray(names) || names.length !== 1 || names[0] !== meshNamespace) continue;
      // istiod's ports are those every meshed namespace reaches (a scrape adds its own).
      const ports = new Set(s.ports.keys.filter((k) => k !== "15008/TCP" && isTcp(k)).map(portOf));
      if (istiodPorts.size === 0 && !sawMeshEgress) for (const p of ports) istiodPorts.add(p);
      else for (const p of [...istiodPorts]) if (!ports.has(p)) istiodPorts.delete(p);
      sawMeshEgress = true;
    }
  }
  const probe = k8s
    .filter((s) => s.direction === "ingress" && s.shape?.kind === "ipBlock")
    .map(ipOf)
    .find(
      (b) => b.cidr.lo === b.cidr.hi && rangeContains(parseCidrRange("169.254.0.0/16")!, b.cidr),
    );

  // Monitoring: the namespace named as an ingress source by the most other namespaces.
  const sourcesByPolicyNs = new Map<string, Set<string>>();
  for (const s of k8s) {
    if (s.direction !== "ingress" || s.peer === "any") continue;
    const names = peerNamespaces(s.shape, s.policy, model);
    if (!Array.isArray(names)) continue;
    for (const n of names) {
      if (n === s.policy.namespace || n === meshNamespace) continue;
      const set = sourcesByPolicyNs.get(n) ?? new Set<string>();
      set.add(s.policy.namespace ?? "");
      sourcesByPolicyNs.set(n, set);
    }
  }
  const monitoringNamespace = [...sourcesByPolicyNs].sort((a, b) => b[1].size - a[1].size)[0]?.[0];

  // LAN hosts: private egress targets other than the API pair (Calico nets too).
  const lanHosts: Record<string, string> = {};
  const privateParsed = [...privateRanges].map((r) => parseCidrRange(r)!);
  const addHost = (range: Ipv4Range): void => {
    const cidr = formatRangeAsCidr(range);
    if (cidr === clusterIp || cidr === controlPlane) return;
    if (!privateParsed.some((p) => rangeContains(p, range))) return;
    const address = cidr.endsWith("/32") ? cidr.slice(0, -3) : cidr;
    lanHosts[`lan-${address.replace(/[./]/g, "-")}`] = address;
  };
  for (const s of egressIp) addHost(ipOf(s).cidr);
  for (const s of sites)
    if (s.direction === "egress" && s.shape?.kind === "calico")
      for (const r of s.shape.nets ?? []) addHost(r);
  // The control plane is a LAN host too when something reaches it on other ports (kubelets).
  for (const s of egressIp) {
    const b = ipOf(s);
    if (formatRangeAsCidr(b.cidr) === controlPlane && s.ports.keys.some((k) => k !== "6443/TCP"))
      lanHosts[`lan-${controlPlane.replace(/[./]/g, "-")}`] = controlPlane;
  }

  const edgeNamespaces = new Set<string>(given.edge?.namespaces ?? []);
  const edgePorts = new Set<number>(given.edge?.ports ?? []);
  for (const s of given.edge ? [] : k8s) {
    if (s.direction !== "ingress" || s.peer === "any" || s.shape?.kind !== "ipBlock") continue;
    const b = ipOf(s);
    if (b.cidr.lo === 0 && b.cidr.hi === 0xffffffff && s.policy.namespace) {
      edgeNamespaces.add(s.policy.namespace);
      for (const k of s.ports.keys) if (isTcp(k)) edgePorts.add(portOf(k));
    }
  }
  const givenMesh = given.mesh;
  return {
    dns: { ...dns, port: given.dns?.port ?? 53 },
    apiServer: { clusterIP: clusterIp.replace(/\/32$/, ""), port: given.apiServer?.port ?? 443 },
    controlPlane: { cidr: controlPlane, port: given.controlPlane?.port ?? 6443 },
    privateRanges: [...privateRanges],
    monitoringNamespace,
    ...(givenMesh
      ? {
          mesh: {
            namespace: givenMesh.namespace,
            hbonePort: givenMesh.hbonePort,
            istiodPorts: [...givenMesh.istiodPorts],
            probeSource: givenMesh.probeSource,
            ...(givenMesh.trustDomain !== undefined ? { trustDomain: givenMesh.trustDomain } : {}),
            ...(givenMesh.portPreserving !== undefined
              ? { portPreserving: givenMesh.portPreserving }
              : {}),
          },
        }
      : meshNamespace
        ? {
            mesh: {
              namespace: meshNamespace,
              hbonePort: 15008,
              istiodPorts: [...istiodPorts].sort((a, b) => a - b),
              probeSource: probe ? formatRangeAsCidr(probe.cidr) : ISTIO_PROBE_SOURCE,
            },
          }
        : {}),
    ...(given.meshedNamespaces ? { meshedNamespaces: [...given.meshedNamespaces] } : {}),
    lanHosts,
    edge: { namespaces: [...edgeNamespaces].sort(), ports: [...edgePorts].sort((a, b) => a - b) },
  };
}

// ---------------------------------------------------------------------------------------------

class Importer {
  readonly findings: Finding[] = [];
  readonly namespaces = new Map<string, NamespaceDraft>();
  readonly flows = new Map<string, FlowDraft>();
  /** Resolvers the DNS pods forward to (LAN host names or CIDRs): `cluster.dns.upstream`. */
  readonly dnsUpstream = new Set<string>();
  patterns = 0;
  flowCorners = 0;
  private readonly known: Set<string>;

  constructor(
    readonly model: ClusterModel,
    readonly facts: InferredFacts,
  ) {
    this.known = new Set(
      [...model.namespaces.values()].filter((n) => n.declared).map((n) => n.name),
    );
    // Protected are the namespaces the input has policies in (a Namespace object alone is not
    // protection: importing it as protected would deny all its traffic), plus what the config
    // requires to be protected: the DNS namespace and the mesh namespace.
    const protectedNames = new Set<string>();
    for (const p of model.policies) if (p.namespace) protectedNames.add(p.namespace);
    for (const name of protectedNames) this.known.add(name);
    for (const name of [...protectedNames].sort()) this.ns(name);
    for (const required of [facts.dns.namespace, facts.mesh?.namespace]) {
      if (required === undefined || protectedNames.has(required)) continue;
      this.ns(required);
      this.findings.push({
        location: required,
        problem: `the input has no policy in ${required}, which the config must protect (DNS or mesh namespace)`,
        action: "made explicit",
        detail: `${required} is imported as protected with its generated patterns only: review it before applying`,
      });
    }
  }

  /** Flow ends must be protected namespaces; anything else is reported, not guessed. */
  private protectedEnd(site: PeerSite, end: FlowEnd): boolean {
    if (end.namespace === undefined || this.namespaces.has(end.namespace)) return true;
    this.find(
      site,
      `a flow end in ${end.namespace}, which the input does not protect`,
      "dropped",
      `the config declares flows between protected namespaces; protect ${end.namespace} (add a policy for it) and import again`,
    );
    return false;
  }

  ns(name: string): NamespaceDraft {
    let draft = this.namespaces.get(name);
    if (!draft) {
      draft = {
        name,
        sources: new Set(),
        meshed: false,
        kubeApi: new Set(),
        externalEgress: new Set(),
        webhookPorts: new Set(),
        metrics: { ports: new Set(), egress: [], ingress: [] },
        intra: { ports: new Set(), egress: [], ingress: [] },
        lan: new Map(),
        calico: [],
      };
      this.namespaces.set(name, draft);
    }
    return draft;
  }

  find(
    site: PeerSite,
    problem: string,
    action: FindingAction,
    detail: string,
    pair?: { from: string; to: string },
  ): void {
    this.findings.push({ location: site.location, problem, action, detail, ...pair });
  }

  flow(site: PeerSite, from: FlowEnd, to: FlowEnd, ports: readonly string[]): void {
    if (ports.length === 0 || !this.protectedEnd(site, from) || !this.protectedEnd(site, to))
      return;
    const key = JSON.stringify([from, to]);
    let draft = this.flows.get(key);
    if (!draft) {
      draft = {
        from,
        to,
        ports: new Set(),
        egress: [],
        ingress: [],
        cornerPorts: { egress: new Set(), ingress: new Set() },
      };
      this.flows.set(key, draft);
    }
    for (const p of ports) {
      draft.ports.add(p);
      draft.cornerPorts[site.direction].add(p);
    }
    draft[site.direction].push(site.location);
    this.flowCorners++;
  }

  isMeshed(name: string | undefined): boolean {
    return name !== undefined && (this.namespaces.get(name)?.meshed ?? false);
  }

  /**
   * Meshed namespaces: those labelled `istio.io/dataplane-mode: ambient` by a Namespace object of
   * the input, those the given facts name, and those reaching the mesh namespace on the HBONE
   * port.
   */
  markMeshed(sites: readonly PeerSite[]): void {
    const mesh = this.facts.mesh;
    if (!mesh) return;
    for (const name of this.facts.meshedNamespaces ?? [])
      if (this.known.has(name) && name !== mesh.namespace) this.ns(name).meshed = true;
    for (const ns of this.model.namespaces.values())
      if (
        ns.declared &&
        this.known.has(ns.name) &&
        ns.labels[AMBIENT_LABEL] === "ambient" &&
        ns.name !== mesh.namespace
      )
        this.ns(ns.name).meshed = true;
    for (const s of sites) {
      if (s.peer === "any" || !s.policy.namespace || s.policy.namespace === mesh.namespace)
        continue;
      if (!s.ports.keys.includes(`${mesh.hbonePort}/TCP`)) continue;
      const names = peerNamespaces(s.shape, s.policy, this.model);
      if (Array.isArray(names) && names.includes(mesh.namespace))
        this.ns(s.policy.namespace).meshed = true;
    }
  }

  read(site: PeerSite): void {
    const { policy } = site;
    if (policy.ref.kind !== "NetworkPolicy") return this.readCalico(site);
    const local = policy.namespace!;
    const draft = this.ns(local);
    draft.sources.add(policy.source ?? formatRef(policy.ref));
    const shape = targetShape(policy);
    const target = shape?.kind === "labels" ? exactLabels(shape.requirements) : undefined;
    if (target === undefined) {
      this.find(
        site,
        "the policy's podSelector uses expressions the config cannot name",
        "dropped",
        "declare the flow with podLabels by hand",
      );
      return;
    }
    if (site.rule.usesNamedPorts) {
      this.find(
        site,
        "named ports resolve on pods, which a policy tree does not carry",
        "dropped",
        "declare the flow with port numbers",
      );
      return;
    }
    if (site.ports.icmp && site.ports.keys.length === 0 && site.ports.everyPort.length === 0)
      return;
    if (this.isProbeSource(site)) {
      // Kubelet probes in ambient: the `meshed` pattern admits the probe source on every port.
      this.patterns++;
      return;
    }
    if (site.ports.everyPort.length > 0) {
      const every =
        site.ports.everyPort.length >= 3
          ? "every protocol and port"
          : `every ${site.ports.everyPort.join("/")} port`;
      this.find(
        site,
        `the rule admits ${every}`,
        "dropped",
        "zero-trust config names its ports; declare the ports this traffic really uses",
        this.pairOf(site, local),
      );
      if (site.ports.keys.length === 0) return;
    }
    const localEnd: FlowEnd = {
      namespace: local,
      ...(Object.keys(target).length ? { podLabels: target } : {}),
    };
    const scoped = Object.keys(target).length > 0;
    if (site.direction === "egress") this.readEgress(site, draft, localEnd, scoped);
    else this.readIngress(site, draft, localEnd, scoped);
  }

  private isProbeSource(site: PeerSite): boolean {
    const mesh = this.facts.mesh;
    if (!mesh || site.direction !== "ingress" || site.peer === "any") return false;
    const shape = site.shape;
    return (
      shape?.kind === "ipBlock" &&
      formatRangeAsCidr(shape.cidr) === mesh.probeSource &&
      this.isMeshed(site.policy.namespace)
    );
  }

  /** The mesh's own ports (HBONE and istiod), as port keys. */
  private meshPorts(): Set<string> {
    const mesh = this.facts.mesh;
    return new Set(mesh ? [mesh.hbonePort, ...mesh.istiodPorts].map((p) => `${p}/TCP`) : []);
  }

  private pairOf(site: PeerSite, local: string): { from: string; to: string } | undefined {
    if (site.peer === "any" || site.shape?.kind !== "pods") return undefined;
    const names = peerNamespaces(site.shape, site.policy, this.model);
    if (!Array.isArray(names) || names.length !== 1) return undefined;
    return site.direction === "egress"
      ? { from: local, to: names[0] }
      : { from: names[0], to: local };
  }

  private dnsPorts(keys: readonly string[]): { dns: string[]; rest: string[] } {
    const port = this.facts.dns.port;
    const dns = keys.filter((k) => k === `${port}/UDP` || k === `${port}/TCP`);
    return { dns, rest: keys.filter((k) => !dns.includes(k)) };
  }

  private readEgress(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
  ): void {
    const { facts } = this;

    const keys = site.ports.keys;
    const { dns, rest } = this.dnsPorts(keys);
    if (site.peer === "any") {
      if (rest.length === 0) {
        this.patterns++;
        this.find(
          site,
          "egress to every destination on the DNS port",
          "narrowed",
          `to the DNS pods (${facts.dns.namespace}), generated for every namespace`,
        );
        return;
      }
      this.find(
        site,
        `egress to every destination, in and outside the cluster, on ${rest.join(", ")}`,
        "dropped",
        "declare the destinations as flows (externalEgress for the internet)",
      );
      return;
    }
    const shape = site.shape;
    if (shape?.kind === "ipBlock")
      return this.readEgressBlock(site, draft, localEnd, scoped, shape);
    if (shape?.kind !== "pods") return;
    const names = peerNamespaces(site.shape, site.policy, this.model);
    const peerLabels = exactLabels(shape.pods);
    if (rest.length === 0 && dns.length > 0) {
      // A rule on the DNS port only: the DNS pattern, whatever the peer says.
      this.patterns++;
      const exact =
        Array.isArray(names) &&
        names.length === 1 &&
        names[0] === facts.dns.namespace &&
        peerLabels !== undefined &&
        sameLabels(peerLabels, facts.dns.podLabels);
      if (!exact) {
        const what =
          names === "all"
            ? "namespaceSelector: {} on the DNS port admits every pod of every namespace"
            : Array.isArray(names) &&
                names.includes(facts.dns.namespace) &&
                Object.keys(shape.pods).length === 0
              ? `OR-form DNS: this peer admits every pod of ${facts.dns.namespace}, not only the DNS pods`
              : `OR-form DNS: this peer selects pods labelled like the DNS pods in ${names === undefined ? "some namespaces" : names.join(", ")}, where no DNS runs`;
        this.find(
          site,
          what,
          "narrowed",
          `to the DNS pods (${facts.dns.namespace} ${JSON.stringify(facts.dns.podLabels)}, UDP and TCP ${facts.dns.port}), AND semantics`,
        );
      }
      return;
    }
    if (names === undefined) {
      this.find(
        site,
        "namespaceSelector by labels that no Namespace object in the input carries",
        "dropped",
        "the config names namespaces; declare the flow",
      );
      return;
    }
    if (peerLabels === undefined) {
      this.find(
        site,
        "podSelector uses expressions the config cannot name",
        "dropped",
        "declare the flow with podLabels by hand",
      );
      return;
    }
    if (names === "all") {
      this.find(
        site,
        `namespaceSelector: {} admits every namespace on ${keys.join(", ")}`,
        "narrowed",
        "to the namespaces whose ingress admits this traffic (imported from their side)",
      );
      return;
    }
    for (const target of names) {
      if (
        facts.mesh &&
        draft.name === facts.mesh.namespace &&
        this.isMeshed(target) &&
        Object.keys(peerLabels).length === 0
      ) {
        // ztunnel reaching a meshed namespace on HBONE and its ports: the `meshed` pattern.
        this.patterns++;
        this.find(
          site,
          `ztunnel egress to ${target} on ${keys.join(", ")}`,
          "normalised",
          `the meshed pattern of ${target} generates it from the ports ${target} serves (metricsPorts, flows into it)`,
          { from: draft.name, to: target },
        );
        continue;
      }
      if (
        target === facts.dns.namespace &&
        sameLabels(peerLabels, facts.dns.podLabels) &&
        dns.length > 0
      )
        this.patterns++;
      const ports =
        target === facts.dns.namespace && sameLabels(peerLabels, facts.dns.podLabels) ? rest : keys;
      if (
        facts.mesh &&
        target === facts.mesh.namespace &&
        target !== draft.name &&
        Object.keys(peerLabels).length === 0
      ) {
        const meshPorts = new Set(
          [facts.mesh.hbonePort, ...facts.mesh.istiodPorts].map((p) => `${p}/TCP`),
        );
        const other = ports.filter((k) => !meshPorts.has(k));
        if (ports.length > other.length) this.patterns++;
        if (other.length > 0)
          this.toNamespace(site, draft, localEnd, scoped, target, peerLabels, other);
        continue;
      }
      this.toNamespace(site, draft, localEnd, scoped, target, peerLabels, ports);
    }
  }

  /** An egress corner to pods of `target`: metrics, intra-namespace or a flow. */
  private toNamespace(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
    target: string,
    peerLabels: Record<string, string>,
    ports: readonly string[],
  ): void {
    const app = this.withoutHbone(site, draft.name, target, ports);
    if (app.length === 0) return;
    const wholeBoth = !scoped && Object.keys(peerLabels).length === 0;
    if (wholeBoth && target === draft.name) {
      this.ns(target).intra.egress.push(site.location);
      for (const p of app) this.ns(target).intra.ports.add(p);
      this.patterns++;
      return;
    }
    if (
      wholeBoth &&
      draft.name === this.facts.monitoringNamespace &&
      target === this.facts.dns.namespace
    ) {
      this.find(
        site,
        `scrape egress to every pod of the DNS namespace ${target}`,
        "narrowed",
        "to the DNS pods: nothing may select the whole DNS namespace",
        { from: draft.name, to: target },
      );
      this.flow(site, localEnd, { namespace: target, podLabels: this.facts.dns.podLabels }, app);
      return;
    }
    if (wholeBoth && draft.name === this.facts.monitoringNamespace && this.namespaces.has(target)) {
      this.ns(target).metrics.egress.push(site.location);
      for (const p of app) this.ns(target).metrics.ports.add(p);
      this.patterns++;
      return;
    }
    this.flow(
      site,
      localEnd,
      { namespace: target, ...(Object.keys(peerLabels).length ? { podLabels: peerLabels } : {}) },
      app,
    );
  }

  /** HBONE between two meshed namespaces is generated; elsewhere 15008 is an app port. */
  private withoutHbone(
    site: PeerSite,
    from: string,
    to: string,
    ports: readonly string[],
  ): string[] {
    const mesh = this.facts.mesh;
    const hbone = mesh ? `${mesh.hbonePort}/TCP` : undefined;
    if (!hbone || !ports.includes(hbone)) return [...ports];
    const [src, dst] = site.direction === "egress" ? [from, to] : [to, from];
    if (this.isMeshed(src) && this.isMeshed(dst)) {
      this.patterns++;
      return ports.filter((p) => p !== hbone);
    }
    return [...ports];
  }

  private readEgressBlock(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
    shape: { cidr: Ipv4Range; except: readonly Ipv4Range[] },
  ): void {
    const { facts } = this;
    const keys = site.ports.keys;
    const cidr = formatRangeAsCidr(shape.cidr);
    const whole = shape.cidr.lo === 0 && shape.cidr.hi === 0xffffffff;
    const apiKey = `${facts.apiServer.port}/TCP`;
    const cpKey = `${facts.controlPlane.port}/TCP`;
    if (cidr === `${facts.apiServer.clusterIP}/32` && keys.includes(apiKey)) {
      draft.kubeApi.add("service");
      this.patterns++;
      const other = keys.filter((k) => k !== apiKey);
      if (other.length) this.flow(site, localEnd, { cidr }, other);
      return;
    }
    if ((cidr === facts.controlPlane.cidr || whole) && keys.includes(cpKey)) {
      draft.kubeApi.add("control-plane");
      this.patterns++;
      if (whole)
        this.find(
          site,
          `API egress to ${cidr}:${facts.controlPlane.port} reaches every address on that port`,
          "narrowed",
          `to the API pair (${facts.apiServer.clusterIP}:${facts.apiServer.port} and ${facts.controlPlane.cidr}:${facts.controlPlane.port}): kubeApi`,
        );
      const other = keys.filter((k) => k !== cpKey);
      if (other.length === 0) return;
      if (!whole) return this.lan(site, draft, localEnd, scoped, shape.cidr, other);
      return this.internet(site, draft, localEnd, scoped, shape, other);
    }
    if (whole) return this.internet(site, draft, localEnd, scoped, shape, keys);
    const privateRanges = facts.privateRanges.map((r) => parseCidrRange(r)!);
    if (privateRanges.some((r) => rangeContains(r, shape.cidr)))
      return this.lan(site, draft, localEnd, scoped, shape.cidr, keys);
    this.flow(site, localEnd, { cidr }, keys);
  }

  private internet(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
    shape: { except: readonly Ipv4Range[] },
    keys: readonly string[],
  ): void {
    const excepted = new Set(shape.except.map(formatRangeAsCidr));
    const missing = this.facts.privateRanges.filter((r) => !excepted.has(r));
    if (missing.length > 0)
      this.find(
        site,
        `internet egress without the private-range excepts ${missing.join(", ")} also reaches the LAN`,
        "narrowed",
        "to the internet minus every private range (externalEgress)",
      );
    if (scoped) return this.flow(site, localEnd, { internet: true }, keys);
    for (const k of keys) draft.externalEgress.add(k);
    this.patterns++;
  }

  private lan(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
    range: Ipv4Range,
    keys: readonly string[],
  ): void {
    const cidr = formatRangeAsCidr(range);
    const address = cidr.endsWith("/32") ? cidr.slice(0, -3) : cidr;
    const host = Object.entries(this.facts.lanHosts).find(([, a]) => a === address)?.[0];
    const { dns } = this.facts;
    if (
      localEnd.namespace === dns.namespace &&
      localEnd.podLabels !== undefined &&
      sameLabels(localEnd.podLabels, dns.podLabels)
    ) {
      // The DNS pods forwarding to a resolver: cluster.dns.upstream, which opens UDP and TCP.
      const split = this.dnsPorts(keys);
      if (split.dns.length > 0) {
        this.dnsUpstream.add(host ?? cidr);
        this.patterns++;
        if (split.dns.length === 1)
          this.find(
            site,
            `the DNS pods forward to ${host ?? cidr} on ${split.dns[0]} only`,
            "normalised",
            "cluster.dns.upstream opens the DNS port on UDP and TCP (TCP carries large answers)",
          );
        keys = split.rest;
        if (keys.length === 0) return;
      }
    }
    if (!host) return this.flow(site, localEnd, { cidr }, keys);
    if (scoped) return this.flow(site, localEnd, { host }, keys);
    const set = draft.lan.get(host) ?? new Set<string>();
    for (const k of keys) set.add(k);
    draft.lan.set(host, set);
    this.patterns++;
  }

  private readIngress(
    site: PeerSite,
    draft: NamespaceDraft,
    localEnd: FlowEnd,
    scoped: boolean,
  ): void {
    const { facts } = this;
    const local = draft.name;
    const keys = site.ports.keys;
    const mesh = facts.mesh;
    if (site.peer === "any") {
      const { dns, rest } = this.dnsPorts(keys);
      if (local === facts.dns.namespace && dns.length > 0) {
        this.patterns++;
        this.find(
          site,
          "bare-port rule: DNS ingress admits every source, inside and outside the cluster",
          "narrowed",
          "to the DNS pods from every declared namespace (generated)",
        );
      }
      const meshPorts = mesh
        ? new Set([mesh.hbonePort, ...mesh.istiodPorts].map((p) => `${p}/TCP`))
        : new Set<string>();
      const hbone = rest.filter((k) => meshPorts.has(k));
      const other = rest.filter((k) => !meshPorts.has(k));
      if (hbone.length > 0 && mesh) {
        if (local === mesh.namespace)
          this.find(
            site,
            `bare-port rule admits every source on ${hbone.join(", ")}`,
            "narrowed",
            "to the meshed namespaces (mesh pattern: ztunnel and istiod)",
          );
        else
          this.find(
            site,
            `bare HBONE rule admits every source on ${hbone.join(", ")}: every meshed TCP connection`,
            "dropped",
            "HBONE is generated for each declared flow between meshed namespaces",
          );
      }
      if (other.length > 0) {
        for (const k of other) draft.webhookPorts.add(k);
        this.find(
          site,
          `bare-port rule admits every source on ${other.join(", ")}`,
          "narrowed",
          `to the control plane ${facts.controlPlane.cidr} (webhookPorts); declare a flow if something else calls these ports`,
        );
      }
      return;
    }
    const shape = site.shape;
    if (shape?.kind === "ipBlock") {
      const cidr = formatRangeAsCidr(shape.cidr);
      if (cidr === facts.controlPlane.cidr) {
        for (const k of keys) draft.webhookPorts.add(k);
        this.patterns++;
        return;
      }
      if (mesh && cidr === mesh.probeSource) {
        this.patterns++;
        return;
      }
      const whole = shape.cidr.lo === 0 && shape.cidr.hi === 0xffffffff;
      return this.flow(site, whole ? { internet: true } : { cidr }, localEnd, keys);
    }
    if (shape?.kind !== "pods") return;
    const names = peerNamespaces(site.shape, site.policy, this.model);
    const peerLabels = exactLabels(shape.pods);
    if (names === undefined || peerLabels === undefined) {
      this.find(
        site,
        "a selector the config cannot name (namespace labels no Namespace object carries, or pod expressions)",
        "dropped",
        "declare the flow by hand",
      );
      return;
    }
    if (names === "all") {
      this.find(
        site,
        `namespaceSelector: {} admits every namespace on ${keys.join(", ")}`,
        "narrowed",
        "to the namespaces whose egress reaches this one (imported from their side)",
      );
      return;
    }
    const atDnsPods =
      local === facts.dns.namespace &&
      localEnd.podLabels !== undefined &&
      sameLabels(localEnd.podLabels, facts.dns.podLabels);
    for (const source of names) {
      if (
        mesh &&
        source === mesh.namespace &&
        Object.keys(peerLabels).length === 0 &&
        draft.meshed
      ) {
        this.patterns++;
        continue;
      }
      let ports: readonly string[] = keys;
      if (mesh && local === mesh.namespace && this.isMeshed(source)) {
        // Meshed workloads reaching ztunnel and istiod: the `meshed` pattern of the source.
        const meshPorts = this.meshPorts();
        if (ports.some((k) => meshPorts.has(k))) this.patterns++;
        ports = ports.filter((k) => !meshPorts.has(k));
      }
      if (atDnsPods && Object.keys(peerLabels).length === 0) {
        // The DNS pods admitting a namespace on the DNS port: generated for every namespace.
        const { dns: dnsKeys, rest } = this.dnsPorts(ports);
        if (dnsKeys.length > 0) this.patterns++;
        ports = rest;
      }
      if (ports.length === 0) continue;
      if (!this.known.has(source)) {
        const prometheus = facts.monitoringNamespace
          ? ` (Prometheus runs in ${facts.monitoringNamespace})`
          : "";
        this.find(
          site,
          `admits ${source}, a namespace the input neither protects nor declares${prometheus}`,
          "dropped",
          "nothing runs there to need it; declare a flow if it does",
          { from: source, to: local },
        );
        continue;
      }
      const app = this.withoutHbone(site, local, source, ports);
      if (app.length === 0) continue;
      const wholeBoth = !scoped && Object.keys(peerLabels).length === 0;
      if (wholeBoth && source === local) {
        draft.intra.ingress.push(site.location);
        for (const p of app) draft.intra.ports.add(p);
        this.patterns++;
        continue;
      }
      if (wholeBoth && source === facts.monitoringNamespace && local === facts.dns.namespace) {
        this.find(
          site,
          `scrape ingress at every pod of the DNS namespace ${local}`,
          "narrowed",
          "to the DNS pods: nothing may select the whole DNS namespace",
          { from: source, to: local },
        );
        this.flow(
          site,
          { namespace: source },
          { namespace: local, podLabels: facts.dns.podLabels },
          app,
        );
        continue;
      }
      if (wholeBoth && source === facts.monitoringNamespace) {
        draft.metrics.ingress.push(site.location);
        for (const p of app) draft.metrics.ports.add(p);
        this.patterns++;
        continue;
      }
      this.flow(
        site,
        { namespace: source, ...(Object.keys(peerLabels).length ? { podLabels: peerLabels } : {}) },
        localEnd,
        app,
      );
    }
  }

  /** A Calico policy becomes a calicoPolicies entry when its rules are nets on a protocol. */
  private readCalico(site: PeerSite): void {
    const { policy } = site;
    const target = targetShape(policy);
    if (policy.tier !== "default") {
      // calicoPolicies render into the default tier: carrying the rule over would move it.
      this.find(
        site,
        `Calico policy in tier ${policy.tier}`,
        "dropped",
        "the config's calicoPolicies live in the default tier; a tier's Pass and end-of-tier Deny have no config form",
      );
      return;
    }
    if (policy.namespace === undefined || target?.kind !== "calico") {
      this.find(
        site,
        "GlobalNetworkPolicy",
        "dropped",
        "the config holds namespaced Calico policies only",
      );
      return;
    }
    const draft = this.ns(policy.namespace);
    let entry = draft.calico.find((c) => c.name === policy.ref.name);
    if (!entry) {
      entry = {
        name: policy.ref.name,
        selector: target.text,
        ...(Number.isFinite(policy.order) ? { order: policy.order } : {}),
        types: [
          ...(policy.appliesTo.ingress ? ["Ingress"] : []),
          ...(policy.appliesTo.egress ? ["Egress"] : []),
        ],
        ingress: [],
        egress: [],
      };
      draft.calico.push(entry);
    }
    const shape = site.shape;
    if (
      shape?.kind !== "calico" ||
      !shape.nets ||
      shape.selector ||
      shape.namespaceSelector ||
      shape.notNets
    ) {
      this.find(
        site,
        "a Calico rule whose peer is not a list of nets",
        "dropped",
        "the config's calicoPolicies carry nets only; declare a flow instead",
      );
      return;
    }
    const nets = shape.nets.map((r) => {
      const cidr = formatRangeAsCidr(r);
      const address = cidr.endsWith("/32") ? cidr.slice(0, -3) : cidr;
      return Object.entries(this.facts.lanHosts).find(([, a]) => a === address)?.[0] ?? cidr;
    });
    const { keys, icmp } = site.ports;
    const rules = entry[site.direction] as Record<string, unknown>[];
    if (icmp && keys.length === 0) rules.push({ action: site.rule.action, protocol: "ICMP", nets });
    else {
      const byProtocol = new Map<string, number[]>();
      for (const k of keys) {
        const [range, protocol] = k.split("/");
        if (range.includes("-")) {
          this.find(site, "a Calico port range", "dropped", "declare the range as a flow");
          continue;
        }
        byProtocol.set(protocol, [...(byProtocol.get(protocol) ?? []), Number(range)]);
      }
      for (const [protocol, ports] of byProtocol)
        rules.push({ action: site.rule.action, protocol, nets, ports });
    }
    this.patterns++;
  }
}

function endText(end: FlowEnd): string {
  if (end.internet) return "internet";
  if (end.host) return end.host;
  if (end.cidr) return end.cidr;
  const labels = Object.values(end.podLabels ?? {});
  return labels.length ? `${end.namespace}-${labels.join("-")}` : end.namespace!;
}

function endConfig(end: FlowEnd): unknown {
  if (end.internet) return "internet";
  if (end.host) return { host: end.host };
  if (end.cidr) return { cidr: end.cidr };
  return end.podLabels ? { namespace: end.namespace, podLabels: end.podLabels } : end.namespace;
}

function flowName(from: FlowEnd, to: FlowEnd, taken: Set<string>): string {
  const base = `${endText(from)}-to-${endText(to)}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 55)
    .replace(/-$/, "");
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** Pair key of a flow end as the diff names it: namespace, or the range name. */
export function pairEnd(end: FlowEnd, facts: InferredFacts): string {
  if (end.namespace) return end.namespace;
  if (end.internet) return "internet";
  if (end.host) return end.host;
  const address = end.cidr?.endsWith("/32") ? end.cidr.slice(0, -3) : end.cidr;
  return Object.entries(facts.lanHosts).find(([, a]) => a === address)?.[0] ?? end.cidr!;
}

/**
 * An ingress corner from a whole namespace and an egress corner to some of its pods (or the
 * other way round) on shared ports are one flow, the narrower one: both corners only meet there.
 */
function joinScopedCorners(flows: Map<string, FlowDraft>): void {
  const drafts = [...flows.entries()];
  for (const [wideKey, wide] of drafts) {
    const onlyIngress = wide.egress.length === 0;
    const onlyEgress = wide.ingress.length === 0;
    if (!onlyIngress && !onlyEgress) continue;
    for (const [, narrow] of drafts) {
      if (narrow === wide || !wide.from.namespace || !wide.to.namespace) continue;
      if (
        narrow.from.namespace !== wide.from.namespace ||
        narrow.to.namespace !== wide.to.namespace
      )
        continue;
      const narrowHasOther = onlyIngress
        ? narrow.egress.length > 0 && narrow.ingress.length === 0
        : narrow.ingress.length > 0 && narrow.egress.length === 0;
      if (!narrowHasOther) continue;
      const wideEnd = onlyIngress ? wide.to : wide.from;
      if (wideEnd.podLabels !== undefined) continue;
      const shared = [...wide.ports].filter((p) => narrow.ports.has(p));
      if (shared.length === 0) continue;
      narrow[onlyIngress ? "ingress" : "egress"].push(
        ...(onlyIngress ? wide.ingress : wide.egress),
      );
      for (const p of shared) wide.ports.delete(p);
      if (wide.ports.size === 0) flows.delete(wideKey);
      break;
    }
  }
}

/**
 * Reads a model (built from the existing tree, without representative pods) into stack config.
 * @throws ImportError when a cluster fact cannot be inferred.
 */
/** `given`: cluster facts passed in (`--facts FILE`), used instead of their inference. */
export function importPolicies(
  model: ClusterModel,
  stack: string,
  given: Partial<ClusterFacts> = {},
): ImportResult {
  const sites = sitesOf(model);
  const facts = inferFacts(model, sites, given);
  const importer = new Importer(model, facts);
  importer.markMeshed(sites);
  for (const site of sites) importer.read(site);
  for (const warning of model.warnings) {
    const ref = warning.split(" ")[0];
    const source = model.policies.find((p) => formatRef(p.ref) === ref)?.source;
    importer.findings.push({
      location: `${source ?? ref} ${warning.split(" ")[1].replace(/:$/, "")}`,
      problem: warning.slice(warning.indexOf(": ") + 2),
      action: "dropped",
      detail: "as the engine read it (nothing of it imported)",
    });
  }

  const halfCorners = new Map<string, string>();
  const half = (from: string, to: string, corners: Corners, what: string, ports = ""): void => {
    if (ports === "" && corners.egress.length > 0 && corners.ingress.length > 0) return;
    const have = corners.egress.length > 0 ? "egress" : "ingress";
    const missing = have === "egress" ? "ingress" : "egress";
    const location = corners[have][0];
    halfCorners.set(`${from}\u0000${to}`, what);
    importer.findings.push({
      location,
      problem: `${what}${ports}: the input has the ${have} corner but no ${missing} corner, so the cluster drops it`,
      action: "made explicit",
      detail: `declared once; the config generates both corners (the ${missing} corner is added)`,
      from,
      to,
    });
  };

  joinScopedCorners(importer.flows);
  const taken = new Set<string>();
  const flows = [...importer.flows.values()]
    .sort((a, b) => (JSON.stringify([a.from, a.to]) < JSON.stringify([b.from, b.to]) ? -1 : 1))
    .map((f) => {
      const name = flowName(f.from, f.to, taken);
      // A flow the input admits end to end is not dropped by the cluster, whatever corners were
      // read for it: its other corner can be a rule that repeats a namespace-wide one and was read
      // there (namespaceWideCopies).
      if (f.from.namespace && f.to.namespace && !admittedEndToEnd(model, f)) {
        const [from, to] = [pairEnd(f.from, facts), pairEnd(f.to, facts)];
        const onlyEgress = [...f.cornerPorts.egress].filter((p) => !f.cornerPorts.ingress.has(p));
        const onlyIngress = [...f.cornerPorts.ingress].filter((p) => !f.cornerPorts.egress.has(p));
        if (f.egress.length === 0 || f.ingress.length === 0) half(from, to, f, `flow ${name}`);
        else if (onlyEgress.length > 0)
          half(
            from,
            to,
            { egress: f.egress, ingress: [] },
            `flow ${name}`,
            ` on ${onlyEgress.join(", ")}`,
          );
        else if (onlyIngress.length > 0)
          half(
            from,
            to,
            { egress: [], ingress: f.ingress },
            `flow ${name}`,
            ` on ${onlyIngress.join(", ")}`,
          );
      }
      return {
        name,
        from: endConfig(f.from),
        to: endConfig(f.to),
        ports: sortPorts(f.ports),
        reason: `Imported from ${[...f.egress, ...f.ingress].join("; ")}`,
      };
    });

  const namespaces = [...importer.namespaces.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((d) => {
      if (d.metrics.ports.size > 0 && facts.monitoringNamespace)
        half(facts.monitoringNamespace, d.name, d.metrics, `metrics scrape of ${d.name}`);
      if (d.intra.ports.size > 0)
        half(d.name, d.name, d.intra, `intra-namespace traffic of ${d.name}`);
      const sources = [...d.sources];
      if (d.kubeApi.size === 1)
        importer.findings.push({
          location: sources[0] ?? d.name,
          problem: `${d.name} reaches the API only through the ${[...d.kubeApi][0]} address`,
          action: "normalised",
          detail: "kubeApi opens the ClusterIP and the control plane together, as the API needs",
        });
      return {
        name: d.name,
        purpose: sources.length
          ? `Imported from ${sources.join(", ")}`
          : "Added by import (named by the cluster facts)",
        ...(d.meshed ? { meshed: true } : {}),
        ...(d.kubeApi.size > 0 ? { kubeApi: true } : {}),
        ...(d.externalEgress.size ? { externalEgress: sortPorts(d.externalEgress) } : {}),
        ...(d.metrics.ports.size ? { metricsPorts: sortPorts(d.metrics.ports) } : {}),
        ...(d.intra.ports.size ? { intraNamespace: sortPorts(d.intra.ports) } : {}),
        ...(d.webhookPorts.size ? { webhookPorts: sortPorts(d.webhookPorts) } : {}),
        ...(d.lan.size
          ? { lanEgress: [...d.lan].map(([host, ports]) => ({ host, ports: sortPorts(ports) })) }
          : {}),
        ...(d.calico.length ? { calicoPolicies: d.calico } : {}),
      };
    });

  const cluster = {
    name: stack,
    apiServer: facts.apiServer,
    controlPlane: facts.controlPlane,
    dns: {
      ...facts.dns,
      upstream: importer.dnsUpstream.size > 0 ? [...importer.dnsUpstream].sort() : "none",
    },
    privateRanges: facts.privateRanges,
    ...(facts.monitoringNamespace ? { monitoringNamespace: facts.monitoringNamespace } : {}),
    ...(facts.mesh ? { mesh: facts.mesh } : {}),
    lanHosts: facts.lanHosts,
    edge: facts.edge,
  };
  return {
    raw: { cluster, namespaces, flows },
    facts,
    findings: importer.findings,
    halfCorners,
    counts: { peers: sites.length, patterns: importer.patterns, flowCorners: importer.flowCorners },
  };
}
