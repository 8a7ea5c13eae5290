/** Connection-level diff of two models (or two connection lists). */
import * as conn from "../model/connections";
import type { ConnectionSet } from "../model/connections";
import type { ClusterModel } from "../model/types";
import { computeConnectivity, remoteRanges } from "../evaluate/matrix";
import type { Connection } from "./connectivity";
import { namespaceConnections, peerName, workloadConnections } from "./connectivity";

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
