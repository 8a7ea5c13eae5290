/**
 * Human reports: markdown matrix, Mermaid flowchart and a self-contained HTML page with an SVG
 * drawn here (simple layered layout; no scripts, no CDN).
 */
import * as conn from "../model/connections";
import type { ClusterModel } from "../model/types";
import type { ClassConnectivity } from "../evaluate/matrix";
import { computeConnectivity } from "../evaluate/matrix";
import type { Connection, ConnectivityPeer } from "./connectivity";
import { namespaceConnections, peerName } from "./connectivity";
import { groupExternalPeers } from "./external-groups";

const HBONE_MARK = " (HBONE)";
const EDGE_LABEL_LIMIT = 30;

/**
 * Optional emphasis for the pictures: `focus` picks the connections a reader cares about first
 * (a stack's declared application flows, say); they get a diagram of their own above the full one.
 */
export interface DiagramOptions {
  readonly focus?: (connection: Connection) => boolean;
  readonly focusTitle?: string;
  /** One paragraph under the focused diagram, e.g. what the full picture adds. */
  readonly focusNote?: string;
}

/** Namespace-level connections, external blocks grouped the way a person reads them. */
export function connectionsOf(model: ClusterModel, connectivity?: ClassConnectivity): Connection[] {
  return groupExternalPeers(namespaceConnections(connectivity ?? computeConnectivity(model)));
}

export function cellText(c: Connection, model: ClusterModel): string {
  let text = conn.formatConnections(c.connections);
  if (c.viaHbone && model.options.mesh) text += HBONE_MARK;
  return text;
}

export function escapeMd(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export function externalLabel(peer: ConnectivityPeer): string {
  return peer.kind === "external" ? peer.cidr : peerName(peer);
}

/**
 * Namespace × namespace table (rows = source, columns = destination) of allowed ports, union
 * over pods; "(HBONE)" marks cells carried meshed-to-meshed, whose TCP ports were judged on the
 * HBONE port. Then external egress and ingress per namespace.
 */
export function renderMatrixMarkdown(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
): string {
  const connections = connectionsOf(model, connectivity);
  const names = [...model.namespaces.keys()].sort();
  const cell = new Map<string, Connection>();
  for (const c of connections) cell.set(`${peerName(c.from)}\u0000${peerName(c.to)}`, c);
  const lines: string[] = ["# Connectivity matrix", ""];
  lines.push(
    `Rows are sources, columns destinations; a cell lists what at least one pod pair may open. ` +
      `ipBlockMatchesPods=${model.options.ipBlockMatchesPods}` +
      (model.options.mesh
        ? `; "(HBONE)" = meshed-to-meshed, TCP judged on port ${model.options.mesh.hbonePort}.`
        : "."),
    "",
  );
  lines.push(`| from \\ to | ${names.map(escapeMd).join(" | ")} |`);
  lines.push(`|---|${names.map(() => "---").join("|")}|`);
  for (const from of names) {
    const row = names.map((to) => {
      const c = cell.get(`${from}\u0000${to}`);
      return c ? escapeMd(cellText(c, model)) : "-";
    });
    lines.push(`| **${escapeMd(from)}** | ${row.join(" | ")} |`);
  }
  const section = (title: string, items: Connection[], external: "to" | "from"): void => {
    lines.push("", `## ${title}`, "");
    if (items.length === 0) {
      lines.push("(none)");
      return;
    }
    lines.push(
      external === "to"
        ? "| namespace | destination | allowed |"
        : "| source | namespace | allowed |",
      "|---|---|---|",
    );
    for (const c of items) {
      lines.push(
        external === "to"
          ? `| ${escapeMd(peerName(c.from))} | ${externalLabel(c.to)} | ${escapeMd(cellText(c, model))} |`
          : `| ${externalLabel(c.from)} | ${escapeMd(peerName(c.to))} | ${escapeMd(cellText(c, model))} |`,
      );
    }
  };
  section(
    "External egress",
    connections.filter((c) => c.to.kind === "external"),
    "to",
  );
  section(
    "External ingress",
    connections.filter((c) => c.from.kind === "external"),
    "from",
  );
  return lines.join("\n") + "\n";
}

function mermaidId(name: string): string {
  return "n_" + name.replace(/[^A-Za-z0-9_]/g, "_");
}

function shortConnections(c: Connection, model: ClusterModel): string {
  const text = cellText(c, model);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

function mermaidFlowchart(connections: readonly Connection[], model: ClusterModel): string {
  const edges = connections.filter((c) => peerName(c.from) !== peerName(c.to));
  const nodes = new Map<string, string>();
  for (const c of edges) {
    for (const peer of [c.from, c.to]) {
      const label = peer.kind === "external" ? externalLabel(peer) : peerName(peer);
      nodes.set(
        mermaidId(label),
        peer.kind === "external"
          ? `${mermaidId(label)}{{"${label}"}}`
          : `${mermaidId(label)}["${label}"]`,
      );
    }
  }
  const lines = ["```mermaid", "flowchart LR"];
  for (const node of [...nodes.values()].sort()) lines.push(`  ${node}`);
  for (const c of edges) {
    const from = mermaidId(c.from.kind === "external" ? externalLabel(c.from) : peerName(c.from));
    const to = mermaidId(c.to.kind === "external" ? externalLabel(c.to) : peerName(c.to));
    const arrow = c.viaHbone && model.options.mesh ? "==>" : "-->";
    lines.push(`  ${from} ${arrow}|"${shortConnections(c, model).replace(/"/g, "'")}"| ${to}`);
  }
  lines.push("```");
  return lines.join("\n");
}

/** Mermaid flowcharts (inside markdown fences) of namespace-level flows. */
export function renderMermaidMarkdown(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): string {
  const connections = connectionsOf(model, connectivity);
  const parts = ["# Connectivity diagram", ""];
  if (options.focus) {
    parts.push(`## ${options.focusTitle ?? "Focus"}`, "");
    if (options.focusNote) parts.push(options.focusNote, "");
    parts.push(
      mermaidFlowchart(connections.filter(options.focus), model),
      "",
      "## Every allowed connection",
      "",
    );
  }
  parts.push(mermaidFlowchart(connections, model));
  return `${parts.join("\n")}\n`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

interface LaidOutNode {
  readonly name: string;
  readonly external: boolean;
  readonly x: number;
  readonly y: number;
}

/**
 * Layered layout: layer = length of the longest path from a node without incoming edges,
 * computed on the graph with back edges ignored (DFS order), so cycles still terminate.
 */
function layout(
  nodes: string[],
  edges: [string, string][],
  externals: Set<string>,
): { placed: Map<string, LaidOutNode>; width: number; height: number } {
  const outgoing = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) if (a !== b) outgoing.get(a)!.push(b);
  const state = new Map<string, number>();
  const order: string[] = [];
  const forward: [string, string][] = [];
  const visit = (n: string): void => {
    state.set(n, 1);
    for (const m of outgoing.get(n)!) {
      if (state.get(m) === 1) continue; // back edge
      forward.push([n, m]);
      if (!state.has(m)) visit(m);
    }
    state.set(n, 2);
    order.push(n);
  };
  for (const n of nodes) if (!state.has(n)) visit(n);
  const layer = new Map<string, number>(nodes.map((n) => [n, 0]));
  for (const n of order.reverse())
    for (const [a, b] of forward)
      if (a === n) layer.set(b, Math.max(layer.get(b)!, layer.get(a)! + 1));
  const columns = new Map<number, string[]>();
  for (const n of nodes) {
    const l = layer.get(n)!;
    columns.set(l, [...(columns.get(l) ?? []), n]);
  }
  const placed = new Map<string, LaidOutNode>();
  const colWidth = 260;
  const rowHeight = 70;
  let maxRows = 0;
  for (const [l, members] of [...columns.entries()].sort((a, b) => a[0] - b[0])) {
    members.sort();
    maxRows = Math.max(maxRows, members.length);
    members.forEach((n, i) =>
      placed.set(n, {
        name: n,
        external: externals.has(n),
        x: 40 + l * colWidth,
        y: 40 + i * rowHeight,
      }),
    );
  }
  return {
    placed,
    width: 80 + Math.max(1, columns.size) * colWidth,
    height: 80 + Math.max(1, maxRows) * rowHeight,
  };
}

function renderSvg(
  connections: readonly Connection[],
  model: ClusterModel,
  includeAllNamespaces: boolean,
): string {
  const label = (p: ConnectivityPeer): string =>
    p.kind === "external" ? externalLabel(p) : peerName(p);
  const edges = connections.filter((c) => label(c.from) !== label(c.to));
  const externals = new Set<string>();
  const nodeSet = new Set<string>(includeAllNamespaces ? model.namespaces.keys() : []);
  for (const c of edges)
    for (const p of [c.from, c.to]) {
      nodeSet.add(label(p));
      if (p.kind === "external") externals.add(label(p));
    }
  const nodes = [...nodeSet].sort();
  const { placed, width, height } = layout(
    nodes,
    edges.map((c) => [label(c.from), label(c.to)]),
    externals,
  );
  const edgeLabels: string[] = [];
  const boxW = 180;
  const boxH = 34;
  const svg: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
  ];
  for (const c of edges) {
    const a = placed.get(label(c.from))!;
    const b = placed.get(label(c.to))!;
    const x1 = a.x + boxW;
    const y1 = a.y + boxH / 2;
    const x2 = b.x;
    const y2 = b.y + boxH / 2;
    const backwards = x2 <= a.x;
    const path = backwards
      ? `M${a.x + boxW / 2},${a.y + boxH} C${a.x + boxW / 2},${a.y + boxH + 60} ${b.x + boxW / 2},${b.y + boxH + 60} ${b.x + boxW / 2},${b.y + boxH}`
      : `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`;
    const colour = c.viaHbone && model.options.mesh ? "#7b3fb5" : "#555";
    const title = `${label(c.from)} -> ${label(c.to)}: ${cellText(c, model)}`;
    svg.push(
      `<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.4" marker-end="url(#arrow)"><title>${escapeHtml(title)}</title></path>`,
    );
    // Small pictures carry their ports on the edges; large ones keep them in the tooltips.
    if (edges.length <= EDGE_LABEL_LIMIT && !backwards) {
      edgeLabels.push(
        `<text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 5}" text-anchor="middle" font-size="10" fill="${colour}" stroke="white" stroke-width="3" paint-order="stroke">${escapeHtml(shortConnections(c, model))}</text>`,
      );
    }
  }
  svg.push(...edgeLabels);
  for (const n of placed.values()) {
    const fill = n.external ? "#fde2e2" : "#e3effd";
    svg.push(
      `<g><rect x="${n.x}" y="${n.y}" width="${boxW}" height="${boxH}" rx="${n.external ? 14 : 4}" fill="${fill}" stroke="#333"/>` +
        `<text x="${n.x + boxW / 2}" y="${n.y + boxH / 2 + 4}" text-anchor="middle">${escapeHtml(n.name.length > 28 ? n.name.slice(0, 27) + "…" : n.name)}</text>` +
        `<title>${escapeHtml(n.name)}</title></g>`,
    );
  }
  svg.push("</svg>");
  return svg.join("\n");
}

/** A standalone HTML page: SVG diagram(s) plus the table of allowed connections. */
export function renderHtml(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): string {
  const connections = connectionsOf(model, connectivity);
  const label = (p: ConnectivityPeer): string =>
    p.kind === "external" ? externalLabel(p) : peerName(p);
  const focus = options.focus
    ? `<h2>${escapeHtml(options.focusTitle ?? "Focus")}</h2>\n${options.focusNote ? `<p>${escapeHtml(options.focusNote)}</p>\n` : ""}${renderSvg(connections.filter(options.focus), model, false)}\n<h2>Every allowed connection</h2>\n`
    : "";
  const svg = [focus + renderSvg(connections, model, true)];
  const rows = connections
    .map(
      (c) =>
        `<tr><td>${escapeHtml(label(c.from))}</td><td>${escapeHtml(label(c.to))}</td><td>${escapeHtml(cellText(c, model))}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connectivity</title>
<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px}th{background:#eee}.legend span{display:inline-block;margin-right:1.5em}</style>
</head><body>
<h1>Connectivity</h1>
<p class="legend"><span>Blue: namespace</span><span>Red: external block</span><span>Purple edge: meshed-to-meshed (HBONE)</span><span>ipBlockMatchesPods=${model.options.ipBlockMatchesPods}</span></p>
<p>Hover an edge for its ports.</p>
${svg.join("\n")}
<h2>Allowed connections</h2>
<table><thead><tr><th>from</th><th>to</th><th>allowed</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
