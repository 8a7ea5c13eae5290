/**
 * Kubernetes LabelSelector (matchLabels + matchExpressions), validated like the API server does,
 * compiled into a predicate. Semantics: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
 * (an empty selector matches everything; requirements are ANDed; NotIn and DoesNotExist match
 * objects without the key).
 */
export type Labels = Readonly<Record<string, string>>;

export interface LabelRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values: readonly string[];
}

export interface LabelSelectorMatcher {
  readonly requirements: readonly LabelRequirement[];
  /** Canonical text, equal for equal selectors; used as a cache key. */
  readonly key: string;
  matches(labels: Labels): boolean;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns why `key` is not a valid label key, or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))
      return `label key prefix ${JSON.stringify(prefix)} is not a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name))
    return `label key ${JSON.stringify(key)} is not a valid label name`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !NAME_PART.test(value))
    return `label value ${JSON.stringify(value)} is not valid`;
  return undefined;
}

function hasKey(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

export function requirementMatches(r: LabelRequirement, labels: Labels): boolean {
  const present = hasKey(labels, r.key);
  switch (r.operator) {
    case "In":
      return present && r.values.includes(labels[r.key]);
    case "NotIn":
      return !present || !r.values.includes(labels[r.key]);
    case "Exists":
      return present;
    case "DoesNotExist":
      return !present;
  }
}

export function selectorFromRequirements(
  requirements: readonly LabelRequirement[],
): LabelSelectorMatcher {
  const sorted = [...requirements].sort((a, b) =>
    a.key === b.key ? a.operator.localeCompare(b.operator) : a.key < b.key ? -1 : 1,
  );
  const key = JSON.stringify(sorted.map((r) => [r.key, r.operator, [...r.values].sort()]));
  return {
    requirements: sorted,
    key,
    matches: (labels) => sorted.every((r) => requirementMatches(r, labels)),
  };
}

export const MATCH_ALL: LabelSelectorMatcher = selectorFromRequirements([]);

export function selectorFromLabels(labels: Labels): LabelSelectorMatcher {
  return selectorFromRequirements(
    Object.entries(labels).map(([key, value]) => ({ key, operator: "In", values: [value] })),
  );
}

/**
 * Compiles a LabelSelector object. Problems are pushed as `[path, message]`; on any problem the
 * returned matcher is undefined (the caller fails closed).
 */
export function compileLabelSelector(
  raw: unknown,
  path: string,
  problems: [string, string][],
): LabelSelectorMatcher | undefined {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    problems.push([path, "must be a LabelSelector object"]);
    return undefined;
  }
  const before = problems.length;
  const obj = raw as Record<string, unknown>;
  const requirements: LabelRequirement[] = [];
  for (const field of Object.keys(obj)) {
    if (field !== "matchLabels" && field !== "matchExpressions")
      problems.push([`${path}.${field}`, "unknown LabelSelector field"]);
  }
  const matchLabels = obj.matchLabels;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (typeof matchLabels !== "object" || Array.isArray(matchLabels)) {
      problems.push([`${path}.matchLabels`, "must be a map of strings"]);
    } else {
      for (const [key, value] of Object.entries(matchLabels as Record<string, unknown>)) {
        const keyProblem = labelKeyProblem(key);
        if (keyProblem) problems.push([`${path}.matchLabels`, keyProblem]);
        if (typeof value !== "string") {
          problems.push([`${path}.matchLabels.${key}`, "label value must be a string"]);
          continue;
        }
        const valueProblem = labelValueProblem(value);
        if (valueProblem) problems.push([`${path}.matchLabels.${key}`, valueProblem]);
        requirements.push({ key, operator: "In", values: [value] });
      }
    }
  }
  const expressions = obj.matchExpressions;
  if (expressions !== undefined && expressions !== null) {
    if (!Array.isArray(expressions)) {
      problems.push([`${path}.matchExpressions`, "must be a list"]);
    } else {
      expressions.forEach((expression: unknown, i) => {
        const at = `${path}.matchExpressions[${i}]`;
        if (expression === null || typeof expression !== "object") {
          problems.push([at, "must be an object"]);
          return;
        }
        const e = expression as Record<string, unknown>;
        const key = e.key;
        const operator = e.operator;
        const values = e.values ?? [];
        if (typeof key !== "string") {
          problems.push([`${at}.key`, "must be a string"]);
          return;
        }
        const keyProblem = labelKeyProblem(key);
        if (keyProblem) problems.push([`${at}.key`, keyProblem]);
        if (
          operator !== "In" &&
          operator !== "NotIn" &&
          operator !== "Exists" &&
          operator !== "DoesNotExist"
        ) {
          problems.push([`${at}.operator`, `unknown operator ${JSON.stringify(operator)}`]);
          return;
        }
        if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
          problems.push([`${at}.values`, "must be a list of strings"]);
          return;
        }
        const strings = values as string[];
        if ((operator === "In" || operator === "NotIn") && strings.length === 0)
          problems.push([`${at}.values`, `must be non-empty for operator ${operator}`]);
        if ((operator === "Exists" || operator === "DoesNotExist") && strings.length > 0)
          problems.push([`${at}.values`, `must be empty for operator ${operator}`]);
        for (const v of strings) {
          const valueProblem = labelValueProblem(v);
          if (valueProblem) problems.push([`${at}.values`, valueProblem]);
        }
        requirements.push({ key, operator, values: strings });
      });
    }
  }
  return problems.length === before ? selectorFromRequirements(requirements) : undefined;
}
