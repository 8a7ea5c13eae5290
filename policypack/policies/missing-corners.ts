/**
 * Cross-object check for plain YAML (`npm run check`): a rule between two namespaces only works
 * when the other namespace's policies allow the other corner. An ingress rule whose source
 * namespace never allows the egress (or the other way round) is a "missing corner": the traffic
 * is dropped although one side says it is wanted. A rule naming a namespace that the input
 * neither protects nor declares (a scrape from a namespace where no Prometheus runs) is reported
 * too, unless the input is partial.
 *
 * Computed from the engine's model of the input, on its representative inventory (one pod per
 * label set the selectors name): the other corner is asked with the engine's own evaluator.
 * Stacks are judged by declared-connectivity instead, which compares with the declared intent.
 */
import type { Endpoint, ModelProtocol, PodInfo, SourcedObject } from "../../engine";
import {
  buildModel,
  connectionsToList,
  Evaluator,
  formatRef,
  ManifestError,
  peerShape,
} from "../../engine";
import { CALICO_TIER_TYPE, K8S_NAMESPACE_TYPE, manifestOf, POLICY_TYPES } from "../lib/reading";
import { type Finding, stackPolicy } from "../lib/policy";
import { CLUSTER_PROTECTION_TYPE } from "../lib/stack";
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

export function missingCornerFindings(
  objects: readonly SourcedObject[],
  partial: boolean,
  urnOf: (source: string | undefined) => string | undefined,
): Finding[] {
  const model = buildModel(objects);
  const evaluator = new Evaluator(model);
  const protectedNamespaces = new Set(
    model.policies.flatMap((p) => (p.namespace === undefined ? [] : [p.namespace])),
  );
  const findings: Finding[] = [];
  for (const policy of model.policies) {
    if (policy.namespace === undefined) continue;
    const locals = model.pods.filter((p) => policy.selects(p));
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
          for (const p of model.pods) {
            if (p.namespace === policy.namespace || !peer.matchPod(p)) continue;
            byNamespace.set(p.namespace, [...(byNamespace.get(p.namespace) ?? []), p]);
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
              if (partial || model.namespaces.get(namespace)?.declared) continue;
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
            if (missing.length === 0) continue;
            const ports = missing.map((m) =>
              m.protocol === "ICMP" ? "ICMP" : `${m.protocol} ${m.port}`,
            );
            const [from, to] =
              direction === "ingress"
                ? [namespace, policy.namespace]
                : [policy.namespace, namespace];
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

export const missingCorners = stackPolicy({
  name: MISSING_CORNERS,
  description:
    "Plain YAML: a rule between two namespaces has its other corner in the other namespace, and names only namespaces the input knows.",
  enforcementLevel: "advisory",
  prevents:
    "A flow that one side allows and the other drops (an outage found at deploy time), and a rule left admitting a namespace where nothing runs, waiting for whoever creates it.",
  properties: { partialInput: PARTIAL_INPUT_SCHEMA },
  check(resources, { config }) {
    // Stacks: declared-connectivity judges the rendered policies against the declared intent.
    if (resources.some((r) => r.type === CLUSTER_PROTECTION_TYPE)) return [];
    const policies = resources.filter((r) => POLICY_TYPES.includes(r.type));
    if (policies.length === 0) return [];
    // The Namespaces too: a namespace the input declares is known to exist; and the Tiers,
    // which order the policies.
    const read = resources.filter(
      (r) =>
        POLICY_TYPES.includes(r.type) ||
        r.type === K8S_NAMESPACE_TYPE ||
        r.type === CALICO_TIER_TYPE,
    );
    const sourceOf = (name: string): string => name.slice(name.lastIndexOf(" @ ") + 3);
    const objects = read.map((r) => ({
      object: manifestOf(r.type, r.props),
      source: sourceOf(r.name),
    }));
    const urns = new Map(policies.map((r) => [sourceOf(r.name), r.urn]));
    try {
      return missingCornerFindings(objects, config.partialInput === true, (s) =>
        s === undefined ? undefined : urns.get(s),
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
