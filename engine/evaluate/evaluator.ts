/**
 * Policy evaluation for one flow direction ("corner") and for a source/destination pair.
 *
 * Combination rule (Calico's default tier, which also holds the Kubernetes policies at order 1000;
 * https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy):
 * policies that select the local endpoint for the direction are walked by (order, name); inside a
 * policy rules run in order; the first matching Allow or Deny decides; Log does not decide; Pass
 * leaves the tier, and with no further tier the namespace's Kubernetes profile applies, which
 * allows. If some policy selected the endpoint but no rule decided, the packet is dropped; if no
 * policy selected it, the endpoint is not isolated and everything is allowed.
 * With only Kubernetes policies (all Allow) this reduces exactly to the Kubernetes semantics:
 * isolated as soon as one policy selects the pod, allowed if any rule of any of them matches.
 */
import * as conn from "../model/connections";
import * as iv from "../model/intervals";
import { ZtunnelGate } from "./ztunnel";
import type { ConnectionSet, ModelProtocol } from "../model/connections";
import { comparePolicies } from "../model/build";
import { formatIpv4, formatRange } from "../model/ipv4";
import type { ObjectRef } from "../model/problems";
import type {
  ClusterModel,
  Direction,
  Endpoint,
  EndpointMatcher,
  NormalPolicy,
  NormalRule,
  PodInfo,
  RuleAction,
} from "../model/types";

export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === "external") {
    const address =
      endpoint.range.lo === endpoint.range.hi
        ? `external ${formatIpv4(endpoint.range.lo)}`
        : `external ${formatRange(endpoint.range)}`;
    return endpoint.name ? `${address} (${endpoint.name})` : address;
  }
  const pod = endpoint.pod;
  const base = `${pod.namespace}/${pod.name}`;
  return pod.hypothetical ? `${base} (hypothetical pod)` : base;
}

export function matcherMatches(
  matchers: "any" | readonly EndpointMatcher[],
  endpoint: Endpoint,
): EndpointMatcher | "any" | undefined {
  if (matchers === "any") return "any";
  for (const m of matchers) {
    if (endpoint.kind === "pod" ? m.matchPod(endpoint.pod) : m.matchExternal(endpoint.range))
      return m;
  }
  return undefined;
}

export interface RuleMatch {
  readonly policy: NormalPolicy;
  readonly rule: NormalRule;
  /** The peer criterion that matched the remote side ("any" when unrestricted). */
  readonly peer: EndpointMatcher | "any";
}

export interface CornerDecision {
  readonly direction: Direction;
  /** The endpoint whose policies are evaluated (source for egress, destination for ingress). */
  readonly local: string;
  /** False when the local side is outside the cluster, so no policy can apply. */
  readonly evaluated: boolean;
  readonly isolated: boolean;
  readonly allowed: boolean;
  readonly decidedBy?: RuleMatch & { readonly action: RuleAction };
  readonly selectingPolicies: readonly ObjectRef[];
  /** Log rules that matched on the way (they never decide). */
  readonly logged: readonly RuleMatch[];
}

const sharedEvaluators = new WeakMap<ClusterModel, Evaluator>();

/**
 * One Evaluator per model for callers that ask one question at a time (explainFlow): building one
 * indexes every policy, which thousands of questions on one model would otherwise repeat. Safe
 * to share: a model never changes after buildModel, and the evaluator only caches answers.
 */
export function sharedEvaluator(model: ClusterModel): Evaluator {
  let evaluator = sharedEvaluators.get(model);
  if (!evaluator) sharedEvaluators.set(model, (evaluator = new Evaluator(model)));
  return evaluator;
}

export class Evaluator {
  private readonly byNamespace = new Map<string, NormalPolicy[]>();
  private readonly globalPolicies: NormalPolicy[] = [];
  private readonly applicableCache = new Map<string, readonly NormalPolicy[]>();
  /** The third gate at meshed destinations: ztunnel authorization. */
  readonly ztunnel: ZtunnelGate;

  constructor(readonly model: ClusterModel) {
    this.ztunnel = new ZtunnelGate(model);
    // One pass; model.policies is already sorted, so each list stays in evaluation order.
    for (const policy of model.policies) {
      if (policy.namespace === undefined) {
        this.globalPolicies.push(policy);
        continue;
      }
      const list = this.byNamespace.get(policy.namespace);
      if (list) list.push(policy);
      else this.byNamespace.set(policy.namespace, [policy]);
    }
    if (this.globalPolicies.length > 0) {
      for (const [namespace, list] of this.byNamespace)
        this.byNamespace.set(namespace, [...list, ...this.globalPolicies].sort(comparePolicies));
    }
  }

  /** Policies that may apply to pods of a namespace, in evaluation order. */
  private namespacePolicies(namespace: string): readonly NormalPolicy[] {
    return this.byNamespace.get(namespace) ?? this.globalPolicies;
  }

  /** Policies selecting the pod for a direction, in evaluation order. */
  applicablePolicies(pod: PodInfo, direction: Direction): readonly NormalPolicy[] {
    const key = pod.hypothetical ? undefined : `${direction}|${pod.id}`;
    if (key !== undefined) {
      const cached = this.applicableCache.get(key);
      if (cached) return cached;
    }
    const list = this.namespacePolicies(pod.namespace).filter(
      (p) => p.appliesTo[direction] && p.selects(pod),
    );
    if (key !== undefined) this.applicableCache.set(key, list);
    return list;
  }

  /**
   * Whether the `direction` corner of `local` could let a pod of a namespace through: false only
   * when no rule of an applicable policy can match a pod there, so the corner allows nothing
   * from (ingress) or to (egress) that namespace. For checks that ask about many remote
   * namespaces. Only Kubernetes NetworkPolicies give that guarantee (their rules are a union of
   * allows); when a Calico policy applies (Pass, tiers, deny before allow) or none does (not
   * isolated), every namespace may be reached. Built on the matchers' pod hints, as the matrix
   * is; a namespace the model has no object for may always be reached (its labels are unknown).
   */
  remoteNamespaceFilter(local: PodInfo, direction: Direction): (namespace: string) => boolean {
    const anywhere = (): boolean => true;
    const policies = this.applicablePolicies(local, direction);
    if (policies.length === 0 || policies.some((p) => p.ref.kind !== "NetworkPolicy"))
      return anywhere;
    const names = new Set<string>();
    const labels: { readonly key: string; readonly values: readonly string[] }[] = [];
    for (const policy of policies)
      for (const rule of policy[direction]) {
        const remote = direction === "ingress" ? rule.sources : rule.destinations;
        if (remote === "any") return anywhere;
        for (const matcher of remote) {
          const hint = matcher.podHint;
          switch (hint.kind) {
            case "none":
              break;
            case "ipRanges":
              // An ipBlock matches pods only when the model says pod IPs are matched.
              if (this.model.options.ipBlockMatchesPods) return anywhere;
              break;
            case "namespaces":
              for (const name of hint.names) names.add(name);
              break;
            case "namespaceLabel":
              labels.push(hint);
              break;
            default:
              return anywhere;
          }
        }
      }
    return (namespace) => {
      if (names.has(namespace)) return true;
      const info = this.model.namespaces.get(namespace);
      if (!info) return true;
      return labels.some((hint) => hint.values.includes(info.labels[hint.key]));
    };
  }

  /** Rules of `policies` for `direction` whose peers match the pair, in evaluation order. */
  private *matchingRules(
    policies: readonly NormalPolicy[],
    direction: Direction,
    source: Endpoint,
    destination: Endpoint,
  ): Generator<RuleMatch> {
    for (const policy of policies) {
      for (const rule of policy[direction]) {
        const srcMatch = matcherMatches(rule.sources, source);
        if (srcMatch === undefined) continue;
        const dstMatch = matcherMatches(rule.destinations, destination);
        if (dstMatch === undefined) continue;
        yield { policy, rule, peer: direction === "ingress" ? srcMatch : dstMatch };
      }
    }
  }

  /** The full set of connections one corner allows between the pair. */
  cornerConnections(direction: Direction, source: Endpoint, destination: Endpoint): ConnectionSet {
    const local = direction === "egress" ? source : destination;
    if (local.kind !== "pod") return conn.ALL_CONNECTIONS;
    const policies = this.applicablePolicies(local.pod, direction);
    if (policies.length === 0) return conn.ALL_CONNECTIONS;
    let undecided: ConnectionSet = conn.ALL_CONNECTIONS;
    let allowed: ConnectionSet = conn.NO_CONNECTIONS;
    for (const { rule } of this.matchingRules(policies, direction, source, destination)) {
      if (rule.action === "Log") continue;
      const hit = conn.intersectConnections(rule.connections(destination), undecided);
      if (conn.isEmptyConnections(hit)) continue;
      if (rule.action === "Allow" || rule.action === "Pass")
        allowed = conn.unionConnections(allowed, hit);
      undecided = conn.subtractConnections(undecided, hit);
      if (conn.isEmptyConnections(undecided)) break;
    }
    return allowed;
  }

  /** Which rule decides one (protocol, port) at one corner. */
  cornerDecision(
    direction: Direction,
    source: Endpoint,
    destination: Endpoint,
    protocol: ModelProtocol,
    port: number,
  ): CornerDecision {
    const local = direction === "egress" ? source : destination;
    if (local.kind !== "pod")
      return {
        direction,
        local: describeEndpoint(local),
        evaluated: false,
        isolated: false,
        allowed: true,
        selectingPolicies: [],
        logged: [],
      };
    const policies = this.applicablePolicies(local.pod, direction);
    const base = {
      direction,
      local: describeEndpoint(local),
      evaluated: true,
      selectingPolicies: policies.map((p) => p.ref),
    };
    if (policies.length === 0) return { ...base, isolated: false, allowed: true, logged: [] };
    const logged: RuleMatch[] = [];
    for (const match of this.matchingRules(policies, direction, source, destination)) {
      if (!conn.allowsConnection(match.rule.connections(destination), protocol, port)) continue;
      if (match.rule.action === "Log") {
        logged.push(match);
        continue;
      }
      return {
        ...base,
        isolated: true,
        allowed: match.rule.action !== "Deny",
        decidedBy: { ...match, action: match.rule.action },
        logged,
      };
    }
    return { ...base, isolated: true, allowed: false, logged };
  }
}

export interface PairResult {
  readonly connections: ConnectionSet;
  /** True when meshed-to-meshed TCP was judged on the HBONE port. */
  readonly viaHbone: boolean;
  readonly egress: ConnectionSet;
  readonly ingress: ConnectionSet;
  /** TCP ports the ztunnel gate lets through, when the destination is meshed. */
  readonly ztunnel?: conn.ConnectionSet;
}

/** Meshed-to-meshed TCP that the CNI judges on the HBONE port (not with `portPreserving`). */
export function isHbonePair(model: ClusterModel, source: Endpoint, destination: Endpoint): boolean {
  return (
    model.options.mesh !== undefined &&
    model.options.mesh.portPreserving !== true &&
    source.kind === "pod" &&
    destination.kind === "pod" &&
    source.pod.meshed &&
    destination.pod.meshed
  );
}

/**
 * Everything the pair may open: CNI egress at the source AND CNI ingress at the destination AND,
 * for a meshed destination, ztunnel authorization (./ztunnel.ts). Traffic of a pod to itself is
 * always allowed. With the mesh, TCP between two meshed pods reaches the CNI as HBONE (destination
 * port hbonePort, real source IP, https://istio.io/latest/docs/ambient/usage/networkpolicy/): both
 * corners are judged on that port and, if it passes, every application TCP port reaches ztunnel,
 * which judges the real port. With `mesh.portPreserving` the CNI sees the real port instead.
 * UDP and SCTP are not captured by ztunnel and keep their own ports.
 */
export function evaluatePair(
  evaluator: Evaluator,
  source: Endpoint,
  destination: Endpoint,
): PairResult {
  if (
    source.kind === "pod" &&
    destination.kind === "pod" &&
    source.pod.id === destination.pod.id &&
    !source.pod.hypothetical
  )
    return {
      connections: conn.ALL_CONNECTIONS,
      viaHbone: false,
      egress: conn.ALL_CONNECTIONS,
      ingress: conn.ALL_CONNECTIONS,
    };
  const egress = evaluator.cornerConnections("egress", source, destination);
  const ingress = evaluator.cornerConnections("ingress", source, destination);
  let connections = conn.intersectConnections(egress, ingress);
  const model = evaluator.model;
  const hbone = isHbonePair(model, source, destination);
  if (hbone) {
    const port = model.options.mesh!.hbonePort;
    const tunnelOpen =
      conn.allowsConnection(egress, "TCP", port) && conn.allowsConnection(ingress, "TCP", port);
    connections = { ...connections, TCP: tunnelOpen ? conn.protocolUniverse("TCP") : [] };
  }
  if (!evaluator.ztunnel.active || !evaluator.ztunnel.applies(source, destination))
    return { connections, viaHbone: hbone, egress, ingress };
  // Gate 3: the destination ztunnel judges the application port (TCP only).
  const gate = conn.portsOf("TCP", evaluator.ztunnel.allowedPorts(source, destination.pod));
  connections = { ...connections, TCP: iv.intersect(connections.TCP, gate.TCP) };
  return { connections, viaHbone: hbone, egress, ingress, ztunnel: gate };
}
