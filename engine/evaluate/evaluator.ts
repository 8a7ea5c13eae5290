/**
 * Policy evaluation for one flow direction ("corner") and for a source/destination pair.
 *
 * Combination rule, as Felix renders an endpoint's chain (projectcalico/calico v3.31.7
 * felix/rules/endpoints.go, the tier loop of the endpoint chain; docs:
 * https://docs.tigera.io/calico/latest/reference/resources/tier and
 * https://docs.tigera.io/calico/latest/network-policy/policy-tiers/tiered-policy):
 * - only policies that select the local endpoint and list the direction take part; a tier with
 *   none of them is skipped;
 * - tiers run by (order, name), inside a tier policies by (order, name), inside a policy rules
 *   in order; the first matching Allow or Deny decides; Log does not decide; Pass skips the rest
 *   of the tier and goes on with the next tier that applies;
 * - a tier that applies but where nothing decided or passed ends with its `defaultAction`:
 *   Deny (the default) drops the packet, Pass goes on with the next tier;
 * - after the last tier (a packet passed out of every tier that applied, or no tier applied),
 *   the endpoint's profiles run: a Kubernetes pod's namespace profile allows everything.
 * So an endpoint no policy selects is not isolated, and with only the default tier (Kubernetes
 * policies at order 1000, all Allow) this is exactly the Kubernetes semantics: isolated as soon
 * as one policy selects the pod, allowed if any rule of any of them matches.
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
  NormalTier,
  PodInfo,
  RuleAction,
  TierDefaultAction,
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

/** A tier the packet left by a Pass: the Pass rule, or the tier's `defaultAction: Pass`. */
export interface TierPass {
  readonly tier: string;
  /** The Pass rule; absent when no rule decided and the tier's defaultAction passed it. */
  readonly by?: RuleMatch;
}

/** The policies of one tier that apply to an endpoint for a direction, in evaluation order. */
export interface ApplicableTier {
  readonly tier: NormalTier;
  readonly policies: readonly NormalPolicy[];
}

export interface CornerDecision {
  readonly direction: Direction;
  /** The endpoint whose policies are evaluated (source for egress, destination for ingress). */
  readonly local: string;
  /** False when the local side is outside the cluster, so no policy can apply. */
  readonly evaluated: boolean;
  readonly isolated: boolean;
  readonly allowed: boolean;
  /**
   * The rule that decided: an Allow or Deny; or, when the packet passed out of the last tier
   * that applies and the namespace profile allowed it, that tier's Pass rule (action Pass).
   */
  readonly decidedBy?: RuleMatch & { readonly action: RuleAction };
  /** The tier where the verdict was taken (absent when not isolated). */
  readonly tier?: string;
  /** Set when no rule of `tier` decided: its default action (Deny, or Pass to the profile). */
  readonly endOfTier?: { readonly tier: string; readonly action: TierDefaultAction };
  /** Tiers the packet passed on the way, in order (the last one too when the profile allowed). */
  readonly passed: readonly TierPass[];
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
  private readonly tierCache = new WeakMap<readonly NormalPolicy[], readonly ApplicableTier[]>();
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

  /** The tiers that apply to the pod for a direction, each with its applicable policies. */
  applicableTiers(pod: PodInfo, direction: Direction): readonly ApplicableTier[] {
    const policies = this.applicablePolicies(pod, direction);
    // applicablePolicies returns one cached list per pod and direction: group it once.
    let tiers = this.tierCache.get(policies);
    if (tiers === undefined)
      this.tierCache.set(policies, (tiers = groupByTier(this.model, policies)));
    return tiers;
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
    const tiers = this.applicableTiers(local.pod, direction);
    if (tiers.length === 0) return conn.ALL_CONNECTIONS;
    // What reaches the current tier; what leaves it by Pass reaches the next one.
    let reaching: ConnectionSet = conn.ALL_CONNECTIONS;
    let allowed: ConnectionSet = conn.NO_CONNECTIONS;
    for (const { tier, policies } of tiers) {
      let undecided = reaching;
      let passed: ConnectionSet = conn.NO_CONNECTIONS;
      for (const { rule } of this.matchingRules(policies, direction, source, destination)) {
        if (rule.action === "Log") continue;
        const hit = conn.intersectConnections(rule.connections(destination), undecided);
        if (conn.isEmptyConnections(hit)) continue;
        if (rule.action === "Allow") allowed = conn.unionConnections(allowed, hit);
        else if (rule.action === "Pass") passed = conn.unionConnections(passed, hit);
        undecided = conn.subtractConnections(undecided, hit);
        if (conn.isEmptyConnections(undecided)) break;
      }
      if (tier.defaultAction === "Pass") passed = conn.unionConnections(passed, undecided);
      reaching = passed;
      if (conn.isEmptyConnections(reaching)) break;
    }
    // Passed out of the last tier that applies: the namespace profile allows it.
    return conn.isEmptyConnections(reaching) ? allowed : conn.unionConnections(allowed, reaching);
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
        passed: [],
      };
    const tiers = this.applicableTiers(local.pod, direction);
    const base = {
      direction,
      local: describeEndpoint(local),
      evaluated: true,
      selectingPolicies: tiers.flatMap((t) => t.policies.map((p) => p.ref)),
    };
    if (tiers.length === 0)
      return { ...base, isolated: false, allowed: true, logged: [], passed: [] };
    const logged: RuleMatch[] = [];
    const passed: TierPass[] = [];
    for (const { tier, policies } of tiers) {
      let passedBy: RuleMatch | undefined;
      for (const match of this.matchingRules(policies, direction, source, destination)) {
        if (!conn.allowsConnection(match.rule.connections(destination), protocol, port)) continue;
        if (match.rule.action === "Log") {
          logged.push(match);
          continue;
        }
        if (match.rule.action === "Pass") {
          passedBy = match;
          break;
        }
        return {
          ...base,
          isolated: true,
          allowed: match.rule.action === "Allow",
          decidedBy: { ...match, action: match.rule.action },
          tier: tier.name,
          logged,
          passed,
        };
      }
      if (passedBy === undefined && tier.defaultAction === "Deny")
        return {
          ...base,
          isolated: true,
          allowed: false,
          tier: tier.name,
          endOfTier: { tier: tier.name, action: "Deny" },
          logged,
          passed,
        };
      passed.push(passedBy === undefined ? { tier: tier.name } : { tier: tier.name, by: passedBy });
    }
    // Passed out of every tier that applies: the namespace profile allows it.
    const last = passed[passed.length - 1];
    return {
      ...base,
      isolated: true,
      allowed: true,
      ...(last.by ? { decidedBy: { ...last.by, action: "Pass" as const } } : {}),
      tier: last.tier,
      ...(last.by ? {} : { endOfTier: { tier: last.tier, action: "Pass" as const } }),
      logged,
      passed,
    };
  }
}

/**
 * Consecutive runs of one tier in a policy list sorted by comparePolicies, with the model's tier
 * objects. Every policy's tier is in `model.tiers` (buildModel refuses any other).
 */
export function groupByTier(
  model: ClusterModel,
  policies: readonly NormalPolicy[],
): ApplicableTier[] {
  const groups: { tier: NormalTier; policies: NormalPolicy[] }[] = [];
  for (const policy of policies) {
    const current = groups[groups.length - 1];
    if (current !== undefined && current.tier.name === policy.tier) {
      current.policies.push(policy);
      continue;
    }
    const tier = model.tiers.get(policy.tier);
    if (tier === undefined) throw new Error(`internal: tier ${policy.tier} is not in the model`);
    groups.push({ tier, policies: [policy] });
  }
  return groups;
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
