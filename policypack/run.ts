/**
 * The pack, run in-process: `npm run plan` and `npm run check` judge resources with exactly the
 * policies, enforcement levels and config semantics that `pulumi preview --policy-pack policypack`
 * applies, without a Pulumi CLI or a gRPC server.
 *
 * What is mirrored, and from where:
 * - config reconciliation (schema defaults, then `all`, then per-policy values; validation against
 *   each configSchema): pulumi/pulumi's `ReconcilePolicyPackConfig`;
 * - enforcement level per policy (config, else the policy's, else the pack's; `disabled` skips,
 *   `remediate` reports as mandatory) and the violation message (description, newline, message):
 *   `makeAnalyzeRpcFun` / `makeAnalyzeStackRpcFun` / `makeReportViolationFun` in
 *   node_modules/@pulumi/policy/server.js.
 * The RPC test (tests/policypack/rpc.test.ts) runs the real server on the same inputs and compares.
 */
import * as fs from "fs";
import * as path from "path";
import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type ClusterFacts, FACT_SCHEMAS, type FactKey } from "./lib/facts";
import { validateAgainstSchema } from "./lib/schema";
import { PACK_NAME, policies } from "./policies";
import { INPUT_PROPERTY, type JudgedInput, type PackPolicy } from "./lib/policy";

export interface CapturedResource {
  type: string;
  name: string;
  urn?: string;
  props: Record<string, unknown>;
  parent?: string;
}

export interface Violation {
  policyName: string;
  enforcementLevel: "advisory" | "mandatory";
  message: string;
  resourceType?: string;
  resourceName?: string;
  urn?: string;
}

/** `--policy-pack-config` file contents: policy name (or `all`) → level, or level + properties. */
export type PackConfig = Record<
  string,
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

export interface ReconciledPolicyConfig {
  enforcementLevel: EnforcementLevel;
  properties: Record<string, unknown>;
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];
/** The level of the pack as a whole, as passed to `new PolicyPack` in index.ts. */
const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const PACK_VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(__dirname, "package.json"), "utf8")) as { version: string }
).version;
export { PACK_NAME };

export class PackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid policy pack config:\n  ${problems.join("\n  ")}`);
    this.name = "PackConfigError";
  }
}

function schemaProperties(policy: PackPolicy) {
  return policy.configSchema?.properties ?? {};
}

/**
 * Defaults, then `all`, then each policy's own level and properties (top-level keys replace),
 * then schema validation: the engine's reconciliation. Unlike the engine, a policy name the pack
 * does not have is an error here, so a typo cannot silently leave a policy at its default.
 */
export function reconcilePackConfig(
  config: PackConfig = {},
): Record<string, ReconciledPolicyConfig> {
  const problems: string[] = [];
  const byName = new Map(policies.map((p) => [p.name, p]));
  const result: Record<string, ReconciledPolicyConfig> = {};
  for (const policy of policies) {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(schemaProperties(policy))) {
      if (typeof schema === "object" && schema.default !== undefined) {
        properties[key] = structuredClone(schema.default);
      }
    }
    result[policy.name] = {
      enforcementLevel: policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL,
      properties,
    };
  }
  const parsed = new Map<
    string,
    { level?: EnforcementLevel; properties: Record<string, unknown> }
  >();
  for (const [name, value] of Object.entries(config)) {
    if (typeof value === "string") {
      if (!LEVELS.includes(value))
        problems.push(`${name}: ${JSON.stringify(value)} is not an enforcement level`);
      parsed.set(name, { level: value, properties: {} });
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const { enforcementLevel, ...properties } = value;
      if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel)) {
        problems.push(
          `${name}.enforcementLevel: ${JSON.stringify(enforcementLevel)} is not an enforcement level`,
        );
      }
      parsed.set(name, { level: enforcementLevel, properties });
    } else {
      problems.push(`${name}: must be an enforcement level or an object`);
    }
    if (name !== "all" && !byName.has(name)) problems.push(`${name}: the pack has no such policy`);
  }
  const all = parsed.get("all");
  if (all?.level) for (const name of Object.keys(result)) result[name].enforcementLevel = all.level;
  if (all && Object.keys(all.properties).length > 0)
    problems.push("all: only takes an enforcement level");
  for (const [name, given] of parsed) {
    const target = result[name];
    if (name === "all" || !target) continue;
    if (given.level) target.enforcementLevel = given.level;
    Object.assign(target.properties, given.properties);
  }
  for (const policy of policies) {
    const schema = {
      type: "object" as const,
      properties: schemaProperties(policy),
      required: policy.configSchema?.required,
    };
    problems.push(...validateAgainstSchema(result[policy.name].properties, schema, policy.name));
  }
  if (problems.length > 0) throw new PackConfigError(problems);
  return result;
}

/**
 * Pack config that hands each policy the cluster facts it reads, on top of `base` (which wins).
 * Facts not given stay missing: the policies that read them then report "cannot verify".
 */
export function packConfigFromFacts(
  facts: Partial<ClusterFacts>,
  base: PackConfig = {},
  input?: JudgedInput,
): PackConfig {
  const out: PackConfig = { ...base };
  if (input !== undefined)
    for (const policy of policies) {
      const existing = out[policy.name];
      out[policy.name] = {
        ...(typeof existing === "string" ? { enforcementLevel: existing } : (existing ?? {})),
        [INPUT_PROPERTY]: input,
      } as PackConfig[string];
    }
  for (const policy of policies) {
    const keys = Object.keys(schemaProperties(policy)).filter(
      (k): k is FactKey => k in FACT_SCHEMAS,
    );
    if (keys.length === 0) continue;
    const existing = out[policy.name];
    const merged: Record<string, unknown> =
      typeof existing === "string" ? { enforcementLevel: existing } : { ...(existing ?? {}) };
    for (const key of keys)
      if (merged[key] === undefined && facts[key] !== undefined) merged[key] = facts[key];
    out[policy.name] = merged as PackConfig[string];
  }
  return out;
}

function isStackPolicy(policy: PackPolicy): policy is StackValidationPolicy & PackPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

function reportedLevel(level: EnforcementLevel): "advisory" | "mandatory" {
  return level === "advisory" ? "advisory" : "mandatory";
}

function notApplicable(): never {
  // A policy marking itself not applicable reports nothing, as in the server.
  throw new NotApplicable();
}

class NotApplicable extends Error {}

function urnOf(resource: CapturedResource): string {
  return resource.urn ?? `urn:pulumi:local::zt-netpol::${resource.type}::${resource.name}`;
}

/** The resource options the engine sends for a plain resource: nothing set but the parent. */
function resourceOptions(parent: string | undefined) {
  return {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    parent,
  };
}

/** Runs every enabled resource policy on every resource, then every enabled stack policy. */
export function evaluateResources(resources: CapturedResource[], config?: PackConfig): Violation[] {
  const reconciled = reconcilePackConfig(config);
  const violations: Violation[] = [];
  const byUrn = new Map(resources.map((r) => [urnOf(r), r]));
  const enabled = policies.filter((p) => reconciled[p.name].enforcementLevel !== "disabled");

  const run = (
    policy: PackPolicy,
    body: (report: (message?: string, urn?: string) => void) => unknown,
    subject?: CapturedResource,
  ): void => {
    const level = reportedLevel(reconciled[policy.name].enforcementLevel);
    const report = (message?: string, urn?: string): void => {
      const target = subject ?? (urn ? byUrn.get(urn) : undefined);
      violations.push({
        policyName: policy.name,
        enforcementLevel: level,
        message: message ? `${policy.description}\n${message}` : policy.description,
        resourceType: target?.type,
        resourceName: target?.name,
        urn: subject ? urnOf(subject) : urn,
      });
    };
    try {
      const result = body(report);
      if (result instanceof Promise)
        throw new Error(`policy ${policy.name} returned a promise; pack policies are synchronous`);
    } catch (error) {
      if (error instanceof NotApplicable) return;
      throw new Error(`policy ${policy.name} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };

  for (const resource of resources) {
    for (const policy of enabled) {
      if (isStackPolicy(policy)) continue;
      const validations = (policy as ResourceValidationPolicy).validateResource;
      const list = Array.isArray(validations) ? validations : validations ? [validations] : [];
      const args: ResourceValidationArgs = {
        type: resource.type,
        props: resource.props,
        urn: urnOf(resource),
        name: resource.name,
        opts: resourceOptions(resource.parent),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => structuredClone(reconciled[policy.name].properties) as T,
        notApplicable,
      };
      for (const validate of list) run(policy, (report) => validate(args, report), resource);
    }
  }

  const stackResources: PolicyResource[] = resources.map((r) => ({
    type: r.type,
    props: r.props,
    urn: urnOf(r),
    name: r.name,
    opts: resourceOptions(r.parent),
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  // By URN, the first of a URN as a scan would find it: a search per resource was quadratic.
  const stackByUrn = new Map<string, PolicyResource>();
  for (const resource of stackResources)
    if (!stackByUrn.has(resource.urn)) stackByUrn.set(resource.urn, resource);
  for (const resource of stackResources) {
    const parentUrn = resource.opts.parent;
    const parent = parentUrn ? stackByUrn.get(parentUrn) : undefined;
    if (parent) resource.parent = parent;
  }
  for (const policy of enabled) {
    if (!isStackPolicy(policy)) continue;
    const args: StackValidationArgs = {
      resources: stackResources,
      getConfig: <T extends object>() => structuredClone(reconciled[policy.name].properties) as T,
      stackTags: new Map(),
      notApplicable,
    };
    run(policy, (report) => policy.validateStack(args, report));
  }
  return violations;
}

export function hasMandatory(violations: readonly Violation[]): boolean {
  return violations.some((v) => v.enforcementLevel === "mandatory");
}

/**
 * The "Policy Violations:" block of `pulumi preview`: level, pack and version, policy and the
 * resource (name: type), then the message (description and details) indented under it.
 */
export function formatViolations(violations: Violation[]): string {
  if (violations.length === 0) return "";
  const lines = ["Policy Violations:"];
  for (const v of violations) {
    const resource = v.resourceName !== undefined ? ` (${v.resourceName}: ${v.resourceType})` : "";
    lines.push(
      `    [${v.enforcementLevel}]  ${PACK_NAME} v${PACK_VERSION}  ${v.policyName}${resource}`,
    );
    for (const line of v.message.split("\n")) lines.push(`    ${line}`);
    lines.push("");
  }
  return lines.join("\n");
}
