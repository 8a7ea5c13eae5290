/** Connection-level diff of two models (or two connection lists). */
import * as conn from "../model/connections";
import type { ConnectionSet } from "../model/connections";
import type { ClusterModel } from "../model/types";
import { computeConnectivity, remoteRanges } from "../evaluate/matrix";
import type { Connection } from "./connectivity";
import { namespaceConnections, peerName, workloadConnections } from "./connectivity";
import type { PictureEdge, PictureGraph, PictureNode } from "./layout";
import { layoutToFit, PAGE_WIDTH } from "./render";
import { escapeHtml, renderPictureSvg, TONE_COLOURS } from "./svg";

export interface ConnectionChange {
  readonly type: "added" | "removed" | "changed";
  readonly from: string;
  readonly to: string;
  readonly before: ConnectionSet;
  readonly after: ConnectionSet;
}

export function diffConnections(
  before: readonly Connection[],
  after: readonly Connection[],
): ConnectionChange[] {
  const key = (c: Connection): string => `${peerName(c.from)}\u0000${peerName(c.to)}`;
  const old = new Map(before.map((c) => [key(c), c]));
  const neu = new Map(after.map((c) => [key(c), c]));
  const changes: ConnectionChange[] = [];
  for (const k of [...new Set([...old.keys(), ...neu.keys()])].sort()) {
    const a = old.get(k);
    const b = neu.get(k);
    const [from, to] = k.split("\u0000");
    const beforeSet = a?.connections ?? conn.NO_CONNECTIONS;
    const afterSet = b?.connections ?? conn.NO_CONNECTIONS;
    if (conn.equalConnections(beforeSet, afterSet)) continue;
    const type = conn.isEmptyConnections(beforeSet)
      ? "added"
      : conn.isEmptyConnections(afterSet)
        ? "removed"
        : "changed";
    changes.push({ type, from, to, before: beforeSet, after: afterSet });
  }
  return changes;
}

export function diffModels(
  before: ClusterModel,
  after: ClusterModel,
  granularity: "namespace" | "workload" = "namespace",
): ConnectionChange[] {
  const view = granularity === "namespace" ? namespaceConnections : workloadConnections;
  // Cut external blocks at the boundaries of both sides so the same block is compared.
  const a = remoteRanges(before);
  const b = remoteRanges(after);
  return diffConnections(
    view(computeConnectivity(before, { extraRanges: b })),
    view(computeConnectivity(after, { extraRanges: a })),
  );
}

export function renderDiff(changes: readonly ConnectionChange[]): string {
  if (changes.length === 0) return "No connectivity changes.\n";
  const lines = [`Connectivity diff: ${changes.length} change(s)`];
  for (const c of changes)
    lines.push(
      `${c.type}: ${c.from} => ${c.to} : ${conn.formatConnections(c.before)} -> ${conn.formatConnections(c.after)}`,
    );
  return lines.join("\n") + "\n";
}

const EXTERNAL_SUFFIX = "[External]";

/** The changes as a picture: added green, removed red (dashed), changed amber. */
export function diffPicture(changes: readonly ConnectionChange[]): PictureGraph {
  const nodes = new Map<string, PictureNode>();
  const node = (name: string): string => {
    const external = name.endsWith(EXTERNAL_SUFFIX);
    const label = external ? name.slice(0, -EXTERNAL_SUFFIX.length) : name;
    const id = `${external ? "ext" : "ns"}:${label}`;
    nodes.set(id, { id, label, kind: external ? "external" : "namespace" });
    return id;
  };
  const edges = changes.map((c, i): PictureEdge => {
    const before = conn.formatConnections(c.before);
    const after = conn.formatConnections(c.after);
    const label =
      c.type === "added" ? after : c.type === "removed" ? before : `${before} → ${after}`;
    return {
      id: `d${i}`,
      from: node(c.from),
      to: node(c.to),
      label,
      title: `${c.type}: ${c.from} -> ${c.to}: ${before} -> ${after}`,
      layer: c.type,
      tone: c.type,
    };
  });
  return { nodes: [...nodes.values()], edges };
}

/** A standalone page (inline SVG, no script) with the diff picture and the list of changes. */
export async function renderDiffHtml(changes: readonly ConnectionChange[]): Promise<string> {
  const picture =
    changes.length === 0
      ? "<p>No connectivity changes.</p>"
      : renderPictureSvg(await layoutToFit(diffPicture(changes)), "diff-svg");
  const rows = changes
    .map(
      (c) =>
        `<tr><td style="color:${TONE_COLOURS[c.type]}">${c.type}</td><td>${escapeHtml(c.from)}</td><td>${escapeHtml(c.to)}</td><td>${escapeHtml(conn.formatConnections(c.before))}</td><td>${escapeHtml(conn.formatConnections(c.after))}</td></tr>`,
    )
    .join("\n");
  const swatch = (type: ConnectionChange["type"]): string =>
    `<span style="color:${TONE_COLOURS[type]};margin-right:1.5em">&#9632; ${type}</span>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=${PAGE_WIDTH}">
<title>Connectivity diff</title>
<style>body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px;text-align:left}th{background:#eee}</style>
</head><body>
<h1>Connectivity diff: ${changes.length} change(s)</h1>
<p>${swatch("added")}${swatch("removed")}${swatch("changed")}</p>
${picture}
<table><thead><tr><th>change</th><th>from</th><th>to</th><th>before</th><th>after</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
