/** Pure rendering of a stack's manifests (the builders the components call), for fast properties. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNamespaceAuthorization } from "../../components/authorization";
import { renderCalicoPolicy } from "../../components/calico";
import { expandConnections } from "../../components/connections";
import { renderNamespacePolicies } from "../../components/rules";
import { loadStackConfig, PROJECT_ROOT } from "../../config/load";
import type { StackConfig } from "../../config/types";
import { contextFromManifests } from "../../observe/context";
import type { ObserveContext } from "../../observe/judge";
import { addFlowsToText, type ProposedFlow } from "../../observe/learn";

export const HOMELAB_TEXT = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8");

export function pureManifests(config: StackConfig): Record<string, unknown>[] {
  const connections = expandConnections(config);
  return config.namespaces.flatMap((ns) => [
    ...(renderNamespacePolicies(ns.name, connections, config.cluster) as unknown as Record<
      string,
      unknown
    >[]),
    ...(ns.calicoPolicies.map((p) => renderCalicoPolicy(ns.name, p)) as unknown as Record<
      string,
      unknown
    >[]),
    ...authorizationManifests(config, ns.name, ns.meshed, connections),
  ]);
}

/** What a meshed namespace gets for ztunnel (components/clusterProtection.ts's condition). */
function authorizationManifests(
  config: StackConfig,
  namespace: string,
  meshed: boolean | undefined,
  connections: ReturnType<typeof expandConnections>,
): Record<string, unknown>[] {
  if (!meshed || !config.cluster.mesh) return [];
  const { policies, peerAuthentication } = renderNamespaceAuthorization(
    config,
    namespace,
    connections,
  );
  return [...policies, peerAuthentication] as unknown as Record<string, unknown>[];
}

/** A stack file's text as a validated config (through a temporary stack directory). */
export function configFromText(text: string): StackConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-observe-"));
  fs.writeFileSync(path.join(dir, "Pulumi.homelab.yaml"), text);
  return loadStackConfig("homelab", dir);
}

export function contextFromText(text: string): ObserveContext {
  const config = configFromText(text);
  return contextFromManifests(config, pureManifests(config));
}

export function applyFlows(text: string, flows: readonly ProposedFlow[]): string {
  return addFlowsToText(text, flows);
}
