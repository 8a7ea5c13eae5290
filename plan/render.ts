/** Renders a stack offline: validated config, every registered resource, and the k8s manifests. */
import * as path from "path";
import { PROJECT_ROOT, readStackFile, stackConfigFromEngine, stackFilePath } from "../config/load";
import type { StackConfig } from "../config/types";
import { runProgram, type CapturedResource } from "./mockRuntime";

export type { CapturedResource } from "./mockRuntime";

export const PROJECT_NAME = "zt-netpol";
const KUBERNETES_TYPE_PREFIX = "kubernetes:";

/**
 * The resources as the real engine hands them to a stack policy: custom resources with their
 * inputs, components with their registered outputs (not their constructor args).
 */
export function asPolicyEngineSees(resources: readonly CapturedResource[]): CapturedResource[] {
  return resources.map((r) => (r.custom ? r : { ...r, props: r.outputs ?? {} }));
}

export interface RenderResult {
  readonly stack: string;
  readonly config: StackConfig;
  readonly resources: CapturedResource[];
  /** Every Kubernetes object the program registers, exactly as `pulumi up` would send it. */
  readonly manifests: Record<string, unknown>[];
}

/** Namespace, then the baseline before pod-scoped and Calico objects, then name. */
function manifestKey(manifest: Record<string, unknown>): string {
  const metadata = manifest.metadata as { name?: string; namespace?: string };
  const isBaseline = metadata.name === `${metadata.namespace}-network-policy`;
  return `${metadata.namespace ?? ""}\u0000${isBaseline ? 0 : 1}${manifest.apiVersion as string}\u0000${metadata.name ?? ""}`;
}

/** Kubernetes objects among captured resources (provider resources excluded). */
export function manifestsOf(resources: readonly CapturedResource[]): Record<string, unknown>[] {
  return resources
    .filter(
      (r) =>
        r.custom &&
        r.type.startsWith(KUBERNETES_TYPE_PREFIX) &&
        !r.type.startsWith("pulumi:providers:"),
    )
    .filter((r) => typeof r.props.apiVersion === "string" && typeof r.props.kind === "string")
    .map((r) => {
      const { apiVersion, kind, metadata, ...rest } = r.props;
      return { apiVersion, kind, metadata, ...rest };
    })
    .sort((a, b) => manifestKey(a).localeCompare(manifestKey(b)));
}

/**
 * Validates the stack file first (so bad config fails before anything is registered), then runs
 * the real program under the mock engine.
 */
export async function renderStack(stack: string, rootDir = PROJECT_ROOT): Promise<RenderResult> {
  // Read once: the validated config and the program's engine config come from the same text (a
  // large stack file took as long to parse twice as some whole plans take).
  const engineConfig = readStackFile(stackFilePath(stack, rootDir));
  const config = stackConfigFromEngine(engineConfig);
  const resources = await runProgram(path.join(PROJECT_ROOT, "index.ts"), {
    project: PROJECT_NAME,
    stack,
    config: engineConfig,
  });
  return { stack, config, resources, manifests: manifestsOf(resources) };
}
