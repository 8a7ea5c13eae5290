/**
 * Questions the policy pack asks the normalised model, answered from the engine's one reading
 * of each object:
 * - `externalAdmission`: which external IPv4 addresses a policy admits (ingress) or reaches
 *   (egress), on which connections, judged over all its rules in order, not peer by peer;
 * - `ipv6Admission`: the same for IPv6 blocks, which the IPv4 model keeps only in written form;
 * - `representativePods`: pods that stand for every pod of a namespace a policy can tell apart
 *   (real pods, plus the engine's representative inventory for the namespace), so a
 *   question like "does the probe source reach every pod on every port" has pods to ask about
 *   even when the input holds policies only;
 * - `cornerConnections` (via the Evaluator): what one corner allows between two endpoints;
 * - `shadowedRules`: Allow and Pass rules an earlier Deny of their tier always decides first.
 */
import * as conn from "../model/connections";
import type { ConnectionSet } from "../model/connections";
import { makeNamespace, makePod } from "../model/build";
import { isRepresentative, representativeInventory } from "../model/representative";
import { podsIn } from "../model/lookup";
import type { Ipv4Range, Ipv6Range } from "../model/ipv4";
import { ALL_IPV6, mergeIpv6, partitionIpv4, subtractIpv6 } from "../model/ipv4";
import type {
  ClusterModel,
  Direction,
  Endpoint,
  NormalPolicy,
  NormalRule,
  PodInfo,
} from "../model/types";
import { groupByTier, matcherMatches, type ApplicableTier } from "../evaluate/evaluator";
import { DEFAULT_TIER } from "../normalise/tier";

/** A contiguous block of external addresses and what the policy admits for it. */
export interface ExternalAdmission<R = Ipv4Range> {
  readonly addresses: R;
  /** Upper bound: named ports count as every port of their protocol. */
  readonly connections: ConnectionSet;
  /** Paths of the rules that admit it (e.g. `spec.ingress[0]`). */
  readonly rules: readonly string[];
}

function remoteOf(rule: NormalRule, direction: Direction) {
  return direction === "ingress" ? rule.sources : rule.destinations;
}

function localOf(rule: NormalRule, direction: Direction) {
  return direction === "ingress" ? rule.destinations : rule.sources;
}

/**
 * Whether a Pass rule of `policy` may admit by itself, judged on the one policy: Pass hands the
 * packet to the next tier that applies, and only after the last one does the namespace profile
 * allow it. A tier other than `default` exists to hand over to later tiers (the default tier
 * among them, where the namespace's own policies decide), so its Pass admits nothing itself; a
 * Pass in the default tier, which is normally the last, counts as admitting (upper bound).
 */
function passMayAdmit(policy: NormalPolicy): boolean {
  return policy.tier === DEFAULT_TIER;
}

/**
 * What `policy` admits from (ingress) or to (egress) external IPv4 addresses, for some pod it
 * selects. Rules run in order as in the evaluator; the answer is an upper bound: an Allow rule
 * counts whenever it may match (named ports resolve to anything, a local selector may match), a
 * Deny rule only removes what it surely matches (no local selector, numeric ports); a Pass rule
 * admits only in the default tier (`passMayAdmit`) and elsewhere removes like a Deny.
 */
export function externalAdmission(policy: NormalPolicy, direction: Direction): ExternalAdmission[] {
  const rules = policy[direction];
  const cuts: Ipv4Range[] = [];
  for (const rule of rules) {
    const remote = remoteOf(rule, direction);
    if (remote !== "any") for (const m of remote) if (m.byIp) cuts.push(...m.ranges);
  }
  const out: { addresses: Ipv4Range; connections: ConnectionSet; rules: string[] }[] = [];
  for (const block of partitionIpv4(cuts)) {
    const endpoint: Endpoint = { kind: "external", range: block };
    let undecided: ConnectionSet = conn.ALL_CONNECTIONS;
    let allowed: ConnectionSet = conn.NO_CONNECTIONS;
    const by: string[] = [];
    for (const rule of rules) {
      if (rule.action === "Log") continue;
      if (matcherMatches(remoteOf(rule, direction), endpoint) === undefined) continue;
      const surely = localOf(rule, direction) === "any";
      if (rule.action === "Deny" || (rule.action === "Pass" && !passMayAdmit(policy))) {
        if (surely) undecided = conn.subtractConnections(undecided, rule.certainConnections);
        continue;
      }
      const hit = conn.intersectConnections(rule.possibleConnections, undecided);
      if (conn.isEmptyConnections(hit)) continue;
      allowed = conn.unionConnections(allowed, hit);
      by.push(rule.path);
      if (surely) undecided = conn.subtractConnections(undecided, rule.certainConnections);
    }
    if (conn.isEmptyConnections(allowed)) continue;
    const last = out[out.length - 1];
    if (
      last &&
      last.addresses.hi + 1 === block.lo &&
      conn.equalConnections(last.connections, allowed) &&
      last.rules.join() === by.join()
    ) {
      last.addresses = { lo: last.addresses.lo, hi: block.hi };
    } else out.push({ addresses: block, connections: allowed, rules: by });
  }
  return out;
}

/**
 * What `policy` admits from or to IPv6 addresses, from the written form (the model is IPv4):
 * a rule without peers admits all of IPv6, an IPv6 ipBlock its CIDR minus its excepts, a
 * Calico rule without selectors its IPv6 nets unless it is `ipVersion: 4` (notNets ignored,
 * Deny ignored: an upper bound), a Calico rule naming domains none.
 */
export function ipv6Admission(
  policy: NormalPolicy,
  direction: Direction,
): ExternalAdmission<Ipv6Range>[] {
  const out: ExternalAdmission<Ipv6Range>[] = [];
  for (const rule of policy[direction]) {
    if (rule.action !== "Allow" && !(rule.action === "Pass" && passMayAdmit(policy))) continue;
    let ranges: Ipv6Range[] = [];
    let connections = rule.possibleConnections;
    if (rule.written) {
      const peers = rule.written.peers;
      if (peers === "any") ranges = [ALL_IPV6];
      else
        for (const peer of peers)
          if (peer.kind === "ipBlock" && peer.family === 6)
            ranges.push(...subtractIpv6([peer.cidr], peer.except));
    } else if (rule.calico) {
      if (rule.calico.ipv6Connections === undefined) continue;
      connections = rule.calico.ipv6Connections;
      const entity = direction === "ingress" ? rule.calico.source : rule.calico.destination;
      // Domains (Calico Enterprise) stand for the addresses DNS gives them at run time: a peer of
      // their own, no known address (see domainsPeer).
      if (entity.domains !== undefined) continue;
      const bySelector =
        entity.selector !== undefined ||
        entity.namespaceSelector !== undefined ||
        entity.notSelector !== undefined;
      if (!bySelector) {
        if (entity.nets.length === 0) ranges = [ALL_IPV6];
        else for (const net of entity.nets) if (net.ipv6) ranges.push(net.ipv6);
      }
    }
    for (const addresses of mergeIpv6(ranges))
      out.push({ addresses, connections, rules: [rule.path] });
  }
  return out;
}

const REPRESENTATIVE_ID_BASE = -2_000_000;

/** Per model, the pods `representativePods` answers per namespace (computed once). */
const representativeCache = new WeakMap<ClusterModel, Map<string, PodInfo[]>>();

/**
 * Pods standing for every pod of `namespace` that the policies can tell apart, from the engine's
 * one representative inventory (engine/model/representative.ts: a pod per label set a policy
 * target or a peer selector asks for, plus one no selector singles out). A model built without
 * workloads already holds that inventory as its pods; a model with workloads gets its real pods
 * plus the inventory's, marked hypothetical (their IPs lie outside every range real pods use).
 */
export function representativePods(model: ClusterModel, namespace: string): PodInfo[] {
  const invented = isRepresentative(model);
  const real = podsIn(model, namespace);
  if (invented && real.length > 0) return [...real];
  let perNamespace = representativeCache.get(model);
  if (perNamespace === undefined) {
    perNamespace = new Map();
    representativeCache.set(model, perNamespace);
  }
  const cached = perNamespace.get(namespace);
  if (cached) return cached;
  const info =
    model.namespaces.get(namespace) ?? makeNamespace(namespace, {}, false, model.options);
  const hypothetical = representativeInventory([model], [namespace])
    .filter((p) => p.namespace === namespace)
    .map((p, i) =>
      makePod(
        REPRESENTATIVE_ID_BASE - i,
        {
          namespace,
          name: `(pod ${
            Object.entries(p.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(",") || "any"
          })`,
          labels: p.labels,
          namedPorts: [],
          owner: { kind: "Pod", name: "hypothetical" },
        },
        info,
        model.options.podCidr.hi - i,
        true,
        model.options,
        true,
      ),
    );
  const pods = invented ? hypothetical : [...real, ...hypothetical];
  perNamespace.set(namespace, pods);
  return pods;
}

/** A rule that can never decide: what it matches is always decided before it is reached. */
export interface ShadowedRule {
  readonly policy: NormalPolicy;
  readonly direction: Direction;
  /** The Allow or Pass rule that never fires. */
  readonly rule: NormalRule;
  /** The rule's tier. */
  readonly tier: string;
  /**
   * What decides first: an earlier Deny of the same tier (in the same policy, or in a policy
   * before it), or an earlier tier that applies to every endpoint the rule is for, passes
   * nothing and ends with Deny.
   */
  readonly shadowedBy:
    | { readonly kind: "rule"; readonly policy: NormalPolicy; readonly rule: NormalRule }
    | {
        readonly kind: "endOfTier";
        readonly tier: string;
        /** The earlier tier's policies that select the rule's endpoints. */
        readonly policies: readonly NormalPolicy[];
      };
}

/**
 * Allow and Pass rules that never decide, because something earlier in Calico order always
 * decides every packet they match:
 *
 * - **An earlier Deny of the same tier.** A Deny rule D of a policy Q comes before the rule R of
 *   policy P in the same tier and direction (Q before P by (order, name), or Q = P and D earlier
 *   in the list), Q selects every endpoint R is for, and D surely matches every packet R may
 *   match: D's local side covers R's, D's remote side covers R's, and R's possible connections
 *   lie inside D's certain ones (named ports count as every port for R and as none for D).
 *   Every packet R matches is then decided before R is reached (denied by D, or decided or
 *   passed by a rule before D). Inside one tier only: across tiers, a Pass before D could let
 *   the packet reach R.
 * - **An earlier tier that passes nothing.** A tier before R's tier whose default action is Deny,
 *   whose policies (for the direction) select every endpoint R is for, and none of which has a
 *   Pass rule for the direction: no packet of those endpoints reaches a later tier.
 *
 * Coverage is judged over the model's pods plus the representative inventory of every
 * namespace (engine/model/representative.ts) and over the external address blocks cut at both
 * rules' ranges: exact for address peers and "any"; for selectors, the inventory's label sets
 * are witnesses of single selectors, so a shadow it reports holds for every pod the policies
 * tell apart. IPv6: R is not shadowed by an `ipVersion: 4` Deny unless R is IPv4-only too, nor,
 * when R names IPv6 addresses, by a Deny that names any peer. A rule for no known endpoint is
 * not reported (a dead selector, not a shadow). Sorted as the model's policies.
 */
export function shadowedRules(model: ClusterModel): ShadowedRule[] {
  const directions: readonly Direction[] = ["ingress", "egress"];
  // Only a Deny rule or a tier before the default one can shadow anything.
  const mayShadow =
    model.tiers.size > 1 ||
    model.policies.some((p) => directions.some((d) => p[d].some((r) => r.action === "Deny")));
  if (!mayShadow) return [];
  const universe = shadowUniverse(model);
  const selected = new Map<NormalPolicy, PodInfo[]>();
  const selectedBy = (policy: NormalPolicy): PodInfo[] => {
    let pods = selected.get(policy);
    if (pods === undefined)
      selected.set(policy, (pods = universe.filter((p) => policy.selects(p))));
    return pods;
  };
  const tiers = groupByTier(model, model.policies);
  const out: ShadowedRule[] = [];
  model.policies.forEach((policy, index) => {
    for (const direction of directions) {
      if (!policy.appliesTo[direction]) continue;
      for (const rule of policy[direction]) {
        if (rule.action !== "Allow" && rule.action !== "Pass") continue;
        if (conn.isEmptyConnections(rule.possibleConnections)) continue;
        const localPods = selectedBy(policy).filter(
          (pod) => matcherMatches(localOf(rule, direction), { kind: "pod", pod }) !== undefined,
        );
        if (localPods.length === 0) continue;
        const by =
          earlierTierClosing(tiers, policy, direction, localPods, selectedBy) ??
          earlierDenyCovering(model, index, direction, rule, localPods, universe, selectedBy);
        if (by) out.push({ policy, direction, rule, tier: policy.tier, shadowedBy: by });
      }
    }
  });
  return out;
}

/** An earlier tier that applies to every one of `localPods`, passes nothing and ends with Deny. */
function earlierTierClosing(
  tiers: readonly ApplicableTier[],
  policy: NormalPolicy,
  direction: Direction,
  localPods: readonly PodInfo[],
  selectedBy: (policy: NormalPolicy) => PodInfo[],
): ShadowedRule["shadowedBy"] | undefined {
  for (const { tier, policies } of tiers) {
    if (tier.name === policy.tier) return undefined;
    if (tier.defaultAction !== "Deny") continue;
    const local = new Set(localPods.map((p) => p.id));
    const applying = policies.filter(
      (p) => p.appliesTo[direction] && selectedBy(p).some((pod) => local.has(pod.id)),
    );
    if (applying.some((p) => p[direction].some((r) => r.action === "Pass"))) continue;
    const covered = new Set(applying.flatMap((p) => selectedBy(p).map((pod) => pod.id)));
    if (localPods.every((pod) => covered.has(pod.id)))
      return { kind: "endOfTier", tier: tier.name, policies: applying };
  }
  return undefined;
}

/** Every pod the model has or its inventory invents for a namespace it names. */
function shadowUniverse(model: ClusterModel): PodInfo[] {
  const pods = new Map<string, PodInfo>();
  for (const pod of model.pods) pods.set(`${pod.namespace}/${pod.name}`, pod);
  for (const namespace of model.namespaces.keys())
    for (const pod of representativePods(model, namespace))
      if (!pods.has(`${pod.namespace}/${pod.name}`)) pods.set(`${pod.namespace}/${pod.name}`, pod);
  return [...pods.values()];
}

function earlierDenyCovering(
  model: ClusterModel,
  index: number,
  direction: Direction,
  rule: NormalRule,
  localPods: readonly PodInfo[],
  universe: readonly PodInfo[],
  selectedBy: (policy: NormalPolicy) => PodInfo[],
): ShadowedRule["shadowedBy"] | undefined {
  const policy = model.policies[index];
  for (let i = index; i >= 0; i--) {
    const earlier = model.policies[i];
    if (earlier.tier !== policy.tier) break;
    if (!earlier.appliesTo[direction]) continue;
    const rules = earlier[direction];
    const last = earlier === policy ? rule.index : rules.length;
    for (let r = 0; r < last; r++) {
      const deny = rules[r];
      if (deny.action !== "Deny") continue;
      if (!connectionsInside(rule.possibleConnections, deny.certainConnections)) continue;
      if (!ipv6Covered(rule, deny, direction)) continue;
      if (earlier !== policy && !covers(selectedBy(earlier), localPods)) continue;
      const local = (pod: PodInfo): boolean =>
        matcherMatches(localOf(deny, direction), { kind: "pod", pod }) !== undefined;
      if (!localPods.every(local)) continue;
      if (!remoteCovered(remoteOf(rule, direction), remoteOf(deny, direction), universe)) continue;
      return { kind: "rule", policy: earlier, rule: deny };
    }
  }
  return undefined;
}

function connectionsInside(inner: ConnectionSet, outer: ConnectionSet): boolean {
  return conn.isEmptyConnections(conn.subtractConnections(inner, outer));
}

function covers(outer: readonly PodInfo[], inner: readonly PodInfo[]): boolean {
  const ids = new Set(outer.map((p) => p.id));
  return inner.every((p) => ids.has(p.id));
}

/** Whether `deny`'s remote side matches every endpoint `rule`'s remote side matches. */
function remoteCovered(
  ruleSide: NormalRule["sources"],
  denySide: NormalRule["sources"],
  universe: readonly PodInfo[],
): boolean {
  if (denySide === "any") return true;
  const matches = (side: NormalRule["sources"], endpoint: Endpoint): boolean =>
    matcherMatches(side, endpoint) !== undefined;
  for (const pod of universe) {
    const endpoint: Endpoint = { kind: "pod", pod };
    if (matches(ruleSide, endpoint) && !matches(denySide, endpoint)) return false;
  }
  const cuts = [ruleSide, denySide].flatMap((side) =>
    side === "any" ? [] : side.flatMap((m) => m.ranges),
  );
  for (const range of partitionIpv4(cuts)) {
    const endpoint: Endpoint = { kind: "external", range };
    if (matches(ruleSide, endpoint) && !matches(denySide, endpoint)) return false;
  }
  return true;
}

/** What the IPv4 model cannot see: IPv6 traffic `rule` opens that `deny` does not deny. */
function ipv6Covered(rule: NormalRule, deny: NormalRule, direction: Direction): boolean {
  const ruleIpv4Only = rule.calico !== undefined && rule.calico.ipv6Connections === undefined;
  const denyIpv4Only = deny.calico !== undefined && deny.calico.ipv6Connections === undefined;
  if (denyIpv4Only && !ruleIpv4Only) return false;
  const namesIpv6 = rule.calico
    ? [rule.calico.source, rule.calico.destination].some((e) => e.nets.some((n) => n.family === 6))
    : rule.written !== undefined &&
      rule.written.peers !== "any" &&
      rule.written.peers.some((p) => p.kind === "ipBlock" && p.family === 6);
  return !namesIpv6 || remoteOf(deny, direction) === "any";
}
