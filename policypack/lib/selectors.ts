/**
 * Kubernetes label selectors (`matchLabels` AND `matchExpressions`) and what a namespaceSelector
 * means in terms of namespace names.
 *
 * Semantics from the Kubernetes API reference for LabelSelector: the requirements are ANDed; an
 * empty selector matches everything; `NotIn`/`DoesNotExist` match objects without the key.
 */
import { MalformedError } from "./errors";
import { readObject, readOptionalArray, readString, readStringMap } from "./read";

/** Set by the API server on every namespace (since Kubernetes 1.21) and immutable. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelRequirement[];
}

export function readLabelSelector(value: unknown, path: string): LabelSelector {
  const object = readObject(value ?? {}, path);
  const matchLabels = readStringMap(object.matchLabels, `${path}.matchLabels`);
  const expressions = readOptionalArray(object.matchExpressions, `${path}.matchExpressions`) ?? [];
  const matchExpressions = expressions.map((raw, i): LabelRequirement => {
    const at = `${path}.matchExpressions[${i}]`;
    const expression = readObject(raw, at);
    const key = readString(expression.key, `${at}.key`);
    const operator = expression.operator;
    if (
      operator !== "In" &&
      operator !== "NotIn" &&
      operator !== "Exists" &&
      operator !== "DoesNotExist"
    ) {
      throw new MalformedError(`${at}.operator`, "expected In, NotIn, Exists or DoesNotExist");
    }
    const rawValues = readOptionalArray(expression.values, `${at}.values`) ?? [];
    const values = rawValues.map((v, j) => {
      if (typeof v !== "string")
        throw new MalformedError(`${at}.values[${j}]`, "expected a string");
      return v;
    });
    const needsValues = operator === "In" || operator === "NotIn";
    if (needsValues !== values.length > 0) {
      throw new MalformedError(
        `${at}.values`,
        needsValues ? `${operator} needs at least one value` : `${operator} takes no values`,
      );
    }
    return { key, operator, values };
  });
  return { matchLabels, matchExpressions };
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value) return false;
  }
  return selector.matchExpressions.every((req) => {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    switch (req.operator) {
      case "In":
        return has && req.values.includes(labels[req.key]);
      case "NotIn":
        return !has || !req.values.includes(labels[req.key]);
      case "Exists":
        return has;
      case "DoesNotExist":
        return !has;
    }
  });
}

/** Every label key a selector tests. */
export function selectorKeys(selector: LabelSelector): string[] {
  return [...Object.keys(selector.matchLabels), ...selector.matchExpressions.map((r) => r.key)];
}

/** Structural equality, used to pair a pod-scoped rule with the HBONE rule for the same pods. */
export function sameSelector(a: LabelSelector, b: LabelSelector): boolean {
  const canon = (s: LabelSelector): string =>
    JSON.stringify([
      Object.entries(s.matchLabels).sort(),
      s.matchExpressions
        .map((r) => [r.key, r.operator, [...r.values].sort()])
        .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    ]);
  return canon(a) === canon(b);
}

/**
 * The namespaces a namespaceSelector picks, as far as names decide it.
 * - `all`: every namespace (an empty selector, or only `Exists` on the name label);
 * - `names`: exactly these (`include`), or every namespace except these (`exclude`);
 * - `mutableLabels`: depends on labels anyone allowed to label namespaces can set.
 */
export type NamespaceSet =
  | { readonly kind: "all" }
  | { readonly kind: "names"; readonly include: ReadonlySet<string> }
  | { readonly kind: "allExcept"; readonly exclude: ReadonlySet<string> }
  | { readonly kind: "mutableLabels"; readonly keys: readonly string[] };

export function namespaceSetOf(selector: LabelSelector): NamespaceSet {
  const foreign = selectorKeys(selector).filter((k) => k !== NAMESPACE_NAME_LABEL);
  if (foreign.length > 0) return { kind: "mutableLabels", keys: [...new Set(foreign)] };
  let include: Set<string> | undefined;
  const exclude = new Set<string>();
  const narrow = (names: readonly string[]): void => {
    include = new Set(names.filter((n) => include === undefined || include.has(n)));
  };
  for (const value of Object.values(selector.matchLabels)) narrow([value]);
  for (const req of selector.matchExpressions) {
    if (req.operator === "In") narrow(req.values);
    else if (req.operator === "NotIn") req.values.forEach((v) => exclude.add(v));
    else if (req.operator === "DoesNotExist") narrow([]); // every namespace has the label
  }
  if (include !== undefined) {
    return { kind: "names", include: new Set([...include].filter((n) => !exclude.has(n))) };
  }
  return exclude.size > 0 ? { kind: "allExcept", exclude } : { kind: "all" };
}

/** Whether the set contains `name`; `undefined` when mutable labels make it unknowable. */
export function namespaceSetIncludes(set: NamespaceSet, name: string): boolean | undefined {
  switch (set.kind) {
    case "all":
      return true;
    case "names":
      return set.include.has(name);
    case "allExcept":
      return !set.exclude.has(name);
    case "mutableLabels":
      return undefined;
  }
}
