/**
 * explainFlow: one flow, both corners, the deciding policy and rule, and a config suggestion.
 */
import { makeNamespace, makePod } from "../model/build";
import type { ModelProtocol } from "../model/connections";
import { parseIpv4, formatIpv4 } from "../model/ipv4";
import type { Labels } from "../model/label-selector";
import { formatRef } from "../model/problems";
import type { ClusterModel, Direction, Endpoint, EndpointMatcher, PodInfo } from "../model/types";
import type { CornerDecision } from "../evaluate/evaluator";
import type { Evaluator } from "../evaluate/evaluator";
import {
  describeEndpoint,
  isHbonePair,
  matcherMatches,
  sharedEvaluator,
} from "../evaluate/evaluator";
import { allowsConnection } from "../model/connections";
import { podsIn, podWithIp } from "../model/lookup";
import type { ZtunnelDecision } from "../evaluate/ztunnel";
import { ztunnelLine } from "./ztunnel-explain";

/** One end of a queried flow. */
export type QueryEndpoint =
  /** Pods of a namespace, optionally narrowed by labels (all must match) and service account. */
  | { readonly namespace: string; readonly podLabels?: Labels; readonly serviceAccount?: string }
  /** An address outside the pod network (or any IPv4 address). */
  | { readonly ip: string }
  /** The kubelet on the destination pod's own node (health probes). Source only. */
  | { readonly kubelet: true };

export interface FlowQuery {
  readonly from: QueryEndpoint;
  readonly to: QueryEndpoint;
  readonly port: number;
  /** Defaults to TCP. */
  readonly protocol?: ModelProtocol;
}

export interface PairExplanation {
  readonly source: string;
  readonly destination: string;
  readonly allowed: boolean;
  /** Port the CNI actually sees (the HBONE port for meshed-to-meshed TCP). */
  readonly evaluatedPort: number;
  readonly viaHbone: boolean;
  readonly egress: CornerDecision;
  readonly ingress: CornerDecision;
  /** Gate 3, ztunnel authorization at a meshed destination (TCP); absent when it does not apply. */
  readonly ztunnel?: ZtunnelDecision;
  /** Sentences explaining the corners, in reading order. */
  readonly lines: readonly string[];
}

export interface FlowExplanation {
  readonly query: FlowQuery;
  readonly verdict: "allowed" | "denied";
  readonly pairs: readonly PairExplanation[];
  /** `zt-netpol:flows` YAML snippet that would open the flow, when denied. */
  readonly suggestion?: string;
  /** The whole explanation as text. */
  readonly text: string;
}

/**
 * Egress rules of the source that allow the port towards Calico Enterprise `domains`: the
 * addresses behind those names come from DNS at run time, so no verdict on an address counts
 * them; explain says so instead of staying silent.
 */
function domainRuleLines(
  evaluator: Evaluator,
  source: Endpoint,
  destination: Endpoint,
  protocol: ModelProtocol,
  port: number,
): string[] {
  if (source.kind !== "pod" || destination.kind !== "external") return [];
  const lines: string[] = [];
  for (const policy of evaluator.applicablePolicies(source.pod, "egress"))
    for (const rule of policy.egress) {
      if (rule.action !== "Allow" || rule.destinations === "any") continue;
      const domains = rule.destinations.flatMap((m) => m.domains ?? []);
      if (domains.length === 0 || matcherMatches(rule.sources, source) === undefined) continue;
      if (!allowsConnection(rule.connections(destination), protocol, port)) continue;
      lines.push(
        `${formatRef(policy.ref)} ${rule.path} allows ${rule.portsDescription} to domains ${domains.join(", ")} (Calico Enterprise): which addresses those names have is learned from DNS at run time, outside static analysis, so this verdict does not count the rule; if ${describeEndpoint(destination).replace(/^external /, "")} is an address of one of them, the flow may be allowed.`,
      );
    }
  return lines;
}

/** A corner no policy can decide (own node, traffic to itself): always allowed. */
function notEvaluated(direction: CornerDecision["direction"], local: string): CornerDecision {
  return {
    direction,
    local,
    evaluated: false,
    isolated: false,
    allowed: true,
    selectingPolicies: [],
    logged: [],
    passed: [],
  };
}

const HYPOTHETICAL_ID_BASE = -1_000_000;
let hypotheticalCounter = 0;

function labelsMatch(pod: PodInfo, wanted: Labels | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => pod.labels[k] === v);
}

function resolveEndpoints(model: ClusterModel, q: QueryEndpoint, notes: string[]): Endpoint[] {
  if ("ip" in q) {
    const ip = parseIpv4(q.ip.replace(/\/32$/, ""));
    if (ip === undefined) throw new Error(`invalid IPv4 address ${q.ip}`);
    // An address that belongs to a known pod is that pod.
    const pod = podWithIp(model, ip);
    if (pod) return [{ kind: "pod", pod }];
    const sets = (model.networkSets ?? []).filter((set) =>
      set.nets.some((r) => r.lo <= ip && ip <= r.hi),
    );
    const name =
      sets.length > 0 ? `in ${sets.map((set) => set.label.replace(/ \(.*$/, "")).join(", ")}` : "";
    return [{ kind: "external", range: { lo: ip, hi: ip }, ...(name ? { name } : {}) }];
  }
  if ("kubelet" in q) throw new Error("kubelet can only be a source");
  const pods = podsIn(model, q.namespace).filter(
    (p) =>
      labelsMatch(p, q.podLabels) &&
      (q.serviceAccount === undefined || p.serviceAccount === q.serviceAccount),
  );
  if (pods.length > 0) return pods.map((pod) => ({ kind: "pod", pod }));
  const namespace =
    model.namespaces.get(q.namespace) ?? makeNamespace(q.namespace, {}, false, model.options);
  const labels = q.podLabels ?? {};
  notes.push(
    `No pod in ${q.namespace} matches {${Object.entries(labels)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ")}}; ` + "a hypothetical pod with exactly those labels was evaluated.",
  );
  hypotheticalCounter++;
  const id = HYPOTHETICAL_ID_BASE - hypotheticalCounter;
  const pod = makePod(
    id,
    {
      namespace: q.namespace,
      name: `(pod ${
        Object.entries(labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(",") || "any"
      })`,
      labels,
      namedPorts: [],
      owner: { kind: "Pod", name: "hypothetical" },
      serviceAccount: q.serviceAccount,
    },
    namespace,
    // An address outside every range used for real pods: the top of the pod CIDR.
    model.options.podCidr.hi - (hypotheticalCounter % 1000),
    true,
    model.options,
    true,
  );
  return [{ kind: "pod", pod }];
}

function describePeer(peer: EndpointMatcher | "any"): string {
  return peer === "any" ? "any peer" : peer.description;
}

function ipSwitchNote(
  model: ClusterModel,
  decision: CornerDecision,
  remote: Endpoint,
): string | undefined {
  const setting = `ipBlockMatchesPods=${model.options.ipBlockMatchesPods}`;
  if (
    decision.decidedBy &&
    decision.decidedBy.peer !== "any" &&
    decision.decidedBy.peer.byIp &&
    remote.kind === "pod"
  )
    return `the IP rule matched pod IP ${formatIpv4(remote.pod.ip)}${remote.pod.ipSynthesised ? " (synthesised)" : ""} because ${setting}`;
  if (decision.allowed || remote.kind !== "pod" || model.options.ipBlockMatchesPods)
    return undefined;
  // Denied, remote is a pod, and IP rules do not see pods: would one of them have matched?
  const asAddress = { lo: remote.pod.ip, hi: remote.pod.ip };
  for (const ref of decision.selectingPolicies) {
    const policy = model.policies.find((p) => p.ref === ref);
    for (const rule of policy?.[decision.direction] ?? []) {
      const remoteSide = decision.direction === "egress" ? rule.destinations : rule.sources;
      if (remoteSide === "any") continue;
      const hit = remoteSide.find((m) => m.byIp && m.matchExternal(asAddress));
      if (hit)
        return `${hit.description} (${rule.path}) contains the pod IP ${formatIpv4(remote.pod.ip)} but does not match pods because ${setting}`;
    }
  }
  return undefined;
}

function cornerLine(
  model: ClusterModel,
  d: CornerDecision,
  remote: Endpoint,
  protocol: ModelProtocol,
  port: number,
): string {
  const what = d.direction === "egress" ? "Egress at the source" : "Ingress at the destination";
  const proto = protocol === "ICMP" ? "ICMP" : `${protocol} ${port}`;
  let line: string;
  if (!d.evaluated) line = `${what} (${d.local}): outside the cluster, no policy applies.`;
  else if (!d.isolated)
    line = `${what} (${d.local}): not isolated (no policy selects it for ${d.direction === "egress" ? "Egress" : "Ingress"}), so ${proto} is allowed.`;
  else {
    // Tiers are named once the input has more than the default tier.
    const tiered = model.tiers.size > 1 || (d.tier !== undefined && d.tier !== "default");
    const inTier = (tier: string | undefined): string =>
      tiered && tier !== undefined ? `, tier ${tier}` : "";
    const passes = d.passed
      .filter((p) => p.tier !== d.tier)
      .map((p) =>
        p.by
          ? `tier ${p.tier} passed it (${formatRef(p.by.policy.ref)} ${p.by.rule.path})`
          : `tier ${p.tier} passed it (no rule matched; its defaultAction is Pass)`,
      );
    const before = passes.length > 0 ? `${passes.join("; ")}; then ` : "";
    // The policies of the deciding tier (the others passed it on, as said above).
    const inDecidingTier = d.selectingPolicies.filter(
      (ref) => model.policies.find((p) => p.ref === ref)?.tier === d.tier,
    );
    const selecting = (tiered ? inDecidingTier : d.selectingPolicies).map(formatRef).join(", ");
    const towards = `${proto} ${d.direction === "egress" ? "to" : "from"} ${describeEndpoint(remote)}`;
    if (d.decidedBy) {
      const rule = d.decidedBy.rule;
      const verb = d.decidedBy.action === "Deny" ? "denied" : "allowed";
      line =
        `${what} (${d.local}): ${before}${verb} by ${formatRef(d.decidedBy.policy.ref)} ${d.direction} rule #${rule.index + 1} ` +
        `(${rule.path}, action ${d.decidedBy.action}${inTier(d.tier)}) - peer: ${describePeer(d.decidedBy.peer)}; ports: ${rule.portsDescription}.`;
      if (d.decidedBy.action === "Pass")
        line += ` Pass leaves tier ${d.tier}; no later tier applies, so the Kubernetes namespace profile allows it.`;
    } else if (d.endOfTier?.action === "Pass") {
      line =
        `${what} (${d.local}): ${before}allowed - no rule of tier ${d.tier} (${selecting}) matches ${towards}; ` +
        `its defaultAction Pass passes it and no later tier applies, so the Kubernetes namespace profile allows it.`;
    } else if (tiered) {
      line =
        `${what} (${d.local}): ${before}denied at the end of tier ${d.tier} - selected by ${selecting}, ` +
        `but no rule of the tier matches ${towards} (the tier's defaultAction is Deny).`;
    } else {
      line =
        `${what} (${d.local}): denied - selected by ${d.selectingPolicies.map(formatRef).join(", ")}, ` +
        `but no rule matches ${towards} (default deny once isolated).`;
    }
  }
  for (const log of d.logged) line += ` (Logged by ${formatRef(log.policy.ref)} ${log.rule.path}.)`;
  const note = ipSwitchNote(model, d, remote);
  if (note) line += ` Note: ${note}.`;
  return line;
}

function yamlLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0
    ? ""
    : `, podLabels: {${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(", ")}}`;
}

function yamlEndpoint(q: QueryEndpoint, model: ClusterModel): string {
  if ("ip" in q) return `{cidr: ${q.ip.includes("/") ? q.ip : `${q.ip}/32`}}`;
  if ("kubelet" in q) return `{cidr: ${model.options.mesh?.probeSource ?? "NODE-IP"}/32}`;
  return `{namespace: ${q.namespace}${yamlLabels(q.podLabels)}}`;
}

function endpointSlug(q: QueryEndpoint): string {
  if ("ip" in q) return q.ip.replace(/[./]/g, "-");
  if ("kubelet" in q) return "kubelet";
  const label = Object.values(q.podLabels ?? {})[0];
  return label ? `${q.namespace}-${label}` : q.namespace;
}

/** The `zt-netpol:flows` entry (FlowConfig, config/types.ts) that would declare this flow. */
export function suggestFlowYaml(query: FlowQuery, model: ClusterModel, reason: string): string {
  const protocol = query.protocol ?? "TCP";
  if (protocol === "ICMP")
    return "# ICMP cannot be declared as a flow (Kubernetes policies carry no ICMP);\n# add a calicoPolicies entry with protocol: ICMP to the source namespace instead.\n";
  const name =
    `${endpointSlug(query.from)}-to-${endpointSlug(query.to)}-${query.port}`.toLowerCase();
  return [
    `- name: ${name}`,
    `  from: ${yamlEndpoint(query.from, model)}`,
    `  to: ${yamlEndpoint(query.to, model)}`,
    `  ports: [{port: ${query.port}, protocol: ${protocol}}]`,
    `  reason: ${JSON.stringify(reason)}`,
    "",
  ].join("\n");
}

const MAX_PAIRS = 50;

export function explainFlow(
  model: ClusterModel,
  query: FlowQuery,
  evaluator = sharedEvaluator(model),
): FlowExplanation {
  const protocol: ModelProtocol = query.protocol ?? "TCP";
  if (
    protocol !== "ICMP" &&
    (!Number.isInteger(query.port) || query.port < 1 || query.port > 65535)
  )
    throw new Error(`invalid port ${query.port}`);
  const notes: string[] = [];
  const destinations = resolveEndpoints(model, query.to, notes);
  const fromKubelet = "kubelet" in query.from;
  const sources = fromKubelet ? [] : resolveEndpoints(model, query.from, notes);
  const pairs: PairExplanation[] = [];
  const mesh = model.options.mesh;

  for (const destination of destinations) {
    let pairSources: Endpoint[] = sources;
    if (fromKubelet) {
      if (destination.kind !== "pod") throw new Error("kubelet probes target pods");
      if (!destination.pod.meshed) {
        const local = describeEndpoint(destination);
        const allowAll = notEvaluated("ingress", local);
        pairs.push({
          source: "kubelet (own node)",
          destination: local,
          allowed: true,
          evaluatedPort: query.port,
          viaHbone: false,
          egress: { ...allowAll, direction: "egress", local: "kubelet" },
          ingress: allowAll,
          lines: [
            `Traffic from the pod's own node (kubelet) is always allowed by Kubernetes/Calico policy semantics.`,
          ],
        });
        continue;
      }
      // Ambient SNATs probes to a link-local address, so they no longer count as "own node".
      pairSources = [
        {
          kind: "external",
          range: { lo: model.options.meshProbeSource!, hi: model.options.meshProbeSource! },
        },
      ];
    }
    for (const source of pairSources) {
      if (pairs.length >= MAX_PAIRS) break;
      const lines: string[] = [];
      if (
        source.kind === "pod" &&
        destination.kind === "pod" &&
        source.pod.id === destination.pod.id
      ) {
        const self = notEvaluated("egress", describeEndpoint(source));
        pairs.push({
          source: describeEndpoint(source),
          destination: describeEndpoint(destination),
          allowed: true,
          evaluatedPort: query.port,
          viaHbone: false,
          egress: self,
          ingress: { ...self, direction: "ingress" },
          lines: ["Traffic of a pod to itself is always allowed."],
        });
        continue;
      }
      const hbone = protocol === "TCP" && isHbonePair(model, source, destination);
      const port = hbone ? mesh!.hbonePort : query.port;
      if (hbone)
        lines.push(
          `Both pods are in the ambient mesh: TCP travels through the HBONE tunnel, so the CNI sees destination port ${port} ` +
            `with the real source IP. Both corners are evaluated on TCP ${port}; the application port ${query.port} is invisible to L4 policy at the CNI and is judged by ztunnel at the destination.`,
        );
      else if (
        mesh?.portPreserving &&
        protocol === "TCP" &&
        source.kind === "pod" &&
        destination.kind === "pod" &&
        source.pod.meshed &&
        destination.pod.meshed
      )
        lines.push(
          `Both pods are in the ambient mesh and the cluster's ztunnel keeps the original destination port (mesh.portPreserving): the CNI sees TCP ${query.port}.`,
        );
      else if (
        mesh &&
        protocol !== "TCP" &&
        source.kind === "pod" &&
        destination.kind === "pod" &&
        source.pod.meshed &&
        destination.pod.meshed
      )
        lines.push(
          `${protocol} is not captured by ztunnel, so it is evaluated on its own port ${query.port}.`,
        );
      else if (
        mesh &&
        destination.kind === "pod" &&
        destination.pod.meshed &&
        source.kind === "pod" &&
        !source.pod.meshed
      )
        lines.push(
          `The source is not meshed: the traffic reaches the meshed destination in plain text on port ${query.port}.`,
        );
      if (fromKubelet)
        lines.push(
          `Kubelet probes to a meshed pod arrive from ${mesh!.probeSource} (SNAT by istio-cni), not from the node, so they need an explicit ingress allow.`,
        );
      const egress = fromKubelet
        ? ({
            direction: "egress",
            local: "kubelet",
            evaluated: false,
            isolated: false,
            allowed: true,
            selectingPolicies: [],
            logged: [],
            passed: [],
          } as CornerDecision)
        : evaluator.cornerDecision("egress", source, destination, protocol, port);
      const ingress = evaluator.cornerDecision("ingress", source, destination, protocol, port);
      lines.push(cornerLine(model, egress, destination, protocol, port));
      if (!fromKubelet && !egress.allowed)
        lines.push(...domainRuleLines(evaluator, source, destination, protocol, port));
      lines.push(cornerLine(model, ingress, source, protocol, port));
      const gate =
        protocol === "TCP" && evaluator.ztunnel.applies(source, destination)
          ? evaluator.ztunnel.decide(source, destination.pod, query.port)
          : undefined;
      const gateLine = ztunnelLine(
        evaluator.ztunnel,
        source,
        destination,
        protocol,
        query.port,
        gate,
      );
      if (gateLine) lines.push(gateLine);
      pairs.push({
        source: fromKubelet ? `kubelet via ${mesh!.probeSource}` : describeEndpoint(source),
        destination: describeEndpoint(destination),
        allowed: egress.allowed && ingress.allowed && (gate?.allowed ?? true),
        ztunnel: gate,
        evaluatedPort: port,
        viaHbone: hbone,
        egress,
        ingress,
        lines,
      });
    }
  }

  const allowedCount = pairs.filter((p) => p.allowed).length;
  const verdict = allowedCount === pairs.length && pairs.length > 0 ? "allowed" : "denied";
  const proto = protocol === "ICMP" ? "ICMP" : `${protocol} ${query.port}`;
  const describeQuery = (q: QueryEndpoint): string =>
    "ip" in q
      ? q.ip
      : "kubelet" in q
        ? "kubelet"
        : `${q.namespace}${
            Object.keys(q.podLabels ?? {}).length
              ? ` {${Object.entries(q.podLabels ?? {})
                  .map(([k, v]) => `${k}=${v}`)
                  .join(",")}}`
              : ""
          }`;
  const header =
    verdict === "allowed"
      ? `Verdict: allowed - ${describeQuery(query.from)} -> ${describeQuery(query.to)} on ${proto}.`
      : allowedCount > 0
        ? `Verdict: denied for ${pairs.length - allowedCount} of ${pairs.length} pod pairs - ${describeQuery(query.from)} -> ${describeQuery(query.to)} on ${proto}.`
        : `Verdict: denied - ${describeQuery(query.from)} -> ${describeQuery(query.to)} on ${proto}.`;
  const out: string[] = [header, ...notes.map((n) => `Note: ${n}`)];
  for (const pair of pairs) {
    out.push("", `${pair.source} -> ${pair.destination}: ${pair.allowed ? "allowed" : "denied"}`);
    for (const line of pair.lines) out.push(`  - ${line}`);
  }
  let suggestion: string | undefined;
  if (verdict === "denied") {
    const denied = pairs.find((p) => !p.allowed);
    const blocked = denied
      ? [
          denied.egress.allowed ? undefined : "egress",
          denied.ingress.allowed ? undefined : "ingress",
          denied.ztunnel === undefined || denied.ztunnel.allowed
            ? undefined
            : "ztunnel authorization",
        ]
          .filter(Boolean)
          .join(" and ")
      : "";
    suggestion = suggestFlowYaml(
      query,
      model,
      `TODO: why ${describeQuery(query.from)} needs ${proto} to ${describeQuery(query.to)} (was denied at ${blocked})`,
    );
    out.push("", "Suggested stack config (zt-netpol:flows):", suggestion);
  }
  return { query, verdict, pairs, suggestion, text: out.join("\n") + "\n" };
}

export type { Direction };
