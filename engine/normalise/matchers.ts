/** Peer matchers shared by the Kubernetes and Calico normalisers. */
import type { SelectorNode } from "../calico/selector-ast";
import {
  evaluateScope,
  evaluateSelector,
  prefixSelectorKeys,
  selectorLabelKeys,
} from "../calico/selector-ast";
import * as iv from "../model/intervals";
import type { Ipv4Range } from "../model/ipv4";
import { formatRangeAsCidr } from "../model/ipv4";
import type { LabelSelectorMatcher } from "../model/label-selector";
import type { EndpointMatcher, NetworkSetInfo, PodHint, PodInfo } from "../model/types";

/**
 * The network sets rule selectors may match, bound by buildModel once every object is read
 * (a policy may come before the sets it selects). Matchers resolve against it on first use,
 * which is after the model is built; a policy read on its own (the pack's per-object reading)
 * sees no set.
 */
export class NetworkSetScope {
  private list: readonly NetworkSetInfo[] = [];
  private boundOnce = false;

  get sets(): readonly NetworkSetInfo[] {
    return this.list;
  }

  /** Whether the sets are final; a matcher asked earlier does not remember its answer. */
  get bound(): boolean {
    return this.boundOnce;
  }

  bind(sets: readonly NetworkSetInfo[]): void {
    this.list = sets;
    this.boundOnce = true;
  }
}

const NO_NETWORK_SETS = new NetworkSetScope();
NO_NETWORK_SETS.bind([]);

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

/** One selector field of a Calico entity rule: its parsed form and its text as written. */
export interface CalicoSelectorField {
  readonly node: SelectorNode;
  readonly text: string;
}

export interface CalicoEntityCriteria {
  readonly selector?: CalicoSelectorField;
  readonly notSelector?: CalicoSelectorField;
  readonly namespaceSelector?: CalicoSelectorField;
  /** `serviceAccounts.names`; absent or empty = no constraint. */
  readonly serviceAccountNames?: readonly string[];
  /** `serviceAccounts.selector`, over the ServiceAccount's labels. */
  readonly serviceAccountSelector?: CalicoSelectorField;
  readonly nets?: readonly Ipv4Range[];
  readonly notNets?: readonly Ipv4Range[];
}

/** Label Calico puts on a workload endpoint: its pod's service account name. */
export const CALICO_SERVICE_ACCOUNT_LABEL = "projectcalico.org/serviceaccount";
/** Prefix of the ServiceAccount labels an endpoint inherits (conversion.ServiceAccountLabelPrefix). */
export const CALICO_SERVICE_ACCOUNT_PREFIX = "pcsa.";

/**
 * A Calico rule entity (source or destination), scoped exactly as libcalico-go's
 * `getEndpointSelector` (lib/backend/syncersv1/updateprocessors/rules.go) builds the one selector
 * Felix evaluates:
 *
 * - the namespace scope is the `namespaceSelector` when one is given (`all()` = every namespace),
 *   else the policy's namespace for a namespaced policy, else nothing (GlobalNetworkPolicy);
 * - the positive selector is `serviceAccounts` (names AND selector) AND `selector`;
 * - the scope is ANDed in as soon as any of `selector`, `serviceAccounts`, `notSelector` or
 *   `namespaceSelector` is used; with none of them the entity has no selector at all;
 * - `notSelector` stays a separate negated match, evaluated over every endpoint;
 * - a positive selector matches endpoints (pods here) and the nets of the network sets it
 *   matches (Felix's IP set holds both), never another external address; a `notSelector`
 *   excludes the nets of the sets it matches and no other address;
 * - `nets` / `notNets` are further ANDed conditions on the address (Felix matches every field of
 *   a rule), following the same ipBlockMatchesPods switch as Kubernetes ipBlocks.
 *
 * Empty strings are absent fields, as in Go. Calico's textual rewriting of `all()`/`global()`
 * in a namespace selector also rewrites string literals containing those words; label values
 * cannot contain parentheses, so no verdict depends on it.
 */
export function calicoEntity(
  criteria: CalicoEntityCriteria,
  policyNamespace: string | undefined,
  ipBlockMatchesPods: boolean,
  networkSets: NetworkSetScope = NO_NETWORK_SETS,
): EndpointMatcher | "any" {
  const { selector, notSelector, namespaceSelector, serviceAccountSelector, nets, notNets } =
    criteria;
  const names =
    criteria.serviceAccountNames && criteria.serviceAccountNames.length > 0
      ? new Set(criteria.serviceAccountNames)
      : undefined;
  const saSelector =
    serviceAccountSelector &&
    prefixSelectorKeys(serviceAccountSelector.node, CALICO_SERVICE_ACCOUNT_PREFIX);
  const hasPositive = selector !== undefined || names !== undefined || saSelector !== undefined;
  const usesSelectors = hasPositive || notSelector !== undefined || namespaceSelector !== undefined;
  if (!usesSelectors && !nets && !notNets) return "any";
  // The namespace scope Calico ANDs into the selector (none when no selector field is used).
  const scopeNamespace = usesSelectors && !namespaceSelector ? policyNamespace : undefined;
  const scoped = namespaceSelector !== undefined || scopeNamespace !== undefined;
  // Felix's rule has a positive selector whenever the scope or a positive field is present.
  const endpointsOnly = scoped || hasPositive;
  const inScope = (pod: PodInfo): boolean =>
    namespaceSelector
      ? evaluateSelector(namespaceSelector.node, pod.calicoNamespaceLabels)
      : scopeNamespace === undefined || pod.namespace === scopeNamespace;
  const serviceAccountOf = (labels: Readonly<Record<string, string>>): string | undefined =>
    labels[CALICO_SERVICE_ACCOUNT_LABEL];
  // The selector proper (without the scope), over the labels Calico gives an endpoint or set.
  const selected = (labels: Readonly<Record<string, string>>): boolean =>
    (names === undefined || names.has(serviceAccountOf(labels) ?? "")) &&
    (saSelector === undefined || evaluateSelector(saSelector, labels)) &&
    (selector === undefined || evaluateSelector(selector.node, labels));
  const positive = (pod: PodInfo): boolean => inScope(pod) && selected(pod.calicoLabels);
  const inNets = (ip: number, list: readonly Ipv4Range[]): boolean =>
    list.some((r) => inRange(ip, r));

  /**
   * The sets the positive selector and the notSelector match. Felix turns a rule selector into
   * an IP set holding the addresses of matching workload endpoints and the nets of matching
   * network sets; the scope selects sets as it selects pods: a NetworkSet carries its
   * namespace's label and `pcns.` labels, a GlobalNetworkSet neither (only an unscoped selector
   * of a GlobalNetworkPolicy, or a namespaceSelector true for non-namespaced entities such as
   * `global()`, reaches it). The notSelector is not scoped.
   */
  interface SetMatch {
    readonly positive: readonly NetworkSetInfo[];
    readonly negative: readonly NetworkSetInfo[];
    readonly positiveRanges: readonly Ipv4Range[];
    readonly negativeRanges: readonly Ipv4Range[];
  }
  let setMatch: SetMatch | undefined;
  const sets = (): SetMatch => {
    if (setMatch) return setMatch;
    const setInScope = (set: NetworkSetInfo): boolean =>
      namespaceSelector
        ? evaluateScope(namespaceSelector.node, set.namespaceLabels)
        : scopeNamespace === undefined || set.namespace === scopeNamespace;
    const positiveSets = endpointsOnly
      ? networkSets.sets.filter((set) => setInScope(set) && selected(set.calicoLabels))
      : [];
    const negativeSets = notSelector
      ? networkSets.sets.filter((set) => evaluateSelector(notSelector.node, set.calicoLabels))
      : [];
    const merged = (list: readonly NetworkSetInfo[]): Ipv4Range[] =>
      intervalsToRanges(iv.fromRanges(list.flatMap((set) => set.nets.map((r) => [r.lo, r.hi]))));
    const match: SetMatch = {
      positive: positiveSets,
      negative: negativeSets,
      positiveRanges: merged(positiveSets),
      negativeRanges: merged(negativeSets),
    };
    if (networkSets.bound) setMatch = match;
    return match;
  };
  const setNames = (list: readonly NetworkSetInfo[]): string =>
    list.map((set) => set.label).join(", ");

  const quotedText = (field: CalicoSelectorField): string => JSON.stringify(field.text);
  const describe = (): string => {
    const conditions: string[] = [];
    const { positive: positiveSets, negative: negativeSets } = sets();
    if (endpointsOnly) {
      let pods = "pods";
      if (selector) pods += ` matching ${quotedText(selector)}`;
      if (names) pods += ` with service account ${[...names].join(" or ")}`;
      if (serviceAccountSelector)
        pods += ` whose service account matches ${quotedText(serviceAccountSelector)}`;
      if (namespaceSelector) pods += ` in namespaces matching ${quotedText(namespaceSelector)}`;
      else if (scopeNamespace !== undefined) pods += ` in namespace ${scopeNamespace}`;
      else pods += " in any namespace";
      if (positiveSets.length > 0) pods = `(${pods}, or ${setNames(positiveSets)})`;
      if (notSelector) pods += ` not matching ${quotedText(notSelector)}`;
      conditions.push(pods);
    } else if (notSelector) {
      conditions.push(`anything but pods matching ${quotedText(notSelector)}`);
    }
    if (notSelector && negativeSets.length > 0)
      conditions.push(`outside ${setNames(negativeSets)}`);
    if (nets) conditions.push(`nets ${nets.map(formatRangeAsCidr).join(", ")}`);
    if (notNets) conditions.push(`notNets ${notNets.map(formatRangeAsCidr).join(", ")}`);
    return conditions.join(" and ");
  };

  let writtenHint: PodHint = { kind: "all" };
  if (scopeNamespace !== undefined) writtenHint = { kind: "namespaces", names: [scopeNamespace] };
  else if (!endpointsOnly && nets)
    writtenHint = ipBlockMatchesPods ? { kind: "ipRanges", ranges: nets } : { kind: "none" };
  // A pod whose address lies in a matched set's nets is in the selector's IP set too.
  const podHint = (): PodHint =>
    ipBlockMatchesPods && sets().positive.length > 0 ? { kind: "all" } : writtenHint;
  const labelKeys = new Set<string>();
  for (const node of [selector?.node, notSelector?.node, saSelector])
    if (node) selectorLabelKeys(node, labelKeys);
  if (names) labelKeys.add(CALICO_SERVICE_ACCOUNT_LABEL);
  return {
    key: `calico|${policyNamespace ?? "*"}|${JSON.stringify([
      selector?.text,
      notSelector?.text,
      namespaceSelector?.text,
      names && [...names],
      serviceAccountSelector?.text,
      nets,
      notNets,
      ipBlockMatchesPods,
    ])}`,
    get description() {
      return describe();
    },
    get byIp() {
      const { positive: positiveSets, negative: negativeSets } = sets();
      return (
        nets !== undefined ||
        notNets !== undefined ||
        positiveSets.length > 0 ||
        negativeSets.length > 0
      );
    },
    get ranges() {
      return [
        ...[...(nets ?? []), ...(notNets ?? [])].flatMap((r) =>
          intervalsToRanges(iv.fromRanges([[r.lo, r.hi]])),
        ),
        ...sets().positiveRanges,
        ...sets().negativeRanges,
      ];
    },
    get podHint() {
      return podHint();
    },
    get networkSets() {
      return sets().positive.map((set) => set.label);
    },
    podLabelKeys: [...labelKeys],
    matchPod: (pod) => {
      const ipVisible = ipBlockMatchesPods;
      const { positiveRanges, negativeRanges } = sets();
      if (endpointsOnly && !positive(pod) && !(ipVisible && inNets(pod.ip, positiveRanges)))
        return false;
      if (
        notSelector &&
        (evaluateSelector(notSelector.node, pod.calicoLabels) ||
          (ipVisible && inNets(pod.ip, negativeRanges)))
      )
        return false;
      if (nets && !(ipVisible && inNets(pod.ip, nets))) return false;
      if (notNets && ipVisible && inNets(pod.ip, notNets)) return false;
      return true;
    },
    matchExternal: (range) => {
      const { positiveRanges, negativeRanges } = sets();
      if (endpointsOnly && !inNets(range.lo, positiveRanges)) return false;
      if (notSelector && inNets(range.lo, negativeRanges)) return false;
      if (nets && !inNets(range.lo, nets)) return false;
      if (notNets && inNets(range.lo, notNets)) return false;
      return true;
    },
  };
}

/**
 * Calico Enterprise's `destination.domains` (egress Allow rules only): the destination is any
 * address DNS answered for one of the names, learned at run time
 * (https://docs.tigera.io/calico-enterprise/latest/network-policy/domain-based-policy). No static
 * analysis knows those addresses, so the peer matches no pod and no address block: verdicts on
 * addresses never count it, and reports name it as a peer of its own.
 */
export function domainsPeer(domains: readonly string[]): EndpointMatcher {
  return {
    key: `domains|${JSON.stringify(domains)}`,
    description: `domains ${domains.join(", ")}`,
    byIp: false,
    ranges: [],
    podHint: { kind: "none" },
    podLabelKeys: [],
    matchPod: () => false,
    matchExternal: () => false,
    domains,
  };
}
