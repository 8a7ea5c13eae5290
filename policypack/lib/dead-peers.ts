/**
 * Dead peers: a peer of a Kubernetes NetworkPolicy rule that can never match, so the rule allows
 * nothing and the flow it was written for is cut off.
 *
 * A peer is dead, with what it was probably meant to be, when
 * - a label key is a typo of a well-known key (`kubernetes.io.metadata.name` for
 *   `kubernetes.io/metadata.name`, `app.kubernetes.io/nmae` for `app.kubernetes.io/name`): at most
 *   two edits away (engine/load/suggest.ts), never equal;
 * - its namespaceSelector matches no namespace of the known inventory (the Namespaces the input
 *   declares and the namespaces every cluster has) although one of its values names a known
 *   namespace that lacks the label (`name: kube-system`: kube-system carries only
 *   kubernetes.io/metadata.name unless someone labels it).
 * A selector on labels that no known namespace carries and whose values name none is not
 * judged: it may select namespaces the input does not hold.
 */
import {
  closestName,
  editDistance,
  type LabelRequirement,
  type LabelSelectorMatcher,
  type NormalPolicy,
} from "../../engine";
import { NAMESPACE_NAME_LABEL, namespaceLabels, writtenPeers } from "./rules";
import type { Labels } from "../../engine";

/** Namespaces every cluster has (kubeadm, k3s and managed clusters create them). */
export const WELL_KNOWN_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
/** Label keys a namespace selector is meant to use. */
const WELL_KNOWN_NAMESPACE_KEYS = [NAMESPACE_NAME_LABEL];
/** Pod label keys in common use (Kubernetes recommended labels, CoreDNS's k8s-app). */
const WELL_KNOWN_POD_KEYS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/version",
  "app.kubernetes.io/managed-by",
  "k8s-app",
];
const MAX_TYPO_EDITS = 2;

function typoOf(key: string, known: readonly string[]): string | undefined {
  if (known.includes(key)) return undefined;
  const best = closestName(key, known);
  return best !== undefined && editDistance(key, best) <= MAX_TYPO_EDITS ? best : undefined;
}

export interface DeadPeer {
  readonly policy: NormalPolicy;
  readonly rulePath: string;
  readonly direction: "ingress" | "egress";
  readonly path: string;
  /** Why it matches nothing. */
  readonly why: string;
  /** What it was probably meant to be, as YAML. */
  readonly meant: string;
  readonly hasPodSelector: boolean;
  /** The namespace it was probably meant to select, when that is clear. */
  readonly meantNamespace?: string;
}

function requirementText(r: LabelRequirement, key = r.key): string {
  return r.operator === "In" && r.values.length === 1
    ? `${key}: ${r.values[0]}`
    : `{key: ${key}, operator: ${r.operator}${r.values.length > 0 ? `, values: [${r.values.join(", ")}]` : ""}}`;
}

function typoDeadness(
  selector: LabelSelectorMatcher,
  field: "namespaceSelector" | "podSelector",
): { why: string; meant: string; meantNamespace?: string } | undefined {
  const known = field === "namespaceSelector" ? WELL_KNOWN_NAMESPACE_KEYS : WELL_KNOWN_POD_KEYS;
  for (const r of selector.requirements) {
    const meant = typoOf(r.key, known);
    if (meant === undefined) continue;
    if (r.operator === "NotIn" || r.operator === "DoesNotExist") continue;
    return {
      why: `${field} key ${r.key} is not ${meant}: no ${field === "namespaceSelector" ? "namespace" : "pod"} carries it, so the peer matches nothing`,
      meant: `${field}: {matchLabels: {${requirementText(r, meant)}}}`,
      meantNamespace:
        field === "namespaceSelector" && r.operator === "In" && r.values.length === 1
          ? r.values[0]
          : undefined,
    };
  }
  return undefined;
}

interface NamespaceIndex {
  /** Each known namespace's labels as a selector sees them (the API server's name label added). */
  readonly labels: ReadonlyMap<string, Labels>;
  /** `key=value` → the namespaces carrying that label. */
  readonly byLabel: ReadonlyMap<string, readonly string[]>;
}

const indexes = new WeakMap<ReadonlyMap<string, Labels>, NamespaceIndex>();

function indexOf(knownNamespaces: ReadonlyMap<string, Labels>): NamespaceIndex {
  const cached = indexes.get(knownNamespaces);
  if (cached) return cached;
  const labels = new Map<string, Labels>();
  const byLabel = new Map<string, string[]>();
  for (const [name, own] of knownNamespaces) {
    const seen = { ...own, ...namespaceLabels(name) };
    labels.set(name, seen);
    for (const [key, value] of Object.entries(seen)) {
      const names = byLabel.get(`${key}=${value}`);
      if (names) names.push(name);
      else byLabel.set(`${key}=${value}`, [name]);
    }
  }
  const index = { labels, byLabel };
  indexes.set(knownNamespaces, index);
  return index;
}

/**
 * Whether the selector matches some known namespace. An `In` requirement narrows the candidates
 * to the namespaces carrying one of its values (one lookup, instead of every namespace per peer).
 */
function matchesSomeKnown(
  selector: LabelSelectorMatcher,
  knownNamespaces: ReadonlyMap<string, Labels>,
): boolean {
  const index = indexOf(knownNamespaces);
  const narrowing = selector.requirements.find((r) => r.operator === "In");
  const candidates = narrowing
    ? narrowing.values.flatMap((v) => index.byLabel.get(`${narrowing.key}=${v}`) ?? [])
    : [...index.labels.keys()];
  return candidates.some((name) => selector.matches(index.labels.get(name) ?? {}));
}

/** Every dead peer of the policy, judged against the known namespaces (name → labels). */
export function deadPeers(
  policy: NormalPolicy,
  knownNamespaces: ReadonlyMap<string, Labels>,
): DeadPeer[] {
  const out: DeadPeer[] = [];
  for (const { rule, direction, peer } of writtenPeers(policy)) {
    if (peer.kind !== "pods") continue;
    const base = {
      policy,
      rulePath: rule.path,
      direction,
      path: peer.path,
      hasPodSelector: peer.podSelector !== undefined,
    };
    const ns = peer.namespaceSelector && typoDeadness(peer.namespaceSelector, "namespaceSelector");
    const pods = peer.podSelector && typoDeadness(peer.podSelector, "podSelector");
    const typo = ns ?? pods;
    if (typo) {
      out.push({ ...base, ...typo });
      continue;
    }
    const selector = peer.namespaceSelector;
    if (!selector || selector.requirements.length === 0) continue;
    if (matchesSomeKnown(selector, knownNamespaces)) continue;
    const named = selector.requirements.find(
      (r) =>
        r.key !== NAMESPACE_NAME_LABEL &&
        r.operator === "In" &&
        r.values.some((v) => knownNamespaces.has(v)),
    );
    if (!named) continue;
    const target = named.values.find((v) => knownNamespaces.has(v)) as string;
    out.push({
      ...base,
      why: `namespaceSelector ${requirementText(named)} matches no known namespace: ${target} does not carry the label ${named.key} (the API server sets only ${NAMESPACE_NAME_LABEL})`,
      meant: `namespaceSelector: {matchLabels: {${NAMESPACE_NAME_LABEL}: ${target}}}`,
      meantNamespace: target,
    });
  }
  return out;
}

/** True when the peer at `path` of the policy is dead against the well-known namespaces alone. */
export function isDeadAgainstWellKnown(policy: NormalPolicy, path: string): boolean {
  const known = new Map(WELL_KNOWN_NAMESPACES.map((n) => [n, {}]));
  return deadPeers(policy, known).some((d) => d.path === path);
}
