/**
 * A diff a migration can be judged by: connection changes grouped by namespace pair (opened,
 * closed, changed), external blocks under the names the cluster gives them (gateway, internet,
 * kube-api, …), and for every line the rule on the side that allows it (policy, field path and the
 * file it came from), plus the declared flows that end at the same pair when the caller knows them.
 */
import * as conn from "../model/connections";
import type { ConnectionSet, ModelProtocol } from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { formatRangeAsCidr, parseCidr, rangeContains } from "../model/ipv4";
import { formatRef } from "../model/problems";
import type { ObjectRef } from "../model/problems";
import type { ClusterModel, Direction, Endpoint } from "../model/types";
import type { ClassConnectivity } from "../evaluate/matrix";
import { computeConnectivity, remoteRanges } from "../evaluate/matrix";
import type { CornerDecision } from "../evaluate/evaluator";
import { Evaluator } from "../evaluate/evaluator";

/** A name for an address range (a LAN host, the API ClusterIP, the internet, …). */
export interface RangeName {
  readonly name: string;
  readonly cidr: string;
}

/** A declared connection the caller knows about (a stack's flow), used to name the reason. */
export interface DeclaredEnd {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export interface ExplainedDiffOptions {
  readonly rangeNames?: readonly RangeName[];
  readonly declared?: readonly DeclaredEnd[];
}

/** One deciding rule: policy, field path, the file it came from. */
export interface RuleRef {
  readonly direction: Direction;
  readonly policy: ObjectRef;
  readonly path: string;
  readonly source?: string;
}

export interface ChangePart {
  readonly connections: ConnectionSet;
  /** Which rules allow it, on the side where it is allowed. */
  readonly because: string;
  readonly rules: readonly RuleRef[];
}

export interface PairChange {
  readonly type: "opened" | "closed" | "changed";
  /** Namespace name, or a named external range such as `gateway` or `internet 11.0.0.0-…`. */
  readonly from: string;
  readonly to: string;
  readonly before: ConnectionSet;
  readonly after: ConnectionSet;
  readonly opened?: ChangePart;
  readonly closed?: ChangePart;
  readonly declared: readonly string[];
}

interface Sample {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly connections: ConnectionSet;
  readonly viaHbone: boolean;
}

interface SideView {
  readonly connectivity: ClassConnectivity;
  readonly evaluator: Evaluator;
  /** pair key → allowed set and the class pairs that make it up. */
  readonly pairs: Map<string, { from: string; to: string; set: ConnectionSet; samples: Sample[] }>;
}

const ANY_RANGE = "0.0.0.0/0";

/** Names an external block by the smallest named range containing it. */
export function nameRange(range: Ipv4Range, names: readonly RangeName[]): string {
  const parsed = names
    .map((n) => ({ name: n.name, range: parseCidr(n.cidr) }))
    .filter((n): n is { name: string; range: Ipv4Range } => n.range !== undefined)
    .filter((n) => rangeContains(n.range, range))
    .sort((a, b) => a.range.hi - a.range.lo - (b.range.hi - b.range.lo));
  const best = parsed[0];
  const text = formatRangeAsCidr(range);
  if (best === undefined) return text;
  return best.range.lo === range.lo && best.range.hi === range.hi
    ? best.name
    : `${best.name} ${text}`;
}

function view(
  model: ClusterModel,
  extra: ReturnType<typeof remoteRanges>,
  names: readonly RangeName[],
): SideView {
  const evaluator = new Evaluator(model);
  const connectivity = computeConnectivity(model, { evaluator, extraRanges: extra });
  const pairs: SideView["pairs"] = new Map();
  const add = (from: string, to: string, sample: Sample): void => {
    const key = `${from}\u0000${to}`;
    const entry = pairs.get(key);
    if (entry) {
      entry.set = conn.unionConnections(entry.set, sample.connections);
      entry.samples.push(sample);
    } else pairs.set(key, { from, to, set: sample.connections, samples: [sample] });
  };
  const pod = (p: ClassConnectivity["classes"][number]): Endpoint => ({
    kind: "pod",
    pod: p.representative,
  });
  for (const pair of connectivity.podPairs)
    add(pair.source.namespace, pair.destination.namespace, {
      source: pod(pair.source),
      destination: pod(pair.destination),
      connections: pair.result.connections,
      viaHbone: pair.result.viaHbone,
    });
  for (const e of connectivity.egressToExternal)
    add(e.pod.namespace, nameRange(e.block, names), {
      source: pod(e.pod),
      destination: { kind: "external", range: e.block },
      connections: e.result.connections,
      viaHbone: false,
    });
  for (const e of connectivity.ingressFromExternal)
    add(nameRange(e.block, names), e.pod.namespace, {
      source: { kind: "external", range: e.block },
      destination: pod(e.pod),
      connections: e.result.connections,
      viaHbone: false,
    });
  return { connectivity, evaluator, pairs };
}

function firstConnection(set: ConnectionSet): { protocol: ModelProtocol; port: number } {
  for (const protocol of conn.PROTOCOLS) {
    const ranges = conn.connectionsToList(set).find((p) => p.protocol === protocol);
    if (ranges) return { protocol, port: ranges.ranges[0][0] };
  }
  throw new Error("internal: empty connection set has no sample");
}

function describeCorner(decision: CornerDecision): { text: string; rule?: RuleRef } {
  if (!decision.evaluated) return { text: "" };
  if (!decision.isolated)
    return { text: `${decision.direction}: ${decision.local} is not isolated` };
  const by = decision.decidedBy;
  if (by === undefined)
    return {
      text:
        decision.endOfTier?.action === "Pass"
          ? `${decision.direction}: tier ${decision.endOfTier.tier} passes it (defaultAction Pass), the namespace profile allows it`
          : `${decision.direction}: denied`,
    };
  const source = by.policy.source;
  return {
    text: `${decision.direction}: ${formatRef(by.policy.ref)} ${by.rule.path}${source ? ` (${source})` : ""}`,
    rule: { direction: decision.direction, policy: by.policy.ref, path: by.rule.path, source },
  };
}

/** The rules that allow `part` between the pair on one side, corner by corner. */
function because(side: SideView, from: string, to: string, part: ConnectionSet): ChangePart {
  const entry = side.pairs.get(`${from}\u0000${to}`);
  const sample = entry?.samples.find(
    (s) => !conn.isEmptyConnections(conn.intersectConnections(s.connections, part)),
  );
  if (sample === undefined) return { connections: part, because: "", rules: [] };
  const hit = firstConnection(conn.intersectConnections(sample.connections, part));
  const mesh = side.connectivity.model.options.mesh;
  // Meshed TCP is judged on the HBONE port, whatever the application port.
  const port = sample.viaHbone && hit.protocol === "TCP" && mesh ? mesh.hbonePort : hit.port;
  const corners = (["egress", "ingress"] as Direction[])
    .map((direction) =>
      describeCorner(
        side.evaluator.cornerDecision(
          direction,
          sample.source,
          sample.destination,
          hit.protocol,
          port,
        ),
      ),
    )
    .filter((c) => c.text !== "");
  const via = sample.viaHbone && hit.protocol === "TCP" ? ` (HBONE ${port})` : "";
  return {
    connections: part,
    because: `${corners.map((c) => c.text).join("; ")}${via}`,
    rules: corners.flatMap((c) => (c.rule ? [c.rule] : [])),
  };
}

/**
 * Changes between two models of the same cluster. Give both models the same pods
 * (alignInventories) or the comparison is between different clusters.
 */
export function explainedDiff(
  before: ClusterModel,
  after: ClusterModel,
  options: ExplainedDiffOptions = {},
): PairChange[] {
  // Calico network sets name their nets on either side (the smallest name holding a block wins);
  // names here hold no blank (see baseName): `networkset/shop/trusted-lan`.
  const setNames = [...(before.networkSets ?? []), ...(after.networkSets ?? [])].flatMap((set) =>
    set.nets.map((net) => ({
      name: `${set.ref.kind.toLowerCase()}/${set.namespace ? `${set.namespace}/` : ""}${set.name}`,
      cidr: formatRangeAsCidr(net),
    })),
  );
  const names = [...(options.rangeNames ?? []), ...setNames, { name: "internet", cidr: ANY_RANGE }];
  const old = view(before, remoteRanges(after), names);
  const neu = view(after, remoteRanges(before), names);
  const keys = [...new Set([...old.pairs.keys(), ...neu.pairs.keys()])].sort();
  const changes: PairChange[] = [];
  for (const key of keys) {
    const [from, to] = key.split("\u0000");
    const beforeSet = old.pairs.get(key)?.set ?? conn.NO_CONNECTIONS;
    const afterSet = neu.pairs.get(key)?.set ?? conn.NO_CONNECTIONS;
    if (conn.equalConnections(beforeSet, afterSet)) continue;
    const opened = conn.subtractConnections(afterSet, beforeSet);
    const closed = conn.subtractConnections(beforeSet, afterSet);
    const type = conn.isEmptyConnections(beforeSet)
      ? "opened"
      : conn.isEmptyConnections(afterSet)
        ? "closed"
        : "changed";
    changes.push({
      type,
      from,
      to,
      before: beforeSet,
      after: afterSet,
      ...(conn.isEmptyConnections(opened) ? {} : { opened: because(neu, from, to, opened) }),
      ...(conn.isEmptyConnections(closed) ? {} : { closed: because(old, from, to, closed) }),
      declared: (options.declared ?? [])
        .filter((d) => d.from === from && d.to === to)
        .map((d) => d.name),
    });
  }
  return changes;
}

/** The name part of a pair end: `internet 11.0.0.0-172.15.255.255` → `internet`. */
function baseName(end: string): string {
  return end.split(" ")[0];
}

/**
 * Blocks of one named range that changed the same way become one line, `internet (4 blocks)`:
 * the partition cuts the internet at every boundary either side mentions.
 */
export function mergeBlocks(changes: readonly PairChange[]): PairChange[] {
  const groups = new Map<string, PairChange[]>();
  for (const c of changes) {
    const key = [
      baseName(c.from),
      baseName(c.to),
      conn.formatConnections(c.before),
      conn.formatConnections(c.after),
    ].join("\u0000");
    const list = groups.get(key);
    if (list) list.push(c);
    else groups.set(key, [c]);
  }
  return [...groups.values()].map((group) => {
    if (group.length === 1) return group[0];
    const label = (end: string): string =>
      end.includes(" ") ? `${baseName(end)} (${group.length} blocks)` : end;
    return { ...group[0], from: label(group[0].from), to: label(group[0].to) };
  });
}

export function renderExplainedDiff(all: readonly PairChange[]): string {
  let changes = all;
  if (changes.length === 0) return "No connectivity changes.\n";
  changes = mergeBlocks(changes);
  const count = (t: PairChange["type"]): number => changes.filter((c) => c.type === t).length;
  const lines = [
    `Connectivity diff: ${changes.length} namespace pair(s) differ: ${count("opened")} opened, ${count("closed")} closed, ${count("changed")} changed`,
  ];
  for (const type of ["opened", "closed", "changed"] as const) {
    const group = changes.filter((c) => c.type === type);
    if (group.length === 0) continue;
    lines.push("", `${type[0].toUpperCase()}${type.slice(1)}:`);
    for (const c of group) {
      lines.push(`  ${c.from} -> ${c.to}`);
      if (c.opened)
        lines.push(
          `    + ${conn.formatConnections(c.opened.connections)}    allowed by ${c.opened.because || "?"}`,
        );
      if (c.closed)
        lines.push(
          `    - ${conn.formatConnections(c.closed.connections)}    was allowed by ${c.closed.because || "?"}`,
        );
      if (c.declared.length > 0) lines.push(`    declared: ${c.declared.join(", ")}`);
    }
  }
  return lines.join("\n") + "\n";
}
