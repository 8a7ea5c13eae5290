/**
 * From namespace-level connections to pictures: the full picture (every allowed connection, one
 * edge per ordered pair, each in a layer that the page can hide), one picture per namespace (what
 * goes in and out, with reasons); large clusters are drawn in groups (engine/report/aggregate.ts).
 */
import * as conn from "../model/connections";
import { peerName, type Connection, type ConnectivityPeer } from "./connectivity";
import { namedConnectionText, type NamedConnection } from "./external-names";
import type { EdgeTone, PictureEdge, PictureGraph, PictureNode } from "./layout";

/** Why a connection exists: its layer and the declarations behind it. */
export interface ConnectionReason {
  /** The layer the edge is drawn in: that of its most application-like reason. */
  readonly layer: string;
  /** Every layer some reason belongs to (the edge also appears in those layers' pictures). */
  readonly layers?: readonly string[];
  /** Flow names or patterns with their reasons; empty = nothing declared it. */
  readonly reasons: readonly string[];
}

export interface LayerSpec {
  readonly id: string;
  readonly label: string;
  readonly hiddenByDefault: boolean;
}

export const UNDECLARED_LAYER = "undeclared";
export const DEFAULT_LAYER = "connections";

export interface PictureOptions {
  /** Group path of a namespace (tier, then mesh), outermost first. */
  readonly namespaceGroups?: (namespace: string) => readonly string[];
  readonly explainConnection?: (connection: NamedConnection) => ConnectionReason;
  /** Without declarations: the layer of a connection (see `sharedServiceLayer`). */
  readonly layerOf?: (connection: NamedConnection) => string;
  /** Meshed-to-meshed edges are drawn in the HBONE tone; all-TCP ones say "HBONE (all TCP)". */
  readonly meshed?: boolean;
}

export function endName(peer: ConnectivityPeer): string {
  switch (peer.kind) {
    case "external":
      return peer.text;
    case "domains":
      return peerName(peer);
    default:
      return peer.name;
  }
}

/**
 * External ends are drawn twice when they are both a source and a destination (the internet
 * sends to the edge and receives from the apps): one node on each side reads left to right.
 */
export function nodeId(peer: ConnectivityPeer, side: "from" | "to"): string {
  if (peer.kind === "namespace") return `ns:${peer.name}`;
  return `${side === "from" ? "in" : "out"}:${endName(peer)}`;
}

export function namespaceAnchor(namespace: string): string {
  return `ns-${namespace.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/**
 * Edge text: the allowed ports. Between meshed pods these are the TCP ports ztunnel authorization
 * allows (the CNI sees only HBONE there); where no AuthorizationPolicy narrows them the pair gets
 * every TCP port, shown as "HBONE (all TCP)" (docs/engine.md, Istio ambient authorization).
 */
export function connectionLabel(c: NamedConnection, meshed: boolean): string {
  if (!(c.viaHbone && meshed)) return namedConnectionText(c);
  if (!conn.everyPortProtocols(c.connections).includes("TCP")) return namedConnectionText(c);
  const rest = conn.subtractConnections(c.connections, conn.wholeProtocol("TCP"));
  const restText = conn.isEmptyConnections(rest) ? "" : `, ${conn.formatConnections(rest)}`;
  return `HBONE (all TCP)${restText}`;
}

export function reasonOf(c: NamedConnection, options: PictureOptions): ConnectionReason {
  return (
    options.explainConnection?.(c) ?? { layer: options.layerOf?.(c) ?? DEFAULT_LAYER, reasons: [] }
  );
}

function toneOf(c: NamedConnection, reason: ConnectionReason, options: PictureOptions): EdgeTone {
  if (options.explainConnection && reason.reasons.length === 0) return "undeclared";
  return c.viaHbone && options.meshed ? "hbone" : "plain";
}

function peerNode(
  peer: ConnectivityPeer,
  side: "from" | "to",
  options: PictureOptions,
  link: boolean,
): PictureNode {
  if (peer.kind === "namespace")
    return {
      id: nodeId(peer, side),
      label: peer.name,
      kind: "namespace",
      groups: options.namespaceGroups?.(peer.name) ?? [],
      ...(link ? { href: `#${namespaceAnchor(peer.name)}` } : {}),
    };
  return {
    id: nodeId(peer, side),
    label: endName(peer),
    kind: "external",
    title: `${endName(peer)} (${side === "from" ? "as a source" : "as a destination"})`,
  };
}

export function connectionEdge(
  c: NamedConnection,
  index: number,
  options: PictureOptions,
): PictureEdge {
  const reason = reasonOf(c, options);
  const label = connectionLabel(c, options.meshed ?? false);
  const why = reason.reasons.length > 0 ? reason.reasons.join("; ") : "declared by nothing";
  return {
    id: `c${index}`,
    from: nodeId(c.from, "from"),
    to: nodeId(c.to, "to"),
    label,
    title: `${endName(c.from)} -> ${endName(c.to)}: ${label}. Why: ${why}`,
    layer:
      reason.reasons.length === 0 && options.explainConnection ? UNDECLARED_LAYER : reason.layer,
    tone: toneOf(c, reason, options),
  };
}

/**
 * Every connection `include` accepts as one edge (a namespace's traffic to itself included, drawn
 * as a loop); every namespace of `namespaces` appears even when nothing connects it.
 */
export function fullPicture(
  connections: readonly NamedConnection[],
  namespaces: readonly string[],
  options: PictureOptions,
  include: (connection: NamedConnection) => boolean = () => true,
): PictureGraph {
  const nodes = new Map<string, PictureNode>();
  for (const name of namespaces) {
    const node = peerNode({ kind: "namespace", name }, "from", options, true);
    nodes.set(node.id, node);
  }
  const edges: PictureEdge[] = [];
  connections.forEach((c, i) => {
    if (!include(c)) return;
    for (const [peer, side] of [
      [c.from, "from"],
      [c.to, "to"],
    ] as const) {
      const node = peerNode(peer, side, options, true);
      if (!nodes.has(node.id)) nodes.set(node.id, node);
    }
    edges.push(connectionEdge(c, i, options));
  });
  return { nodes: [...nodes.values()], edges };
}

/** What goes in and out of one namespace, its own pods talking to each other included. */
export function namespacePicture(
  connections: readonly NamedConnection[],
  namespace: string,
  options: PictureOptions,
): { graph: PictureGraph; connections: NamedConnection[] } {
  const mine = connections.filter(
    (c) =>
      (c.from.kind === "namespace" && c.from.name === namespace) ||
      (c.to.kind === "namespace" && c.to.name === namespace),
  );
  const flat: PictureOptions = { ...options, namespaceGroups: () => [] };
  const nodes = new Map<string, PictureNode>();
  const self = peerNode({ kind: "namespace", name: namespace }, "from", flat, false);
  nodes.set(self.id, self);
  for (const c of mine)
    for (const [peer, side] of [
      [c.from, "from"],
      [c.to, "to"],
    ] as const) {
      const link = peer.kind === "namespace" && peer.name !== namespace;
      const node = peerNode(peer, side, flat, link);
      if (!nodes.has(node.id)) nodes.set(node.id, node);
    }
  return {
    graph: {
      nodes: [...nodes.values()],
      edges: mine.map((c) => connectionEdge(c, connections.indexOf(c), options)),
    },
    connections: mine,
  };
}

export const SHARED_LAYER = "shared";

/**
 * Without declarations, the universal patterns still show: an end that more than half of the
 * namespaces reach (DNS, the API) or that reaches more than half of them (a scraper) is a shared
 * service, and its connections form a layer of their own.
 */
export function sharedServiceLayer(
  connections: readonly NamedConnection[],
  namespaceCount: number,
): (connection: NamedConnection) => string {
  const reachedBy = new Map<string, Set<string>>();
  const reaches = new Map<string, Set<string>>();
  for (const c of connections) {
    const [from, to] = [nodeId(c.from, "from"), nodeId(c.to, "to")];
    if (from === to) continue;
    reachedBy.set(to, (reachedBy.get(to) ?? new Set()).add(from));
    reaches.set(from, (reaches.get(from) ?? new Set()).add(to));
  }
  const threshold = Math.max(3, namespaceCount / 2);
  return (c) =>
    (reachedBy.get(nodeId(c.to, "to"))?.size ?? 0) > threshold ||
    (reaches.get(nodeId(c.from, "from"))?.size ?? 0) > threshold
      ? SHARED_LAYER
      : DEFAULT_LAYER;
}

export type { Connection };
