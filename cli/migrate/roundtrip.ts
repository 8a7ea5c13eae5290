/**
 * The import's proof: plan the imported config with the real program (plan/render.ts, the path
 * `npm run plan` takes), diff the original policies against the plan on one representative
 * inventory, and give every difference a class from the import's own audit trail.
 */
import { expandConnections } from "../../components/connections";
import type { StackConfig } from "../../config/types";
import type { ClusterModel, PairChange, SourcedObject } from "../../engine";
import {
  alignInventories,
  buildModel,
  explainedDiff,
  formatConnections,
  mergeBlocks,
} from "../../engine";
import { stackEngineOptions } from "../../components/stackModel";
import { renderStack } from "../../plan/render";
import { declaredEnds, rangeNamesOf } from "../lib/facts";
import type { ImportResult } from "./infer";

export type DifferenceClass =
  | "closed (known-bad rule)"
  | "narrowed (known-bad rule)"
  | "missing corner added"
  | "pattern normalised"
  | "unexplained";

export interface ClassifiedDifference {
  readonly change: PairChange;
  readonly direction: "opened" | "closed";
  readonly connections: string;
  readonly class: DifferenceClass;
  readonly why: string;
}

export interface RoundTrip {
  readonly differences: ClassifiedDifference[];
  readonly counts: Record<DifferenceClass, number>;
  /** `apiVersion|kind|namespace|name` of every object the plan registers. */
  readonly planObjects: readonly string[];
  /** The Pulumi resource behind each of those objects: type, name and parent URN. */
  readonly planResources: ReadonlyMap<string, { type: string; name: string; parent?: string }>;
}

export function objectKey(o: Record<string, unknown>): string {
  const metadata = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return `${String(o.apiVersion)}|${String(o.kind)}|${metadata.namespace ?? ""}|${metadata.name ?? ""}`;
}

/** The universal patterns, in words, for the report. */
const PATTERN_WHY: Record<string, string> = {
  dns: "DNS: every namespace reaches the DNS pods, and the DNS pods admit exactly the declared namespaces",
  "kube-api": "kubeApi opens the ClusterIP and the control plane together",
  metrics: "metricsPorts: the monitoring namespace scrapes them (both corners)",
  "mesh-control": "meshed: egress to the mesh control plane (HBONE, istiod)",
  "mesh-ztunnel": "meshed: ztunnel reaches the namespace on HBONE and its ports",
  "mesh-probe":
    "meshed: kubelet probes arrive from the ztunnel probe source (Istio ambient), which the original did not admit, so its probes would fail",
  "intra-namespace": "intraNamespace: both corners inside the namespace",
  webhook: "webhookPorts: the control plane calls the webhook",
  "internet-egress": "externalEgress: the internet minus every private range",
  "lan-egress": "lanEgress to a named host",
  flow: "a declared flow",
};

function classifyClosed(
  change: PairChange,
  result: ImportResult,
  planAuthorizes: boolean,
): [DifferenceClass, string] {
  const rules = change.closed?.rules ?? [];
  for (const rule of rules) {
    const at = `${rule.source ?? ""} ${rule.path}`;
    const finding = result.findings.find(
      (f) =>
        (f.location === at || f.location.startsWith(`${at}.`)) &&
        (f.action === "narrowed" || f.action === "dropped" || f.action === "normalised"),
    );
    if (finding?.action === "normalised")
      return ["pattern normalised", `${finding.location}: ${finding.problem}; ${finding.detail}`];
    if (finding)
      return [
        change.type === "closed" ? "closed (known-bad rule)" : "narrowed (known-bad rule)",
        `${finding.location}: ${finding.problem}; ${finding.action} ${finding.detail}`,
      ];
  }
  if (planAuthorizes && change.closed?.because.includes("(HBONE"))
    // The original's L4 rules let every TCP port through on HBONE (no ztunnel authorization);
    // the plan's identity layer admits only the declared ports at the meshed destination.
    return [
      change.type === "closed" ? "closed (known-bad rule)" : "narrowed (known-bad rule)",
      `between two meshed namespaces the original let every TCP port through on HBONE (its L4 rules cannot tell ports apart, and it has no AuthorizationPolicy); the imported stack's ztunnel authorization admits the declared ports only`,
    ];
  return ["unexplained", `allowed by ${change.closed?.because || "?"} and not by the plan`];
}

function classifyOpened(
  change: PairChange,
  result: ImportResult,
  kinds: ReadonlyMap<string, string>,
): [DifferenceClass, string] {
  const half = result.halfCorners.get(`${change.from}\u0000${change.to}`);
  if (half) return ["missing corner added", `${half}: the input had one corner only`];
  const patterns = change.declared
    .map((name) => kinds.get(name) ?? "flow")
    .filter((k) => k !== "flow");
  const hbone = change.opened?.because.includes("(HBONE")
    ? "; between two meshed pods TCP rides on HBONE, so L4 policy cannot tell their ports apart"
    : "";
  if (patterns.length > 0)
    return [
      "pattern normalised",
      [...new Set(patterns)].map((k) => PATTERN_WHY[k] ?? k).join("; ") + hbone,
    ];
  if (change.opened?.because.includes("(HBONE"))
    return [
      "pattern normalised",
      "HBONE between two meshed namespaces: L4 policy cannot tell their TCP ports apart",
    ];
  return ["unexplained", `allowed by ${change.opened?.because || "?"}`];
}

export async function roundTrip(
  original: readonly SourcedObject[],
  result: ImportResult,
  stack: string,
  stackDir: string,
): Promise<RoundTrip & { config: StackConfig }> {
  const rendered = await renderStack(stack, stackDir);
  const config = rendered.config;
  const options = {
    ...stackEngineOptions(config),
    representativePods: false,
    unsupportedProtocols: "drop" as const,
  };
  const namespaces = [...new Set([...config.namespaces.map((n) => n.name)])];
  const models: ClusterModel[] = alignInventories(
    [buildModel(original, options), buildModel(rendered.manifests, options)],
    namespaces,
  );
  // One line per namespace pair and named range (blocks of one range that changed alike merge).
  const changes = mergeBlocks(
    explainedDiff(models[0], models[1], {
      rangeNames: rangeNamesOf(config),
      declared: declaredEnds(config),
    }),
  );
  const kinds = new Map(expandConnections(config).map((c) => [c.name, c.kind]));
  const planAuthorizes = (models[1].authorizationPolicies ?? []).length > 0;
  const differences: ClassifiedDifference[] = [];
  for (const change of changes) {
    if (change.closed) {
      const [cls, why] = classifyClosed(change, result, planAuthorizes);
      differences.push({
        change,
        direction: "closed",
        connections: formatConnections(change.closed.connections),
        class: cls,
        why,
      });
    }
    if (change.opened) {
      const [cls, why] = classifyOpened(change, result, kinds);
      differences.push({
        change,
        direction: "opened",
        connections: formatConnections(change.opened.connections),
        class: cls,
        why,
      });
    }
  }
  const counts = {
    "closed (known-bad rule)": 0,
    "narrowed (known-bad rule)": 0,
    "missing corner added": 0,
    "pattern normalised": 0,
    unexplained: 0,
  } as Record<DifferenceClass, number>;
  for (const d of differences) counts[d.class]++;
  const planResources = new Map(
    rendered.resources
      .filter((r) => r.custom && typeof r.props.kind === "string")
      .map((r) => [objectKey(r.props), { type: r.type, name: r.name, parent: r.parent }]),
  );
  return {
    differences,
    counts,
    planObjects: rendered.manifests.map(objectKey),
    planResources,
    config,
  };
}
