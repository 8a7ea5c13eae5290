/**
 * A rollout change (staged ↔ enforced) as the Pulumi engine previews and applies it, computed from
 * two captured runs of the program. Staged and enforced objects are different resource types,
 * hence different URNs: promotion is "create the enforced objects, delete the staged ones", never
 * an update in place. The engine performs creates and updates while the program registers
 * resources (each after its dependsOn), and deletes what the new program no longer registers only
 * after that, in reverse dependency order (`GenerateDeletes` in pulumi/pulumi
 * `pkg/resource/deploy/step_generator.go`). So every enforced object exists before any staged one
 * is removed: there is no window.
 */
import { isDeepStrictEqual } from "util";
import type { CapturedResource } from "./mockRuntime";

export interface RolloutStep {
  readonly op: "create" | "update" | "delete";
  readonly urn: string;
  readonly type: string;
  /** `namespace/name` of the Kubernetes object. */
  readonly object: string;
}

function objectName(resource: CapturedResource): string {
  const metadata = resource.props.metadata as { name?: string; namespace?: string } | undefined;
  return `${metadata?.namespace ?? ""}/${metadata?.name ?? resource.name}`;
}

/** Custom resources only: components have no cluster object behind them. */
function objects(resources: readonly CapturedResource[]): CapturedResource[] {
  return resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
}

/**
 * The steps of `pulumi up` from `before` to `after`, in the order the engine performs them:
 * creates and updates in registration order (the capture order, which respects dependsOn), then
 * deletes in reverse registration order of the old program.
 */
export function rolloutSteps(
  before: readonly CapturedResource[],
  after: readonly CapturedResource[],
): RolloutStep[] {
  const old = new Map(objects(before).map((r) => [r.urn, r]));
  const neu = new Map(objects(after).map((r) => [r.urn, r]));
  const steps: RolloutStep[] = [];
  for (const r of neu.values()) {
    const previous = old.get(r.urn);
    if (!previous) steps.push({ op: "create", urn: r.urn, type: r.type, object: objectName(r) });
    else if (!isDeepStrictEqual(previous.props, r.props))
      steps.push({ op: "update", urn: r.urn, type: r.type, object: objectName(r) });
  }
  for (const r of [...old.values()].reverse())
    if (!neu.has(r.urn))
      steps.push({ op: "delete", urn: r.urn, type: r.type, object: objectName(r) });
  return steps;
}
