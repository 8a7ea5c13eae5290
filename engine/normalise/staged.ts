/**
 * Calico's staged kinds (projectcalico.org/v3, Calico Open Source 3.30+) → NormalPolicy with a
 * `staged` marker. A staged object is read once, by the normaliser of the kind it stages: its
 * spec minus `stagedAction` is exactly that kind's spec
 * (`ConvertStagedPolicyToEnforced`, `ConvertStagedGlobalPolicyToEnforced` and
 * `ConvertStagedKubernetesPolicyToK8SEnforced` in projectcalico/calico
 * `api/pkg/apis/projectcalico/v3/staged*.go`).
 *
 * `stagedAction` (`policy_common.go`): `Set` (the default) is evaluated by Felix as if enforced,
 * the "pending" verdict of flow logs, and on promotion creates or replaces the enforced policy of
 * the same name; `Delete` must carry an empty spec (libcalico-go validator), is never sent to Felix
 * (the syncer's staged update processors drop it) and on promotion deletes the enforced policy of
 * the same name. `Learn` and `Ignore` are rejected: their effect on a verdict is not documented.
 */
import type { ObjectRef, ProblemSink } from "../model/problems";
import type { EnforcedPolicyKind, NormalPolicy, StagedAction, StagedKind } from "../model/types";
import { normaliseCalicoPolicy } from "./calico-policy";
import type { NetworkSetScope } from "./matchers";
import { normaliseKubernetesPolicy } from "./k8s-policy";
import { isObject, type Raw } from "./raw";
import { DEFAULT_TIER, DEFAULT_TIER_ORDER, readPolicyTier } from "./tier";

export const STAGED_KINDS: Readonly<
  Record<string, { kind: StagedKind; enforced: EnforcedPolicyKind }>
> = {
  StagedKubernetesNetworkPolicy: {
    kind: "projectcalico.org/StagedKubernetesNetworkPolicy",
    enforced: "NetworkPolicy",
  },
  StagedNetworkPolicy: {
    kind: "projectcalico.org/StagedNetworkPolicy",
    enforced: "projectcalico.org/NetworkPolicy",
  },
  StagedGlobalNetworkPolicy: {
    kind: "projectcalico.org/StagedGlobalNetworkPolicy",
    enforced: "projectcalico.org/GlobalNetworkPolicy",
  },
};

/** Fields StagedNetworkPolicySpec lacks although NetworkPolicySpec has them (host endpoints only). */
const NOT_IN_STAGED_NAMESPACED = ["doNotTrack", "preDNAT", "applyOnForward"];

export function isStagedKind(kind: string): boolean {
  return kind in STAGED_KINDS;
}

/**
 * Normalises one staged object. `ref.kind` is the manifest kind (e.g. `StagedNetworkPolicy`).
 * Problems are reported at the staged object's own field paths.
 */
export function normaliseStagedPolicy(
  obj: Raw,
  ref: ObjectRef,
  ipBlockMatchesPods: boolean,
  sink: ProblemSink,
  source?: string,
  networkSets?: NetworkSetScope,
): NormalPolicy | undefined {
  const entry = STAGED_KINDS[ref.kind];
  if (entry === undefined) throw new Error(`internal: ${ref.kind} is not a staged kind`);
  const fail = (path: string, message: string): void => sink.report(ref, path, message, source);
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  if (!spec) {
    fail("spec", "missing or not an object");
    return undefined;
  }
  const rawAction = spec.stagedAction ?? "Set";
  if (rawAction !== "Set" && rawAction !== "Delete") {
    fail(
      "spec.stagedAction",
      rawAction === "Learn" || rawAction === "Ignore"
        ? `${rawAction} is not modelled (only Set and Delete have a documented effect on verdicts)`
        : `must be Set, Delete, Learn or Ignore (got ${JSON.stringify(rawAction)})`,
    );
    return undefined;
  }
  const action: StagedAction = rawAction;
  const global = entry.enforced === "projectcalico.org/GlobalNetworkPolicy";
  const namespace = global ? undefined : (ref.namespace ?? "default");
  const { stagedAction: _ignored, ...enforcedSpec } = spec;
  void _ignored;
  if (action === "Delete") {
    // The validator requires every other field (except the Calico tier) to be zero-valued.
    const extra = Object.keys(enforcedSpec).filter(
      (k) => !(k === "tier" && entry.enforced !== "NetworkPolicy"),
    );
    for (const key of extra)
      fail(`spec.${key}`, "must be empty when stagedAction is Delete (Calico validation)");
    if (extra.length > 0) return undefined;
    const tier =
      entry.enforced === "NetworkPolicy" ? DEFAULT_TIER : readPolicyTier(spec, ref.name, fail);
    if (tier === undefined) return undefined;
    return {
      ref: { kind: entry.kind, namespace, name: ref.name },
      namespace,
      tier,
      tierOrder: DEFAULT_TIER_ORDER,
      order: Number.POSITIVE_INFINITY,
      sortName: namespace === undefined ? ref.name : `${namespace}/${ref.name}`,
      appliesTo: { ingress: false, egress: false },
      ingress: [],
      egress: [],
      targetDescription: `deletes ${entry.enforced} ${namespace ? `${namespace}/` : ""}${ref.name} on promotion`,
      selects: () => false,
      targetLabelKeys: [],
      written: { ruleCounts: { ingress: 0, egress: 0 } },
      staged: { kind: entry.kind, action, enforcedKind: entry.enforced },
    };
  }
  if (entry.kind === "projectcalico.org/StagedNetworkPolicy") {
    let bad = false;
    for (const key of NOT_IN_STAGED_NAMESPACED)
      if (key in enforcedSpec) {
        fail(`spec.${key}`, "unknown field (StagedNetworkPolicySpec has no such field)");
        bad = true;
      }
    if (bad) return undefined;
  }
  const enforcedObject: Raw = { ...obj, spec: enforcedSpec };
  const policy =
    entry.enforced === "NetworkPolicy"
      ? normaliseKubernetesPolicy(
          enforcedObject,
          { kind: ref.kind, namespace: namespace ?? "default", name: ref.name },
          ipBlockMatchesPods,
          sink,
          source,
        )
      : normaliseCalicoPolicy(
          enforcedObject,
          { kind: ref.kind, namespace, name: ref.name },
          global,
          ipBlockMatchesPods,
          sink,
          source,
          networkSets,
        );
  if (!policy) return undefined;
  return {
    ...policy,
    ref: { ...policy.ref, kind: entry.kind },
    staged: { kind: entry.kind, action, enforcedKind: entry.enforced },
  };
}
