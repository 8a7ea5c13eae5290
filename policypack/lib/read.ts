/**
 * Path-aware readers for resource properties. Each one either returns a value of the expected
 * shape or throws `MalformedError` naming the field, so a policy never mistakes a malformed
 * object for a harmless one.
 */
import { MalformedError } from "./errors";

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readObject(value: unknown, path: string): Json {
  if (!isObject(value))
    throw new MalformedError(path, `expected an object, got ${describe(value)}`);
  return value;
}

export function readOptionalObject(value: unknown, path: string): Json | undefined {
  return value === undefined || value === null ? undefined : readObject(value, path);
}

/** A list; `undefined`/`null` read as absent (Kubernetes treats a null list as omitted). */
export function readOptionalArray(value: unknown, path: string): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value))
    throw new MalformedError(path, `expected a list, got ${describe(value)}`);
  return value;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") {
    throw new MalformedError(path, `expected a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function readOptionalString(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : readString(value, path);
}

export function readStringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const object = readObject(value, path);
  const out: Record<string, string> = {};
  for (const key of Object.keys(object)) {
    const entry = object[key];
    if (typeof entry !== "string") {
      throw new MalformedError(`${path}.${key}`, `expected a string, got ${describe(entry)}`);
    }
    out[key] = entry;
  }
  return out;
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
