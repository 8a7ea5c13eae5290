/**
 * Observed-but-denied flows → proposed config. Ends are folded to the workload (one identifying
 * label: app.kubernetes.io/name, app or k8s-app, never pod-template-hash or other per-pod labels)
 * or, without one, to the namespace. DNS, the API, scrapes and the mesh are never written as
 * flows: they come from the universal patterns (kubeApi, metricsPorts, meshed, declaring the
 * namespace), so a learned config cannot carry a DNS rule that misses the DNS pods.
 */
import { Document, isMap, isSeq, parseDocument } from "yaml";
import type { StackConfig } from "../config/types";
import { ConfigError } from "../config/validate";
import { describeEnd, type FlowGroup, type Judgement } from "./judge";
import type { FlowProtocol, ObservedEnd } from "./flows";

/** Label keys that name a workload, in order of preference. */
export const WORKLOAD_LABEL_KEYS = ["app.kubernetes.io/name", "app", "k8s-app"] as const;

export type LearnedEnd =
  | string
  | { namespace: string; podLabels: Record<string, string> }
  | { cidr: string }
  | { host: string };

export interface ProposedFlow {
  readonly name: string;
  readonly from: LearnedEnd;
  readonly to: LearnedEnd;
  readonly ports: string[];
  readonly reason: string;
}

/** A denied flow that belongs to a universal pattern, with the config change that opens it. */
export interface PatternAdvice {
  readonly flow: string;
  readonly advice: string;
}

export interface LearnPlan {
  readonly flows: readonly ProposedFlow[];
  readonly advice: readonly PatternAdvice[];
  /** Denied flows nothing can be learned from (ICMP, unplaceable ends). */
  readonly skipped: readonly PatternAdvice[];
}

function foldEnd(end: ObservedEnd, config: StackConfig): LearnedEnd | undefined {
  if (end.kind === "public") return "internet";
  if (end.kind === "external") {
    // A named LAN host reads better and follows the host if its address changes.
    const host = Object.entries(config.cluster.lanHosts).find(
      ([, address]) => (address.includes("/") ? address : `${address}/32`) === end.cidr,
    );
    return host ? { host: host[0] } : { cidr: end.cidr };
  }
  if (end.kind !== "workload") return undefined;
  const key = WORKLOAD_LABEL_KEYS.find((k) => end.labels[k] !== undefined);
  return key ? { namespace: end.namespace, podLabels: { [key]: end.labels[key] } } : end.namespace;
}

function slug(end: LearnedEnd): string {
  if (typeof end === "string") return end;
  if ("host" in end) return end.host;
  if ("cidr" in end) return end.cidr.replace(/\/32$/, "").replace(/[./]/g, "-");
  const value = Object.values(end.podLabels)[0];
  return value ? `${end.namespace}-${value}` : end.namespace;
}

function flowName(from: LearnedEnd, to: LearnedEnd, taken: Set<string>): string {
  const base = `learned-${slug(from)}-to-${slug(to)}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, 60)
    .replace(/-$/, "");
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 57)}-${i}`;
  taken.add(name);
  return name;
}

function portText(protocol: FlowProtocol, port: number): string {
  return protocol === "TCP" ? String(port) : `${port}/${protocol}`;
}

function isDnsFlow(group: FlowGroup, config: StackConfig): boolean {
  const dns = config.cluster.dns;
  return (
    group.destination.kind === "workload" &&
    group.destination.namespace === dns.namespace &&
    group.port === dns.port &&
    (group.protocol === "UDP" || group.protocol === "TCP")
  );
}

function isApiFlow(group: FlowGroup, config: StackConfig): boolean {
  if (group.destination.kind !== "external" || group.protocol !== "TCP") return false;
  const { apiServer, controlPlane } = config.cluster;
  return (
    (group.destination.cidr === `${apiServer.clusterIP}/32` && group.port === apiServer.port) ||
    group.port === controlPlane.port
  );
}

/** The universal pattern a denied flow belongs to, as advice, or undefined for a plain flow. */
function patternAdvice(group: FlowGroup, config: StackConfig): string | undefined {
  const src = group.source.kind === "workload" ? group.source.namespace : undefined;
  const declared = (ns: string | undefined) => config.namespaces.some((n) => n.name === ns);
  const mesh = config.cluster.mesh;
  if (isDnsFlow(group, config))
    return declared(src)
      ? `DNS from ${src} is a universal pattern and should already be allowed: check cluster.dns.podLabels against the DNS pods' labels`
      : `declare namespace ${src} under zt-netpol:namespaces: DNS comes with it (the DNS pattern selects the DNS pods)`;
  if (isApiFlow(group, config))
    return `set kubeApi: true on namespace ${src} (the API ClusterIP and the control plane come together)`;
  if (src === config.cluster.monitoringNamespace && group.destination.kind === "workload")
    return `add ${portText(group.protocol, group.port)} to metricsPorts of namespace ${group.destination.namespace} (Prometheus scrapes come from the metrics pattern)`;
  if (
    mesh &&
    group.destination.kind === "workload" &&
    group.destination.namespace === mesh.namespace
  )
    return `set meshed: true on namespace ${src} if it is enrolled in the ambient mesh (istiod and ztunnel come from the mesh pattern)`;
  return undefined;
}

function reasonFor(groups: readonly FlowGroup[], file: string): string {
  const count = groups.reduce((n, g) => n + g.count, 0);
  const times = groups
    .flatMap((g) => [g.first, g.last])
    .filter((t): t is string => !!t)
    .sort();
  const span = times.length > 0 ? `${times[0]}..${times[times.length - 1]}` : "no timestamps";
  return `observed ${count} times, ${span}, from ${file}`;
}

/** What learn would add for the denied flows of one judged log. */
export function planLearning(
  judgements: readonly Judgement[],
  config: StackConfig,
  file: string,
): LearnPlan {
  const advice: PatternAdvice[] = [];
  const skipped: PatternAdvice[] = [];
  const folded = new Map<
    string,
    { from: LearnedEnd; to: LearnedEnd; ports: Set<string>; groups: FlowGroup[] }
  >();
  for (const j of judgements) {
    if (j.verdict !== "denied") continue;
    const g = j.group;
    const pattern = patternAdvice(g, config);
    if (pattern) {
      advice.push({ flow: g.key, advice: pattern });
      continue;
    }
    const undeclared = [g.source, g.destination].find(
      (end) => end.kind === "workload" && !config.namespaces.some((n) => n.name === end.namespace),
    );
    if (undeclared && undeclared.kind === "workload") {
      // A flow may only name protected namespaces; the namespace's entry is a decision to make.
      advice.push({
        flow: g.key,
        advice: `declare namespace ${undeclared.namespace} under zt-netpol:namespaces, then learn again (flows only join declared namespaces)`,
      });
      continue;
    }
    const from = foldEnd(g.source, config);
    const to = foldEnd(g.destination, config);
    if (g.protocol === "ICMP" || !from || !to) {
      skipped.push({
        flow: g.key,
        advice:
          g.protocol === "ICMP"
            ? "ICMP cannot be a flow: add a calicoPolicies entry (protocol: ICMP) by hand"
            : `${describeEnd(!from ? g.source : g.destination)} cannot be written as a flow end`,
      });
      continue;
    }
    const key = JSON.stringify([from, to]);
    const entry = folded.get(key) ?? { from, to, ports: new Set<string>(), groups: [] };
    entry.ports.add(portText(g.protocol, g.port));
    entry.groups.push(g);
    folded.set(key, entry);
  }
  const taken = new Set(config.flows.map((f) => f.name));
  const flows = [...folded.values()]
    .sort((a, b) => (JSON.stringify([a.from, a.to]) < JSON.stringify([b.from, b.to]) ? -1 : 1))
    .map((e) => ({
      name: flowName(e.from, e.to, taken),
      from: e.from,
      to: e.to,
      ports: [...e.ports].sort((a, b) => parseInt(a) - parseInt(b) || (a < b ? -1 : 1)),
      reason: reasonFor(e.groups, file),
    }));
  return { flows, advice, skipped };
}

/** Serialisation of the new entries: no folding, `[3100]` not `[ 3100 ]`. */
const ENTRY_FORMAT = { flowCollectionPadding: false, lineWidth: 0 } as const;

function column(text: string, offset: number): number {
  return offset - text.lastIndexOf("\n", offset - 1) - 1;
}

/** One flow as the lines of a block-sequence item, indented to `indent` columns. */
export function entryText(flow: ProposedFlow, indent = 0): string {
  const doc = new Document({
    name: flow.name,
    from: flow.from,
    to: flow.to,
    ports: flow.ports.map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
    reason: flow.reason,
  });
  const ports = doc.get("ports", true);
  if (isSeq(ports)) ports.flow = true;
  const pad = " ".repeat(indent);
  return doc
    .toString(ENTRY_FORMAT)
    .trimEnd()
    .split("\n")
    .map((line, i) => `${pad}${i === 0 ? "- " : "  "}${line}`)
    .join("\n");
}

/**
 * The stack file's text with the proposed flows appended to `zt-netpol:flows`. The Document API
 * only locates the list; the new entries are inserted as text after its last item, so every other
 * byte of the file (comments, folding, quoting, blank lines) stays as written.
 */
export function addFlowsToText(text: string, flows: readonly ProposedFlow[]): string {
  if (flows.length === 0) return text;
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new ConfigError([`the stack file is not valid YAML: ${doc.errors[0].message}`]);
  const config = doc.get("config", true);
  if (!isMap(config) || config.items.length === 0)
    throw new ConfigError(['the stack file has no "config:" mapping']);
  const list = config.get("zt-netpol:flows", true);
  if (list === undefined) {
    const firstKey = config.items[0].key as { range?: [number, number, number] } | undefined;
    const indent = firstKey?.range ? column(text, firstKey.range[0]) : 2;
    const body = flows.map((f) => entryText(f, indent + 2)).join("\n");
    const head = text.endsWith("\n") ? text : `${text}\n`;
    return `${head}${" ".repeat(indent)}zt-netpol:flows:\n${body}\n`;
  }
  if (!isSeq(list) || list.flow || list.items.length === 0 || !list.range)
    throw new ConfigError([
      "zt-netpol:flows must be a non-empty block list (- name: ...) for learn to extend it",
    ]);
  const first = list.items[0] as { range?: [number, number, number] };
  if (!first.range) throw new Error("internal: no source range for zt-netpol:flows[0]");
  const indent = column(text, first.range[0]) - 2;
  const insertAt = list.range[1];
  // Keep the list's own spacing: blank lines between entries if it has them.
  const second = list.items[1] as { range?: [number, number, number] } | undefined;
  const gap =
    second?.range && /\n[ \t]*\n/.test(text.slice(first.range[0], second.range[0])) ? "\n" : "";
  const body = flows.map((f) => gap + entryText(f, indent)).join("\n");
  return `${text.slice(0, insertAt).replace(/\n*$/, "")}\n${body}\n${text.slice(insertAt).replace(/^\n/, "")}`;
}
