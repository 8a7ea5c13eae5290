/** Reading untyped manifest fields, shared by the Kubernetes and Calico normalisers. */
import type { ObjectRef, ProblemSink } from "../model/problems";

export type Raw = Record<string, unknown>;

export function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `spec.ingress` / `spec.egress` as objects; anything else is reported at its path, never dropped. */
export function readRuleList(
  spec: Raw,
  direction: "ingress" | "egress",
  fail: (path: string, message: string) => void,
): Raw[] {
  const raw = spec[direction];
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    fail(`spec.${direction}`, "must be a list");
    return [];
  }
  return raw.map((r: unknown, i) => {
    if (!isObject(r)) fail(`spec.${direction}[${i}]`, "must be an object");
    return isObject(r) ? r : {};
  });
}

/** Problem reporting bound to one object, and whether it reported anything since it started. */
export interface ObjectReporter {
  readonly fail: (path: string, message: string) => void;
  readonly warn: (path: string, message: string) => void;
  readonly failed: () => boolean;
  /** The object's `spec`, or undefined (already reported) when it is missing. */
  readonly spec: Raw | undefined;
}

export function startObject(
  obj: Raw,
  ref: ObjectRef,
  sink: ProblemSink,
  source?: string,
): ObjectReporter {
  const before = sink.problems.length;
  const fail = (path: string, message: string): void => sink.report(ref, path, message, source);
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  if (!spec) fail("spec", "missing or not an object");
  return {
    fail,
    warn: (path, message) => sink.warn(ref, path, message),
    failed: () => sink.problems.length > before,
    spec,
  };
}
