/** The plan a flow log is judged against: the stack's config, declared connections and model. */
import { expandConnections } from "../components/connections";
import type { StackConfig } from "../config/types";
import { buildStackModel } from "../plan/connectivity";
import type { ObserveContext } from "./judge";

export function contextFromManifests(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
): ObserveContext {
  const connections = expandConnections(config);
  return { config, connections, model: buildStackModel(config, manifests, connections) };
}

/** Renders the stack offline (the real program under the mock engine) and builds the context. */
export async function stackContext(stack: string, stackDir?: string): Promise<ObserveContext> {
  const { renderStack } = await import("../plan/render");
  const result = await renderStack(stack, stackDir);
  return contextFromManifests(result.config, result.manifests);
}
