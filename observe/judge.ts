/**
 * Observed flows judged against a stack's plan by the connectivity engine: per distinct flow,
 * allowed (by which declared flow or universal pattern) or denied (at which corner, by which
 * policy and rule), and for Goldmane input whether the log's pending verdict agrees with the
 * engine's. The plan is judged as it will be enforced: staged namespaces count as promoted.
 */
import type { Connection } from "../components/connections";
import type { StackConfig } from "../config/types";
import {
  explainFlow,
  formatRef,
  parseCidrRange,
  pendingModel,
  promotedModel,
  formatIpv4,
  remoteRanges,
  type ClusterModel,
  type CornerDecision,
  type FlowExplanation,
  type FlowQuery,
  type Ipv4Range,
  type QueryEndpoint,
} from "../engine";

import type { FlowProtocol, ObservedEnd, ObservedFlow } from "./flows";

/** Observed flows that cannot be judged against the plan (fail closed: nothing is guessed). */
export class UnjudgeableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnjudgeableError";
  }
}

/** Records of one distinct flow (same ends, labels, protocol and port). */
export interface FlowGroup extends Omit<ObservedFlow, "where" | "reporter" | "action" | "pending"> {
  readonly key: string;
  readonly records: readonly ObservedFlow[];
}

export interface PendingCheck {
  readonly where: string;
  readonly reporter: "Src" | "Dst";
  readonly log: "Allow" | "Deny";
  readonly engine: "Allow" | "Deny";
  readonly agrees: boolean;
}

export interface Judgement {
  readonly group: FlowGroup;
  readonly verdict: "allowed" | "denied" | "unjudgeable";
  /** Declared connections (flows and universal patterns) the flow falls under. */
  readonly because: readonly Connection[];
  /** Denied: the corner that refused it, with policy and rule. */
  readonly gate?: string;
  /** Unjudgeable: why. */
  readonly reason?: string;
  readonly pending: readonly PendingCheck[];
}

export interface ObserveContext {
  readonly config: StackConfig;
  readonly connections: readonly Connection[];
  /** The plan's model (staged objects included); judged promoted. */
  readonly model: ClusterModel;
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export function describeEnd(end: ObservedEnd): string {
  switch (end.kind) {
    case "workload": {
      const labels = labelsText(end.labels);
      return labels ? `${end.namespace}[${labels}]` : end.namespace;
    }
    case "external":
      return end.cidr.endsWith("/32") ? end.cidr.slice(0, -3) : end.cidr;
    case "public":
      return "public network";
    case "unplaceable":
      return end.what;
  }
}

/**
 * Labels the controllers set per pod (ReplicaSet hash, StatefulSet pod name and index,
 * DaemonSet/StatefulSet revision): two pods of one workload differ only in these, so they are
 * left out when deciding which records are the same flow. Goldmane aggregates labels the same way
 * (the intersection over the pods of a flow).
 */
export const PER_POD_LABEL_KEYS = new Set([
  "pod-template-hash",
  "controller-revision-hash",
  "pod-template-generation",
  "statefulset.kubernetes.io/pod-name",
  "apps.kubernetes.io/pod-index",
  "batch.kubernetes.io/controller-uid",
  "controller-uid",
]);

function withoutPerPodLabels(end: ObservedEnd): ObservedEnd {
  if (end.kind !== "workload") return end;
  return {
    ...end,
    labels: Object.fromEntries(
      Object.entries(end.labels).filter(([key]) => !PER_POD_LABEL_KEYS.has(key)),
    ),
  };
}

/**
 * Fails when a policy reads a per-pod label: folding pods by workload would then hide a
 * difference the policies make.
 */
export function checkFoldable(model: ClusterModel): void {
  const offenders: string[] = [];
  for (const policy of [...model.policies, ...(model.stagedPolicies ?? [])]) {
    const keys = new Set(policy.targetLabelKeys);
    for (const direction of ["ingress", "egress"] as const)
      for (const rule of policy[direction])
        for (const peers of [rule.sources, rule.destinations])
          if (peers !== "any") for (const m of peers) for (const k of m.podLabelKeys) keys.add(k);
    for (const key of keys)
      if (PER_POD_LABEL_KEYS.has(key)) offenders.push(`${formatRef(policy.ref)} reads ${key}`);
  }
  if (offenders.length > 0)
    throw new UnjudgeableError(
      `policies select per-pod labels, so observed pods cannot be folded into workloads: ${offenders.join("; ")}`,
    );
}

export function groupFlows(flows: readonly ObservedFlow[]): FlowGroup[] {
  const groups = new Map<string, ObservedFlow[]>();
  for (const raw of flows) {
    const f = {
      ...raw,
      source: withoutPerPodLabels(raw.source),
      destination: withoutPerPodLabels(raw.destination),
    };
    const key = `${describeEnd(f.source)} -> ${describeEnd(f.destination)} ${f.protocol}${f.protocol === "ICMP" ? "" : ` ${f.port}`}`;
    const list = groups.get(key);
    if (list) list.push(f);
    else groups.set(key, [f]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, records]) => {
      const times = records.flatMap((r) => [r.first, r.last]).filter((t): t is string => !!t);
      times.sort();
      return {
        key,
        source: records[0].source,
        destination: records[0].destination,
        protocol: records[0].protocol,
        port: records[0].port,
        count: records.reduce((n, r) => n + r.count, 0),
        ...(times.length > 0 ? { first: times[0], last: times[times.length - 1] } : {}),
        records,
      };
    });
}

/** The first address of every block the model's policies tell apart inside `within`. */
function blockStarts(
  model: ClusterModel,
  within: Ipv4Range,
  direction: "ingress" | "egress",
): number[] {
  const cuts = new Set<number>([within.lo]);
  for (const r of remoteRanges(model)[direction]) {
    for (const edge of [r.lo, r.hi + 1]) if (edge > within.lo && edge <= within.hi) cuts.add(edge);
  }
  return [...cuts].sort((a, b) => a - b);
}

function inAny(ip: number, ranges: readonly Ipv4Range[]): boolean {
  return ranges.some((r) => ip >= r.lo && ip <= r.hi);
}

/** The engine queries standing for one observed end (several for an address block). */
function queryEnds(
  end: ObservedEnd,
  context: ObserveContext,
  direction: "ingress" | "egress",
): QueryEndpoint[] | string {
  if (end.kind === "workload") return [{ namespace: end.namespace, podLabels: end.labels }];
  if (end.kind === "unplaceable") return `${end.what} cannot be placed in the model`;
  const model = context.model;
  if (end.kind === "external") {
    const range = parseCidrRange(end.cidr);
    if (!range) return `invalid address ${end.cidr}`;
    return blockStarts(model, range, direction).map((ip) => ({ ip: formatIpv4(ip) }));
  }
  const privateRanges = context.config.cluster.privateRanges
    .map((c) => parseCidrRange(c))
    .filter((r): r is Ipv4Range => r !== undefined);
  return blockStarts(model, { lo: 0, hi: 0xffffffff }, direction)
    .filter((ip) => !inAny(ip, privateRanges) && ip !== 0)
    .map((ip) => ({ ip: formatIpv4(ip) }));
}

function describeCorner(d: CornerDecision): string {
  if (d.decidedBy)
    return `${d.direction} at ${d.local}: ${d.decidedBy.action} by ${formatRef(d.decidedBy.policy.ref)} ${d.decidedBy.rule.path}`;
  return `${d.direction} at ${d.local}: no rule matched in ${d.selectingPolicies.map(formatRef).join(", ")} (denied at the end of tier ${d.tier ?? "default"})`;
}

function denyingGate(explanation: FlowExplanation): string | undefined {
  for (const pair of explanation.pairs) {
    if (pair.allowed) continue;
    const corner = !pair.egress.allowed ? pair.egress : pair.ingress;
    return (
      describeCorner(corner) +
      (pair.viaHbone ? ` (judged on HBONE port ${pair.evaluatedPort})` : "")
    );
  }
  return undefined;
}

function endMatches(declared: Connection["from"], observed: ObservedEnd): boolean {
  if (declared.kind === "workload")
    return (
      observed.kind === "workload" &&
      observed.namespace === declared.namespace &&
      Object.entries(declared.podLabels).every(([k, v]) => observed.labels[k] === v)
    );
  const range = parseCidrRange(declared.cidr);
  if (!range) return false;
  if (observed.kind === "public") return declared.cidr === "0.0.0.0/0";
  if (observed.kind !== "external") return false;
  const o = parseCidrRange(observed.cidr);
  return o !== undefined && o.lo >= range.lo && o.hi <= range.hi;
}

function portMatches(c: Connection, protocol: FlowProtocol, port: number): boolean {
  if (c.ports.length === 0) return true;
  return c.ports.some(
    (p) => p.protocol === protocol && port >= p.port && port <= (p.endPort ?? p.port),
  );
}

/** Declared connections (flows first) the observed flow falls under. */
export function matchingConnections(
  group: Pick<FlowGroup, "source" | "destination" | "protocol" | "port">,
  connections: readonly Connection[],
): Connection[] {
  return connections
    .filter(
      (c) =>
        endMatches(c.from, group.source) &&
        endMatches(c.to, group.destination) &&
        portMatches(c, group.protocol, group.port),
    )
    .sort((a, b) => (a.kind === "flow" ? 0 : 1) - (b.kind === "flow" ? 0 : 1));
}

function explainAll(
  model: ClusterModel,
  sources: readonly QueryEndpoint[],
  destinations: readonly QueryEndpoint[],
  protocol: FlowProtocol,
  port: number,
): FlowExplanation[] {
  const out: FlowExplanation[] = [];
  for (const from of sources)
    for (const to of destinations) {
      const query: FlowQuery = { from, to, port: protocol === "ICMP" ? 0 : port, protocol };
      out.push(explainFlow(model, query));
    }
  return out;
}

function finalAction(hits: readonly { action: string }[]): "Allow" | "Deny" | undefined {
  const last = hits[hits.length - 1]?.action;
  if (last === "Deny") return "Deny";
  // A trace ending in Pass falls through to the profile, which allows.
  if (last === "Allow" || last === "Pass") return "Allow";
  return undefined;
}

export function judgeGroup(group: FlowGroup, context: ObserveContext): Judgement {
  const sources = queryEnds(group.source, context, "ingress");
  const destinations = queryEnds(group.destination, context, "egress");
  const because = matchingConnections(group, context.connections);
  if (typeof sources === "string" || typeof destinations === "string")
    return {
      group,
      verdict: "unjudgeable",
      because,
      reason: typeof sources === "string" ? sources : (destinations as string),
      pending: [],
    };
  if (sources.length === 0 || destinations.length === 0)
    return { group, verdict: "unjudgeable", because, reason: "no address to judge", pending: [] };
  const promoted = promotedModel(context.model);
  const explanations = explainAll(promoted, sources, destinations, group.protocol, group.port);
  const denied = explanations.find((e) => e.verdict === "denied");
  const pending: PendingCheck[] = [];
  const withPending = group.records.filter((r) => r.reporter && (r.pending ?? []).length > 0);
  if (withPending.length > 0) {
    const pendingExplanations = explainAll(
      pendingModel(context.model),
      sources,
      destinations,
      group.protocol,
      group.port,
    );
    for (const record of withPending) {
      const log = finalAction(record.pending ?? []);
      if (!log) continue;
      const corner = record.reporter === "Src" ? "egress" : "ingress";
      const engineAllows = pendingExplanations.every((e) =>
        e.pairs.every((p) => p[corner].allowed),
      );
      const engine = engineAllows ? "Allow" : "Deny";
      pending.push({
        where: record.where,
        reporter: record.reporter!,
        log,
        engine,
        agrees: log === engine,
      });
    }
  }
  return {
    group,
    verdict: denied ? "denied" : "allowed",
    because,
    ...(denied ? { gate: denyingGate(denied) } : {}),
    pending,
  };
}

export interface ObserveResult {
  readonly judgements: readonly Judgement[];
  /** Declared flows (kind "flow") no observed flow falls under: candidates to remove. */
  readonly neverObserved: readonly Connection[];
}

export function judgeFlows(flows: readonly ObservedFlow[], context: ObserveContext): ObserveResult {
  checkFoldable(context.model);
  const judgements = groupFlows(flows).map((g) => judgeGroup(g, context));
  const seen = new Set(judgements.flatMap((j) => j.because.map((c) => c.name)));
  const neverObserved = context.connections.filter((c) => c.kind === "flow" && !seen.has(c.name));
  return { judgements, neverObserved };
}
