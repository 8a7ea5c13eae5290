/**
 * The `partialInput` knob of the two stack-completeness policies: `npm run check` on a single
 * file (part of a cluster) judges only the namespaces that file has NetworkPolicies in.
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { StackView } from "../lib/stack";

export const PARTIAL_INPUT_SCHEMA: PolicyConfigJSONSchema = {
  type: "boolean",
  description:
    "The input is part of a cluster: judge only namespaces that have at least one NetworkPolicy in it.",
  default: false,
};

export function inScope(
  view: StackView,
  config: Readonly<Record<string, unknown>>,
  ns: string,
): boolean {
  return config.partialInput !== true || view.netpols.some((e) => e.policy.namespace === ns);
}
