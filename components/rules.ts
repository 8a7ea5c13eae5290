/**
 * Pure rendering of declared connections into Kubernetes NetworkPolicy manifests, one namespace at
 * a time. Each connection yields up to two corners: egress where the source is a protected workload
 * and ingress where the destination is one. Namespace-wide corners go into the namespace's single
 * baseline object (deny both directions plus allows, applied atomically); corners scoped to pod
 * labels go into their own objects.
 */
import { createHash } from "crypto";
import { parseStrictCidr, rangeContains } from "../config/net";
import { intervalsFromRanges, subtractIntervals } from "../engine";
import type { ClusterConfig, Endpoint, PortSpec } from "../config/types";
import { unionPorts, type Connection } from "./connections";

/** The only namespace label nobody can forge: the API server sets it from the name. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
export const MANAGED_BY_LABELS = { "app.kubernetes.io/managed-by": "zt-netpol" } as const;

export type Direction = "Ingress" | "Egress";

export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

export interface NetworkPolicyPeer {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyPort {
  protocol: string;
  port?: number;
  endPort?: number;
}

export interface IngressRule {
  from: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface EgressRule {
  to: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: Direction[];
  ingress?: IngressRule[];
  egress?: EgressRule[];
}

export interface NetworkPolicyManifest {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: NetworkPolicySpec;
}

export function baselinePolicyName(namespace: string): string {
  return `${namespace}-network-policy`;
}

/** `{}` selects every pod; labels become `matchLabels`. */
export function selectorFor(labels: Readonly<Record<string, string>>): LabelSelector {
  return Object.keys(labels).length === 0 ? {} : { matchLabels: { ...labels } };
}

/** `{namespaceSelector: name}` AND `{podSelector}` in one peer, never two (that would be OR). */
export function workloadPeer(
  localNamespace: string,
  namespace: string,
  podLabels: Readonly<Record<string, string>>,
): NetworkPolicyPeer {
  const podSelector = selectorFor(podLabels);
  if (namespace === localNamespace) return { podSelector };
  const peer: NetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } },
  };
  if (Object.keys(podLabels).length > 0) peer.podSelector = podSelector;
  return peer;
}

/**
 * Private ranges strictly inside an egress CIDR are excepted: "the internet" (or 0.0.0.0/1, or any
 * CIDR wider than a private range) must not reach the LAN. A CIDR that lies wholly inside the
 * private ranges is the LAN itself, named on purpose, and keeps no excepts: with privateRanges
 * written in pieces (10.0.0.0/9 and 10.128.0.0/9), excepting them from a flow to 10.0.0.0/8
 * would leave the rule empty.
 */
export function ipBlockPeer(
  cidr: string,
  direction: Direction,
  privateRanges: readonly string[],
): NetworkPolicyPeer {
  const outer = parseStrictCidr(cidr);
  const privates = privateRanges.flatMap((range) => parseStrictCidr(range) ?? []);
  const isPrivate =
    outer !== undefined &&
    subtractIntervals(
      [outer.lo, outer.hi],
      intervalsFromRanges(privates.map((p): [number, number] => [p.lo, p.hi])),
    ).length === 0;
  const except =
    direction === "Egress" && outer && !isPrivate
      ? privateRanges.filter((range) => {
          const inner = parseStrictCidr(range);
          const strictlyInside = inner !== undefined && inner.hi - inner.lo < outer.hi - outer.lo;
          return strictlyInside && rangeContains(outer, inner);
        })
      : [];
  return { ipBlock: except.length > 0 ? { cidr, except: [...except] } : { cidr } };
}

export function renderPorts(ports: readonly PortSpec[]): NetworkPolicyPort[] {
  return ports.map((p) =>
    p.endPort !== undefined
      ? { protocol: p.protocol, port: p.port, endPort: p.endPort }
      : { protocol: p.protocol, port: p.port },
  );
}

/** Ports a corner must open: the application ports, plus HBONE when both ends are meshed. */
export function cornerPorts(connection: Connection, hbonePort: number | undefined): PortSpec[] {
  const carriesTcp = connection.ports.some((p) => p.protocol === "TCP");
  if (!connection.hbone || hbonePort === undefined || !carriesTcp) return [...connection.ports];
  return unionPorts([{ port: hbonePort, protocol: "TCP" }], connection.ports);
}

function peerFor(
  localNamespace: string,
  remote: Endpoint,
  direction: Direction,
  cluster: ClusterConfig,
): NetworkPolicyPeer {
  return remote.kind === "workload"
    ? workloadPeer(localNamespace, remote.namespace, remote.podLabels)
    : ipBlockPeer(remote.cidr, direction, cluster.privateRanges);
}

interface Corner {
  readonly direction: Direction;
  readonly localLabels: Readonly<Record<string, string>>;
  readonly peer: NetworkPolicyPeer;
  readonly ports: PortSpec[];
  readonly connection: Connection;
}

/** The corners of `connections` that live in `namespace`. */
export function cornersIn(
  namespace: string,
  connections: readonly Connection[],
  cluster: ClusterConfig,
): Corner[] {
  const corners: Corner[] = [];
  for (const c of connections) {
    const ports = cornerPorts(c, cluster.mesh?.hbonePort);
    if (c.from.kind === "workload" && c.from.namespace === namespace) {
      corners.push({
        direction: "Egress",
        localLabels: c.from.podLabels,
        peer: peerFor(namespace, c.to, "Egress", cluster),
        ports,
        connection: c,
      });
    }
    if (c.to.kind === "workload" && c.to.namespace === namespace) {
      corners.push({
        direction: "Ingress",
        localLabels: c.to.podLabels,
        peer: peerFor(namespace, c.from, "Ingress", cluster),
        ports,
        connection: c,
      });
    }
  }
  return corners;
}

/** One rule per distinct peer, ports merged, in first-seen order. */
function mergeRules(
  corners: readonly Corner[],
): { peer: NetworkPolicyPeer; ports: PortSpec[]; names: string[] }[] {
  const byPeer = new Map<string, { peer: NetworkPolicyPeer; ports: PortSpec[]; names: string[] }>();
  for (const corner of corners) {
    const key = JSON.stringify(corner.peer);
    const entry = byPeer.get(key) ?? { peer: corner.peer, ports: [], names: [] };
    // An empty port list means "any port" (the probe source only) and must stay empty.
    entry.ports =
      corner.ports.length === 0 || (byPeer.has(key) && entry.ports.length === 0)
        ? []
        : unionPorts(entry.ports, corner.ports);
    entry.names.push(corner.connection.name);
    byPeer.set(key, entry);
  }
  return [...byPeer.values()];
}

function buildPolicy(
  name: string,
  namespace: string,
  podLabels: Readonly<Record<string, string>>,
  policyTypes: Direction[],
  corners: readonly Corner[],
): NetworkPolicyManifest {
  const spec: NetworkPolicySpec = { podSelector: selectorFor(podLabels), policyTypes };
  const rulesFor = (direction: Direction) =>
    mergeRules(corners.filter((c) => c.direction === direction));
  if (policyTypes.includes("Ingress")) {
    spec.ingress = rulesFor("Ingress").map((r) =>
      r.ports.length ? { from: [r.peer], ports: renderPorts(r.ports) } : { from: [r.peer] },
    );
  }
  if (policyTypes.includes("Egress")) {
    spec.egress = rulesFor("Egress").map((r) => ({ to: [r.peer], ports: renderPorts(r.ports) }));
  }
  const connections = [...new Set(corners.map((c) => c.connection.name))];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name,
      namespace,
      labels: { ...MANAGED_BY_LABELS },
      annotations: { "zt-netpol/connections": connections.join(",") },
    },
    spec,
  };
}

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

const NAME_HASH_LENGTH = 8;
const MAX_OBJECT_NAME = 63;

/**
 * The object name of a pod-scoped policy, derived from what it selects (namespace and pod labels)
 * and nothing else, so adding or removing a flow never renames it: Pulumi applies a rename as a
 * replace, and the old object's allows vanish before the new one exists. The readable part is the
 * namespace and the label values in key order; a hash of the exact selector keeps two selectors
 * apart when their readable forms collide (`app: grafana` and `name: grafana`) or are cut short.
 * Example: `default-grafana-1b3c5d7e`.
 */
export function scopedPolicyName(
  namespace: string,
  labels: Readonly<Record<string, string>>,
): string {
  const hash = createHash("sha256")
    .update(`${namespace}/${labelsKey(labels)}`)
    .digest("hex")
    .slice(0, NAME_HASH_LENGTH);
  const values = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, value]) => value);
  const readable = [namespace, ...values]
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_OBJECT_NAME - NAME_HASH_LENGTH - 1)
    .replace(/-+$/, "");
  return `${readable}-${hash}`;
}

/**
 * A pod-scoped object's own rules, then the baseline's rules of the same direction that it does not
 * already have (same peer and ports, compared as rendered), in the baseline's order.
 */
function withBaselineRules<Rule>(own: readonly Rule[], baseline: readonly Rule[]): Rule[] {
  const present = new Set(own.map((rule) => JSON.stringify(rule)));
  return [...own, ...baseline.filter((rule) => !present.has(JSON.stringify(rule)))];
}

/**
 * The NetworkPolicies of one protected namespace: the baseline first (selects every pod, denies
 * both directions, carries the namespace-wide allows), then one object per pod selector used by
 * pod-scoped corners, with only the directions it adds.
 *
 * Each pod-scoped object also carries the baseline's namespace-wide allows of its own directions.
 * On a first enforcement (the first `pulumi up`, or a promotion from staged) the pods are not
 * isolated yet, and the first object that selects a pod isolates it in the directions it lists;
 * the pod-scoped objects are created before the baseline (namespaceProtection.ts), so without
 * these copies their pods would lose DNS, the API, scrapes, the mesh and the namespace's flows
 * until the baseline exists (docs/rollout.md, "The first-enforcement window"). Verdicts once every
 * object exists do not change: a pod selected by both admits the union, and the copies are already
 * in it through the baseline.
 */
export function renderNamespacePolicies(
  namespace: string,
  connections: readonly Connection[],
  cluster: ClusterConfig,
): NetworkPolicyManifest[] {
  const corners = cornersIn(namespace, connections, cluster);
  const wide = corners.filter((c) => Object.keys(c.localLabels).length === 0);
  const scoped = new Map<string, Corner[]>();
  for (const corner of corners) {
    const key = labelsKey(corner.localLabels);
    if (key) scoped.set(key, [...(scoped.get(key) ?? []), corner]);
  }
  const baseline = buildPolicy(
    baselinePolicyName(namespace),
    namespace,
    {},
    ["Ingress", "Egress"],
    wide,
  );
  const policies = [baseline];
  const taken = new Map([[baselinePolicyName(namespace), "{}"]]);
  for (const [key, group] of scoped) {
    const labels = group[0].localLabels;
    const name = scopedPolicyName(namespace, labels);
    // A 32-bit hash collision inside one namespace: refuse rather than merge two selectors.
    if (taken.has(name))
      throw new Error(
        `pod selectors {${taken.get(name)}} and {${key}} in namespace ${namespace} both name ${name}`,
      );
    taken.set(name, key);
    const types = (["Ingress", "Egress"] as const).filter((d) =>
      group.some((c) => c.direction === d),
    );
    const policy = buildPolicy(name, namespace, labels, [...types], group);
    if (policy.spec.ingress)
      policy.spec.ingress = withBaselineRules(policy.spec.ingress, baseline.spec.ingress ?? []);
    if (policy.spec.egress)
      policy.spec.egress = withBaselineRules(policy.spec.egress, baseline.spec.egress ?? []);
    policies.push(policy);
  }
  return policies;
}
