/**
 * The connectivity engine over a rendered stack: its manifests plus a representative inventory.
 * Shared by the offline runner (plan/) and the pack's intent check, which must not import plan/.
 */
import type { Connection } from "./connections";
import type { StackConfig } from "../config/types";
import { buildModel, type ClusterModel, type EngineOptions } from "../engine";
import { stackInventory } from "./inventory";

/** Engine settings that follow the stack: Calico's ipBlock semantics and the ambient mesh. */
export function stackEngineOptions(config: StackConfig): EngineOptions {
  const mesh = config.cluster.mesh;
  return {
    ipBlockMatchesPods: true,
    ...(mesh
      ? {
          mesh: {
            namespace: mesh.namespace,
            hbonePort: mesh.hbonePort,
            probeSource: mesh.probeSource.replace(/\/32$/, ""),
            meshedNamespaces: config.namespaces.filter((n) => n.meshed).map((n) => n.name),
            trustDomain: mesh.trustDomain,
            portPreserving: mesh.portPreserving,
          },
        }
      : {}),
  };
}

export function buildStackModel(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
  connections: readonly Connection[],
): ClusterModel {
  return buildModel(
    [...stackInventory(config, connections), ...manifests],
    stackEngineOptions(config),
  );
}
