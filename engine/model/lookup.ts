/**
 * Per-model lookups that queries repeat many times (a stack's intent check asks thousands of
 * flows): pods by namespace and by address, policies by namespace. Built once per model on first
 * use; a ClusterModel is never changed after buildModel, so the indexes stay true.
 */
import type { ClusterModel, NormalPolicy, PodInfo } from "./types";

interface ModelIndex {
  readonly podsByNamespace: ReadonlyMap<string, readonly PodInfo[]>;
  /** Real (not synthesised) pod addresses. */
  readonly podsByIp: ReadonlyMap<number, PodInfo>;
  readonly policiesByNamespace: ReadonlyMap<string, readonly NormalPolicy[]>;
}

const indexes = new WeakMap<ClusterModel, ModelIndex>();

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function indexOf(model: ClusterModel): ModelIndex {
  let index = indexes.get(model);
  if (index) return index;
  const podsByNamespace = new Map<string, PodInfo[]>();
  const podsByIp = new Map<number, PodInfo>();
  for (const pod of model.pods) {
    push(podsByNamespace, pod.namespace, pod);
    // The first pod with an address wins, as a scan in model order would find it.
    if (!pod.ipSynthesised && !podsByIp.has(pod.ip)) podsByIp.set(pod.ip, pod);
  }
  const policiesByNamespace = new Map<string, NormalPolicy[]>();
  for (const policy of model.policies)
    if (policy.namespace !== undefined) push(policiesByNamespace, policy.namespace, policy);
  index = { podsByNamespace, podsByIp, policiesByNamespace };
  indexes.set(model, index);
  return index;
}

/** The model's pods in `namespace`, in model order. */
export function podsIn(model: ClusterModel, namespace: string): readonly PodInfo[] {
  return indexOf(model).podsByNamespace.get(namespace) ?? [];
}

/** The real pod with this address, if any. */
export function podWithIp(model: ClusterModel, ip: number): PodInfo | undefined {
  return indexOf(model).podsByIp.get(ip);
}

/** The namespaced policies of `namespace`, in model (evaluation) order. */
export function policiesIn(model: ClusterModel, namespace: string): readonly NormalPolicy[] {
  return indexOf(model).policiesByNamespace.get(namespace) ?? [];
}
