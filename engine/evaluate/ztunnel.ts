/**
 * The third gate: ztunnel authorization at a meshed destination (Istio ambient, L4).
 *
 * Order and semantics follow istio/ztunnel `src/state.rs` `assert_rbac` and `src/rbac.rs`
 * (read, not copied) and https://istio.io/latest/docs/reference/config/security/authorization-policy/:
 * a connection is denied when any DENY policy matches (STRICT mTLS is one: istiod sends it as a
 * DENY of connections without a peer identity); otherwise allowed when no ALLOW policy applies
 * to the workload; otherwise allowed only when some ALLOW policy matches.
 *
 * When the gate applies: the destination is a meshed pod and the protocol is TCP (ztunnel only
 * captures TCP; UDP and SCTP reach the pod directly). Kubelet probes arrive from the probe source
 * address, which istio-cni excludes from redirection into ztunnel
 * (https://istio.io/latest/docs/ambient/usage/networkpolicy/, "Ambient, health probes, and
 * Kubernetes NetworkPolicy"), so they bypass the gate.
 *
 * Identity: a meshed source pod presents `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`
 * (https://istio.io/latest/docs/concepts/security/#istio-identity); anything else is plaintext
 * and has no namespace or principal for authorization.
 */
import type { IntervalSet } from "../model/intervals";
import * as iv from "../model/intervals";
import { MAX_PORT, MIN_PORT } from "../model/connections";
import type { ObjectRef } from "../model/problems";
import type { ClusterModel, Endpoint, PodInfo } from "../model/types";
import type {
  AuthorizationMatch,
  AuthorizationRule,
  MtlsMode,
  NormalAuthorizationPolicy,
  NormalPeerAuthentication,
} from "../normalise/istio-authorization";
import { stringMatches } from "../normalise/istio-authorization";

export const DEFAULT_TRUST_DOMAIN = "cluster.local";
const ALL_PORTS: IntervalSet = iv.range(MIN_PORT, MAX_PORT);

/** What the destination ztunnel knows about the connection's source. */
export interface ZtunnelPeer {
  /** Present only for a meshed source (mTLS over HBONE). */
  readonly identity?: {
    readonly namespace: string;
    readonly serviceAccount: string;
    /** Without `spiffe://`, as policies write it. */
    readonly principal: string;
  };
  /** Source address (the first address of an external block: blocks never straddle a policy range). */
  readonly ip: number;
}

export type ZtunnelReason =
  | { readonly kind: "strict-mtls"; readonly by?: ObjectRef }
  | {
      readonly kind: "deny-policy";
      readonly policy: NormalAuthorizationPolicy;
      readonly rule: AuthorizationRule;
    }
  | {
      readonly kind: "allow-policy";
      readonly policy: NormalAuthorizationPolicy;
      readonly rule: AuthorizationRule;
    }
  | { readonly kind: "no-allow-policy" }
  | { readonly kind: "no-allow-match"; readonly policies: readonly ObjectRef[] };

export interface ZtunnelDecision {
  /** False when the gate does not apply (destination outside the mesh, not TCP, probe). */
  readonly evaluated: boolean;
  readonly allowed: boolean;
  /** Why the gate did not apply, or the deciding step. */
  readonly note?: string;
  readonly reason?: ZtunnelReason;
  /** Effective mTLS mode on the port at the destination. */
  readonly mtls?: MtlsMode;
  /** ALLOW rules istiod dropped (L7 attributes) in the policies that apply. */
  readonly droppedRules: readonly string[];
}

function listMatches<T>(positive: readonly T[], negative: readonly T[], test: (t: T) => boolean) {
  return (positive.length === 0 || positive.some(test)) && !negative.some(test);
}

/** The destination ports of `m` that match the connection (ztunnel's RbacMatch). */
export function matchPorts(
  m: AuthorizationMatch,
  peer: ZtunnelPeer,
  destination: PodInfo,
): IntervalSet {
  const emptyMatch = Object.values(m).every((list: readonly unknown[]) => list.length === 0);
  if (emptyMatch) return iv.EMPTY_INTERVALS;
  const namespace = peer.identity?.namespace ?? "";
  const principal = peer.identity?.principal ?? "";
  const inRange = (ip: number) => (r: { lo: number; hi: number }) => r.lo <= ip && ip <= r.hi;
  const matches =
    listMatches(m.namespaces, m.notNamespaces, (s) => stringMatches(s, namespace)) &&
    listMatches(m.principals, m.notPrincipals, (s) => stringMatches(s, principal)) &&
    listMatches(
      m.serviceAccounts,
      m.notServiceAccounts,
      (sa) =>
        peer.identity !== undefined &&
        sa.namespace === peer.identity.namespace &&
        sa.serviceAccount === peer.identity.serviceAccount,
    ) &&
    listMatches(m.sourceIps, m.notSourceIps, inRange(peer.ip)) &&
    listMatches(m.destinationIps, m.notDestinationIps, inRange(destination.ip));
  if (!matches) return iv.EMPTY_INTERVALS;
  const positive =
    m.destinationPorts.length === 0
      ? ALL_PORTS
      : iv.fromRanges(m.destinationPorts.map((p) => [p, p] as const));
  return iv.subtract(positive, iv.fromRanges(m.notDestinationPorts.map((p) => [p, p] as const)));
}

/** Ports one rule matches: clauses ANDed, the matches inside a clause ORed, no clause = all. */
export function rulePorts(
  rule: AuthorizationRule,
  peer: ZtunnelPeer,
  destination: PodInfo,
): IntervalSet {
  let ports = ALL_PORTS;
  for (const clause of rule.clauses) {
    let clausePorts: IntervalSet = iv.EMPTY_INTERVALS;
    for (const m of clause) clausePorts = iv.union(clausePorts, matchPorts(m, peer, destination));
    ports = iv.intersect(ports, clausePorts);
    if (ports.length === 0) break;
  }
  return ports;
}

function policyPorts(policy: NormalAuthorizationPolicy, peer: ZtunnelPeer, destination: PodInfo) {
  let ports: IntervalSet = iv.EMPTY_INTERVALS;
  for (const rule of policy.rules) ports = iv.union(ports, rulePorts(rule, peer, destination));
  return ports;
}

export class ZtunnelGate {
  private readonly trustDomain: string;
  private readonly probeSource?: number;
  private readonly cache = new Map<number, readonly NormalAuthorizationPolicy[]>();

  /** False without any Istio policy: then the gate lets every TCP port through (PERMISSIVE, no ALLOW). */
  readonly active: boolean;

  constructor(readonly model: ClusterModel) {
    this.trustDomain = model.options.mesh?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.probeSource = model.options.meshProbeSource;
    this.active =
      (model.authorizationPolicies?.length ?? 0) + (model.peerAuthentications?.length ?? 0) > 0;
  }

  /** Does the gate stand between `source` and `destination`? */
  applies(source: Endpoint, destination: Endpoint): destination is Endpoint & { kind: "pod" } {
    if (this.model.options.mesh === undefined || destination.kind !== "pod") return false;
    if (!destination.pod.meshed) return false;
    return !this.isProbe(source);
  }

  isProbe(source: Endpoint): boolean {
    return (
      source.kind === "external" &&
      this.probeSource !== undefined &&
      source.range.lo === this.probeSource &&
      source.range.hi === this.probeSource
    );
  }

  peer(source: Endpoint): ZtunnelPeer {
    if (source.kind === "external") return { ip: source.range.lo };
    const pod = source.pod;
    if (!pod.meshed) return { ip: pod.ip };
    const serviceAccount = pod.serviceAccount ?? "default";
    return {
      ip: pod.ip,
      identity: {
        namespace: pod.namespace,
        serviceAccount,
        principal: `${this.trustDomain}/ns/${pod.namespace}/sa/${serviceAccount}`,
      },
    };
  }

  /** Policies ztunnel applies to the pod: global, its namespace's, and those selecting it. */
  policiesFor(pod: PodInfo): readonly NormalAuthorizationPolicy[] {
    const cached = pod.hypothetical ? undefined : this.cache.get(pod.id);
    if (cached) return cached;
    const list = (this.model.authorizationPolicies ?? []).filter((p) => p.selects(pod));
    if (!pod.hypothetical) this.cache.set(pod.id, list);
    return list;
  }

  /** The PeerAuthentication that decides each level for the pod (first by name, as sorted). */
  private peerAuthentications(pod: PodInfo) {
    const all = (this.model.peerAuthentications ?? []).filter((p) => p.selects(pod));
    const pick = (scope: NormalPeerAuthentication["scope"]) => all.find((p) => p.scope === scope);
    return { mesh: pick("mesh"), namespace: pick("namespace"), workload: pick("workload") };
  }

  /** Effective mTLS mode per port and the object that set it (UNSET inherits, port level last). */
  mtlsMode(pod: PodInfo, port: number): { mode: MtlsMode; by?: ObjectRef } {
    let mode: MtlsMode = "PERMISSIVE";
    let by: ObjectRef | undefined;
    const levels = this.peerAuthentications(pod);
    for (const pa of [levels.mesh, levels.namespace, levels.workload]) {
      if (pa && pa.mode !== "UNSET") [mode, by] = [pa.mode, pa.ref];
    }
    const portMode = levels.workload?.portLevel.get(port);
    if (portMode !== undefined && portMode !== "UNSET")
      [mode, by] = [portMode, levels.workload!.ref];
    return { mode, by };
  }

  /** TCP ports on which ztunnel rejects plaintext at the pod. */
  strictPorts(pod: PodInfo): IntervalSet {
    const levels = this.peerAuthentications(pod);
    const base = this.mtlsMode(pod, 0).mode;
    let strict = base === "STRICT" ? ALL_PORTS : iv.EMPTY_INTERVALS;
    for (const [port, mode] of levels.workload?.portLevel ?? []) {
      if (mode === "UNSET") continue;
      const single = iv.range(port, port);
      strict = mode === "STRICT" ? iv.union(strict, single) : iv.subtract(strict, single);
    }
    return strict;
  }

  /** Every TCP port the gate lets through from `source` to the meshed `destination`. */
  allowedPorts(source: Endpoint, destination: PodInfo): IntervalSet {
    const peer = this.peer(source);
    const policies = this.policiesFor(destination);
    let allowed = ALL_PORTS;
    if (peer.identity === undefined) allowed = iv.subtract(allowed, this.strictPorts(destination));
    const allows = policies.filter((p) => p.action === "ALLOW");
    if (allows.length > 0) {
      let matched: IntervalSet = iv.EMPTY_INTERVALS;
      for (const p of allows) matched = iv.union(matched, policyPorts(p, peer, destination));
      allowed = iv.intersect(allowed, matched);
    }
    for (const p of policies)
      if (p.action === "DENY") allowed = iv.subtract(allowed, policyPorts(p, peer, destination));
    return allowed;
  }

  /** The deciding step for one TCP port, in ztunnel's order. */
  decide(source: Endpoint, destination: PodInfo, port: number): ZtunnelDecision {
    const peer = this.peer(source);
    const policies = this.policiesFor(destination);
    const droppedRules = policies.flatMap((p) =>
      p.droppedRules.map(
        (d) => `${p.ref.namespace}/${p.ref.name} ${d.path} (uses ${d.fields.join(", ")})`,
      ),
    );
    const { mode, by } = this.mtlsMode(destination, port);
    const base = { evaluated: true, mtls: mode, droppedRules };
    if (peer.identity === undefined && mode === "STRICT")
      return { ...base, allowed: false, reason: { kind: "strict-mtls", by } };
    const hits = (rule: AuthorizationRule) => iv.contains(rulePorts(rule, peer, destination), port);
    for (const policy of policies) {
      if (policy.action !== "DENY") continue;
      const rule = policy.rules.find(hits);
      if (rule) return { ...base, allowed: false, reason: { kind: "deny-policy", policy, rule } };
    }
    const allows = policies.filter((p) => p.action === "ALLOW");
    if (allows.length === 0) return { ...base, allowed: true, reason: { kind: "no-allow-policy" } };
    for (const policy of allows) {
      const rule = policy.rules.find(hits);
      if (rule) return { ...base, allowed: true, reason: { kind: "allow-policy", policy, rule } };
    }
    return {
      ...base,
      allowed: false,
      reason: { kind: "no-allow-match", policies: allows.map((p) => p.ref) },
    };
  }
}
