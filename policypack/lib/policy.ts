/**
 * How a policy of this pack is declared, and the one place where the pack fails closed.
 *
 * A check returns findings instead of calling `reportViolation` itself, so that:
 * - an unknown value at preview (`UnknownValueError`) or a malformed field becomes a violation at
 *   the policy's own level ("cannot verify … because … is unknown"), never a silent advisory
 *   downgrade (@pulumi/policy's server turns an escaping UnknownValueError into an advisory
 *   diagnostic, see makeAnalyzeRpcFun in node_modules/@pulumi/policy/server.js);
 * - allow-listed exemptions (each with a reason) are applied the same way everywhere;
 * - every message ends with how to fix the object.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ReportViolation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { formatProblem, ManifestError } from "../../engine";
import { isUnknownValueError, MalformedError, unknownPath } from "./errors";
import {
  type ClusterFacts,
  FACT_SCHEMAS,
  type FactKey,
  factsFromPolicyConfig,
  MissingFactError,
  PASS_FACTS_FIX,
} from "./facts";
import { asEnforcedSubject, judgedTypeOf } from "./staged";

/** What a check found wrong with one object. */
export interface Finding {
  /** Names the object and the field, says what is wrong. */
  readonly message: string;
  /** How to fix the object. */
  readonly fix: string;
  /** Namespace/name of the object, matched against `exemptions`. */
  readonly namespace?: string;
  readonly objectName?: string;
  /** Stack policies: the resource the finding is about. */
  readonly urn?: string;
}

export interface Exemption {
  readonly namespace: string;
  readonly name?: string;
  readonly reason: string;
}

/** What every check receives: its facts, its own config properties and the exemptions. */
export interface CheckContext {
  readonly facts: ClusterFacts;
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * True when plain YAML is judged (`npm run check` without `--stack`): there is no stack config,
   * so advice gives the YAML change and never names a config key, and the stack-shaped rules
   * (one baseline object per namespace) do not apply.
   */
  readonly plainYaml: boolean;
}

/** The `input` property every policy takes: what is being judged. */
export const INPUT_PROPERTY = "input";
export type JudgedInput = "stack" | "plain-yaml";

export interface Subject {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
}

export interface StackSubject extends Subject {
  readonly parent?: string;
}

interface CommonDefinition {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: EnforcementLevel;
  /** Cluster facts the check reads; each becomes a config property (no default: facts.ts). */
  readonly facts?: readonly FactKey[];
  /** The policy's own allow-lists and knobs. */
  readonly properties?: Record<string, PolicyConfigJSONSchema>;
  /** One line for the README table: the attack or outage the policy prevents. */
  readonly prevents: string;
  /**
   * Plain YAML without (some of) its facts: what the policy judges then, one sentence, printed by
   * `npm run check` when one of `facts` was not given (see docs: "check without a stack").
   */
  readonly withoutFacts?: string;
}

export interface ResourceDefinition extends CommonDefinition {
  /** Resource type strings the policy reads; everything else is not its business. */
  readonly types: readonly string[];
  check(subject: Subject, context: CheckContext): Finding[];
}

export interface StackDefinition extends CommonDefinition {
  check(resources: readonly StackSubject[], context: CheckContext): Finding[];
}

const EXEMPTIONS_SCHEMA: PolicyConfigJSONSchema = {
  type: "array",
  description:
    "Objects this policy does not judge. Each entry names the namespace, optionally the object, and why.",
  items: {
    type: "object",
    properties: {
      namespace: { type: "string", minLength: 1 },
      name: { type: "string", minLength: 1 },
      reason: { type: "string", minLength: 10 },
    },
    required: ["namespace", "reason"],
    additionalProperties: false,
  },
  default: [],
};

const INPUT_SCHEMA: PolicyConfigJSONSchema = {
  type: "string",
  enum: ["stack", "plain-yaml"],
  description:
    "What is judged: a zt-netpol stack (advice may name its config keys) or plain YAML (npm run check without --stack: advice gives the YAML change).",
  default: "stack",
};

/** The policy's config schema: its facts, its own properties and the exemption list. */
function schemaFor(def: CommonDefinition): { properties: Record<string, PolicyConfigJSONSchema> } {
  const properties: Record<string, PolicyConfigJSONSchema> = {};
  for (const key of def.facts ?? []) properties[key] = FACT_SCHEMAS[key];
  Object.assign(properties, def.properties ?? {});
  properties.exemptions = EXEMPTIONS_SCHEMA;
  properties[INPUT_PROPERTY] = INPUT_SCHEMA;
  return { properties };
}

/** Schema defaults under the given config, as the engine's ReconcilePolicyPackConfig does. */
export function withDefaults(
  def: CommonDefinition,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(schemaFor(def).properties)) {
    if (schema.default !== undefined) out[key] = schema.default;
  }
  for (const key of Object.keys(given)) if (key !== "enforcementLevel") out[key] = given[key];
  return out;
}

function contextFor(def: CommonDefinition, given: Readonly<Record<string, unknown>>): CheckContext {
  const config = withDefaults(def, given);
  return {
    facts: factsFromPolicyConfig(config),
    config,
    plainYaml: config[INPUT_PROPERTY] === "plain-yaml",
  };
}

function isExempt(finding: Finding, config: Readonly<Record<string, unknown>>): boolean {
  const exemptions = (config.exemptions ?? []) as readonly Exemption[];
  return exemptions.some(
    (e) =>
      finding.namespace !== undefined &&
      e.namespace === finding.namespace &&
      (e.name === undefined || e.name === finding.objectName),
  );
}

/** The finding for a check that could not finish, or undefined for a genuine bug (rethrown). */
function cannotVerify(policyName: string, what: string, error: unknown): Finding | undefined {
  if (isUnknownValueError(error)) {
    return {
      message: `cannot verify ${policyName} on ${what} because ${unknownPath(error)} is unknown during preview`,
      fix: "make the value known at preview: build names, namespaces and rules from plain config values, not from outputs of other resources",
    };
  }
  if (error instanceof MissingFactError) {
    return {
      message: `cannot verify ${policyName} on ${what} because ${error.message}`,
      fix: PASS_FACTS_FIX,
    };
  }
  if (error instanceof MalformedError) {
    return {
      message: `cannot verify ${policyName} on ${what} because ${error.path}: ${error.expectation}`,
      fix: `correct ${error.path} to the shape the API server expects`,
    };
  }
  if (error instanceof ManifestError) return rejectedObject(policyName, what, error);
  return undefined;
}

/** The engine's located problems with an object, as one finding: the API server would refuse it. */
export function rejectedObject(policyName: string, what: string, error: ManifestError): Finding {
  return {
    message: `cannot verify ${policyName} on ${what}: the object is invalid (the API server or the engine rejects it):\n${error.problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    fix: "correct each field named above; nothing in an object that cannot be read is judged safe",
  };
}

export function renderFinding(finding: Finding): string {
  return `${finding.message}\nFix: ${finding.fix}`;
}

export interface PackPolicyMeta {
  readonly prevents: string;
  /** Cluster facts the policy reads, and what it judges without them (plain YAML). */
  readonly facts: readonly FactKey[];
  readonly withoutFacts?: string;
  readonly kind: "resource" | "stack";
  /** Resource policies: the resource types the policy reads (stack policies read the stack). */
  readonly types?: readonly string[];
}

export type PackPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  readonly meta: PackPolicyMeta;
};

export function resourcePolicy(
  def: ResourceDefinition,
): ResourceValidationPolicy & { meta: PackPolicyMeta } {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    configSchema: schemaFor(def),
    meta: {
      prevents: def.prevents,
      kind: "resource",
      types: def.types,
      facts: def.facts ?? [],
      withoutFacts: def.withoutFacts,
    },
    validateResource: (args, reportViolation: ReportViolation) => {
      // Staged objects are filtered and judged as the enforced objects they stage.
      if (!def.types.includes(judgedTypeOf(args.type))) return;
      const context = contextFor(def, args.getConfig<Record<string, unknown>>());
      let findings: Finding[];
      try {
        findings = def.check(
          asEnforcedSubject({ type: args.type, name: args.name, urn: args.urn, props: args.props }),
          context,
        );
      } catch (error) {
        const finding = cannotVerify(def.name, `${args.type} ${args.name}`, error);
        if (!finding) throw error;
        findings = [finding];
      }
      for (const finding of findings) {
        if (!isExempt(finding, context.config)) reportViolation(renderFinding(finding));
      }
    },
  };
}

export function stackPolicy(
  def: StackDefinition,
): StackValidationPolicy & { meta: PackPolicyMeta } {
  return {
    name: def.name,
    description: def.description,
    enforcementLevel: def.enforcementLevel,
    configSchema: schemaFor(def),
    meta: {
      prevents: def.prevents,
      kind: "stack",
      facts: def.facts ?? [],
      withoutFacts: def.withoutFacts,
    },
    validateStack: (args, reportViolation: ReportViolation) => {
      const context = contextFor(def, args.getConfig<Record<string, unknown>>());
      const subjects = args.resources.map((r: PolicyResource) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.props,
        parent: r.parent?.urn,
      }));
      let findings: Finding[];
      try {
        findings = def.check(subjects.map(asEnforcedSubject), context);
      } catch (error) {
        const finding = cannotVerify(def.name, "the stack", error);
        if (!finding) throw error;
        findings = [finding];
      }
      for (const finding of findings) {
        if (!isExempt(finding, context.config))
          reportViolation(renderFinding(finding), finding.urn);
      }
    },
  };
}
