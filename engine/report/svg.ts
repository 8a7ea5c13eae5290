/**
 * SVG for a laid-out picture. Everything is positioned by the layout (engine/report/layout.ts);
 * this file only draws: groups, then edges, then nodes, then edge labels on top so nothing covers
 * them. Edges carry `layer-<name>` classes so the page's CSS can hide and show layers.
 */
import {
  LABEL_FONT_PX,
  NODE_FONT_PX,
  type EdgeTone,
  type LaidOutPicture,
  type NodeKind,
  type Point,
} from "./layout";

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

export const TONE_COLOURS: Readonly<Record<EdgeTone, string>> = {
  plain: "#3b4a5a",
  hbone: "#7b3fb5",
  added: "#1a8a2e",
  removed: "#c62828",
  changed: "#c77800",
  undeclared: "#c62828",
};

const NODE_STYLE: Readonly<Record<NodeKind, { fill: string; stroke: string; rx: number }>> = {
  namespace: { fill: "#e3effd", stroke: "#2f5b8a", rx: 4 },
  external: { fill: "#fdeaea", stroke: "#a33a3a", rx: 16 },
  aggregate: { fill: "#eef3e6", stroke: "#4f6b2a", rx: 4 },
};

/** A class-safe token for a layer name. */
export function layerClass(layer: string): string {
  return `layer-${layer.replace(/[^a-z0-9-]/gi, "-")}`;
}

const round = (n: number): string => String(Math.round(n * 10) / 10);

function polyline(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${round(p.x)},${round(p.y)}`).join(" ");
}

/** `id` prefixes marker ids so several pictures can share one page. */
export function renderPictureSvg(picture: LaidOutPicture, id: string): string {
  const markers = Object.entries(TONE_COLOURS)
    .map(
      ([tone, colour]) =>
        `<marker id="${id}-arrow-${tone}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`,
    )
    .join("");
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" id="${id}" class="picture-svg" width="${picture.width}" height="${picture.height}" viewBox="0 0 ${picture.width} ${picture.height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${NODE_FONT_PX}">`,
    `<defs>${markers}</defs>`,
  ];
  for (const g of picture.groups) {
    const depthFill = g.path.length === 1 ? "#f6f7f9" : "#f3ecfb";
    const stroke = g.path.length === 1 ? "#aab4c0" : "#9b7cc4";
    out.push(
      `<g class="group"><rect x="${round(g.x)}" y="${round(g.y)}" width="${round(g.width)}" height="${round(g.height)}" rx="8" fill="${depthFill}" stroke="${stroke}" stroke-dasharray="${g.path.length === 1 ? "none" : "5 3"}"/>` +
        `<text x="${round(g.labelBox.x + 4)}" y="${round(g.labelBox.y + g.labelBox.height - 4)}" font-weight="bold" fill="#445">${escapeHtml(g.label)}</text></g>`,
    );
  }
  for (const e of picture.edges) {
    const colour = TONE_COLOURS[e.edge.tone];
    const dash = e.edge.tone === "removed" ? ` stroke-dasharray="6 3"` : "";
    const paths = e.sections
      .map(
        (points) =>
          `<path d="${polyline(points)}" fill="none" stroke="${colour}" stroke-width="1.5"${dash} marker-end="url(#${id}-arrow-${e.edge.tone})"/>`,
      )
      .join("");
    out.push(
      `<g class="edge ${layerClass(e.edge.layer)}" data-edge="${escapeHtml(e.edge.id)}"><title>${escapeHtml(e.edge.title)}</title>${paths}</g>`,
    );
  }
  for (const n of picture.nodes) {
    const style = NODE_STYLE[n.node.kind];
    const cx = n.x + n.width / 2;
    const textY = n.node.detail ? n.y + 19 : n.y + n.height / 2 + 4.5;
    const text =
      `<text x="${round(cx)}" y="${round(textY)}" text-anchor="middle">${escapeHtml(n.node.label)}</text>` +
      (n.node.detail
        ? `<text x="${round(cx)}" y="${round(n.y + 37)}" text-anchor="middle" font-size="${LABEL_FONT_PX}" fill="#555">${escapeHtml(n.node.detail)}</text>`
        : "");
    const body =
      `<rect x="${round(n.x)}" y="${round(n.y)}" width="${round(n.width)}" height="${round(n.height)}" rx="${style.rx}" fill="${style.fill}" stroke="${style.stroke}"/>` +
      text +
      `<title>${escapeHtml(n.node.title ?? n.node.label)}</title>`;
    out.push(
      n.node.href
        ? `<a href="${escapeHtml(n.node.href)}" class="node">${body}</a>`
        : `<g class="node">${body}</g>`,
    );
  }
  for (const e of picture.edges) {
    const b = e.labelBox;
    out.push(
      `<g class="edge-label ${layerClass(e.edge.layer)}"><rect x="${round(b.x)}" y="${round(b.y)}" width="${round(b.width)}" height="${round(b.height)}" fill="white" fill-opacity="0.9"/>` +
        `<text x="${round(b.x + b.width / 2)}" y="${round(b.y + b.height - 4)}" text-anchor="middle" font-size="${LABEL_FONT_PX}" fill="${TONE_COLOURS[e.edge.tone]}">${escapeHtml(e.edge.label)}</text><title>${escapeHtml(e.edge.title)}</title></g>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}
