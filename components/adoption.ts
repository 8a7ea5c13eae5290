/**
 * Adoption of objects another tool applied (docs/migration.md, step 5): with `adoption.patchForce`
 * every Kubernetes object of a namespace's protection carries `pulumi.com/patchForce: "true"`.
 *
 * What the provider does with it (pulumi-kubernetes provider/v4 at v4.25.0, the chain's build):
 * a create under server-side apply is an apply PATCH, so an object that already exists is taken
 * over instead of failing with AlreadyExists (pkg/await/await.go `Creation`: "we always send a
 * PATCH request during creates with SSA enabled"); the PATCH is forced when the object's inputs
 * carry this annotation (pkg/await/await.go `patchForce`), so the fields ArgoCD's field manager
 * owns move to the provider's instead of the apply failing with a conflict.
 */
import type * as pulumi from "@pulumi/pulumi";

export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A resource transformation that adds the annotation to every `kubernetes:` resource. */
export function patchForceTransformation(
  args: pulumi.ResourceTransformationArgs,
): pulumi.ResourceTransformationResult | undefined {
  if (!args.type.startsWith("kubernetes:")) return undefined;
  const metadata: unknown = args.props.metadata;
  const annotations: unknown = isPlainObject(metadata) ? metadata.annotations : undefined;
  // The builders render plain objects; anything else would be annotated blindly, so refuse it.
  if (!isPlainObject(metadata) || (annotations !== undefined && !isPlainObject(annotations)))
    throw new Error(`${args.name}: adoption.patchForce needs plain metadata to annotate`);
  return {
    props: {
      ...args.props,
      metadata: {
        ...metadata,
        annotations: { ...(annotations ?? {}), [PATCH_FORCE_ANNOTATION]: "true" },
      },
    },
    opts: args.opts,
  };
}
