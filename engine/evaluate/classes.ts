/**
 * Equivalence classes of pods: pods that no policy can tell apart (same namespace, same values
 * for every label key any selector reads, same named ports, same mesh membership, and - when
 * ipBlocks match pods - the same block of the IP partition) get one representative, so the matrix
 * is computed per class instead of per pod.
 */
import type { Ipv4Range } from "../model/ipv4";
import { partitionIpv4 } from "../model/ipv4";
import type { ClusterModel, EndpointMatcher, NormalRule, PodInfo } from "../model/types";

export interface PodClass {
  readonly id: number;
  readonly namespace: string;
  /** Representative pod; every pod in `pods` is evaluated identically. */
  readonly representative: PodInfo;
  readonly pods: readonly PodInfo[];
}

export function ruleMatchers(rule: NormalRule): EndpointMatcher[] {
  return [
    ...(rule.sources === "any" ? [] : rule.sources),
    ...(rule.destinations === "any" ? [] : rule.destinations),
  ];
}

export function allMatchers(model: ClusterModel): EndpointMatcher[] {
  const out: EndpointMatcher[] = [];
  for (const policy of model.policies) {
    for (const rule of [...policy.ingress, ...policy.egress]) out.push(...ruleMatchers(rule));
  }
  return out;
}

function blockIndex(blocks: readonly Ipv4Range[], ip: number): number {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (blocks[mid].lo <= ip) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function buildPodClasses(model: ClusterModel): PodClass[] {
  const keys = new Set<string>();
  const ranges: Ipv4Range[] = [];
  for (const policy of model.policies) for (const k of policy.targetLabelKeys) keys.add(k);
  // Istio policies select by labels too, and authorize by service account.
  for (const policy of [
    ...(model.authorizationPolicies ?? []),
    ...(model.peerAuthentications ?? []),
  ])
    for (const k of policy.targetLabelKeys) keys.add(k);
  for (const m of allMatchers(model)) {
    for (const k of m.podLabelKeys) keys.add(k);
    if (m.byIp) ranges.push(...m.ranges);
  }
  const sortedKeys = [...keys].sort();
  const ipMatters = model.options.ipBlockMatchesPods && ranges.length > 0;
  const blocks = ipMatters ? partitionIpv4(ranges) : [];
  const byKey = new Map<string, PodInfo[]>();
  for (const pod of model.pods) {
    const labelPart = sortedKeys
      // Kubernetes selectors read the pod's labels, Calico's its endpoint labels (which add the
      // namespace's and service account's): both must agree for two pods to share a class.
      .map((k) => `${pod.labels[k] ?? "\u0002"}\u0003${pod.calicoLabels[k] ?? "\u0002"}`)
      .join("\u0001");
    const portPart = pod.namedPorts
      .map((p) => `${p.name}/${p.protocol}/${p.port}`)
      .sort()
      .join(",");
    const ipPart = ipMatters ? blockIndex(blocks, pod.ip) : 0;
    const key = `${pod.namespace}\u0000${labelPart}\u0000${portPart}\u0000${pod.meshed}\u0000${ipPart}\u0000${pod.serviceAccount ?? ""}`;
    const list = byKey.get(key);
    if (list) list.push(pod);
    else byKey.set(key, [pod]);
  }
  return [...byKey.values()].map((pods, id) => ({
    id,
    namespace: pods[0].namespace,
    representative: pods[0],
    pods,
  }));
}
