/**
 * Full connectivity between pod classes and external address blocks.
 *
 * Scaling idea: a pair can only be allowed if the source's egress could allow the destination
 * (some Allow/Pass egress rule's peer matches it, or the source is not isolated) AND the
 * destination's ingress could allow the source. Candidate sets come from per-peer lookups that
 * are cached by peer, and only candidate pairs are evaluated exactly. In a default-deny cluster
 * that is a handful of destinations per source instead of all of them.
 */
import * as conn from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { partitionIpv4 } from "../model/ipv4";
import type { ClusterModel, Direction, Endpoint, EndpointMatcher, PodInfo } from "../model/types";
import type { PodClass } from "./classes";
import { buildPodClasses } from "./classes";
import type { PairResult } from "./evaluator";
import { Evaluator, evaluatePair, matcherMatches } from "./evaluator";

export interface ClassPair {
  readonly source: PodClass;
  readonly destination: PodClass;
  readonly result: PairResult;
}

export interface ExternalPair {
  readonly pod: PodClass;
  readonly block: Ipv4Range;
  readonly result: PairResult;
}

/**
 * What a class may open towards a Calico Enterprise `domains` peer: the union of its egress
 * Allow rules naming those domains, minus what earlier rules decided for every destination.
 * An upper bound: an earlier rule on addresses may catch some of the names' addresses, which
 * are known only at run time.
 */
export interface DomainsPair {
  readonly pod: PodClass;
  readonly domains: readonly string[];
  readonly connections: conn.ConnectionSet;
}

export interface ClassConnectivity {
  readonly model: ClusterModel;
  readonly classes: readonly PodClass[];
  /** Destination blocks cut by every egress ipBlock/nets boundary. */
  readonly egressBlocks: readonly Ipv4Range[];
  /** Source blocks cut by every ingress ipBlock/nets boundary. */
  readonly ingressBlocks: readonly Ipv4Range[];
  /** Pairs with a non-empty allowed set (self pairs of single-pod classes excluded). */
  readonly podPairs: readonly ClassPair[];
  readonly egressToExternal: readonly ExternalPair[];
  readonly ingressFromExternal: readonly ExternalPair[];
  /** Egress towards `destination.domains` peers (absent when no rule names domains). */
  readonly egressToDomains?: readonly DomainsPair[];
}

/** An address no rule names, to resolve a rule's ports for a destination outside the cluster. */
const ANY_EXTERNAL: Endpoint = { kind: "external", range: { lo: 0, hi: 0 } };

/** See DomainsPair: the walk of one class's egress rules in evaluation order. */
function domainsPairs(evaluator: Evaluator, c: PodClass): DomainsPair[] {
  const local = podEndpoint(c.representative);
  const policies = evaluator.applicablePolicies(c.representative, "egress");
  let undecided: conn.ConnectionSet = conn.ALL_CONNECTIONS;
  const found = new Map<string, DomainsPair>();
  for (const policy of policies)
    for (const rule of policy.egress) {
      if (rule.action === "Log" || matcherMatches(rule.sources, local) === undefined) continue;
      const hit = conn.intersectConnections(rule.connections(ANY_EXTERNAL), undecided);
      if (rule.destinations === "any") {
        undecided = conn.subtractConnections(undecided, hit);
        continue;
      }
      if (rule.action !== "Allow") continue;
      for (const matcher of rule.destinations) {
        if (!matcher.domains || conn.isEmptyConnections(hit)) continue;
        const key = matcher.domains.join(",");
        const before = found.get(key);
        found.set(key, {
          pod: c,
          domains: matcher.domains,
          connections: before ? conn.unionConnections(before.connections, hit) : hit,
        });
      }
    }
  return [...found.values()];
}

type Candidates = "all" | Set<number>;

const podEndpoint = (pod: PodInfo): Endpoint => ({ kind: "pod", pod });

/** IP ranges of remote peers per direction; their boundaries cut the external space into blocks. */
export function remoteRanges(model: ClusterModel): Record<Direction, Ipv4Range[]> {
  const ranges: Record<Direction, Ipv4Range[]> = { ingress: [], egress: [] };
  for (const policy of model.policies) {
    for (const direction of ["ingress", "egress"] as const) {
      for (const rule of policy[direction]) {
        const remote = direction === "ingress" ? rule.sources : rule.destinations;
        if (remote === "any") continue;
        for (const m of remote) if (m.byIp) ranges[direction].push(...m.ranges);
      }
    }
  }
  // ztunnel's source ipBlocks cut the ingress space too, so a block is inside or outside each.
  for (const policy of model.authorizationPolicies ?? [])
    for (const rule of policy.rules)
      for (const clause of rule.clauses)
        for (const m of clause)
          for (const r of [...m.sourceIps, ...m.notSourceIps])
            if (r.lo <= r.hi) ranges.ingress.push(r);
  return ranges;
}

export interface ConnectivityOptions {
  readonly evaluator?: Evaluator;
  /** More ranges to cut external blocks at (e.g. the other side of a diff, so blocks align). */
  readonly extraRanges?: Partial<Record<Direction, readonly Ipv4Range[]>>;
}

export function computeConnectivity(
  model: ClusterModel,
  options: ConnectivityOptions = {},
): ClassConnectivity {
  const evaluator = options.evaluator ?? new Evaluator(model);
  const classes = buildPodClasses(model);
  const classesByNamespace = new Map<string, PodClass[]>();
  for (const c of classes) {
    const list = classesByNamespace.get(c.namespace);
    if (list) list.push(c);
    else classesByNamespace.set(c.namespace, [c]);
  }
  const namespacesByLabel = new Map<string, string[]>();
  for (const ns of model.namespaces.values()) {
    for (const [k, v] of Object.entries(ns.labels)) {
      const key = `${k}\u0000${v}`;
      const list = namespacesByLabel.get(key);
      if (list) list.push(ns.name);
      else namespacesByLabel.set(key, [ns.name]);
    }
  }

  const own = remoteRanges(model);
  const egressBlocks = partitionIpv4([...own.egress, ...(options.extraRanges?.egress ?? [])]);
  const ingressBlocks = partitionIpv4([...own.ingress, ...(options.extraRanges?.ingress ?? [])]);

  const podCandidateCache = new Map<string, Set<number>>();
  const podCandidates = (m: EndpointMatcher): Set<number> => {
    let found = podCandidateCache.get(m.key);
    if (found) return found;
    found = new Set<number>();
    let pool: Iterable<PodClass>;
    const hint = m.podHint;
    switch (hint.kind) {
      case "none":
        pool = [];
        break;
      case "namespaces":
        pool = hint.names.flatMap((n) => classesByNamespace.get(n) ?? []);
        break;
      case "namespaceLabel":
        pool = hint.values.flatMap((v) =>
          (namespacesByLabel.get(`${hint.key}\u0000${v}`) ?? []).flatMap(
            (n) => classesByNamespace.get(n) ?? [],
          ),
        );
        break;
      default:
        pool = classes;
    }
    for (const c of pool) if (m.matchPod(c.representative)) found.add(c.id);
    podCandidateCache.set(m.key, found);
    return found;
  };
  const blockCandidateCache = new Map<string, number[]>();
  const blockCandidates = (m: EndpointMatcher, direction: Direction): number[] => {
    const cacheKey = `${direction}|${m.key}`;
    let found = blockCandidateCache.get(cacheKey);
    if (found) return found;
    const blocks = direction === "egress" ? egressBlocks : ingressBlocks;
    found = [];
    for (let i = 0; i < blocks.length; i++) if (m.matchExternal(blocks[i])) found.push(i);
    blockCandidateCache.set(cacheKey, found);
    return found;
  };

  /** Which remote classes/blocks the local class's `direction` corner could allow. */
  const candidatesOf = (
    c: PodClass,
    direction: Direction,
  ): { pods: Candidates; blocks: "all" | Set<number> } => {
    const policies = evaluator.applicablePolicies(c.representative, direction);
    if (policies.length === 0) return { pods: "all", blocks: "all" };
    // A tier whose defaultAction is Pass can hand anything its rules do not decide to the
    // profile (which allows): no rule bounds the candidates then.
    if (policies.some((p) => evaluator.model.tiers.get(p.tier)?.defaultAction === "Pass"))
      return { pods: "all", blocks: "all" };
    const local = podEndpoint(c.representative);
    let pods = new Set<number>() as Candidates;
    const blocks = new Set<number>();
    for (const policy of policies) {
      for (const rule of policy[direction]) {
        if (rule.action !== "Allow" && rule.action !== "Pass") continue;
        const localSide = direction === "egress" ? rule.sources : rule.destinations;
        const remoteSide = direction === "egress" ? rule.destinations : rule.sources;
        if (matcherMatches(localSide, local) === undefined) continue;
        if (remoteSide === "any") return { pods: "all", blocks: "all" };
        for (const m of remoteSide) {
          if (pods !== "all") {
            if (m.podHint.kind === "all" && m.podLabelKeys.length === 0 && !m.byIp) pods = "all";
            else for (const id of podCandidates(m)) pods.add(id);
          }
          for (const b of blockCandidates(m, direction)) blocks.add(b);
        }
      }
    }
    return { pods, blocks };
  };

  const egressCandidates = classes.map((c) => candidatesOf(c, "egress"));
  const ingressCandidates = classes.map((c) => candidatesOf(c, "ingress"));
  const openIngress: number[] = [];
  const ingressBySource = new Map<number, number[]>();
  ingressCandidates.forEach((cand, destinationId) => {
    if (cand.pods === "all") openIngress.push(destinationId);
    else
      for (const s of cand.pods) {
        const list = ingressBySource.get(s);
        if (list) list.push(destinationId);
        else ingressBySource.set(s, [destinationId]);
      }
  });

  const podPairs: ClassPair[] = [];
  for (const source of classes) {
    const out = egressCandidates[source.id].pods;
    const destinations: Iterable<number> =
      out === "all" ? new Set([...openIngress, ...(ingressBySource.get(source.id) ?? [])]) : out;
    for (const destinationId of destinations) {
      const inbound = ingressCandidates[destinationId].pods;
      if (inbound !== "all" && !inbound.has(source.id)) continue;
      const destination = classes[destinationId];
      let destinationPod = destination.representative;
      if (destination === source) {
        // A class talks to itself only through two distinct pods.
        if (source.pods.length < 2) continue;
        destinationPod = source.pods[1];
      }
      const result = evaluatePair(
        evaluator,
        podEndpoint(source.representative),
        podEndpoint(destinationPod),
      );
      if (!conn.isEmptyConnections(result.connections))
        podPairs.push({ source, destination, result });
    }
  }

  const egressToExternal: ExternalPair[] = [];
  const ingressFromExternal: ExternalPair[] = [];
  for (const c of classes) {
    const out = egressCandidates[c.id].blocks;
    const outBlocks =
      out === "all" ? egressBlocks.map((_, i) => i) : [...out].sort((a, b) => a - b);
    for (const b of outBlocks) {
      const block = egressBlocks[b];
      const result = evaluatePair(evaluator, podEndpoint(c.representative), {
        kind: "external",
        range: block,
      });
      if (!conn.isEmptyConnections(result.connections))
        egressToExternal.push({ pod: c, block, result });
    }
    const inbound = ingressCandidates[c.id].blocks;
    const inBlocks =
      inbound === "all" ? ingressBlocks.map((_, i) => i) : [...inbound].sort((a, b) => a - b);
    for (const b of inBlocks) {
      const block = ingressBlocks[b];
      const result = evaluatePair(
        evaluator,
        { kind: "external", range: block },
        podEndpoint(c.representative),
      );
      if (!conn.isEmptyConnections(result.connections))
        ingressFromExternal.push({ pod: c, block, result });
    }
  }
  const egressToDomains = model.policies.some((p) =>
    p.egress.some((r) => r.destinations !== "any" && r.destinations.some((m) => m.domains)),
  )
    ? classes.flatMap((c) => domainsPairs(evaluator, c))
    : [];
  return {
    model,
    classes,
    egressBlocks,
    ingressBlocks,
    podPairs,
    egressToExternal,
    ingressFromExternal,
    ...(egressToDomains.length > 0 ? { egressToDomains } : {}),
  };
}
