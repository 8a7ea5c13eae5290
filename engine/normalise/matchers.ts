/** Peer matchers shared by the Kubernetes and Calico normalisers. */
import type { SelectorNode } from "../calico/selector-ast";
import { evaluateSelector, selectorLabelKeys } from "../calico/selector-ast";
import * as iv from "../model/intervals";
import type { Ipv4Range } from "../model/ipv4";
import { formatRangeAsCidr } from "../model/ipv4";
import type { LabelSelectorMatcher } from "../model/label-selector";
import type { EndpointMatcher, PodHint, PodInfo } from "../model/types";

function intervalsToRanges(set: iv.IntervalSet): Ipv4Range[] {
  return iv.toPairs(set).map(([lo, hi]) => ({ lo, hi }));
}

function inRange(ip: number, r: Ipv4Range): boolean {
  return r.lo <= ip && ip <= r.hi;
}

export function describeLabelSelector(selector: LabelSelectorMatcher): string {
  if (selector.requirements.length === 0) return "{}";
  return selector.requirements
    .map((r) => {
      switch (r.operator) {
        case "In":
          return r.values.length === 1
            ? `${r.key}=${r.values[0]}`
            : `${r.key} in (${r.values.join(",")})`;
        case "NotIn":
          return `${r.key} notin (${r.values.join(",")})`;
        case "Exists":
          return r.key;
        case "DoesNotExist":
          return `!${r.key}`;
      }
    })
    .join(",");
}

/** Picks an index-friendly hint from a namespace label selector. */
function namespaceHint(selector: LabelSelectorMatcher): PodHint {
  const inRequirement = selector.requirements.find((r) => r.operator === "In");
  if (inRequirement === undefined) return { kind: "all" };
  if (inRequirement.key === "kubernetes.io/metadata.name")
    return { kind: "namespaces", names: inRequirement.values };
  return { kind: "namespaceLabel", key: inRequirement.key, values: inRequirement.values };
}

/**
 * A Kubernetes peer with namespaceSelector and/or podSelector (ANDed). A nil namespaceSelector
 * means the policy's own namespace; `{}` means every namespace.
 */
export function kubernetesPodPeer(
  namespaceSelector: LabelSelectorMatcher | undefined,
  podSelector: LabelSelectorMatcher | undefined,
  policyNamespace: string,
): EndpointMatcher {
  const nsText =
    namespaceSelector === undefined
      ? `namespace ${policyNamespace}`
      : namespaceSelector.requirements.length === 0
        ? "any namespace"
        : `namespaces [${describeLabelSelector(namespaceSelector)}]`;
  const podText =
    podSelector === undefined || podSelector.requirements.length === 0
      ? "all pods"
      : `pods [${describeLabelSelector(podSelector)}]`;
  return {
    shape: {
      kind: "pods",
      namespaces: namespaceSelector === undefined ? "own" : namespaceSelector.requirements,
      pods: podSelector?.requirements ?? [],
    },
    key: `k8s|${namespaceSelector === undefined ? `=${policyNamespace}` : namespaceSelector.key}|${podSelector?.key ?? "*"}`,
    description: `${podText} in ${nsText}`,
    byIp: false,
    ranges: [],
    podHint:
      namespaceSelector === undefined
        ? { kind: "namespaces", names: [policyNamespace] }
        : namespaceHint(namespaceSelector),
    podLabelKeys: podSelector?.requirements.map((r) => r.key) ?? [],
    matchPod: (pod) =>
      (namespaceSelector === undefined
        ? pod.namespace === policyNamespace
        : namespaceSelector.matches(pod.namespaceLabels)) &&
      (podSelector === undefined || podSelector.matches(pod.labels)),
    matchExternal: () => false,
  };
}

/** A Kubernetes ipBlock: the CIDR minus its excepts. Pods match only when the switch says so. */
export function ipBlockPeer(
  cidr: Ipv4Range,
  except: readonly Ipv4Range[],
  ipBlockMatchesPods: boolean,
): EndpointMatcher {
  const inside = (ip: number): boolean => inRange(ip, cidr) && !except.some((e) => inRange(ip, e));
  const text =
    `ipBlock ${formatRangeAsCidr(cidr)}` +
    (except.length > 0 ? ` except ${except.map(formatRangeAsCidr).join(", ")}` : "");
  return {
    shape: { kind: "ipBlock", cidr, except },
    key: `ip|${cidr.lo}-${cidr.hi}|${except.map((e) => `${e.lo}-${e.hi}`).join(",")}|${ipBlockMatchesPods}`,
    description: text,
    byIp: true,
    // The matched address set as merged intervals: adjacent excepts leave one gap, as
    // netpol-analyzer's block partition expects.
    ranges: intervalsToRanges(
      iv.subtract([cidr.lo, cidr.hi], iv.fromRanges(except.map((e) => [e.lo, e.hi] as const))),
    ),
    podHint: ipBlockMatchesPods ? { kind: "ipRanges", ranges: [cidr] } : { kind: "none" },
    podLabelKeys: [],
    matchPod: (pod) => ipBlockMatchesPods && inside(pod.ip),
    // Blocks handed in come from a partition at every boundary, so testing `lo` is exact.
    matchExternal: (range) => inside(range.lo),
  };
}

export interface CalicoEntityCriteria {
  readonly selector?: SelectorNode;
  readonly selectorText?: string;
  readonly notSelector?: SelectorNode;
  readonly notSelectorText?: string;
  readonly namespaceSelector?: SelectorNode;
  readonly namespaceSelectorText?: string;
  readonly nets?: readonly Ipv4Range[];
  readonly notNets?: readonly Ipv4Range[];
}

/**
 * A Calico rule entity (source or destination), criteria ANDed. Selectors of a namespaced policy
 * only see endpoints of its namespace unless a namespaceSelector widens the scope
 * (https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#entityrule).
 * `nets`/`notNets` follow the same ipBlockMatchesPods switch as Kubernetes ipBlocks.
 */
export function calicoEntity(
  criteria: CalicoEntityCriteria,
  policyNamespace: string | undefined,
  ipBlockMatchesPods: boolean,
): EndpointMatcher | "any" {
  const { selector, notSelector, namespaceSelector, nets, notNets } = criteria;
  if (!selector && !notSelector && !namespaceSelector && !nets && !notNets) return "any";
  const inScope = (pod: PodInfo): boolean =>
    namespaceSelector !== undefined
      ? evaluateSelector(namespaceSelector, pod.calicoNamespaceLabels)
      : policyNamespace === undefined || pod.namespace === policyNamespace;
  const inNets = (ip: number, list: readonly Ipv4Range[]): boolean =>
    list.some((r) => inRange(ip, r));
  const parts: string[] = [];
  if (selector) parts.push(`selector "${criteria.selectorText}"`);
  if (namespaceSelector) parts.push(`namespaceSelector "${criteria.namespaceSelectorText}"`);
  else if (selector && policyNamespace !== undefined) parts.push(`in namespace ${policyNamespace}`);
  if (notSelector) parts.push(`notSelector "${criteria.notSelectorText}"`);
  if (nets) parts.push(`nets ${nets.map(formatRangeAsCidr).join(", ")}`);
  if (notNets) parts.push(`notNets ${notNets.map(formatRangeAsCidr).join(", ")}`);
  const bySelector = selector !== undefined || namespaceSelector !== undefined;
  let podHint: PodHint = { kind: "all" };
  if (bySelector) {
    podHint =
      namespaceSelector === undefined
        ? policyNamespace === undefined
          ? { kind: "all" }
          : { kind: "namespaces", names: [policyNamespace] }
        : { kind: "all" };
  } else if (nets) {
    podHint = ipBlockMatchesPods ? { kind: "ipRanges", ranges: nets } : { kind: "none" };
  }
  const labelKeys = new Set<string>();
  if (selector) selectorLabelKeys(selector, labelKeys);
  if (notSelector) selectorLabelKeys(notSelector, labelKeys);
  return {
    shape: { kind: "calico", selector, namespaceSelector, nets, notNets },
    key: `calico|${policyNamespace ?? "*"}|${JSON.stringify([
      criteria.selectorText,
      criteria.notSelectorText,
      criteria.namespaceSelectorText,
      nets,
      notNets,
      ipBlockMatchesPods,
    ])}`,
    description: parts.join(" and "),
    byIp: nets !== undefined || notNets !== undefined,
    ranges: [...(nets ?? []), ...(notNets ?? [])].flatMap((r) =>
      intervalsToRanges(iv.fromRanges([[r.lo, r.hi]])),
    ),
    podHint,
    podLabelKeys: [...labelKeys],
    matchPod: (pod) => {
      if (bySelector) {
        if (!inScope(pod)) return false;
        if (selector && !evaluateSelector(selector, pod.calicoLabels)) return false;
      }
      if (notSelector && inScope(pod) && evaluateSelector(notSelector, pod.calicoLabels))
        return false;
      const ipVisible = ipBlockMatchesPods;
      if (nets && !(ipVisible && inNets(pod.ip, nets))) return false;
      if (notNets && ipVisible && inNets(pod.ip, notNets)) return false;
      return true;
    },
    matchExternal: (range) => {
      if (bySelector) return false;
      if (nets && !inNets(range.lo, nets)) return false;
      if (notNets && inNets(range.lo, notNets)) return false;
      return true;
    },
  };
}
