/**
 * Pure rendering of the identity layer for one meshed namespace: Istio `AuthorizationPolicy`
 * objects that ztunnel enforces at L4, and the namespace's `PeerAuthentication`.
 *
 * Every declared connection into the namespace that ztunnel sees becomes part of an ALLOW rule:
 * the namespace-wide policy `<ns>-authorization` (no selector: every pod; it exists even without
 * rules, so no pod of a meshed namespace is ever left without an ALLOW policy, which in Istio
 * would mean "allow everything"), plus one policy per destination pod label set. Only fields
 * ztunnel enforces are used (https://istio.io/latest/docs/ambient/usage/l4-policy/):
 * `source.namespaces`, `source.principals`, `source.notPrincipals`, `source.ipBlocks` and
 * `operation.ports`.
 *
 * What ztunnel does not see, and so gets no rule: UDP/SCTP (not captured), kubelet probes from the
 * probe source (istio-cni does not redirect them,
 * https://istio.io/latest/docs/ambient/usage/networkpolicy/), and the seed's `mesh-ztunnel`
 * NetworkPolicy pattern (ingress from the mesh namespace: with in-pod redirection ztunnel
 * delivers inbound traffic inside the pod after authorization, so it is a CNI-level allowance).
 *
 * Sources: a meshed workload is named by its identity, `source.principals`
 * `<trustDomain>/ns/<ns>/sa/<serviceAccount>` when the flow names a service account, else
 * `source.namespaces` (identity is per service account: pod labels cannot be seen by ztunnel;
 * the CNI gates keep the labels). A plaintext source (not meshed, or outside the cluster) has no
 * identity: its rule is `notPrincipals: ["*"]` (plus `ipBlocks` for a CIDR), on its ports only.
 *
 * mTLS: STRICT namespace-wide, unless a declared connection arrives in plaintext. Then the
 * namespace is PERMISSIVE and a DENY policy `<ns>-plaintext-ports` rejects plaintext on every
 * port but the declared ones: the same construction istiod uses for port-level PERMISSIVE
 * (`convertPeerAuthentication` in istio/istio pilot/pkg/serviceregistry/kube/controller/ambient),
 * expressed namespace-wide, which a PeerAuthentication can only do with a pod selector.
 */
import type { ClusterConfig, Endpoint, PortSpec, StackConfig } from "../config/types";
import { MAX_AUTHORIZATION_PORTS } from "../config/validate";
import type { Connection } from "./connections";
import { MANAGED_BY_LABELS } from "./rules";

export const ISTIO_SECURITY_API_VERSION = "security.istio.io/v1";

export interface IstioSource {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  ipBlocks?: string[];
}

export interface AuthorizationRule {
  from?: { source: IstioSource }[];
  to?: { operation: { ports?: string[]; notPorts?: string[] } }[];
}

interface Metadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface AuthorizationPolicyManifest {
  apiVersion: typeof ISTIO_SECURITY_API_VERSION;
  kind: "AuthorizationPolicy";
  metadata: Metadata;
  spec: {
    selector?: { matchLabels: Record<string, string> };
    action: "ALLOW" | "DENY";
    rules?: AuthorizationRule[];
  };
}

export interface PeerAuthenticationManifest {
  apiVersion: typeof ISTIO_SECURITY_API_VERSION;
  kind: "PeerAuthentication";
  metadata: Metadata;
  spec: { mtls: { mode: "STRICT" | "PERMISSIVE" } };
}

export interface NamespaceAuthorization {
  readonly peerAuthentication: PeerAuthenticationManifest;
  /** The namespace-wide ALLOW policy first, then pod-scoped ones, then the plaintext DENY. */
  readonly policies: readonly AuthorizationPolicyManifest[];
}

export function authorizationPolicyName(namespace: string): string {
  return `${namespace}-authorization`;
}

/** Kinds ztunnel never judges (see the module comment). */
export function ztunnelSees(connection: Connection): boolean {
  return connection.kind !== "mesh-probe" && connection.kind !== "mesh-ztunnel";
}

function isMeshedWorkload(config: StackConfig, end: Endpoint): boolean {
  return (
    end.kind === "workload" &&
    config.cluster.mesh !== undefined &&
    config.namespaces.some((n) => n.name === end.namespace && n.meshed)
  );
}

export function principalOf(cluster: ClusterConfig, namespace: string, serviceAccount: string) {
  return `${cluster.mesh?.trustDomain ?? "cluster.local"}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * TCP ports as Istio writes them (strings, one per port). Validation refuses wider ranges into a
 * meshed namespace with their key path; this guard only catches a config that skipped it.
 */
export function tcpPorts(connection: Connection): string[] {
  const out: string[] = [];
  for (const p of connection.ports.filter((x: PortSpec) => x.protocol === "TCP")) {
    const last = p.endPort ?? p.port;
    if (last - p.port + 1 > MAX_AUTHORIZATION_PORTS)
      throw new Error(
        `${connection.kind} "${connection.name}": TCP ${p.port}-${last} is wider than ${MAX_AUTHORIZATION_PORTS} ports, which Istio AuthorizationPolicy would list one by one (validateStackConfig refuses it)`,
      );
    for (let port = p.port; port <= last; port++) out.push(String(port));
  }
  return out;
}

/** The source clause ztunnel can check for a connection's origin. */
export function istioSource(config: StackConfig, from: Endpoint): IstioSource {
  if (from.kind === "workload" && isMeshedWorkload(config, from))
    return from.serviceAccount
      ? { principals: [principalOf(config.cluster, from.namespace, from.serviceAccount)] }
      : { namespaces: [from.namespace] };
  // Plaintext has no identity: "no principal" is the only L4 attribute besides the address.
  return from.kind === "external"
    ? { notPrincipals: ["*"], ipBlocks: [from.cidr] }
    : { notPrincipals: ["*"] };
}

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

function numericSort(ports: Iterable<string>): string[] {
  return [...new Set(ports)].sort((a, b) => Number(a) - Number(b));
}

/** One rule per distinct source, ports merged, in first-seen order. */
function rulesFor(config: StackConfig, connections: readonly Connection[]): AuthorizationRule[] {
  const bySource = new Map<string, { source: IstioSource; ports: string[] }>();
  for (const c of connections) {
    const source = istioSource(config, c.from);
    const key = JSON.stringify(source);
    const entry = bySource.get(key) ?? { source, ports: [] };
    entry.ports.push(...tcpPorts(c));
    bySource.set(key, entry);
  }
  return [...bySource.values()].map(({ source, ports }) => ({
    from: [{ source }],
    to: [{ operation: { ports: numericSort(ports) } }],
  }));
}

function metadata(name: string, namespace: string, connections: readonly Connection[]): Metadata {
  const names = [...new Set(connections.map((c) => c.name))];
  return {
    name,
    namespace,
    labels: { ...MANAGED_BY_LABELS },
    ...(names.length > 0 ? { annotations: { "zt-netpol/connections": names.join(",") } } : {}),
  };
}

function scopedName(
  namespace: string,
  labels: Readonly<Record<string, string>>,
  taken: Set<string>,
) {
  const clean = `${namespace}-${Object.values(labels).join("-")}-authorization`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  let name = clean;
  for (let i = 2; taken.has(name); i++) name = `${clean.slice(0, 60)}-${i}`;
  taken.add(name);
  return name;
}

/**
 * The identity layer of one meshed namespace, from every declared connection of the stack
 * (only those into `namespace` that ztunnel sees and that carry TCP are used).
 */
export function renderNamespaceAuthorization(
  config: StackConfig,
  namespace: string,
  connections: readonly Connection[],
): NamespaceAuthorization {
  const inbound = connections.filter(
    (c) =>
      c.to.kind === "workload" &&
      c.to.namespace === namespace &&
      ztunnelSees(c) &&
      c.ports.some((p) => p.protocol === "TCP"),
  );
  const wide = inbound.filter((c) => c.to.kind === "workload" && labelsKey(c.to.podLabels) === "");
  const scoped = new Map<string, Connection[]>();
  for (const c of inbound) {
    const key = c.to.kind === "workload" ? labelsKey(c.to.podLabels) : "";
    if (key) scoped.set(key, [...(scoped.get(key) ?? []), c]);
  }
  const baseName = authorizationPolicyName(namespace);
  const taken = new Set([baseName]);
  const policies: AuthorizationPolicyManifest[] = [
    {
      apiVersion: ISTIO_SECURITY_API_VERSION,
      kind: "AuthorizationPolicy",
      metadata: metadata(baseName, namespace, wide),
      // No rules at all is Istio's allow-nothing policy: every pod still has an ALLOW policy.
      spec: { action: "ALLOW", ...(wide.length > 0 ? { rules: rulesFor(config, wide) } : {}) },
    },
  ];
  for (const group of scoped.values()) {
    const labels = group[0].to.kind === "workload" ? group[0].to.podLabels : {};
    policies.push({
      apiVersion: ISTIO_SECURITY_API_VERSION,
      kind: "AuthorizationPolicy",
      metadata: metadata(scopedName(namespace, labels, taken), namespace, group),
      spec: {
        selector: { matchLabels: { ...labels } },
        action: "ALLOW",
        rules: rulesFor(config, group),
      },
    });
  }
  const plaintext = inbound.filter((c) => !isMeshedWorkload(config, c.from));
  if (plaintext.length > 0) {
    policies.push({
      apiVersion: ISTIO_SECURITY_API_VERSION,
      kind: "AuthorizationPolicy",
      metadata: metadata(`${namespace}-plaintext-ports`, namespace, plaintext),
      spec: {
        action: "DENY",
        rules: [
          {
            from: [{ source: { notPrincipals: ["*"] } }],
            to: [{ operation: { notPorts: numericSort(plaintext.flatMap(tcpPorts)) } }],
          },
        ],
      },
    });
  }
  return {
    peerAuthentication: {
      apiVersion: ISTIO_SECURITY_API_VERSION,
      kind: "PeerAuthentication",
      metadata: metadata(`${namespace}-mtls`, namespace, []),
      spec: { mtls: { mode: plaintext.length > 0 ? "PERMISSIVE" : "STRICT" } },
    },
    policies,
  };
}
