/** Reading untyped manifest fields, shared by the Kubernetes and Calico normalisers. */

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
