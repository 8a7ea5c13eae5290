/**
 * Cross-object check for plain YAML (`npm run check`): a rule between two namespaces only works
 * when the other namespace's policies allow the other corner. An ingress rule whose source
 * namespace never allows the egress (or the other way round) is a "missing corner": the traffic
 * is dropped although one side says it is wanted. A rule naming a namespace that the input
 * neither protects nor declares (a scrape from a namespace where no Prometheus runs) is reported
 * too, unless the input is partial.
 *
 * The third gate too, when the cluster facts give the mesh and the input holds Istio
 * AuthorizationPolicies: traffic whose two CNI corners are both there but that ztunnel's
 * authorization at the meshed destination refuses is dropped just the same (declared-connectivity
 * reports it for stacks as a missing "ztunnel authorization" corner).
 *
 * Computed from the engine's model of the input, on its representative inventory (one pod per
 * label set the selectors name): the other corner is asked with the engine's own evaluator.
 * Stacks are judged by declared-connectivity instead, which compares with the declared intent.
 */
import { WELL_KNOWN_NAMESPACES } from "../lib/dead-peers";
import type {
  EngineOptions,
  Endpoint,
  EndpointMatcher,
  ModelProtocol,
  PodInfo,
  SourcedObject,
} from "../../engine";
import {
  buildModel,
  connectionsToList,
  Evaluator,
  formatRef,
  ManifestError,
  peerShape,
} from "../../engine";
import { factIfGiven } from "../lib/facts";
import { ISTIO_GATE_TYPES } from "../lib/istio";
import { plainInput } from "../lib/plain-input";
import { type Finding, stackPolicy } from "../lib/policy";
import { PARTIAL_INPUT_SCHEMA } from "./partial-input";

export const MISSING_CORNERS = "missing-corners";
const ANY_ADDRESS: Endpoint = { kind: "external", range: { lo: 0x08080808, hi: 0x08080808 } };
/** Ports per rule that are asked: the first port of each range is representative of it. */
const MAX_SAMPLES = 16;

function samples(ruleConnections: ReturnType<typeof connectionsToList>) {
  const out: { protocol: ModelProtocol; port: number }[] = [];
  for (const { protocol, ranges } of ruleConnections)
    for (const [lo] of ranges) if (out.length < MAX_SAMPLES) out.push({ protocol, port: lo });
  return out;
}

const pod = (p: PodInfo): Endpoint => ({ kind: "pod", pod: p });

/**
 * `mesh`: the ambient mesh from the cluster facts; with it, the Istio objects among `objects`
 * are the third gate at meshed destinations.
 */
export function missingCornerFindings(
  objects: readonly SourcedObject[],
  partial: boolean,
  urnOf: (source: string | undefined) => string | undefined,
  mesh?: EngineOptions["mesh"],
): Finding[] {
  const model = buildModel(objects, mesh ? { mesh } : {});
  const evaluator = new Evaluator(model);
  const protectedNamespaces = new Set(
    model.policies.flatMap((p) => (p.namespace === undefined ? [] : [p.namespace])),
  );
  // Pods by namespace, and namespaces by label: a matcher's pod hint narrows the pods it can
  // match (as the evaluator and the matrix use it), so a large input is not scanned whole for
  // every peer of every rule (that was quadratic in the input).
  const podsByNamespace = new Map<string, PodInfo[]>();
  for (const p of model.pods) {
    const list = podsByNamespace.get(p.namespace);
    if (list) list.push(p);
    else podsByNamespace.set(p.namespace, [p]);
  }
  const namespacesByLabel = new Map<string, string[]>();
  for (const ns of model.namespaces.values())
    for (const [key, value] of Object.entries(ns.labels)) {
      const label = `${key}\u0000${value}`;
      const list = namespacesByLabel.get(label);
      if (list) list.push(ns.name);
      else namespacesByLabel.set(label, [ns.name]);
    }
  const podIndex = new Map(model.pods.map((p, i) => [p, i]));
  // In model order, as a scan of every pod would find them (the findings keep their order).
  const podsIn = (namespaces: readonly string[]): PodInfo[] =>
    [...new Set(namespaces)]
      .flatMap((n) => podsByNamespace.get(n) ?? [])
      .sort((a, b) => podIndex.get(a)! - podIndex.get(b)!);
  const candidates = (hint: EndpointMatcher["podHint"]): readonly PodInfo[] => {
    switch (hint.kind) {
      case "none":
        return [];
      case "namespaces":
        return podsIn(hint.names);
      case "namespaceLabel":
        return podsIn(
          hint.values.flatMap((v) => namespacesByLabel.get(`${hint.key}\u0000${v}`) ?? []),
        );
      default:
        return model.pods;
    }
  };
  const findings: Finding[] = [];
  for (const policy of model.policies) {
    if (policy.namespace === undefined) continue;
    // A namespaced policy selects pods of its own namespace only.
    const locals = (podsByNamespace.get(policy.namespace) ?? []).filter((p) => policy.selects(p));
    for (const direction of ["ingress", "egress"] as const) {
      const other = direction === "ingress" ? "egress" : "ingress";
      for (const rule of policy[direction]) {
        if (rule.action !== "Allow") continue;
        const remote = direction === "ingress" ? rule.sources : rule.destinations;
        if (remote === "any") continue;
        const asked = samples(connectionsToList(rule.connections(ANY_ADDRESS)));
        for (const peer of remote) {
          const shape = peerShape(rule, peer);
          // Whole-cluster peers ({}) are another policy's business (no-all-namespaces-selector).
          if (shape?.kind === "pods" && shape.namespaces !== "own" && shape.namespaces.length === 0)
            continue;
          if (shape?.kind === "ipBlock") continue;
          const byNamespace = new Map<string, PodInfo[]>();
          for (const p of candidates(peer.podHint)) {
            if (p.namespace === policy.namespace || !peer.matchPod(p)) continue;
            const list = byNamespace.get(p.namespace);
            if (list) list.push(p);
            else byNamespace.set(p.namespace, [p]);
          }
          for (const [namespace, remotes] of byNamespace) {
            if (namespace.startsWith("[")) continue; // the representative "any other namespace"
            const where = `${formatRef(policy.ref)} ${rule.path}`;
            const base = {
              namespace: policy.namespace,
              objectName: policy.ref.name,
              urn: urnOf(policy.source),
            };
            if (!protectedNamespaces.has(namespace)) {
              // Namespaces every cluster has (kube-system runs DNS) exist though no input declares them.
              if (
                partial ||
                model.namespaces.get(namespace)?.declared ||
                WELL_KNOWN_NAMESPACES.includes(namespace)
              )
                continue;
              findings.push({
                ...base,
                message: `${where} (${policy.source ?? "input"}) names namespace ${namespace}, which the input neither protects nor declares: nothing there is known to need this ${direction}`,
                fix: `remove the peer, or point it at the namespace that really runs the workload (a scrape comes from the monitoring namespace); give --partial if ${namespace} is protected elsewhere`,
              });
              continue;
            }
            const missing = asked.filter(
              ({ protocol, port }) =>
                !locals.some((l) =>
                  remotes.some((r) => {
                    const [source, destination] = direction === "ingress" ? [r, l] : [l, r];
                    return evaluator.cornerDecision(
                      other,
                      pod(source),
                      pod(destination),
                      protocol,
                      port,
                    ).allowed;
                  }),
                ),
            );
            const [from, to] =
              direction === "ingress"
                ? [namespace, policy.namespace]
                : [policy.namespace, namespace];
            const refused = ztunnelRefused(
              evaluator,
              asked.filter((a) => !missing.includes(a)),
              direction,
              locals,
              remotes,
            );
            if (refused.length > 0) {
              const ports = refused.map((m) => `TCP ${m.port}`).join(", ");
              findings.push({
                ...base,
                message: `${where} (${policy.source ?? "input"}) allows ${from} -> ${to} on ${ports}, and so does the other corner, but ztunnel's authorization in meshed ${to} does not: the missing identity corner drops this traffic`,
                fix: `add a source in ${from} (namespaces or principals) with ports ${refused.map((m) => m.port).join(", ")} to an ALLOW AuthorizationPolicy selecting the pods in ${to}, or remove this rule if the traffic is not wanted; in zt-netpol a flow generates the authorization too`,
              });
            }
            if (missing.length === 0) continue;
            const ports = missing.map((m) =>
              m.protocol === "ICMP" ? "ICMP" : `${m.protocol} ${m.port}`,
            );
            findings.push({
              ...base,
              message: `${where} (${policy.source ?? "input"}) allows ${from} -> ${to} on ${ports.join(", ")} at the ${direction}, but the ${other} corner in ${namespace} does not: the missing corner drops this traffic`,
              fix: `add the ${other} rule in ${namespace} (${from} -> ${to} on ${ports.join(", ")}), or remove this rule if the traffic is not wanted; in zt-netpol a flow generates both corners`,
            });
          }
        }
      }
    }
  }
  return findings;
}

/**
 * The asked TCP ports whose CNI corners let some (local, remote) pair through, but for which
 * ztunnel at the meshed destination refuses every such pair: the identity corner is missing.
 */
function ztunnelRefused(
  evaluator: Evaluator,
  asked: readonly { protocol: ModelProtocol; port: number }[],
  direction: "ingress" | "egress",
  locals: readonly PodInfo[],
  remotes: readonly PodInfo[],
): { protocol: ModelProtocol; port: number }[] {
  if (!evaluator.ztunnel.active) return [];
  // HBONE is the tunnel ztunnel receives on, not a port it authorizes: it judges the inner port.
  const hbonePort = evaluator.model.options.mesh?.hbonePort;
  // Ingress from the mesh namespace is ztunnel's own delivery into the pod, a CNI-level
  // allowance ztunnel does not judge (components/authorization.ts, `mesh-ztunnel`), as the
  // stack's intent check treats it.
  const meshNamespace = evaluator.model.options.mesh?.namespace;
  return asked.filter(({ protocol, port }) => {
    if (protocol !== "TCP" || port === hbonePort) return false;
    let judged = false;
    for (const l of locals)
      for (const r of remotes) {
        const [source, destination] = direction === "ingress" ? [r, l] : [l, r];
        if (source.namespace === meshNamespace) continue;
        if (!evaluator.ztunnel.applies(pod(source), pod(destination))) continue;
        const cni = (["egress", "ingress"] as const).every(
          (corner) =>
            evaluator.cornerDecision(corner, pod(source), pod(destination), protocol, port).allowed,
        );
        if (!cni) continue;
        if (evaluator.ztunnel.decide(pod(source), destination, port).allowed) return false;
        judged = true;
      }
    return judged;
  });
}

export const missingCorners = stackPolicy({
  name: MISSING_CORNERS,
  description:
    "Plain YAML: a rule between two namespaces has its other corner in the other namespace, and names only namespaces the input knows.",
  enforcementLevel: "advisory",
  prevents:
    "A flow that one side allows and the other drops (an outage found at deploy time), and a rule left admitting a namespace where nothing runs, waiting for whoever creates it.",
  properties: { partialInput: PARTIAL_INPUT_SCHEMA },
  // Optional: without the mesh facts only the two CNI corners are judged.
  facts: ["mesh", "meshedNamespaces"],
  check(resources, { config, facts }) {
    // Stacks: declared-connectivity judges the rendered policies against the declared intent.
    const input = plainInput(resources);
    if (!input) return [];
    const meshFacts = factIfGiven(facts, "mesh");
    // The identity layer: the input's Istio objects, judged only when the facts give the mesh.
    const istio = meshFacts
      ? resources
          .filter((r) => ISTIO_GATE_TYPES.includes(r.type))
          .map((r) => ({ object: r.props, source: input.sourceOf(r.name) }))
      : [];
    const mesh: EngineOptions["mesh"] = meshFacts
      ? {
          namespace: meshFacts.namespace,
          hbonePort: meshFacts.hbonePort,
          probeSource: meshFacts.probeSource.replace(/\/32$/, ""),
          meshedNamespaces: [...(factIfGiven(facts, "meshedNamespaces") ?? [])],
          ...(meshFacts.trustDomain !== undefined ? { trustDomain: meshFacts.trustDomain } : {}),
          ...(meshFacts.portPreserving !== undefined
            ? { portPreserving: meshFacts.portPreserving }
            : {}),
        }
      : undefined;
    try {
      return missingCornerFindings(
        [...input.objects, ...istio],
        config.partialInput === true,
        input.urnOf,
        mesh,
      );
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [
        {
          message: `cannot verify ${MISSING_CORNERS} because the policies cannot be modelled: ${error.message}`,
          fix: "fix the objects named above; the connectivity engine refuses what it cannot read",
        },
      ];
    }
  },
});
