/**
 * Kubernetes manifests (YAML documents) as the resources the pack judges, for `npm run check`:
 * each object gets the Pulumi type string the program would register it under.
 */
import { CALICO_GLOBAL_NETWORK_POLICY_TYPE, CALICO_NETWORK_POLICY_TYPE } from "./calico";
import { K8S_NAMESPACE_TYPE, K8S_NETWORK_POLICY_TYPE } from "./netpol";
import { isObject } from "./read";
import { stagedPulumiTypeOf } from "./staged";
import type { CapturedResource } from "../run";

export interface ManifestSource {
  /** File the document came from, for messages. */
  readonly file: string;
  /** 0-based index of the document in the file. */
  readonly index: number;
  readonly document: unknown;
}

export interface ManifestReading {
  readonly resources: CapturedResource[];
  /** Objects of kinds the pack does not judge (Kustomization, ConfigMap…), as `file#index kind`. */
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
    const staged = stagedPulumiTypeOf(kind);
    if (staged) return staged;
  }
  if (kind === "Namespace" && apiVersion === "v1") return K8S_NAMESPACE_TYPE;
  return undefined;
}

export function resourcesFromManifests(sources: readonly ManifestSource[]): ManifestReading {
  const resources: CapturedResource[] = [];
  const skipped: string[] = [];
  const visit = (doc: unknown, where: string): void => {
    if (doc === null || doc === undefined) return; // an empty document between two `---`
    if (!isObject(doc)) {
      // Fail closed: something that is not an object cannot be shown to be harmless.
      throw new Error(`${where}: not a Kubernetes object`);
    }
    if (
      doc.kind === "List" ||
      (typeof doc.kind === "string" && doc.kind.endsWith("List") && Array.isArray(doc.items))
    ) {
      (doc.items as unknown[]).forEach((item, i) => visit(item, `${where}.items[${i}]`));
      return;
    }
    const type = pulumiTypeOf(doc.apiVersion, doc.kind);
    if (!type) {
      skipped.push(`${where} ${String(doc.apiVersion)}/${String(doc.kind)}`);
      return;
    }
    const metadata = isObject(doc.metadata) ? doc.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "(unnamed)";
    const display = typeof metadata.namespace === "string" ? `${metadata.namespace}/${name}` : name;
    resources.push({
      type,
      name: `${display} @ ${where}`,
      urn: `urn:pulumi:check::manifests::${type}::${where}`,
      props: doc,
    });
  };
  for (const source of sources) visit(source.document, `${source.file}#${source.index}`);
  return { resources, skipped };
}
