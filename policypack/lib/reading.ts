/**
 * The pack's one way to read a NetworkPolicy or Calico policy: the connectivity engine's loader
 * and normaliser (engine/index.ts), which validate the object the way the API server does and
 * name the field of every problem. The policies judge the normalised model (`NormalPolicy`: rules
 * in order, peer matchers, connection sets) and, where the written form is the point, the
 * `written` parts the normaliser keeps. There is no second parser here.
 *
 * An object the engine rejects throws its `ManifestError` (object, field path, message); the
 * policy runner turns that into a violation at the policy's own level, so `check` and preview
 * reject what the API server rejects (an `except` outside its `cidr`, `port: "8085"`, …).
 *
 * The Pulumi program registers the Calico objects as CustomResources, whose type string is built
 * from apiVersion and kind; `validateResourceOfType` cannot match a CustomResource class, so the
 * policies compare type strings.
 */
import { buildModel, type ClusterModel, type NormalPolicy } from "../../engine";
import { MalformedError } from "./errors";
import { isObject } from "./read";

export const K8S_NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const K8S_NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
export const CALICO_NETWORK_POLICY_TYPE = "kubernetes:projectcalico.org/v3:NetworkPolicy";
export const CALICO_GLOBAL_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy";
export const CALICO_POLICY_TYPES = [CALICO_NETWORK_POLICY_TYPE, CALICO_GLOBAL_NETWORK_POLICY_TYPE];
export const POLICY_TYPES = [K8S_NETWORK_POLICY_TYPE, ...CALICO_POLICY_TYPES];
/** Calico's Tier: no policy judges it alone; stack views feed it to the connectivity model. */
export const CALICO_TIER_TYPE = "kubernetes:projectcalico.org/v3:Tier";

/** Calico's staged kinds (Calico Open Source 3.30+): read by the engine, judged as promoted. */
export const STAGED_K8S_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedKubernetesNetworkPolicy";
export const STAGED_CALICO_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedNetworkPolicy";
export const STAGED_CALICO_GLOBAL_NETWORK_POLICY_TYPE =
  "kubernetes:projectcalico.org/v3:StagedGlobalNetworkPolicy";

/** apiVersion and kind of each Pulumi type, for props that leave them implicit. */
const API_OF_TYPE: Readonly<Record<string, readonly [string, string]>> = {
  [K8S_NETWORK_POLICY_TYPE]: ["networking.k8s.io/v1", "NetworkPolicy"],
  [CALICO_NETWORK_POLICY_TYPE]: ["projectcalico.org/v3", "NetworkPolicy"],
  [CALICO_GLOBAL_NETWORK_POLICY_TYPE]: ["projectcalico.org/v3", "GlobalNetworkPolicy"],
  [K8S_NAMESPACE_TYPE]: ["v1", "Namespace"],
  [CALICO_TIER_TYPE]: ["projectcalico.org/v3", "Tier"],
  [STAGED_K8S_NETWORK_POLICY_TYPE]: ["projectcalico.org/v3", "StagedKubernetesNetworkPolicy"],
  [STAGED_CALICO_NETWORK_POLICY_TYPE]: ["projectcalico.org/v3", "StagedNetworkPolicy"],
  [STAGED_CALICO_GLOBAL_NETWORK_POLICY_TYPE]: ["projectcalico.org/v3", "StagedGlobalNetworkPolicy"],
};

const CLUSTER_SCOPED_KINDS = new Set(["GlobalNetworkPolicy", "StagedGlobalNetworkPolicy"]);

/** The plain object the engine reads: the props, with apiVersion/kind from the type if absent. */
export function manifestOf(type: string, props: Record<string, unknown>): Record<string, unknown> {
  const api = API_OF_TYPE[type];
  if (!api) throw new Error(`internal: ${type} is not a type the pack reads`);
  const object: Record<string, unknown> = { ...props };
  object.apiVersion ??= api[0];
  object.kind ??= api[1];
  return object;
}

let readings = new WeakMap<object, NormalPolicy>();

/**
 * Calico NetworkSets and GlobalNetworkSets of the input being judged, with its Namespaces (whose
 * labels a set inherits): rule selectors match the sets' nets (engine/normalise/network-set.ts),
 * so a policy is read with them. `check` passes the input's sets in for one evaluation; the
 * Pulumi program creates no set, so a preview reads each policy alone.
 */
let networkSetContext: readonly Record<string, unknown>[] = [];

export function withNetworkSets<T>(objects: readonly Record<string, unknown>[], run: () => T): T {
  const saved = { context: networkSetContext, readings };
  networkSetContext = objects;
  readings = new WeakMap();
  try {
    return run();
  } finally {
    networkSetContext = saved.context;
    readings = saved.readings;
  }
}

/**
 * The engine's reading of one policy object; a staged kind's reading carries its `staged`
 * marker (engine/normalise/staged.ts).
 * @throws ManifestError (located problems), MalformedError (no namespace), or @pulumi/policy's
 *   UnknownValueError when a field is unknown at preview.
 */
export function readPolicy(type: string, props: Record<string, unknown>): NormalPolicy {
  const cached = readings.get(props);
  if (cached) return cached;
  const object = manifestOf(type, props);
  const metadata = isObject(object.metadata) ? object.metadata : {};
  // An object without a namespace lands wherever the client's context points: refuse to guess
  // (the engine alone would read it as "default", like kubectl).
  if (!CLUSTER_SCOPED_KINDS.has(String(object.kind))) {
    if (typeof metadata.namespace !== "string" || metadata.namespace === "")
      throw new MalformedError("metadata.namespace", "expected the namespace the object lives in");
  }
  const model = buildModel([...networkSetContext, object, ...tierStandIn(object)], {
    ipBlockMatchesPods: false,
  });
  const policy = model.policies[0] ?? model.stagedPolicies?.[0];
  if (!policy) throw new Error(`internal: the engine did not read ${type} as a policy`);
  readings.set(props, policy);
  return policy;
}

/**
 * One object is read alone, so the Tier it names is not in the input: a stand-in lets the engine
 * read the object's own rules (which is all a per-object check judges; the tier's order and
 * default action matter only between objects). Whether the Tier exists is judged where every
 * object is seen: the stack view feeds the real Tier objects to the connectivity model, which
 * refuses a policy whose tier none defines.
 */
function tierStandIn(object: Record<string, unknown>): Record<string, unknown>[] {
  const spec = isObject(object.spec) ? object.spec : {};
  const tier = spec.tier;
  if (typeof tier !== "string" || tier === "" || tier === "default") return [];
  return [{ apiVersion: "projectcalico.org/v3", kind: "Tier", metadata: { name: tier }, spec: {} }];
}

/**
 * Records the reading of derived props (a staged object's promoted form, policypack/lib/staged.ts)
 * so that reading them again returns it instead of reading a second time.
 */
export function rememberReading(props: Record<string, unknown>, policy: NormalPolicy): void {
  readings.set(props, policy);
}

/** `namespace/name` (or `name` for a GlobalNetworkPolicy). */
export function policyRef(policy: NormalPolicy): string {
  return policy.namespace ? `${policy.namespace}/${policy.ref.name}` : policy.ref.name;
}

export type { ClusterModel };
