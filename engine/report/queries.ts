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
 * - `cornerConnections` (via the Evaluator): what one corner allows between two endpoints.
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
import { matcherMatches } from "../evaluate/evaluator";

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
 * What `policy` admits from (ingress) or to (egress) external IPv4 addresses, for some pod it
 * selects. Rules run in order as in the evaluator; the answer is an upper bound: an Allow rule
 * counts whenever it may match (named ports resolve to anything, a local selector may match), a
 * Deny rule only removes what it surely matches (no local selector, numeric ports).
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
      if (rule.action === "Deny") {
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
    if (rule.action !== "Allow" && rule.action !== "Pass") continue;
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
