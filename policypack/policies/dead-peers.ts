/**
 * Dead peers (lib/dead-peers.ts): a rule whose peer can never match allows nothing, so the flow
 * it was written for is cut off. Reported with what the peer was probably meant to be.
 *
 * - `dead-peer-outage` (mandatory): the dead peer's rule is the only allow of a documented
 *   flow. The flow every namespace documents by writing it is cluster DNS: an egress rule on the
 *   DNS port; it is the only allow when the engine, over the input's policies, lets none of the
 *   policy's pods reach the namespace the peer was meant to select on that port. (A stack's
 *   declared flows are judged by declared-connectivity, which reports a declared flow that is
 *   denied.)
 * - `dead-peer` (advisory): every other dead peer.
 *
 * The known inventory is the Namespaces the input declares plus the namespaces every cluster has
 * (kube-system, default, kube-public, kube-node-lease).
 */
import {
  allowsConnection,
  buildModel,
  type ClusterModel,
  Evaluator,
  type Labels,
  ManifestError,
} from "../../engine";
import { DNS_PORT } from "../lib/exposure";
import { type ClusterFacts, factIfGiven } from "../lib/facts";
import { describePolicy } from "../lib/findings";
import { type DeadPeer, deadPeers, WELL_KNOWN_NAMESPACES } from "../lib/dead-peers";
import { type Finding, rejectedObject, stackPolicy, type StackSubject } from "../lib/policy";
import { isObject } from "../lib/read";
import { readStack, type StackView } from "../lib/stack";

function knownNamespaces(view: StackView): Map<string, Labels> {
  const known = new Map<string, Labels>(WELL_KNOWN_NAMESPACES.map((n) => [n, {}]));
  for (const manifest of view.manifests) {
    if (manifest.kind !== "Namespace" || !isObject(manifest.metadata)) continue;
    const { name, labels } = manifest.metadata;
    if (typeof name === "string")
      known.set(name, (isObject(labels) ? labels : {}) as Record<string, string>);
  }
  return known;
}

interface Judged {
  readonly dead: DeadPeer;
  readonly outage: boolean;
  readonly urn: string;
}

/** Is `dead` the only allow of the DNS flow from its policy's pods? Asked of the engine. */
function cutsDns(view: StackView, dead: DeadPeer, dnsPort: number): boolean {
  const rule = dead.policy.egress.find((r) => r.path === dead.rulePath);
  if (dead.direction !== "egress" || !rule || dead.meantNamespace === undefined) return false;
  const protocol = allowsConnection(rule.possibleConnections, "UDP", dnsPort) ? "UDP" : "TCP";
  if (!allowsConnection(rule.possibleConnections, protocol, dnsPort)) return false;
  const model: ClusterModel = buildModel(view.manifests, {
    ipBlockMatchesPods: false,
    extraNamespaces: [dead.meantNamespace],
  });
  const evaluator = new Evaluator(model);
  const locals = model.pods.filter(
    (p) => p.namespace === dead.policy.namespace && dead.policy.selects(p),
  );
  const targets = model.pods.filter((p) => p.namespace === dead.meantNamespace);
  return locals.every((local) =>
    targets.every(
      (target) =>
        !evaluator.cornerDecision(
          "egress",
          { kind: "pod", pod: local },
          { kind: "pod", pod: target },
          protocol,
          dnsPort,
        ).allowed,
    ),
  );
}

function judgeAll(resources: readonly StackSubject[], policyName: string, facts: ClusterFacts) {
  const view = readStack(resources, facts, policyName);
  const known = knownNamespaces(view);
  const dnsPort = factIfGiven(view.facts, "dns")?.port ?? DNS_PORT;
  const judged: Judged[] = [];
  for (const { policy, urn } of view.netpols)
    for (const dead of deadPeers(policy, known))
      judged.push({ dead, urn, outage: cutsDns(view, dead, dnsPort) });
  return { view, judged };
}

function findingOf({ dead, outage, urn }: Judged): Finding {
  const effect = outage
    ? `; it is the only DNS allow of these pods, so name resolution fails for them`
    : "; the rule allows nothing";
  return {
    message: `${describePolicy(dead.policy)} ${dead.path}: dead peer, ${dead.why}${effect}`,
    fix: `it was probably meant to be ${dead.meant}`,
    namespace: dead.policy.namespace,
    objectName: dead.policy.ref.name,
    urn,
  };
}

function deadPeerPolicy(name: string, outage: boolean) {
  return stackPolicy({
    name,
    description: outage
      ? "A documented flow (cluster DNS) is not cut off by a peer that can never match: a typo'd label key or a namespace label no namespace carries."
      : "No rule has a peer that can never match (a typo'd label key, or a namespace label no known namespace carries).",
    enforcementLevel: outage ? "mandatory" : "advisory",
    prevents: outage
      ? "A namespace whose only DNS rule matches nothing: every lookup times out although the YAML looks right."
      : "A rule that allows nothing, so the service it was written for is cut off (and a relabel later silently opens it).",
    facts: ["dns"],
    check(resources, { facts }) {
      let result;
      try {
        result = judgeAll(resources, name, facts);
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        return [rejectedObject(name, "the input", error)];
      }
      return [
        ...result.view.problems,
        ...result.judged.filter((j) => j.outage === outage).map(findingOf),
      ];
    },
  });
}

export const deadPeerOutage = deadPeerPolicy("dead-peer-outage", true);
export const deadPeer = deadPeerPolicy("dead-peer", false);
