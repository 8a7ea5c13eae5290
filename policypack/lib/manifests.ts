/**
 * Kubernetes manifests as the resources the pack judges, for `npm run check`: each object gets
 * the Pulumi type string the program would register it under. Reading the files is the engine
 * loader's job (one reader for every CLI); this only maps kinds to types.
 */
import {
  CALICO_GLOBAL_NETWORK_POLICY_TYPE,
  CALICO_NETWORK_POLICY_TYPE,
  CALICO_TIER_TYPE,
  K8S_NAMESPACE_TYPE,
  K8S_NETWORK_POLICY_TYPE,
} from "./reading";
import { isObject } from "./read";
import { stagedPulumiTypeOf } from "./staged";
import type { CapturedResource } from "../run";
import type { SourcedObject } from "../../engine/load/parse";

export interface ManifestReading {
  readonly resources: CapturedResource[];
  /** Objects of kinds the pack does not judge (ConfigMap, Deployment…), as `file#index kind`. */
  readonly skipped: string[];
}

/** The Pulumi type of a manifest, or undefined for kinds the pack does not judge. */
export function pulumiTypeOf(apiVersion: unknown, kind: unknown): string | undefined {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  if (kind === "NetworkPolicy" && group === "networking.k8s.io") return K8S_NETWORK_POLICY_TYPE;
  if (group === "projectcalico.org" || group === "crd.projectcalico.org") {
    if (kind === "NetworkPolicy") return CALICO_NETWORK_POLICY_TYPE;
    if (kind === "GlobalNetworkPolicy") return CALICO_GLOBAL_NETWORK_POLICY_TYPE;
    if (kind === "Tier") return CALICO_TIER_TYPE;
    const staged = stagedPulumiTypeOf(kind);
    if (staged) return staged;
  }
  if (kind === "Namespace" && apiVersion === "v1") return K8S_NAMESPACE_TYPE;
  if (
    group === "security.istio.io" &&
    (kind === "AuthorizationPolicy" || kind === "PeerAuthentication")
  )
    return `kubernetes:${apiVersion}:${kind}`;
  return undefined;
}

/**
 * The objects the engine's loader read (engine/load: files, directories, stdin, lists and
 * kustomizations already resolved), as pack resources named by their location.
 */
export function resourcesFromObjects(objects: readonly SourcedObject[]): ManifestReading {
  const resources: CapturedResource[] = [];
  const skipped: string[] = [];
  for (const { object, source } of objects) {
    const type = pulumiTypeOf(object.apiVersion, object.kind);
    if (!type) {
      skipped.push(`${source} ${String(object.apiVersion)}/${String(object.kind)}`);
      continue;
    }
    const metadata = isObject(object.metadata) ? object.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "(unnamed)";
    const display = typeof metadata.namespace === "string" ? `${metadata.namespace}/${name}` : name;
    resources.push({
      type,
      name: `${display} @ ${source}`,
      urn: `urn:pulumi:check::manifests::${type}::${source}`,
      props: object,
    });
  }
  return { resources, skipped };
}
