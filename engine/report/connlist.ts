/**
 * Workload-level connection lists in netpol-analyzer's `list` output shapes (txt, json, csv, md,
 * dot), for `npm run list` and for the conformance runner, which compares them with the
 * netpol-analyzer sample: one code path for both.
 *
 * The shapes follow np-guard/netpol-analyzer (Apache-2.0), pkg/netpol/connlist/conns_formatter_*.go:
 * rows sorted by source then destination; txt `SRC => DST : CONN`; json an array of
 * `{src, dst, conn}` indented by two spaces; csv and md a `src,dst,conn` table; dot a digraph with
 * one subgraph `cluster_<ns>[namespace]` per namespace (dashes turned into underscores in the
 * subgraph id), external blocks outside any subgraph, and edges weighted 0.5 when the source sorts
 * before (or equal to) the destination, else 1. The focus filter follows its `--focusworkload`
 * (a workload's name or `namespace/name`) and `--focus-direction` (ingress: the focused workload
 * is the destination; egress: the source).
 */
import type { ClassConnectivity } from "../evaluate/matrix";
import { formatConnections, type ModelProtocol } from "../model/connections";
import type { ClusterModel } from "../model/types";
import { type ConnectivityPeer, peerName, workloadConnections } from "./connectivity";

export const CONNLIST_FORMATS = ["txt", "json", "csv", "md", "dot"] as const;
export type ConnlistFormat = (typeof CONNLIST_FORMATS)[number];

/** `in`: connections into the focused workloads; `out`: connections out of them. */
export type FocusDirection = "in" | "out";

export interface ConnlistOptions {
  /** Only these protocols are reported; "All Connections" then means all of them. */
  readonly protocols?: readonly ModelProtocol[];
  /** Workload names or `namespace/name`; a connection is kept when one end matches. */
  readonly focusWorkloads?: readonly string[];
  /** With focusWorkloads only: keep just one direction of the focused workloads' connections. */
  readonly focusDirection?: FocusDirection;
}

export interface ConnlistRow {
  readonly from: ConnectivityPeer;
  readonly to: ConnectivityPeer;
  readonly src: string;
  readonly dst: string;
  readonly conn: string;
}

type WorkloadPeer = Extract<ConnectivityPeer, { kind: "workload" }>;

export interface Connlist {
  readonly rows: readonly ConnlistRow[];
  /** Every workload of the input (the focused ones under a focus), also those without a row. */
  readonly workloads: readonly WorkloadPeer[];
  /** Focus names that match no workload of the input (the caller decides how to fail). */
  readonly unmatchedFocus: readonly string[];
}

function matchesFocus(peer: ConnectivityPeer, focus: readonly string[]): boolean {
  return (
    peer.kind === "workload" &&
    (focus.includes(peer.name) || focus.includes(`${peer.namespace}/${peer.name}`))
  );
}

/** The model's workloads, one per owner, sorted by their list name. */
export function modelWorkloads(model: ClusterModel): WorkloadPeer[] {
  const byName = new Map<string, WorkloadPeer>();
  for (const pod of model.pods) {
    const peer: WorkloadPeer = {
      kind: "workload",
      namespace: pod.namespace,
      name: pod.owner.name,
      workloadKind: pod.owner.kind,
    };
    byName.set(peerName(peer), peer);
  }
  return [...byName.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, peer]) => peer);
}

/** The workload-level connections of a model, filtered by the focus, in output order. */
export function connlist(
  model: ClusterModel,
  connectivity: ClassConnectivity,
  options: ConnlistOptions = {},
): Connlist {
  const focus = options.focusWorkloads ?? [];
  const all = modelWorkloads(model);
  const keep = (from: ConnectivityPeer, to: ConnectivityPeer): boolean => {
    if (focus.length === 0) return true;
    if (options.focusDirection === "in") return matchesFocus(to, focus);
    if (options.focusDirection === "out") return matchesFocus(from, focus);
    return matchesFocus(from, focus) || matchesFocus(to, focus);
  };
  const rows = workloadConnections(connectivity, options.protocols)
    .filter((c) => keep(c.from, c.to))
    .map((c) => ({
      from: c.from,
      to: c.to,
      src: peerName(c.from),
      dst: peerName(c.to),
      conn: formatConnections(c.connections, options.protocols),
    }));
  return {
    rows,
    workloads: focus.length === 0 ? all : all.filter((w) => matchesFocus(w, focus)),
    unmatchedFocus: focus.filter((name) => !all.some((w) => matchesFocus(w, [name]))),
  };
}

/** Go's encoding/csv quoting: a field is quoted when it holds a comma, quote, CR, LF or starts with a blank. */
function csvField(field: string): string {
  return /[",\r\n]|^[ \t]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** Go's %q for the plain names that appear here: quotes and backslashes escaped. */
function dotQuote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function renderDot(list: Connlist): string {
  const byNamespace = new Map<string, Set<string>>();
  const externals = new Set<string>();
  const addPeer = (peer: ConnectivityPeer): void => {
    if (peer.kind === "workload") {
      const lines = byNamespace.get(peer.namespace) ?? new Set<string>();
      lines.add(
        `\t\t${dotQuote(peerName(peer))} [label=${dotQuote(`${peer.name}[${peer.workloadKind}]`)} color="blue" fontcolor="blue"]`,
      );
      byNamespace.set(peer.namespace, lines);
    } else {
      const name = dotQuote(peerName(peer));
      externals.add(`\t${name} [label=${name} color="red2" fontcolor="red2"]`);
    }
  };
  for (const row of list.rows) {
    addPeer(row.from);
    addPeer(row.to);
  }
  for (const workload of list.workloads) addPeer(workload);
  const lines = ["digraph {"];
  for (const namespace of [...byNamespace.keys()].sort()) {
    const label = `${namespace}[namespace]`;
    lines.push(
      `\tsubgraph ${dotQuote(`cluster_${label.replace(/-/g, "_")}`)} {`,
      '\t\tcolor="black"',
      '\t\tfontcolor="black"',
      ...[...byNamespace.get(namespace)!].sort(),
      `\t\tlabel=${dotQuote(label)}`,
      "\t}",
    );
  }
  lines.push(...[...externals].sort());
  lines.push(
    ...list.rows
      .map(
        (r) =>
          `\t${dotQuote(r.src)} -> ${dotQuote(r.dst)} [label=${dotQuote(r.conn)} color="gold2" fontcolor="darkgreen" weight=${r.src <= r.dst ? "0.5" : "1"}]`,
      )
      .sort(),
  );
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** The list in one of netpol-analyzer's output shapes, ending with one newline. */
export function renderConnlist(list: Connlist, format: ConnlistFormat): string {
  const rows = list.rows;
  switch (format) {
    case "txt":
      return rows.map((r) => `${r.src} => ${r.dst} : ${r.conn}\n`).join("");
    case "json":
      return (
        JSON.stringify(
          rows.map((r) => ({ src: r.src, dst: r.dst, conn: r.conn })),
          null,
          2,
        ) + "\n"
      );
    case "csv":
      return ["src,dst,conn", ...rows.map((r) => [r.src, r.dst, r.conn].map(csvField).join(","))]
        .map((line) => `${line}\n`)
        .join("");
    case "md":
      return ["| src | dst | conn |", "|-----|-----|------|"]
        .concat(rows.map((r) => `| ${r.src} | ${r.dst} | ${r.conn} |`))
        .map((line) => `${line}\n`)
        .join("");
    case "dot":
      return renderDot(list);
  }
}
