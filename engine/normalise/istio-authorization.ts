/**
 * security.istio.io AuthorizationPolicy and PeerAuthentication → what the destination ztunnel
 * enforces at L4 in ambient mode.
 *
 * Sources (read, not copied):
 * - https://istio.io/latest/docs/reference/config/security/authorization-policy/ (fields, DENY
 *   before ALLOW, "no ALLOW policy → allow", `*` / prefix / suffix string matching);
 * - https://istio.io/latest/docs/ambient/usage/l4-policy/ (ztunnel enforces the L4 subset at the
 *   receiving side; L7 attributes need a waypoint);
 * - istio/istio `pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go`
 *   (`convertAuthorizationPolicy`, `handleRule`): how istiod translates a policy for ztunnel.
 *   No `selector` → namespace scope, and global scope in the root namespace; `targetRef(s)` →
 *   not for ztunnel; CUSTOM/AUDIT → not sent; each `to` list, `from` list and `when` condition is
 *   one clause (clauses ANDed, entries of a clause ORed); an ALLOW rule that uses `hosts`,
 *   `methods`, `paths` (and their `not…`), `requestPrincipals`, `remoteIpBlocks` (and `not…`) or
 *   a `when` key other than source.ip/source.namespace/source.principal/destination.ip/
 *   destination.port is dropped whole; a DENY rule keeps its L4 parts only;
 *   `convertPeerAuthentication` / `convertedSelectorPeerAuthentications`: STRICT becomes a DENY of
 *   connections without a peer identity, with port-level exceptions from workload policies;
 * - istio/ztunnel `src/rbac.rs` (`Authorization::matches`) and `src/state.rs` (`assert_rbac`):
 *   a policy without rules matches nothing, a rule without clauses matches everything, an empty
 *   match matches nothing, principals are compared without `spiffe://`, and a connection without
 *   identity has namespace and principal "".
 */
import type { Ipv4Range } from "../model/ipv4";
import { isIpv6Text, parseCidr } from "../model/ipv4";
import type { LabelSelectorMatcher } from "../model/label-selector";
import { MATCH_ALL, labelKeyProblem, selectorFromLabels } from "../model/label-selector";
import type { ObjectRef, ProblemSink } from "../model/problems";
import type { PodInfo } from "../model/types";
import { isObject, type Raw } from "./raw";

export type StringMatch =
  | { readonly kind: "exact"; readonly value: string }
  | { readonly kind: "prefix"; readonly value: string }
  | { readonly kind: "suffix"; readonly value: string }
  | { readonly kind: "presence" };

/** One L4 match as ztunnel holds it: every non-empty list must hold (positive any, negative none). */
export interface AuthorizationMatch {
  readonly namespaces: readonly StringMatch[];
  readonly notNamespaces: readonly StringMatch[];
  readonly principals: readonly StringMatch[];
  readonly notPrincipals: readonly StringMatch[];
  readonly serviceAccounts: readonly { namespace: string; serviceAccount: string }[];
  readonly notServiceAccounts: readonly { namespace: string; serviceAccount: string }[];
  readonly sourceIps: readonly Ipv4Range[];
  readonly notSourceIps: readonly Ipv4Range[];
  readonly destinationIps: readonly Ipv4Range[];
  readonly notDestinationIps: readonly Ipv4Range[];
  readonly destinationPorts: readonly number[];
  readonly notDestinationPorts: readonly number[];
}

/** A rule as ztunnel receives it: clauses ANDed, the matches of one clause ORed. */
export interface AuthorizationRule {
  /** 0-based index in `spec.rules`. */
  readonly index: number;
  readonly path: string;
  readonly clauses: readonly (readonly AuthorizationMatch[])[];
  /** L7 fields that istiod removed from a DENY rule (the rule is enforced without them). */
  readonly ignoredFields: readonly string[];
}

export type AuthorizationScope = "global" | "namespace" | "workload";

export interface NormalAuthorizationPolicy {
  readonly ref: ObjectRef;
  readonly namespace: string;
  readonly scope: AuthorizationScope;
  readonly action: "ALLOW" | "DENY";
  /** Rules ztunnel enforces, in order. */
  readonly rules: readonly AuthorizationRule[];
  /** ALLOW rules istiod dropped because they use L7 attributes. */
  readonly droppedRules: readonly { index: number; path: string; fields: readonly string[] }[];
  readonly targetDescription: string;
  /** Label keys the selector reads (for equivalence classes). */
  readonly targetLabelKeys: readonly string[];
  selects(pod: PodInfo): boolean;
}

export type MtlsMode = "UNSET" | "STRICT" | "PERMISSIVE" | "DISABLE";

export interface NormalPeerAuthentication {
  readonly ref: ObjectRef;
  readonly namespace: string;
  /** mesh = root namespace without selector; namespace = no selector; workload = selector. */
  readonly scope: "mesh" | "namespace" | "workload";
  readonly mode: MtlsMode;
  readonly portLevel: ReadonlyMap<number, MtlsMode>;
  readonly targetLabelKeys: readonly string[];
  selects(pod: PodInfo): boolean;
}

const POLICY_SPEC_KEYS = new Set([
  "selector",
  "targetRef",
  "targetRefs",
  "action",
  "provider",
  "rules",
]);
const RULE_KEYS = new Set(["from", "to", "when"]);
const SOURCE_KEYS: Record<string, "l4" | "l7"> = {
  principals: "l4",
  notPrincipals: "l4",
  namespaces: "l4",
  notNamespaces: "l4",
  serviceAccounts: "l4",
  notServiceAccounts: "l4",
  ipBlocks: "l4",
  notIpBlocks: "l4",
  requestPrincipals: "l7",
  notRequestPrincipals: "l7",
  remoteIpBlocks: "l7",
  notRemoteIpBlocks: "l7",
};
const OPERATION_KEYS: Record<string, "l4" | "l7"> = {
  ports: "l4",
  notPorts: "l4",
  hosts: "l7",
  notHosts: "l7",
  methods: "l7",
  notMethods: "l7",
  paths: "l7",
  notPaths: "l7",
};
const L4_WHEN_KEYS = new Set([
  "source.ip",
  "source.namespace",
  "source.principal",
  "destination.ip",
  "destination.port",
]);
const DRY_RUN_ANNOTATION = "istio.io/dry-run";

export function stringMatch(value: string): StringMatch {
  if (value === "*") return { kind: "presence" };
  if (value.startsWith("*")) return { kind: "suffix", value: value.slice(1) };
  if (value.endsWith("*")) return { kind: "prefix", value: value.slice(0, -1) };
  return { kind: "exact", value };
}

export function stringMatches(m: StringMatch, text: string): boolean {
  switch (m.kind) {
    case "presence":
      return text !== "";
    case "prefix":
      return text.startsWith(m.value);
    case "suffix":
      return text.endsWith(m.value);
    case "exact":
      return text === m.value;
  }
}

export function formatStringMatch(m: StringMatch): string {
  switch (m.kind) {
    case "presence":
      return "*";
    case "prefix":
      return `${m.value}*`;
    case "suffix":
      return `*${m.value}`;
    case "exact":
      return m.value;
  }
}

const EMPTY_MATCH: AuthorizationMatch = {
  namespaces: [],
  notNamespaces: [],
  principals: [],
  notPrincipals: [],
  serviceAccounts: [],
  notServiceAccounts: [],
  sourceIps: [],
  notSourceIps: [],
  destinationIps: [],
  notDestinationIps: [],
  destinationPorts: [],
  notDestinationPorts: [],
};

export function isEmptyMatch(m: AuthorizationMatch): boolean {
  return (Object.keys(EMPTY_MATCH) as (keyof AuthorizationMatch)[]).every((k) => m[k].length === 0);
}

interface Reader {
  fail(path: string, message: string): void;
  warn(path: string, message: string): void;
}

function objectReader(
  ref: ObjectRef,
  sink: ProblemSink,
  source: string | undefined,
): Reader & { failed(): boolean } {
  const before = sink.problems.length;
  return {
    fail: (path, message) => sink.report(ref, path, message, source),
    warn: (path, message) => sink.warn(ref, path, message),
    failed: () => sink.problems.length > before,
  };
}

/** Istio's spec is optional: no spec is an empty one. */
function readSpec(obj: Raw, r: Reader): Raw | undefined {
  if (obj.spec === undefined || obj.spec === null) return {};
  if (isObject(obj.spec)) return obj.spec;
  r.fail("spec", "must be an object");
  return undefined;
}

function stringList(raw: unknown, path: string, r: Reader): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== "string")) {
    r.fail(path, "must be a list of strings");
    return [];
  }
  return raw as string[];
}

function ports(raw: unknown, path: string, r: Reader): number[] {
  return stringList(raw, path, r).flatMap((text, i) => {
    // istiod skips a port it cannot parse; the API server's schema rejects it. Either way the
    // rule would not mean what it says, so it is an error here.
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      r.fail(
        `${path}[${i}]`,
        `invalid port ${JSON.stringify(text)} (a number 1-65535 as a string)`,
      );
      return [];
    }
    return [n];
  });
}

/** istiod counts a field only when its list is non-empty (`len(...) > 0`). */
function present(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== null;
}

/** A range no IPv4 address is in: what an IPv6 block is to the IPv4 model. */
export const NO_IPV4: Ipv4Range = { lo: 1, hi: 0 };

/**
 * IPv4 blocks. An IPv6 block matches no IPv4 source: in a positive list it stays as NO_IPV4 (so a
 * list of IPv6 blocks alone still matches nothing instead of everything), in a negative list it is
 * dropped (it excludes no IPv4 source).
 */
function ipRanges(raw: unknown, path: string, r: Reader, negative = false): Ipv4Range[] {
  return stringList(raw, path, r).flatMap((text, i) => {
    if (isIpv6Text(text)) {
      r.warn(`${path}[${i}]`, `IPv6 block ${text} matches no IPv4 address (IPv4 model)`);
      return negative ? [] : [NO_IPV4];
    }
    const range = parseCidr(text);
    if (!range) {
      r.fail(`${path}[${i}]`, `invalid IP or CIDR ${JSON.stringify(text)}`);
      return [];
    }
    return [range];
  });
}

function serviceAccounts(
  raw: unknown,
  path: string,
  policyNamespace: string,
  r: Reader,
): { namespace: string; serviceAccount: string }[] {
  return stringList(raw, path, r).map((text) => {
    const slash = text.indexOf("/");
    return slash < 0
      ? { namespace: policyNamespace, serviceAccount: text }
      : { namespace: text.slice(0, slash), serviceAccount: text.slice(slash + 1) };
  });
}

function readSelector(
  raw: unknown,
  path: string,
  r: Reader,
): { matcher: LabelSelectorMatcher; keys: string[] } | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    r.fail(path, "must be an object with matchLabels");
    return { matcher: MATCH_ALL, keys: [] };
  }
  for (const key of Object.keys(raw))
    if (key !== "matchLabels") r.fail(`${path}.${key}`, "unknown WorkloadSelector field");
  const labels = raw.matchLabels ?? {};
  if (!isObject(labels)) {
    r.fail(`${path}.matchLabels`, "must be a map of strings");
    return { matcher: MATCH_ALL, keys: [] };
  }
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const problem = labelKeyProblem(key);
    if (problem) r.fail(`${path}.matchLabels`, problem);
    if (typeof value !== "string") r.fail(`${path}.matchLabels.${key}`, "must be a string");
    else clean[key] = value;
  }
  return { matcher: selectorFromLabels(clean), keys: Object.keys(clean) };
}

function describeSelector(keys: readonly string[], matcher: LabelSelectorMatcher): string {
  return keys.length === 0
    ? "every pod"
    : `pods with ${matcher.requirements.map((q) => `${q.key}=${q.values[0]}`).join(", ")}`;
}

function readList(raw: unknown, path: string, r: Reader): Raw[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    r.fail(path, "must be a list");
    return [];
  }
  return raw.map((item: unknown, i) => {
    if (!isObject(item)) r.fail(`${path}[${i}]`, "must be an object");
    return isObject(item) ? item : {};
  });
}

function checkKeys(
  obj: Raw,
  known: Record<string, unknown> | Set<string>,
  path: string,
  r: Reader,
) {
  const has = (k: string) => (known instanceof Set ? known.has(k) : k in known);
  for (const key of Object.keys(obj)) if (!has(key)) r.fail(`${path}.${key}`, "unknown field");
}

/** `from[].source` → one match; the L7 field names found are returned too. */
function sourceMatch(
  source: Raw,
  path: string,
  policyNamespace: string,
  r: Reader,
): [AuthorizationMatch, string[]] {
  checkKeys(source, SOURCE_KEYS, path, r);
  const l7 = Object.keys(source).filter((k) => SOURCE_KEYS[k] === "l7" && present(source[k]));
  for (const k of l7) stringList(source[k], `${path}.${k}`, r);
  const strings = (key: string) => stringList(source[key], `${path}.${key}`, r).map(stringMatch);
  return [
    {
      ...EMPTY_MATCH,
      principals: strings("principals"),
      notPrincipals: strings("notPrincipals"),
      namespaces: strings("namespaces"),
      notNamespaces: strings("notNamespaces"),
      serviceAccounts: serviceAccounts(
        source.serviceAccounts,
        `${path}.serviceAccounts`,
        policyNamespace,
        r,
      ),
      notServiceAccounts: serviceAccounts(
        source.notServiceAccounts,
        `${path}.notServiceAccounts`,
        policyNamespace,
        r,
      ),
      sourceIps: ipRanges(source.ipBlocks, `${path}.ipBlocks`, r),
      notSourceIps: ipRanges(source.notIpBlocks, `${path}.notIpBlocks`, r, true),
    },
    l7,
  ];
}

function operationMatch(operation: Raw, path: string, r: Reader): [AuthorizationMatch, string[]] {
  checkKeys(operation, OPERATION_KEYS, path, r);
  const l7 = Object.keys(operation).filter(
    (k) => OPERATION_KEYS[k] === "l7" && present(operation[k]),
  );
  for (const k of l7) stringList(operation[k], `${path}.${k}`, r);
  return [
    {
      ...EMPTY_MATCH,
      destinationPorts: ports(operation.ports, `${path}.ports`, r),
      notDestinationPorts: ports(operation.notPorts, `${path}.notPorts`, r),
    },
    l7,
  ];
}

function whenMatch(condition: Raw, path: string, r: Reader): [AuthorizationMatch, string[]] {
  checkKeys(condition, new Set(["key", "values", "notValues"]), path, r);
  const key = condition.key;
  if (typeof key !== "string" || key === "") {
    r.fail(`${path}.key`, "must be a non-empty string");
    return [EMPTY_MATCH, []];
  }
  const values = (field: "values" | "notValues") =>
    stringList(condition[field], `${path}.${field}`, r);
  if (!L4_WHEN_KEYS.has(key)) {
    values("values");
    values("notValues");
    return [EMPTY_MATCH, [key]];
  }
  const positive = values("values");
  const negative = values("notValues");
  const at = (field: string) => `${path}.${field}`;
  switch (key) {
    case "source.namespace":
      return [
        {
          ...EMPTY_MATCH,
          namespaces: positive.map(stringMatch),
          notNamespaces: negative.map(stringMatch),
        },
        [],
      ];
    case "source.principal":
      return [
        {
          ...EMPTY_MATCH,
          principals: positive.map(stringMatch),
          notPrincipals: negative.map(stringMatch),
        },
        [],
      ];
    case "source.ip":
      return [
        {
          ...EMPTY_MATCH,
          sourceIps: ipRanges(positive, at("values"), r),
          notSourceIps: ipRanges(negative, at("notValues"), r, true),
        },
        [],
      ];
    case "destination.ip":
      return [
        {
          ...EMPTY_MATCH,
          destinationIps: ipRanges(positive, at("values"), r),
          notDestinationIps: ipRanges(negative, at("notValues"), r, true),
        },
        [],
      ];
    default:
      return [
        {
          ...EMPTY_MATCH,
          destinationPorts: ports(positive, at("values"), r),
          notDestinationPorts: ports(negative, at("notValues"), r),
        },
        [],
      ];
  }
}

function annotations(obj: Raw): Raw {
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  return isObject(metadata.annotations) ? metadata.annotations : {};
}

/**
 * An AuthorizationPolicy as ztunnel enforces it, or undefined when ztunnel never sees it
 * (targetRef, CUSTOM/AUDIT, dry run: each with a warning) or it could not be read (reported).
 */
export function normaliseAuthorizationPolicy(
  obj: Raw,
  ref: ObjectRef & { namespace: string },
  rootNamespace: string | undefined,
  sink: ProblemSink,
  source?: string,
): NormalAuthorizationPolicy | undefined {
  const reporter = objectReader(ref, sink, source);
  const spec = readSpec(obj, reporter);
  if (!spec) return undefined;
  checkKeys(spec, POLICY_SPEC_KEYS, "spec", reporter);
  if (spec.targetRef != null || spec.targetRefs != null) {
    reporter.warn(
      "spec.targetRef",
      "binds to a waypoint or gateway, not ztunnel: not modelled (waypoints can only deny more)",
    );
    return undefined;
  }
  const actionRaw = spec.action ?? "ALLOW";
  if (actionRaw === "CUSTOM" || actionRaw === "AUDIT") {
    reporter.warn("spec.action", `ztunnel does not enforce ${actionRaw} (istiod does not send it)`);
    return undefined;
  }
  if (actionRaw !== "ALLOW" && actionRaw !== "DENY") {
    reporter.fail("spec.action", `unknown action ${JSON.stringify(actionRaw)}`);
    return undefined;
  }
  if (annotations(obj)[DRY_RUN_ANNOTATION] === "true") {
    reporter.warn(
      `metadata.annotations.${DRY_RUN_ANNOTATION}`,
      "dry-run policy: ztunnel only logs it",
    );
    return undefined;
  }
  const selector = readSelector(spec.selector, "spec.selector", reporter);
  if (selector && ref.namespace === rootNamespace) {
    reporter.fail("spec.selector", "a selector in the mesh root namespace is not modelled");
    return undefined;
  }
  const scope: AuthorizationScope = selector
    ? "workload"
    : ref.namespace === rootNamespace
      ? "global"
      : "namespace";
  const action = actionRaw;
  const rules: AuthorizationRule[] = [];
  const droppedRules: NormalAuthorizationPolicy["droppedRules"][number][] = [];
  readList(spec.rules, "spec.rules", reporter).forEach((rule, index) => {
    const path = `spec.rules[${index}]`;
    checkKeys(rule, RULE_KEYS, path, reporter);
    const clauses: AuthorizationMatch[][] = [];
    const l7: string[] = [];
    const to = readList(rule.to, `${path}.to`, reporter);
    if (to.length > 0)
      clauses.push(
        to.map((entry, i) => {
          checkKeys(entry, new Set(["operation"]), `${path}.to[${i}]`, reporter);
          const op = isObject(entry.operation) ? entry.operation : {};
          const [match, found] = operationMatch(op, `${path}.to[${i}].operation`, reporter);
          l7.push(...found.map((f) => `to[${i}].operation.${f}`));
          return match;
        }),
      );
    const from = readList(rule.from, `${path}.from`, reporter);
    if (from.length > 0)
      clauses.push(
        from.map((entry, i) => {
          checkKeys(entry, new Set(["source"]), `${path}.from[${i}]`, reporter);
          const src = isObject(entry.source) ? entry.source : {};
          const [match, found] = sourceMatch(
            src,
            `${path}.from[${i}].source`,
            ref.namespace,
            reporter,
          );
          l7.push(...found.map((f) => `from[${i}].source.${f}`));
          return match;
        }),
      );
    readList(rule.when, `${path}.when`, reporter).forEach((condition, i) => {
      const [match, found] = whenMatch(condition, `${path}.when[${i}]`, reporter);
      l7.push(...found.map((f) => `when[${i}] ${f}`));
      clauses.push([match]);
    });
    if (action === "ALLOW" && l7.length > 0) droppedRules.push({ index, path, fields: l7 });
    else rules.push({ index, path, clauses, ignoredFields: l7 });
  });
  if (reporter.failed()) return undefined;
  const matcher = selector?.matcher;
  return {
    ref,
    namespace: ref.namespace,
    scope,
    action,
    rules,
    droppedRules,
    targetDescription:
      scope === "global"
        ? "every meshed pod (root namespace)"
        : scope === "namespace"
          ? `every pod in ${ref.namespace}`
          : `${describeSelector(selector!.keys, matcher!)} in ${ref.namespace}`,
    targetLabelKeys: selector?.keys ?? [],
    selects: (pod) =>
      scope === "global" ||
      (pod.namespace === ref.namespace && (matcher === undefined || matcher.matches(pod.labels))),
  };
}

const MTLS_MODES = new Set<MtlsMode>(["UNSET", "STRICT", "PERMISSIVE", "DISABLE"]);

function readMode(raw: unknown, path: string, r: Reader): MtlsMode {
  if (raw === undefined || raw === null) return "UNSET";
  if (!isObject(raw)) {
    r.fail(path, "must be an object with mode");
    return "UNSET";
  }
  checkKeys(raw, new Set(["mode"]), path, r);
  const mode = raw.mode ?? "UNSET";
  if (typeof mode !== "string" || !MTLS_MODES.has(mode as MtlsMode)) {
    r.fail(`${path}.mode`, `unknown mTLS mode ${JSON.stringify(mode)}`);
    return "UNSET";
  }
  return mode as MtlsMode;
}

/** PeerAuthentication → its mTLS mode and port-level modes (ambient: only STRICT vs not matters). */
export function normalisePeerAuthentication(
  obj: Raw,
  ref: ObjectRef & { namespace: string },
  rootNamespace: string | undefined,
  sink: ProblemSink,
  source?: string,
): NormalPeerAuthentication | undefined {
  const reporter = objectReader(ref, sink, source);
  const spec = readSpec(obj, reporter);
  if (!spec) return undefined;
  checkKeys(spec, new Set(["selector", "mtls", "portLevelMtls"]), "spec", reporter);
  const selector = readSelector(spec.selector, "spec.selector", reporter);
  // istiod treats a selector without labels as namespace-wide (convertedSelectorPeerAuthentications).
  const workload = selector !== undefined && selector.keys.length > 0;
  const mode = readMode(spec.mtls, "spec.mtls", reporter);
  const portLevel = new Map<number, MtlsMode>();
  if (spec.portLevelMtls != null) {
    if (!isObject(spec.portLevelMtls))
      reporter.fail("spec.portLevelMtls", "must be a map of port → mtls");
    else {
      if (!workload)
        reporter.fail(
          "spec.portLevelMtls",
          "needs a selector with labels (Istio ignores it otherwise)",
        );
      for (const [key, value] of Object.entries(spec.portLevelMtls)) {
        const port = /^\d+$/.test(key) ? Number(key) : NaN;
        if (!(port >= 1 && port <= 65535))
          reporter.fail(`spec.portLevelMtls.${key}`, "invalid port");
        else portLevel.set(port, readMode(value, `spec.portLevelMtls.${key}`, reporter));
      }
    }
  }
  if (workload && ref.namespace === rootNamespace) {
    reporter.fail(
      "spec.selector",
      "a selector in the mesh root namespace is ignored by istiod for ambient",
    );
  }
  if (reporter.failed()) return undefined;
  const scope = workload ? "workload" : ref.namespace === rootNamespace ? "mesh" : "namespace";
  const matcher = selector?.matcher ?? MATCH_ALL;
  return {
    ref,
    namespace: ref.namespace,
    scope,
    mode,
    portLevel,
    targetLabelKeys: workload ? selector!.keys : [],
    selects: (pod) =>
      scope === "mesh" || (pod.namespace === ref.namespace && matcher.matches(pod.labels)),
  };
}
