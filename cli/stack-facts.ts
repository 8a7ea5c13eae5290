/**
 * Cluster facts of a stack for the CLIs that read plain YAML (diff, import): the engine's mesh
 * settings, names for the address ranges the cluster knows, and the declared connections.
 * Only the stack file is read (no program run), so this works without the Pulumi SDK.
 */
import { expandConnections } from "../components/connections";
import { loadStackConfig, PROJECT_ROOT } from "../config/load";
import type { StackConfig } from "../config/types";
import type { DeclaredEnd, EngineOptions, RangeName } from "../engine";
import { stackEngineOptions } from "../plan/connectivity";

export interface StackFacts {
  readonly config: StackConfig;
  readonly engineOptions: EngineOptions;
  readonly rangeNames: readonly RangeName[];
  readonly declared: readonly DeclaredEnd[];
  /** Every namespace the stack names: protected ones, DNS and mesh. */
  readonly namespaces: readonly string[];
}

/** The names a report uses for external ranges: LAN hosts, API, control plane, private ranges. */
export function rangeNamesOf(config: StackConfig): RangeName[] {
  const { cluster } = config;
  const names: RangeName[] = Object.entries(cluster.lanHosts).map(([name, address]) => ({
    name,
    cidr: address.includes("/") ? address : `${address}/32`,
  }));
  names.push({ name: "kube-api", cidr: `${cluster.apiServer.clusterIP}/32` });
  names.push({ name: "control-plane", cidr: cluster.controlPlane.cidr });
  if (cluster.mesh) names.push({ name: "ztunnel-probe", cidr: cluster.mesh.probeSource });
  for (const cidr of cluster.privateRanges) names.push({ name: `private`, cidr });
  return names;
}

function endName(end: StackConfig["flows"][number]["from"], names: readonly RangeName[]): string {
  if (end.kind === "workload") return end.namespace;
  const named = names.find((n) => n.cidr === end.cidr)?.name;
  if (named !== undefined) return named;
  if (end.host !== undefined) return end.host;
  return end.cidr === "0.0.0.0/0" ? "internet" : end.cidr;
}

/** Each declared connection with its ends named the way the explained diff names them. */
export function declaredEnds(config: StackConfig): DeclaredEnd[] {
  const rangeNames = rangeNamesOf(config);
  return expandConnections(config).map((c) => ({
    name: c.name,
    from: endName(c.from, rangeNames),
    to: endName(c.to, rangeNames),
  }));
}

export function stackFacts(stack: string, rootDir = PROJECT_ROOT): StackFacts {
  const config = loadStackConfig(stack, rootDir);
  const rangeNames = rangeNamesOf(config);
  const declared = declaredEnds(config);
  const namespaces = new Set(config.namespaces.map((n) => n.name));
  namespaces.add(config.cluster.dns.namespace);
  if (config.cluster.mesh) namespaces.add(config.cluster.mesh.namespace);
  return {
    config,
    engineOptions: { ...stackEngineOptions(config), extraNamespaces: [...namespaces] },
    rangeNames,
    declared,
    namespaces: [...namespaces].sort(),
  };
}
