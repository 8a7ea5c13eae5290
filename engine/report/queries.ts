/**
 * Questions the policy pack asks the normalised model, answered from the engine's one reading
 * of each object:
 * - `externalAdmission`: which external IPv4 addresses a policy admits (ingress) or reaches
 *   (egress), on which connections, judged over all its rules in order, not peer by peer;
 * - `ipv6Admission`: the same for IPv6 blocks, which the IPv4 model keeps only in written form;
 * - `representativePods`: pods that stand for every pod of a namespace a policy can tell apart
 *   (real pods, plus hypothetical ones built from the selectors that name the namespace), so a
 *   question like "does the probe source reach every pod on every port" has pods to ask about
 *   even when the input holds policies only;
 * - `cornerConnections` (via the Evaluator): what one corner allows between two endpoints.
 */
import * as conn from "../model/connections";
import type { ConnectionSet } from "../model/connections";
import { makeNamespace, makePod } from "../model/build";
import { policiesIn, podsIn } from "../model/lookup";
import type { Ipv4Range, Ipv6Range } from "../model/ipv4";
import { ALL_IPV6, mergeIpv6, partitionIpv4, subtractIpv6 } from "../model/ipv4";
import type { LabelSelectorMatcher, Labels } from "../model/label-selector";
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
 * Deny ignored: an upper bound).
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

/** Labels that satisfy `selector`, or undefined when none can (e.g. `In [a]` and `NotIn [a]`). */
export function labelsSatisfying(selector: LabelSelectorMatcher): Labels | undefined {
  const labels: Record<string, string> = {};
  for (const r of selector.requirements) {
    if (r.operator === "In") labels[r.key] ??= r.values[0];
    else if (r.operator === "Exists") labels[r.key] ??= "present";
  }
  return selector.matches(labels) ? labels : undefined;
}

const REPRESENTATIVE_ID_BASE = -2_000_000;

/**
 * Pods standing for every pod of `namespace` that the policies can tell apart: its real pods,
 * one unlabelled pod, and one pod per pod selector that can pick pods there (policy targets in
 * the namespace, plus `extraSelectors`, e.g. peer selectors of rules pointing at it).
 * Hypothetical pods are marked so; their IP is outside every range real pods use.
 */
export function representativePods(
  model: ClusterModel,
  namespace: string,
  extraSelectors: readonly LabelSelectorMatcher[] = [],
): PodInfo[] {
  const real = podsIn(model, namespace);
  const info =
    model.namespaces.get(namespace) ?? makeNamespace(namespace, {}, false, model.options);
  const selectors = [
    ...policiesIn(model, namespace).flatMap((p) =>
      p.written.podSelector ? [p.written.podSelector] : [],
    ),
    ...extraSelectors,
  ];
  const labelSets = new Map<string, Labels>([["{}", {}]]);
  for (const selector of selectors) {
    const labels = labelsSatisfying(selector);
    if (labels) labelSets.set(JSON.stringify(Object.entries(labels).sort()), labels);
  }
  const hypothetical = [...labelSets.values()].map((labels, i) =>
    makePod(
      REPRESENTATIVE_ID_BASE - i,
      {
        namespace,
        name: `(pod ${
          Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(",") || "any"
        })`,
        labels,
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
  return [...real, ...hypothetical];
}
