/** The plan a flow log is judged against: the stack's config, declared connections and model. */
import { expandConnections } from "../components/connections";
import type { StackConfig } from "../config/types";
import { buildModel } from "../engine";
import { stackEngineOptions } from "../components/stackModel";
import { stackInventory } from "../components/inventory";
import { renderStack } from "../plan/render";
import type { ObserveContext } from "./judge";

export function contextFromManifests(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
): ObserveContext {
  const connections = expandConnections(config);
  // Namespaces (with their mesh labels) but no representative pods: an observed end is judged as a
  // pod with exactly the observed labels, never as every pod whose labels include them.
  const namespaces = stackInventory(config, connections).filter((o) => o.kind === "Namespace");
  return {
    config,
    connections,
    model: buildModel([...namespaces, ...manifests], {
      ...stackEngineOptions(config),
      representativePods: false,
    }),
  };
}

/** Renders the stack offline (the real program under the mock engine) and builds the context. */
export async function stackContext(stack: string, stackDir?: string): Promise<ObserveContext> {
  const result = await renderStack(stack, stackDir);
  return contextFromManifests(result.config, result.manifests);
}
