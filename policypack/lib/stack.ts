/**
 * The stack as stack policies see it: every NetworkPolicy read once, the components' facts, and
 * which namespaces are protected and meshed.
 *
 * A resource that cannot be read (malformed, or unknown at preview) is kept as a problem: a stack
 * policy that skipped it would judge a union of rules it has not seen, so each stack policy
 * reports those problems as violations of its own.
 */
import type { NamespaceConfig, StackConfig } from "../../config/types";
import { formatProblem, ManifestError } from "../../engine";
import { isUnknownValueError, MalformedError, unknownPath } from "./errors";
import {
  type ClusterFacts,
  assertStackConfigShape,
  factIfGiven,
  factsFromStackConfig,
} from "./facts";
import type { NormalPolicy } from "../../engine";
import type { Finding, StackSubject } from "./policy";
import { isObject } from "./read";
import {
  CALICO_POLICY_TYPES,
  CALICO_TIER_TYPE,
  K8S_NAMESPACE_TYPE,
  K8S_NETWORK_POLICY_TYPE,
  manifestOf,
  readPolicy,
} from "./reading";

export const CLUSTER_PROTECTION_TYPE = "zt-netpol:cluster:ClusterProtection";
export const NAMESPACE_PROTECTION_TYPE = "zt-netpol:network:NamespaceProtection";
/** Namespace label that enrolls a namespace in Istio ambient. */
export const AMBIENT_LABEL = "istio.io/dataplane-mode";

export interface NetpolEntry {
  readonly urn: string;
  /** The engine's reading of the object. */
  readonly policy: NormalPolicy;
}

export interface StackView {
  /** Kubernetes NetworkPolicies, each read by the engine. */
  readonly netpols: readonly NetpolEntry[];
  /** Every object that feeds a connectivity model (policies, Tiers, Namespaces), as manifests. */
  readonly manifests: readonly Record<string, unknown>[];
  /** Facts of the stack itself when a ClusterProtection is present, else the pack config's. */
  readonly facts: ClusterFacts;
  /** True when the facts came from the stack's ClusterProtection. */
  readonly factsFromStack: boolean;
  readonly protectedNamespaces: ReadonlySet<string>;
  /** Namespaces the stack itself declares: NamespaceProtection components and Namespace objects. */
  readonly declaredNamespaces: ReadonlyMap<string, string>;
  readonly problems: readonly Finding[];
  /** Every namespace known to be meshed, from the stack or (failing that) the config. */
  readonly meshedNamespaces: ReadonlySet<string>;
  isMeshed(namespace: string): boolean;
}

function readSafely<T>(
  subject: StackSubject,
  policyName: string,
  read: () => T,
  problems: Finding[],
): T | undefined {
  try {
    return read();
  } catch (error) {
    const because = isUnknownValueError(error)
      ? `${unknownPath(error)} is unknown during preview`
      : error instanceof MalformedError
        ? `${error.path}: ${error.expectation}`
        : error instanceof ManifestError
          ? `it is invalid: ${error.problems.map(formatProblem).join("; ")}`
          : undefined;
    if (because === undefined) throw error;
    problems.push({
      message: `cannot verify ${policyName} on ${subject.type} ${subject.name} because ${because}`,
      fix: "give the object plain, well-formed values that are known at preview",
      urn: subject.urn,
    });
    return undefined;
  }
}

/** True when a Kubernetes policy's podSelector is `{}`: it selects every pod of its namespace. */
export function selectsEveryPod(policy: NormalPolicy): boolean {
  return policy.written.podSelector?.requirements.length === 0;
}

/** True for a default-deny baseline: selects every pod, governs both directions explicitly. */
export function isBaseline(policy: NormalPolicy): boolean {
  const types = policy.written.types ?? [];
  return selectsEveryPod(policy) && types.includes("Ingress") && types.includes("Egress");
}

export function readStack(
  resources: readonly StackSubject[],
  configFacts: ClusterFacts,
  policyName: string,
): StackView {
  const problems: Finding[] = [];
  const netpols: NetpolEntry[] = [];
  const manifests: Record<string, unknown>[] = [];
  let clusterConfig: StackConfig | undefined;
  const meshEvidence = new Map<string, boolean>();
  const declared = new Map<string, string>();
  const protections = new Set<string>();
  const noteMeshed = (ns: string, meshed: boolean): void => {
    meshEvidence.set(ns, (meshEvidence.get(ns) ?? false) || meshed);
  };
  for (const subject of resources) {
    if (subject.type === K8S_NETWORK_POLICY_TYPE || CALICO_POLICY_TYPES.includes(subject.type)) {
      const policy = readSafely(
        subject,
        policyName,
        () => readPolicy(subject.type, subject.props),
        problems,
      );
      if (!policy) continue;
      manifests.push(manifestOf(subject.type, subject.props));
      if (subject.type === K8S_NETWORK_POLICY_TYPE) netpols.push({ urn: subject.urn, policy });
    } else if (subject.type === CALICO_TIER_TYPE) {
      // Tiers order the policies of every model built from the view.
      manifests.push(manifestOf(subject.type, subject.props));
    } else if (subject.type === CLUSTER_PROTECTION_TYPE) {
      clusterConfig = readSafely(
        subject,
        policyName,
        () => {
          const cfg: unknown = subject.props;
          assertStackConfigShape(cfg);
          // Touch what factsFromStackConfig reads, so a malformed component fails here, by name.
          factsFromStackConfig(cfg);
          return cfg;
        },
        problems,
      );
    } else if (subject.type === NAMESPACE_PROTECTION_TYPE) {
      readSafely(
        subject,
        policyName,
        () => {
          const ns = subject.props.namespace;
          const config = subject.props.config as NamespaceConfig | undefined;
          if (typeof ns !== "string" || ns === "")
            throw new MalformedError("namespace", "expected a namespace name");
          declared.set(ns, subject.urn);
          protections.add(ns);
          if (isObject(config) && typeof config.meshed === "boolean") noteMeshed(ns, config.meshed);
        },
        problems,
      );
    } else if (subject.type === K8S_NAMESPACE_TYPE) {
      readSafely(
        subject,
        policyName,
        () => {
          const metadata = subject.props.metadata;
          if (!isObject(metadata) || typeof metadata.name !== "string") {
            throw new MalformedError("metadata.name", "expected a namespace name");
          }
          declared.set(metadata.name, subject.urn);
          manifests.push(manifestOf(subject.type, subject.props));
          const labels = isObject(metadata.labels) ? metadata.labels : {};
          noteMeshed(metadata.name, labels[AMBIENT_LABEL] === "ambient");
        },
        problems,
      );
    }
  }
  const facts = clusterConfig ? factsFromStackConfig(clusterConfig) : configFacts;
  if (clusterConfig) for (const ns of clusterConfig.namespaces) noteMeshed(ns.name, ns.meshed);
  // The stack's own word on what it protects wins; the configured list covers plain YAML input.
  const protectedNamespaces = new Set<string>(clusterConfig ? facts.protectedNamespaces : []);
  protections.forEach((ns) => protectedNamespaces.add(ns));
  if (protectedNamespaces.size === 0)
    (factIfGiven(facts, "protectedNamespaces") ?? []).forEach((ns) => protectedNamespaces.add(ns));
  const configMeshed = new Set(factIfGiven(facts, "meshedNamespaces") ?? []);
  const isMeshed = (ns: string): boolean => meshEvidence.get(ns) ?? configMeshed.has(ns);
  const meshedNamespaces = new Set([...configMeshed, ...meshEvidence.keys()].filter(isMeshed));
  return {
    netpols,
    manifests,
    facts,
    factsFromStack: clusterConfig !== undefined,
    protectedNamespaces,
    declaredNamespaces: declared,
    problems,
    meshedNamespaces,
    isMeshed,
  };
}

const netpolsByNamespace = new WeakMap<StackView, Map<string | undefined, NetpolEntry[]>>();

/** The view's policies in `namespace`, in view order (indexed once per view: policies ask per namespace). */
export function netpolsIn(view: StackView, namespace: string): NetpolEntry[] {
  let index = netpolsByNamespace.get(view);
  if (!index) {
    index = new Map();
    for (const entry of view.netpols) {
      const list = index.get(entry.policy.namespace);
      if (list) list.push(entry);
      else index.set(entry.policy.namespace, [entry]);
    }
    netpolsByNamespace.set(view, index);
  }
  return [...(index.get(namespace) ?? [])];
}

/** Why a policy that should be a baseline is not one, as short clauses. */
export function baselineDefects(policy: NormalPolicy): string[] {
  const defects: string[] = [];
  if (!selectsEveryPod(policy))
    defects.push("spec.podSelector is not {} (it must select every pod)");
  const types = policy.written.types;
  if (!types || types.length === 0) {
    const assumed = [
      ...(policy.appliesTo.ingress ? ["Ingress"] : []),
      ...(policy.appliesTo.egress ? ["Egress"] : []),
    ].join(", ");
    defects.push(`spec.policyTypes is not set (the API server assumes [${assumed}])`);
  } else {
    for (const t of ["Ingress", "Egress"] as const)
      if (!types.includes(t)) defects.push(`spec.policyTypes lacks ${t}`);
  }
  return defects;
}
