/**
 * The subset of JSON Schema (draft 4, as gojsonschema reads it) that the pack's `configSchema`s
 * use, so the in-process runner rejects the same config the Pulumi engine rejects
 * (`validatePolicyPackConfig` in pulumi/pulumi's analyzer config code). An unsupported keyword is
 * an error here, not silently ignored.
 */
import type {
  PolicyConfigJSONSchema,
  PolicyConfigJSONSchemaDefinition,
} from "@pulumi/policy/schema";

const SUPPORTED = new Set([
  "type",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "pattern",
  "items",
  "minItems",
  "required",
  "properties",
  "additionalProperties",
  "minProperties",
  "description",
  "default",
]);

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Returns one message per problem, each prefixed with the property path. */
export function validateAgainstSchema(
  value: unknown,
  schema: PolicyConfigJSONSchemaDefinition,
  path: string,
): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: is not allowed`];
  const s: PolicyConfigJSONSchema = schema;
  for (const keyword of Object.keys(s)) {
    if (!SUPPORTED.has(keyword))
      throw new Error(`schema keyword ${keyword} at ${path} is not supported`);
  }
  const actual = typeOf(value);
  if (s.type !== undefined) {
    const allowed = Array.isArray(s.type) ? s.type : [s.type];
    const ok = allowed.some((t) => t === actual || (t === "number" && actual === "integer"));
    if (!ok) return [`${path}: expected ${allowed.join(" or ")}, got ${actual}`];
  }
  const errors: string[] = [];
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${path}: must be one of ${JSON.stringify(s.enum)}`);
  }
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum)
      errors.push(`${path}: must be >= ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum)
      errors.push(`${path}: must be <= ${s.maximum}`);
  }
  if (typeof value === "string") {
    if (s.minLength !== undefined && value.length < s.minLength) {
      errors.push(`${path}: must be at least ${s.minLength} characters`);
    }
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) {
      errors.push(`${path}: does not match ${s.pattern}`);
    }
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) {
      errors.push(`${path}: needs at least ${s.minItems} items`);
    }
    if (s.items !== undefined) {
      if (Array.isArray(s.items)) throw new Error(`tuple items at ${path} are not supported`);
      const items = s.items;
      value.forEach((item, i) =>
        errors.push(...validateAgainstSchema(item, items, `${path}[${i}]`)),
      );
    }
  }
  if (actual === "object") {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    for (const required of s.required ?? []) {
      if (!(required in object)) errors.push(`${path}: ${required} is required`);
    }
    if (s.minProperties !== undefined && keys.length < s.minProperties) {
      errors.push(`${path}: needs at least ${s.minProperties} properties`);
    }
    for (const key of keys) {
      const child = s.properties?.[key] ?? s.additionalProperties;
      if (child !== undefined)
        errors.push(...validateAgainstSchema(object[key], child, `${path}.${key}`));
    }
  }
  return errors;
}
