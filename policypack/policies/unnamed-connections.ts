/**
 * Cross-object check for plain YAML (`npm run check`), the counterpart of declared-connectivity's
 * "allowed but not declared" for stacks: without a stack there is no declared intent, but a
 * hand-written tree declares a connection by naming its peer, at one corner or the other. A
 * connection between two namespaces of the input that both corners allow only through rules
 * naming no peer (no `from`/`to`, a whole-cluster `namespaceSelector: {}`, a Calico rule without
 * selector or nets) is declared by nobody: it is open by omission, and stays open for every
 * namespace created later.
 *
 * Both corners must be isolated (a policy selects the pods in that direction): a corner that is
 * not is the completeness policies' finding (namespace-baseline-deny-all), not a pairwise one.
 * Judged by the engine's evaluator on the representative inventory (one pod per label set the
 * selectors name), one finding per ordered namespace pair, at the object of the ingress rule.
 */
import {
  buildModel,
  type ClusterModel,
  type EndpointMatcher,
  type NormalRule,
  connectionsToList,
  type CornerDecision,
  type Endpoint,
  Evaluator,
  formatRef,
  intersectConnections,
  ManifestError,
  peerShape,
  type PodInfo,
  type SourcedObject,
} from "../../engine";
import { plainInput } from "../lib/plain-input";
import { type Finding, stackPolicy } from "../lib/policy";

export const UNNAMED_CONNECTIONS = "unnamed-connections";
/** Ports reported per pair: the first port of each allowed range stands for it. */
const MAX_PORTS = 16;

const pod = (p: PodInfo): Endpoint => ({ kind: "pod", pod: p });

/** The allowing rule names its peer: neither "any" nor the whole cluster. */
function isWholeCluster(rule: NormalRule, peer: EndpointMatcher): boolean {
  const shape = peerShape(rule, peer);
  return (
    shape?.kind === "pods" &&
    shape.namespaces !== "own" &&
    shape.namespaces.length === 0 &&
    shape.pods.length === 0
  );
}

function namesPeer(decision: CornerDecision): boolean {
  const by = decision.decidedBy;
  if (!decision.isolated || !by || by.action !== "Allow" || by.peer === "any") return false;
  return !isWholeCluster(by.rule, by.peer);
}

/**
 * The namespaces whose pods a corner of `direction` may admit without naming the peer: a rule
 * without peers or with a whole-cluster peer, a Pass, or (for a cluster-wide policy or a tier whose
 * defaultAction is Pass) every namespace. Only pairs of such namespaces can be findings, so the
 * pairwise walk below stays near linear on inputs whose rules name their peers.
 */
function unnamedCorners(model: ClusterModel, direction: "ingress" | "egress"): Set<string> | "all" {
  if (model.tiers && [...model.tiers.values()].some((t) => t.defaultAction === "Pass"))
    return "all";
  const namespaces = new Set<string>();
  for (const policy of model.policies)
    for (const rule of policy[direction]) {
      if (rule.action !== "Allow" && rule.action !== "Pass") continue;
      const remote = direction === "ingress" ? rule.sources : rule.destinations;
      const unnamed =
        rule.action === "Pass" || remote === "any" || remote.some((p) => isWholeCluster(rule, p));
      if (!unnamed) continue;
      if (policy.namespace === undefined) return "all";
      namespaces.add(policy.namespace);
    }
  return namespaces;
}

const within = (set: Set<string> | "all", namespace: string): boolean =>
  set === "all" || set.has(namespace);

const ruleText = (decision: CornerDecision): string =>
  decision.decidedBy
    ? `${formatRef(decision.decidedBy.policy.ref)} ${decision.decidedBy.rule.path}`
    : decision.local;

export function unnamedConnectionFindings(
  objects: readonly SourcedObject[],
  urnOf: (source: string | undefined) => string | undefined,
): Finding[] {
  const model = buildModel(objects);
  const evaluator = new Evaluator(model);
  const protectedNamespaces = new Set(
    model.policies.flatMap((p) => (p.namespace === undefined ? [] : [p.namespace])),
  );
  const podsOf = new Map<string, PodInfo[]>();
  for (const p of model.pods)
    if (protectedNamespaces.has(p.namespace))
      podsOf.set(p.namespace, [...(podsOf.get(p.namespace) ?? []), p]);
  const findings: Finding[] = [];
  const egressUnnamed = unnamedCorners(model, "egress");
  const ingressUnnamed = unnamedCorners(model, "ingress");
  const sorted = [...podsOf].sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [from, sources] of sorted.filter(([ns]) => within(egressUnnamed, ns)))
    for (const [to, destinations] of sorted.filter(([ns]) => within(ingressUnnamed, ns))) {
      if (from === to) continue;
      const open = new Map<string, { egress: CornerDecision; ingress: CornerDecision }>();
      for (const s of sources)
        for (const d of destinations) {
          const allowed = intersectConnections(
            evaluator.cornerConnections("egress", pod(s), pod(d)),
            evaluator.cornerConnections("ingress", pod(s), pod(d)),
          );
          for (const { protocol, ranges } of connectionsToList(allowed))
            for (const [port] of ranges) {
              const key = protocol === "ICMP" ? "ICMP" : `${protocol} ${port}`;
              if (open.has(key) || open.size >= MAX_PORTS) continue;
              const egress = evaluator.cornerDecision("egress", pod(s), pod(d), protocol, port);
              const ingress = evaluator.cornerDecision("ingress", pod(s), pod(d), protocol, port);
              if (!egress.isolated || !ingress.isolated) continue;
              if (!egress.allowed || !ingress.allowed) continue;
              if (namesPeer(egress) || namesPeer(ingress)) continue;
              open.set(key, { egress, ingress });
            }
        }
      if (open.size === 0) continue;
      const [first] = open.values();
      const policy = first.ingress.decidedBy?.policy;
      const ports = [...open.keys()].join(", ");
      findings.push({
        message: `${from} -> ${to} is allowed on ${ports}, but no rule names it: ${ruleText(first.egress)} admits every destination and ${ruleText(first.ingress)} every source; nothing declares this connection, and ${to} admits any namespace added later the same way`,
        fix: `name the peer in one of the rules (a namespaceSelector for ${to} in the egress rule, or for ${from} in the ingress rule), or remove the rule if nothing needs it`,
        namespace: to,
        ...(policy ? { objectName: policy.ref.name, urn: urnOf(policy.source) } : {}),
      });
    }
  return findings;
}

export const unnamedConnections = stackPolicy({
  name: UNNAMED_CONNECTIONS,
  description:
    "Plain YAML: every connection between two namespaces of the input is named by a rule at one of its corners, not allowed by peer-less rules at both.",
  enforcementLevel: "advisory",
  prevents:
    "A namespace-to-namespace path nobody wrote down: two catch-all rules that together open it, and open it again for every namespace added later.",
  check(resources) {
    // Stacks: declared-connectivity compares what is allowed with the declared intent.
    const input = plainInput(resources);
    if (!input) return [];
    try {
      return unnamedConnectionFindings(input.objects, input.urnOf);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [
        {
          message: `cannot verify ${UNNAMED_CONNECTIONS} because the policies cannot be modelled: ${error.message}`,
          fix: "fix the objects named above; the connectivity engine refuses what it cannot read",
        },
      ];
    }
  },
});
