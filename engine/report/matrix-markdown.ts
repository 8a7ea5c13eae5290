/**
 * matrix.md at any size. Up to TABLE_LIMIT namespaces it is the namespace × namespace table of
 * render.ts; beyond, such a table is unreadable (2,000 namespaces make a 16 MB table of mostly
 * "-"), so the report summarises first (one row per namespace: how many namespaces it reaches and
 * is reached from, and its external egress and ingress), then lists each namespace's connections
 * out and in under its own heading, so a reader can jump to the namespace they care about.
 */
import type { ClassConnectivity } from "../evaluate/matrix";
import type { ClusterModel } from "../model/types";
import { peerName } from "./connectivity";
import type { NamedConnection } from "./external-names";
import {
  cellText,
  connectionsOf,
  escapeMd,
  externalLabel,
  isOutside,
  hboneNote,
  renderMatrixMarkdown as renderMatrixTable,
  type DiagramOptions,
} from "./render";

/** The most namespaces shown as one table (a table of 30 columns still fits a wide screen). */
export const TABLE_LIMIT = 30;

interface NamespaceRows {
  readonly out: NamedConnection[];
  readonly in: NamedConnection[];
}

/** The anchor GitHub gives a heading of a namespace name (DNS labels: lowercase, digits, dashes). */
function anchor(namespace: string): string {
  return namespace
    .toLowerCase()
    .replace(/[^a-z0-9_ -]/g, "")
    .replace(/ /g, "-");
}

function summarised(model: ClusterModel, connections: readonly NamedConnection[]): string {
  const names = [...model.namespaces.keys()].sort();
  const rows = new Map<string, NamespaceRows>(names.map((n) => [n, { out: [], in: [] }]));
  const rowsOf = (name: string): NamespaceRows => {
    let entry = rows.get(name);
    if (!entry) rows.set(name, (entry = { out: [], in: [] }));
    return entry;
  };
  for (const c of connections) {
    if (c.from.kind === "namespace") rowsOf(c.from.name).out.push(c);
    if (c.to.kind === "namespace" && peerName(c.to) !== peerName(c.from))
      rowsOf(c.to.name).in.push(c);
  }
  const lines: string[] = ["# Connectivity matrix", ""];
  lines.push(
    `${rows.size} namespaces: too many for one table, so a summary comes first and each ` +
      `namespace's connections follow under its own heading. A connection lists what at least one ` +
      `pod pair may open. ipBlockMatchesPods=${model.options.ipBlockMatchesPods}` +
      hboneNote(model),
    "",
    "## Summary",
    "",
    "| namespace | to namespaces | from namespaces | within | external egress blocks | external ingress blocks |",
    "|---|---:|---:|---|---|---|",
  );
  const externals = (items: readonly NamedConnection[], side: "to" | "from"): number =>
    items.filter((c) => isOutside(c[side])).length;
  for (const [name, { out, in: incoming }] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const self = out.find((c) => c.to.kind === "namespace" && c.to.name === name);
    lines.push(
      `| [${escapeMd(name)}](#${anchor(name)}) | ` +
        `${out.filter((c) => c.to.kind === "namespace" && c.to.name !== name).length} | ` +
        `${incoming.filter((c) => c.from.kind === "namespace").length} | ` +
        `${self ? escapeMd(cellText(self, model)) : "-"} | ` +
        `${externals(out, "to")} | ${externals(incoming, "from")} |`,
    );
  }
  lines.push("", "## Namespaces");
  for (const [name, { out, in: incoming }] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push("", `### ${escapeMd(name)}`, "");
    if (out.length === 0 && incoming.length === 0) {
      lines.push("(no connection in or out)");
      continue;
    }
    lines.push("| direction | peer | allowed |", "|---|---|---|");
    for (const c of out)
      lines.push(`| to | ${escapeMd(externalLabel(c.to))} | ${escapeMd(cellText(c, model))} |`);
    for (const c of incoming)
      lines.push(`| from | ${escapeMd(externalLabel(c.from))} | ${escapeMd(cellText(c, model))} |`);
  }
  return lines.join("\n") + "\n";
}

/**
 * matrix.md: the full table up to TABLE_LIMIT namespaces, a summary and per-namespace sections
 * beyond. External ends are named by `options.externalNames` (RFC 1918 and internet without).
 */
export function renderMatrixMarkdown(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): string {
  if (model.namespaces.size <= TABLE_LIMIT) return renderMatrixTable(model, connectivity, options);
  return summarised(model, connectionsOf(model, connectivity, options));
}
