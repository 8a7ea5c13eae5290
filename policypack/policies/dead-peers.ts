/**
 * Dead peers (lib/dead-peers.ts): a rule whose peer can never match allows nothing, so the flow
 * it was written for is cut off. Reported with what the peer was probably meant to be.
 *
 * - `dead-peer-outage` (mandatory): the dead peer's rule is the only allow of a documented
 *   flow. Documented are cluster DNS (an egress rule on the DNS port: every namespace resolves
 *   names) and a flow whose other corner the input writes (the meant namespace's own policies
 *   allow it); it is the only allow when the engine, over the input's policies, lets none of the
 *   policy's pods have the flow at this corner. (A stack's declared flows are judged by
 *   declared-connectivity, which reports a declared flow that is denied.)
 * - `dead-peer` (advisory): every other dead peer.
 *
 * The known inventory is the Namespaces the input declares plus the namespaces every cluster has
 * (kube-system, default, kube-public, kube-node-lease).
 */
import {
  allowsConnection,
  buildModel,
  type ClusterModel,
  connectionsToList,
  type ModelProtocol,
  Evaluator,
  type Labels,
  ManifestError,
} from "../../engine";
import { DNS_PORT } from "../lib/exposure";
import { type ClusterFacts, factFor, factIfGiven } from "../lib/facts";
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

interface CutFlow {
  readonly dns: boolean;
  /** What is cut off, as a clause. */
  readonly text: string;
}

interface Judged {
  readonly dead: DeadPeer;
  /** The documented flow it cuts off; undefined when none. */
  readonly cut?: CutFlow;
  readonly urn: string;
}

/**
 * The documented flow `dead` cuts off, or undefined. Documented are cluster DNS (an egress rule
 * on the DNS port) and a flow whose other corner the input writes (the meant namespace's
 * policies allow it at their end); cut off means the engine lets none of the policy's pods have
 * it at this end.
 */
function cutFlow(
  model: ClusterModel,
  evaluator: Evaluator,
  dead: DeadPeer,
  dnsPort: number,
): CutFlow | undefined {
  const rule = dead.policy[dead.direction].find((r) => r.path === dead.rulePath);
  if (!rule || dead.meantNamespace === undefined) return undefined;
  const meant = dead.meantNamespace;
  const dns =
    dead.direction === "egress" &&
    (allowsConnection(rule.possibleConnections, "UDP", dnsPort) ||
      allowsConnection(rule.possibleConnections, "TCP", dnsPort));
  const samples: { protocol: ModelProtocol; port: number }[] = dns
    ? [
        {
          protocol: allowsConnection(rule.possibleConnections, "UDP", dnsPort) ? "UDP" : "TCP",
          port: dnsPort,
        },
      ]
    : connectionsToList(rule.possibleConnections).flatMap(({ protocol, ranges }) =>
        ranges.slice(0, 1).map(([port]) => ({ protocol, port })),
      );
  const locals = model.pods.filter(
    (p) => p.namespace === dead.policy.namespace && dead.policy.selects(p),
  );
  const remotes = model.pods.filter((p) => p.namespace === meant);
  const other = dead.direction === "ingress" ? "egress" : "ingress";
  for (const { protocol, port } of samples) {
    const pairs = locals.flatMap((local) =>
      remotes.map((remote) => {
        const [source, destination] =
          dead.direction === "ingress" ? [remote, local] : [local, remote];
        return [
          { kind: "pod", pod: source },
          { kind: "pod", pod: destination },
        ] as const;
      }),
    );
    const at = (direction: "ingress" | "egress", pair: (typeof pairs)[number]): boolean =>
      evaluator.cornerDecision(direction, pair[0], pair[1], protocol, port).allowed;
    const documented = dns || pairs.some((pair) => at(other, pair));
    if (!documented || pairs.length === 0 || pairs.some((pair) => at(dead.direction, pair)))
      continue;
    return {
      dns,
      text: dns
        ? "it is the only DNS allow of these pods, so name resolution fails for them"
        : `${meant}'s own policies allow this flow at the ${other} (${protocol} ${port}), and no other rule admits it here, so it is cut off`,
    };
  }
  return undefined;
}

function judgeAll(
  resources: readonly StackSubject[],
  policyName: string,
  facts: ClusterFacts,
  plainYaml: boolean,
) {
  const view = readStack(resources, facts, policyName);
  const known = knownNamespaces(view);
  const dnsPort = factFor(view.facts, "dns", plainYaml)?.port ?? DNS_PORT;
  const found = view.netpols.flatMap(({ policy, urn }) =>
    deadPeers(policy, known).map((dead) => ({ dead, urn })),
  );
  if (found.length === 0) return { view, judged: [] };
  // One model for every dead peer: the namespaces they were meant for exist in it.
  const meant = [...new Set(found.flatMap(({ dead }) => dead.meantNamespace ?? []))];
  const model: ClusterModel = buildModel(view.manifests, {
    ipBlockMatchesPods: false,
    extraNamespaces: meant,
  });
  const evaluator = new Evaluator(model);
  const judged: Judged[] = found.map(({ dead, urn }) => ({
    dead,
    urn,
    cut: cutFlow(model, evaluator, dead, dnsPort),
  }));
  return { view, judged };
}

function findingOf({ dead, cut, urn }: Judged, facts: ClusterFacts): Finding {
  const effect = `; ${cut?.text ?? "the rule allows nothing"}`;
  // A DNS peer that comes back to life must name the DNS pods too (dns-and-semantics).
  const dnsPods =
    cut?.dns === true && !dead.hasPodSelector
      ? `, with the DNS pods in the same peer: podSelector: {matchLabels: {${Object.entries(
          factIfGiven(facts, "dns")?.podLabels ?? { "k8s-app": "kube-dns" },
        )
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")}}}`
      : "";
  return {
    message: `${describePolicy(dead.policy)} ${dead.path}: dead peer, ${dead.why}${effect}`,
    fix: `it was probably meant to be ${dead.meant}${dnsPods}`,
    namespace: dead.policy.namespace,
    objectName: dead.policy.ref.name,
    urn,
  };
}

function deadPeerPolicy(name: string, outage: boolean) {
  return stackPolicy({
    name,
    description: outage
      ? "A documented flow (cluster DNS, or a flow whose other corner the input writes) is not cut off by a peer that can never match: a typo'd label key or a namespace label no namespace carries."
      : "No rule has a peer that can never match (a typo'd label key, or a namespace label no known namespace carries).",
    enforcementLevel: outage ? "mandatory" : "advisory",
    prevents: outage
      ? "A namespace whose only DNS rule matches nothing: every lookup times out although the YAML looks right."
      : "A rule that allows nothing, so the service it was written for is cut off (and a relabel later silently opens it).",
    facts: ["dns"],
    withoutFacts: "the DNS port is 53",
    check(resources, { facts, plainYaml }) {
      let result;
      try {
        result = judgeAll(resources, name, facts, plainYaml);
      } catch (error) {
        if (!(error instanceof ManifestError)) throw error;
        return [rejectedObject(name, "the input", error)];
      }
      return [
        ...result.view.problems,
        ...result.judged
          .filter((j) => (j.cut !== undefined) === outage)
          .map((j) => findingOf(j, result.view.facts)),
      ];
    },
  });
}

export const deadPeerOutage = deadPeerPolicy("dead-peer-outage", true);
export const deadPeer = deadPeerPolicy("dead-peer", false);
