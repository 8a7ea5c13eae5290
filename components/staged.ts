/**
 * Pure rendering of the Calico staged kinds (projectcalico.org/v3, Calico Open Source 3.30+).
 * A staged object carries the same spec as the object it stages plus `stagedAction`; Felix
 * evaluates it as if it were enforced and reports that verdict as "pending" in flow logs, but
 * never enforces it. Field names follow `api/pkg/apis/projectcalico/v3/staged*.go` in
 * projectcalico/calico and https://docs.tigera.io/calico/latest/reference/resources/stagednetworkpolicy,
 * .../stagedkubernetesnetworkpolicy and .../stagedglobalnetworkpolicy.
 */
import { CALICO_API_VERSION, type CalicoPolicyManifest, type CalicoPolicySpec } from "./calico";
import type { NetworkPolicyManifest, NetworkPolicySpec } from "./rules";

/**
 * `Set` creates or replaces the enforced policy of the same name on promotion (and is what Felix
 * evaluates for the pending verdict); the other values (`Delete`, `Learn`, `Ignore`) are not used.
 */
export const STAGED_ACTION_SET = "Set";

export const STAGED_KUBERNETES_KIND = "StagedKubernetesNetworkPolicy";
export const STAGED_CALICO_KIND = "StagedNetworkPolicy";

export interface StagedKubernetesManifest {
  apiVersion: typeof CALICO_API_VERSION;
  kind: typeof STAGED_KUBERNETES_KIND;
  metadata: NetworkPolicyManifest["metadata"];
  spec: { stagedAction: typeof STAGED_ACTION_SET } & NetworkPolicySpec;
}

export interface StagedCalicoManifest {
  apiVersion: typeof CALICO_API_VERSION;
  kind: typeof STAGED_CALICO_KIND;
  metadata: CalicoPolicyManifest["metadata"];
  spec: { stagedAction: typeof STAGED_ACTION_SET } & CalicoPolicySpec;
}

/** A Kubernetes NetworkPolicy as its StagedKubernetesNetworkPolicy (same name, namespace, spec). */
export function stageKubernetesPolicy(manifest: NetworkPolicyManifest): StagedKubernetesManifest {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: STAGED_KUBERNETES_KIND,
    metadata: manifest.metadata,
    spec: { stagedAction: STAGED_ACTION_SET, ...manifest.spec },
  };
}

/** A Calico NetworkPolicy as its StagedNetworkPolicy (same name, namespace, spec). */
export function stageCalicoPolicy(manifest: CalicoPolicyManifest): StagedCalicoManifest {
  return {
    apiVersion: CALICO_API_VERSION,
    kind: STAGED_CALICO_KIND,
    metadata: manifest.metadata,
    spec: { stagedAction: STAGED_ACTION_SET, ...manifest.spec },
  };
}
