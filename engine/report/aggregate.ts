/**
 * Pictures of large clusters: namespaces in groups, one node per group in an overview, and one
 * drill-down picture per group (its namespaces one by one, every other group as one node).
 *
 * The grouping rule, deterministic and documented in docs/engine.md ("Pictures of large
 * clusters"): a namespace's key is its group path from the config (tier, then mesh) when it has
 * one; otherwise its mesh membership when the cluster has a mesh ("ambient mesh" or "outside
 * the mesh"); otherwise "namespaces". A key with more than `MAX_GROUP_SIZE` namespaces is cut
 * into that many contiguous, equally sized runs of its alphabetically sorted names (names that
 * share a prefix stay together), numbered "key 1/4", "key 2/4", … and described by their first
 * and last name.
 */
import * as conn from "../model/connections";
import type { ConnectivityPeer } from "./connectivity";
import type { NamedConnection } from "./external-names";
import type { PictureEdge, PictureGraph, PictureNode } from "./layout";
import {
  connectionLabel,
  DEFAULT_LAYER,
  endName,
  namespaceAnchor,
  nodeId,
  reasonOf,
  UNDECLARED_LAYER,
  type PictureOptions,
} from "./pictures";

/**
 * At most this many namespaces per group: a drill-down picture then has about 20 namespace
 * boxes and one box per other group, which ELK still lays out within the page width.
 */
export const MAX_GROUP_SIZE = 20;

export interface NamespaceGroup {
  readonly label: string;
  /** Sorted. */
  readonly members: readonly string[];
  /** One line under the label: how many, and the name range of a cut group. */
  readonly detail: string;
}

export interface NamespaceGrouping {
  readonly groups: readonly NamespaceGroup[];
  readonly groupOf: (namespace: string) => NamespaceGroup;
}

export function groupAnchor(group: string): string {
  return `group-${group.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The grouping rule above; `keyOf` gives a namespace's key. */
export function groupNamespaces(
  namespaces: readonly string[],
  keyOf: (namespace: string) => string,
  maxSize: number = MAX_GROUP_SIZE,
): NamespaceGrouping {
  const byKey = new Map<string, string[]>();
  for (const name of [...namespaces].sort()) {
    const key = keyOf(name);
    byKey.set(key, [...(byKey.get(key) ?? []), name]);
  }
  const groups: NamespaceGroup[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const members = byKey.get(key)!;
    const runs = Math.ceil(members.length / maxSize);
    if (runs === 1) {
      groups.push({ label: key, members, detail: plural(members.length, "namespace") });
      continue;
    }
    for (let run = 0; run < runs; run++) {
      const slice = members.slice(
        Math.round((run * members.length) / runs),
        Math.round(((run + 1) * members.length) / runs),
      );
      groups.push({
        label: `${key} ${run + 1}/${runs}`,
        members: slice,
        detail: `${slice[0]} … ${slice[slice.length - 1]}`,
      });
    }
  }
  const of = new Map(groups.flatMap((g) => g.members.map((m) => [m, g] as const)));
  return {
    groups,
    groupOf: (namespace) => {
      const group = of.get(namespace);
      if (!group) throw new Error(`namespace ${namespace} is in no group`);
      return group;
    },
  };
}

function groupNode(group: NamespaceGroup): PictureNode {
  return {
    id: `agg:${group.label}`,
    label: group.label,
    kind: "aggregate",
    detail: group.detail,
    href: `#${groupAnchor(group.label)}`,
    title: `${group.label}: ${group.members.length > 6 ? `${group.members.slice(0, 6).join(", ")}, …` : group.members.join(", ")} (open for its namespaces)`,
  };
}

function sidedGroupNode(group: NamespaceGroup, side: "from" | "to"): PictureNode {
  const node = groupNode(group);
  return {
    ...node,
    id: `${side === "from" ? "in" : "out"}:${node.id}`,
    title: `${node.title} (${side === "from" ? "as a source" : "as a destination"})`,
  };
}

function externalNode(peer: ConnectivityPeer, side: "from" | "to"): PictureNode {
  return {
    id: nodeId(peer, side),
    label: endName(peer),
    kind: "external",
    title: `${endName(peer)} (${side === "from" ? "as a source" : "as a destination"})`,
  };
}

/** Connections united per pair of drawn ends: the edge they become and what it stands for. */
interface MergedEdge {
  readonly from: PictureNode;
  readonly to: PictureNode;
  /** Ports: the union of the parts (HBONE when every part is meshed-to-meshed). */
  readonly merged: NamedConnection;
  readonly parts: readonly NamedConnection[];
}

function mergeEnds(
  connections: readonly NamedConnection[],
  nodeOf: (peer: ConnectivityPeer, side: "from" | "to") => PictureNode,
): MergedEdge[] {
  const byPair = new Map<string, MergedEdge>();
  for (const c of connections) {
    const [from, to] = [nodeOf(c.from, "from"), nodeOf(c.to, "to")];
    const key = `${from.id}\u0000${to.id}`;
    const seen = byPair.get(key);
    if (!seen) {
      byPair.set(key, { from, to, merged: c, parts: [c] });
      continue;
    }
    const connections = conn.unionConnections(seen.merged.connections, c.connections);
    byPair.set(key, {
      ...seen,
      merged: {
        ...seen.merged,
        connections,
        ports: conn.connectionsToList(connections),
        viaHbone: seen.merged.viaHbone && c.viaHbone,
        partial: [...seen.merged.partial, ...c.partial],
      },
      parts: [...seen.parts, c],
    });
  }
  return [...byPair.values()];
}

/** The reasons of every part, once each, in order (flow names first as the explainer gives them). */
function partReasons(parts: readonly NamedConnection[], options: PictureOptions): string[] {
  return [...new Set(parts.flatMap((c) => reasonOf(c, options).reasons))];
}

function undeclaredParts(parts: readonly NamedConnection[], options: PictureOptions): number {
  if (!options.explainConnection) return 0;
  return parts.filter((c) => reasonOf(c, options).reasons.length === 0).length;
}

/** One layer for an edge of several connections: theirs if they agree, else the default one. */
function mergedLayer(parts: readonly NamedConnection[], options: PictureOptions): string {
  const layers = new Set(parts.map((c) => reasonOf(c, options).layer));
  return layers.size === 1 ? [...layers][0] : DEFAULT_LAYER;
}

/** Longer port lists are cut at a comma, so group edges keep short labels (titles keep all). */
const MAX_PORTS_TEXT = 30;

function shortPorts(text: string): string {
  if (text.length <= MAX_PORTS_TEXT) return text;
  const cut = text.lastIndexOf(",", MAX_PORTS_TEXT);
  return `${text.slice(0, cut > 0 ? cut : MAX_PORTS_TEXT)},…`;
}

/**
 * The overview: every group that sends drawn on the left, every group that receives on the right
 * (groups talk to each other in cycles, which a layered layout can only draw as a long chain or a
 * tangle), external ends as themselves, one edge per ordered pair of different groups (what stays
 * inside a group is in its drill-down) labelled "N × ports": how many namespace-level connections
 * it stands for and the union of their ports.
 */
export function aggregatePicture(
  connections: readonly NamedConnection[],
  grouping: NamespaceGrouping,
  options: PictureOptions,
): PictureGraph {
  const nodeOf = (peer: ConnectivityPeer, side: "from" | "to"): PictureNode =>
    peer.kind === "namespace"
      ? sidedGroupNode(grouping.groupOf(peer.name), side)
      : externalNode(peer, side);
  const merged = mergeEnds(connections, nodeOf).filter(
    (m) => m.from.label !== m.to.label || m.from.kind !== "aggregate",
  );
  const nodes = new Map<string, PictureNode>();
  const edges = merged.map((m, i): PictureEdge => {
    for (const n of [m.from, m.to]) if (!nodes.has(n.id)) nodes.set(n.id, n);
    const ports = connectionLabel(m.merged, options.meshed ?? false);
    const undeclared = undeclaredParts(m.parts, options);
    return {
      id: `a${i}`,
      from: m.from.id,
      to: m.to.id,
      label: `${m.parts.length} × ${shortPorts(ports)}`,
      title: `${m.from.label} -> ${m.to.label}: ${plural(m.parts.length, "namespace-level connection")}${undeclared > 0 ? ` (${undeclared} declared by nothing)` : ""}, ${ports}. Open the group for each one and its reason.`,
      layer: undeclared > 0 ? UNDECLARED_LAYER : mergedLayer(m.parts, options),
      tone: undeclared > 0 ? "undeclared" : m.merged.viaHbone && options.meshed ? "hbone" : "plain",
    };
  });
  // A group that talks to no other group still appears, once.
  const drawn = new Set([...nodes.values()].map((n) => n.label));
  for (const group of grouping.groups)
    if (!drawn.has(group.label)) nodes.set(`agg:${group.label}`, groupNode(group));
  return { nodes: [...nodes.values()], edges };
}

/** A drill-down edge with what it stands for, for the table under the picture. */
export interface DrillDownRow {
  readonly edgeId: string;
  readonly from: string;
  readonly to: string;
  readonly allowed: string;
  /** Every reason (flow name or pattern) of every connection the edge stands for. */
  readonly why: string;
  readonly connections: number;
}

/**
 * One group drilled into: its namespaces one by one (their own traffic as loops), every other
 * group as one node linking to its own drill-down, external ends as themselves. Edges between a
 * member and another group unite the connections to that group's namespaces; the title and the
 * row name every reason, so each edge is traced to its flows.
 */
export function drillDownPicture(
  connections: readonly NamedConnection[],
  grouping: NamespaceGrouping,
  group: NamespaceGroup,
  options: PictureOptions,
): { graph: PictureGraph; rows: DrillDownRow[] } {
  const members = new Set(group.members);
  const isMember = (peer: ConnectivityPeer): boolean =>
    peer.kind === "namespace" && members.has(peer.name);
  const nodeOf = (peer: ConnectivityPeer, side: "from" | "to"): PictureNode => {
    if (peer.kind !== "namespace") return externalNode(peer, side);
    // Like external ends, another group is drawn once as a source and once as a destination:
    // the picture then reads left to right, senders, the members, receivers, without cycles.
    if (!members.has(peer.name)) return sidedGroupNode(grouping.groupOf(peer.name), side);
    return {
      id: `ns:${peer.name}`,
      label: peer.name,
      kind: "namespace",
      href: `#${namespaceAnchor(peer.name)}`,
    };
  };
  const nodes = new Map(
    group.members.map((m) => {
      const node = nodeOf({ kind: "namespace", name: m }, "from");
      return [node.id, node];
    }),
  );
  const merged = mergeEnds(
    connections.filter((c) => isMember(c.from) || isMember(c.to)),
    nodeOf,
  );
  const rows: DrillDownRow[] = [];
  const edges = merged.map((m, i): PictureEdge => {
    for (const n of [m.from, m.to]) if (!nodes.has(n.id)) nodes.set(n.id, n);
    const allowed = connectionLabel(m.merged, options.meshed ?? false);
    const reasons = partReasons(m.parts, options);
    const undeclared = undeclaredParts(m.parts, options);
    const why = [
      ...reasons,
      ...(undeclared > 0 ? [`${plural(undeclared, "connection")} declared by nothing`] : []),
    ].join("; ");
    const id = `d${i}`;
    rows.push({
      edgeId: id,
      from: m.from.label,
      to: m.to.label,
      allowed,
      why,
      connections: m.parts.length,
    });
    return {
      id,
      from: m.from.id,
      to: m.to.id,
      label: allowed,
      title: `${m.from.label} -> ${m.to.label}: ${allowed}${m.parts.length > 1 ? ` (${m.parts.length} connections)` : ""}.${why ? ` Why: ${why}` : ""}`,
      layer: undeclared > 0 ? UNDECLARED_LAYER : mergedLayer(m.parts, options),
      tone: undeclared > 0 ? "undeclared" : m.merged.viaHbone && options.meshed ? "hbone" : "plain",
    };
  });
  return { graph: { nodes: [...nodes.values()], edges }, rows };
}
