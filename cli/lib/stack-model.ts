/** The model of a stack rendered offline, for CLIs that ask a stack instead of manifests. */
import type { ClusterModel } from "../../engine";
import { buildModel } from "../../engine";
import { type EngineFlags, engineOptionsFrom } from "./engine-options";

/**
 * Renders Pulumi.NAME.yaml offline (the manifests plus the representative pods of its
 * inventory) and builds the model with the stack's engine options; the engine flags the user set
 * (`--ipblock-matches-pods`, the mesh flags) override them.
 */
export async function renderedStackModel(
  stack: string,
  stackDir: string | undefined,
  flags: EngineFlags,
): Promise<ClusterModel> {
  // Loaded lazily: rendering a stack pulls in the Pulumi SDK, which --manifests does not need.
  const { renderStack } = await import("../../plan/render");
  const { expandConnections } = await import("../../components/connections");
  const { stackInventory } = await import("../../components/inventory");
  const { stackEngineOptions } = await import("../../components/stackModel");
  const { PROJECT_ROOT } = await import("../../config/load");
  const result = await renderStack(stack, stackDir ?? PROJECT_ROOT);
  const connections = expandConnections(result.config);
  const { options: given } = engineOptionsFrom(flags, []);
  const options = {
    ...stackEngineOptions(result.config),
    ...(given.ipBlockMatchesPods !== undefined
      ? { ipBlockMatchesPods: given.ipBlockMatchesPods }
      : {}),
    ...(given.mesh ? { mesh: given.mesh } : {}),
  };
  return buildModel([...stackInventory(result.config, connections), ...result.manifests], options);
}
