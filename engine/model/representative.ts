/**
 * A representative inventory for inputs without workloads (policy trees, a plan's manifests).
 *
 * Connectivity is computed between pods, so a pod-less input would answer "nothing is allowed"
 * and two pod-less inputs would always compare equal. Instead, for every namespace that a policy,
 * a peer or the caller names, this module invents one pod per label set that some selector asks
 * for (a policy target, a peer's podSelector, a Calico selector), plus one pod that no selector
 * singles out ("any other pod"); one namespace per label set a namespace selector asks for
 * (`[namespace team=a]`), and one that no namespace selector names ("any other namespace").
 * Pods that no selector can tell apart would fall into one class anyway, so the inventory is
 * small and the answers are those of a cluster whose pods carry exactly the labels the policies
 * talk about.
 *
 * The idea follows netpol-analyzer's exposure analysis (representative peers standing for
 * "any pod with these labels" / "any namespace"); the code is this project's own.
 * Limit: label sets are witnesses of single selectors, not of every combination of them; a pod
 * that two unrelated selectors would both pick is not invented.
 */
import type { SelectorNode } from "../calico/selector-ast";
import { evaluateSelector } from "../calico/selector-ast";
import type { LabelRequirement, Labels } from "./label-selector";
import { requirementMatches } from "./label-selector";
import { makeNamespace, makePod } from "./build";
import { peerShape, targetShape } from "./shapes";
import type {
  ClusterModel,
  EndpointMatcher,
  NamespaceInfo,
  NormalPolicy,
  NormalRule,
  PodInfo,
} from "./types";

/** Stands for every namespace no selector names; brackets keep it apart from real names. */
export const OTHER_NAMESPACE = "[other-namespace]";
export const REPRESENTATIVE_KIND = "Representative";
const ANY_OTHER_POD = "(any other pod)";
/** Value used for `Exists`/`has()` requirements: any value satisfies them. */
const ANY_VALUE = "any";
const NAME_LABEL = "kubernetes.io/metadata.name";
/** Bound on the label sets one Calico selector expands into (its DNF can explode). */
const MAX_WITNESSES_PER_SELECTOR = 16;

export interface RepresentativePod {
  readonly namespace: string;
  readonly labels: Labels;
  /** Labels of the pod's namespace when the inventory invents that namespace. */
  readonly namespaceLabels?: Labels;
}

/** The smallest label set satisfying every requirement, or undefined when none can. */
function requirementsWitness(requirements: readonly LabelRequirement[]): Labels | undefined {
  const labels: Record<string, string> = {};
  for (const r of requirements) {
    if (r.operator === "In") labels[r.key] = r.values[0];
    else if (r.operator === "Exists") labels[r.key] = ANY_VALUE;
  }
  return requirements.every((r) => requirementMatches(r, labels)) ? labels : undefined;
}

/** Label sets that satisfy a Calico selector (one per alternative), checked by evaluation. */
function selectorWitnesses(node: SelectorNode): Labels[] {
  const expand = (n: SelectorNode): Record<string, string>[] => {
    switch (n.op) {
      case "all":
      case "global":
      case "ne":
      case "notIn":
      case "not":
        return [{}];
      case "has":
        return [{ [n.key]: ANY_VALUE }];
      case "eq":
      case "contains":
      case "startsWith":
      case "endsWith":
        return [{ [n.key]: n.value }];
      case "in":
        return [{ [n.key]: [...n.values][0] }];
      case "or":
        return n.operands.flatMap(expand).slice(0, MAX_WITNESSES_PER_SELECTOR);
      case "and": {
        let product: Record<string, string>[] = [{}];
        for (const operand of n.operands) {
          const options = expand(operand);
          product = product
            .flatMap((left) => options.map((right) => ({ ...left, ...right })))
            .slice(0, MAX_WITNESSES_PER_SELECTOR);
        }
        return product;
      }
    }
  };
  return expand(node).filter((labels) => evaluateSelector(node, labels));
}

function targetWitnesses(policy: NormalPolicy): Labels[] {
  const shape = targetShape(policy);
  if (shape === undefined) return [];
  if (shape.kind === "labels") {
    const witness = requirementsWitness(shape.requirements);
    return witness ? [witness] : [];
  }
  return selectorWitnesses(shape.selector);
}

/** Namespace names a namespace-label requirement list pins down (`metadata.name In …`). */
function namedNamespaces(requirements: readonly LabelRequirement[]): string[] {
  return requirements
    .filter((r) => r.key === NAME_LABEL && r.operator === "In")
    .flatMap((r) => r.values);
}

interface PeerWitness {
  /** Namespaces the peer can pick pods in; "all" for a selector over namespace labels. */
  readonly namespaces: "all" | readonly string[];
  readonly namespaceMatches: (ns: NamespaceInfo) => boolean;
  readonly labels: readonly Labels[];
  /** Labels of a namespace the peer's namespace selector picks (for "all" peers). */
  readonly namespaceLabels: readonly Labels[];
}

function peerWitness(
  rule: NormalRule,
  peer: EndpointMatcher,
  policy: NormalPolicy,
): PeerWitness | undefined {
  const shape = peerShape(rule, peer);
  // Addresses (ipBlocks, DNS names) are no pod the inventory could invent.
  if (shape === undefined || shape.kind === "ipBlock" || shape.kind === "domains") return undefined;
  const own = policy.namespace;
  if (shape.kind === "pods") {
    const witness = requirementsWitness(shape.pods);
    const labels = witness ? [witness] : [];
    if (shape.namespaces === "own")
      return own === undefined
        ? undefined
        : {
            namespaces: [own],
            namespaceMatches: (ns) => ns.name === own,
            labels,
            namespaceLabels: [],
          };
    const requirements = shape.namespaces;
    const named = namedNamespaces(requirements);
    const nsWitness = named.length > 0 ? undefined : requirementsWitness(requirements);
    return {
      namespaces: named.length > 0 ? named : "all",
      namespaceMatches: (ns) => requirements.every((r) => requirementMatches(r, ns.labels)),
      labels,
      namespaceLabels: nsWitness && Object.keys(nsWitness).length > 0 ? [nsWitness] : [],
    };
  }
  const labels = shape.selector ? selectorWitnesses(shape.selector) : [{}];
  const nsSelector = shape.namespaceSelector;
  if (nsSelector !== undefined)
    return {
      namespaces: "all",
      namespaceMatches: (ns) => evaluateSelector(nsSelector, ns.calicoLabels),
      labels,
      namespaceLabels: selectorWitnesses(nsSelector).filter((l) => Object.keys(l).length > 0),
    };
  if (own === undefined)
    return { namespaces: "all", namespaceMatches: () => true, labels, namespaceLabels: [] };
  return {
    namespaces: [own],
    namespaceMatches: (ns) => ns.name === own,
    labels,
    namespaceLabels: [],
  };
}

function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A representative namespace standing for "any namespace with these labels". */
function labelledNamespaceName(labels: Labels): string {
  const text = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return `[namespace ${text}]`;
}

/**
 * The pods a set of models' selectors tell apart. Give every model of a comparison (both sides
 * of a diff) so that all of them are evaluated on the same pods.
 */
export function representativeInventory(
  models: readonly ClusterModel[],
  extraNamespaces: readonly string[] = [],
): RepresentativePod[] {
  const namespaceNames = new Set<string>(extraNamespaces);
  // Indexed by namespace name so that the work stays linear in namespaces plus selectors.
  const witnessesByName = new Map<string, PeerWitness[]>();
  const wideWitnesses: PeerWitness[] = [];
  const targetsByName = new Map<string, Labels[]>();
  const globalTargets: Labels[] = [];
  const labelledNamespaces = new Map<string, Labels>();
  for (const model of models) {
    for (const name of model.namespaces.keys()) namespaceNames.add(name);
    // Staged policies too: promoting them is judged on the same pods.
    for (const policy of [...model.policies, ...(model.stagedPolicies ?? [])]) {
      if (policy.namespace !== undefined) {
        namespaceNames.add(policy.namespace);
        for (const labels of targetWitnesses(policy)) push(targetsByName, policy.namespace, labels);
      } else globalTargets.push(...targetWitnesses(policy));
      for (const rule of [...policy.ingress, ...policy.egress]) {
        for (const side of [rule.sources, rule.destinations]) {
          if (side === "any") continue;
          for (const peer of side) {
            const witness = peerWitness(rule, peer, policy);
            if (witness === undefined) continue;
            if (witness.namespaces === "all") wideWitnesses.push(witness);
            else
              for (const n of witness.namespaces) {
                namespaceNames.add(n);
                push(witnessesByName, n, witness);
              }
            for (const labels of witness.namespaceLabels)
              labelledNamespaces.set(labelledNamespaceName(labels), labels);
          }
        }
      }
    }
  }
  namespaceNames.delete(OTHER_NAMESPACE);
  for (const name of labelledNamespaces.keys()) namespaceNames.delete(name);
  const options = models[0]?.options;
  if (options === undefined) return [];
  const labelsOf = (name: string): Labels => {
    for (const model of models) {
      const ns = model.namespaces.get(name);
      if (ns?.declared) return ns.labels;
    }
    return labelledNamespaces.get(name) ?? {};
  };
  const namespaces = [...namespaceNames, ...labelledNamespaces.keys(), OTHER_NAMESPACE]
    .sort()
    .map((name) => makeNamespace(name, labelsOf(name), true, options));

  const out: RepresentativePod[] = [];
  for (const ns of namespaces) {
    const seen = new Map<string, Labels>([[labelsKey({}), {}]]);
    const add = (labels: Labels): void => {
      const key = labelsKey(labels);
      if (!seen.has(key)) seen.set(key, labels);
    };
    (targetsByName.get(ns.name) ?? []).forEach(add);
    globalTargets.forEach(add);
    for (const witness of witnessesByName.get(ns.name) ?? []) witness.labels.forEach(add);
    for (const witness of wideWitnesses)
      if (witness.namespaceMatches(ns)) witness.labels.forEach(add);
    const namespaceLabels = labelledNamespaces.get(ns.name);
    for (const labels of [...seen.values()].sort((a, b) => (labelsKey(a) < labelsKey(b) ? -1 : 1)))
      out.push({ namespace: ns.name, labels, ...(namespaceLabels ? { namespaceLabels } : {}) });
  }
  return out;
}

function podName(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? ANY_OTHER_POD : entries.map(([k, v]) => `${k}=${v}`).join(",");
}

/** The model with `inventory` as its pods (namespaces they live in are added when missing). */
export function withPods(
  model: ClusterModel,
  inventory: readonly RepresentativePod[],
): ClusterModel {
  const namespaces = new Map(model.namespaces);
  for (const pod of inventory)
    if (!namespaces.has(pod.namespace))
      namespaces.set(
        pod.namespace,
        makeNamespace(pod.namespace, pod.namespaceLabels ?? {}, false, model.options),
      );
  const sorted = [...inventory].sort((a, b) =>
    a.namespace === b.namespace
      ? podName(a.labels) < podName(b.labels)
        ? -1
        : 1
      : a.namespace < b.namespace
        ? -1
        : 1,
  );
  const capacity = model.options.podCidr.hi - model.options.podCidr.lo - 1;
  if (sorted.length > capacity)
    throw new Error(`podCidr has room for ${capacity} synthetic pod IPs, ${sorted.length} needed`);
  const pods: PodInfo[] = sorted.map((pod, i) => {
    const name = podName(pod.labels);
    return makePod(
      i,
      {
        namespace: pod.namespace,
        name,
        labels: pod.labels,
        namedPorts: [],
        owner: { kind: REPRESENTATIVE_KIND, name },
      },
      namespaces.get(pod.namespace)!,
      model.options.podCidr.lo + 1 + i,
      true,
      model.options,
    );
  });
  return {
    ...model,
    namespaces: new Map([...namespaces].sort(([a], [b]) => (a < b ? -1 : 1))),
    pods,
  };
}

/** True when the model's pods were invented by this module. */
export function isRepresentative(model: ClusterModel): boolean {
  return model.pods.length > 0 && model.pods.every((p) => p.owner.kind === REPRESENTATIVE_KIND);
}

/** The hook buildModel calls for an input without workloads. */
export function withRepresentativePods(
  model: ClusterModel,
  extraNamespaces: readonly string[] = [],
): ClusterModel {
  return withPods(model, representativeInventory([model], extraNamespaces));
}

/**
 * Puts models that are compared with each other on the same pods: when none has workloads, all
 * get the inventory of all their selectors; when some have workloads, those pods are the
 * cluster's and the others are given the same ones.
 */
export function alignInventories(
  models: readonly ClusterModel[],
  extraNamespaces: readonly string[] = [],
): ClusterModel[] {
  const real = models.find((m) => m.pods.length > 0 && !isRepresentative(m));
  if (real) {
    const pods = real.pods.map((p) => ({ namespace: p.namespace, labels: p.labels }));
    return models.map((m) => (m.pods.length === 0 || isRepresentative(m) ? withPods(m, pods) : m));
  }
  const inventory = representativeInventory(models, extraNamespaces);
  return models.map((m) => withPods(m, inventory));
}
