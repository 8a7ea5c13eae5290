/** Reference aggregation for the matrix property: every pod pair, no classes, no pruning. */
import {
  Evaluator,
  evaluatePair,
  formatConnections,
  isEmptyConnections,
  namespaceConnectivity as engineNamespaceConnectivity,
  computeConnectivity as engineComputeConnectivity,
  type ClusterModel,
  type ConnectionSet,
} from "../../engine";

export const computeConnectivity = engineComputeConnectivity;

/** Namespace pairs (pods only) as "from->to: conns" lines from the engine's matrix. */
export function namespaceConnectivity(
  model: ClusterModel,
  connectivity: ReturnType<typeof engineComputeConnectivity>,
): string[] {
  return engineNamespaceConnectivity(model, connectivity)
    .filter((c) => c.from.kind === "namespace" && c.to.kind === "namespace")
    .map(
      (c) =>
        `${c.from.kind === "namespace" ? c.from.name : ""}->${c.to.kind === "namespace" ? c.to.name : ""}: ${formatConnections(c.connections)}`,
    )
    .sort();
}

export function unionPairs(model: ClusterModel): string[] {
  const evaluator = new Evaluator(model);
  const cells = new Map<string, ConnectionSet[]>();
  for (const a of model.pods)
    for (const b of model.pods) {
      if (a === b) continue;
      const r = evaluatePair(evaluator, { kind: "pod", pod: a }, { kind: "pod", pod: b });
      if (isEmptyConnections(r.connections)) continue;
      const key = `${a.namespace}->${b.namespace}`;
      cells.set(key, [...(cells.get(key) ?? []), r.connections]);
    }
  return [...cells.entries()]
    .map(
      ([key, sets]) =>
        `${key}: ${formatConnections(sets.reduce((acc, s) => ({ TCP: merge(acc.TCP, s.TCP), UDP: merge(acc.UDP, s.UDP), SCTP: merge(acc.SCTP, s.SCTP), ICMP: merge(acc.ICMP, s.ICMP) })))}`,
    )
    .sort();
}

function merge(a: readonly number[], b: readonly number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
  for (let i = 0; i < b.length; i += 2) pairs.push([b[i], b[i + 1]]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    if (out.length > 0 && lo <= out[out.length - 1] + 1)
      out[out.length - 1] = Math.max(out[out.length - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}
