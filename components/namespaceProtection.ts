import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig, NamespaceConfig } from "../config/types";
import type { NamespaceAuthorization } from "./authorization";
import { CalicoNetworkPolicy } from "./calicoNetworkPolicy";
import type { Connection } from "./connections";
import { isStaged } from "../config/rollout";
import { renderNamespacePolicies, type NetworkPolicyManifest } from "./rules";
import { stageKubernetesPolicy } from "./staged";

export interface NamespaceProtectionArgs {
  /** Name of the protected namespace. */
  readonly namespace: string;
  /** What the namespace needs: mesh membership, API access, ports, Calico policies. */
  readonly config: NamespaceConfig;
  /** Cluster facts: DNS, API, private ranges, mesh settings. */
  readonly cluster: ClusterConfig;
  /** Every declared connection of the stack; the ones touching this namespace become its rules. */
  readonly connections: readonly Connection[];
  /** Istio ambient authorization and mTLS, for a meshed namespace (components/authorization.ts). */
  readonly authorization?: NamespaceAuthorization;
}

/**
 * Zero-trust protection for one namespace: a baseline NetworkPolicy that selects every pod and
 * denies both directions while carrying the namespace-wide allows (one object, so an update never
 * leaves the namespace denied without its allows), pod-scoped allow objects, and Calico policies.
 * The baseline depends on the pod-scoped objects so their allows exist before it denies, and each
 * pod-scoped object carries the baseline's namespace-wide allows of its directions, so whichever
 * isolates a pod first already admits what it will finally admit; the Calico policies come last.
 */
export class NamespaceProtection extends pulumi.ComponentResource {
  /**
   * The namespace-wide baseline (deny both directions plus namespace-wide allows); a
   * StagedKubernetesNetworkPolicy custom resource when the namespace's rollout is staged.
   */
  public readonly baseline: k8s.networking.v1.NetworkPolicy | k8s.apiextensions.CustomResource;
  /** Pod-scoped allow policies (staged kinds when the rollout is staged). */
  public readonly scopedPolicies: (
    | k8s.networking.v1.NetworkPolicy
    | k8s.apiextensions.CustomResource
  )[];
  /** Calico policies (ICMP and other non-Kubernetes protocols). */
  public readonly calicoPolicies: CalicoNetworkPolicy[];
  /** Istio AuthorizationPolicies (meshed namespaces only): namespace-wide first. */
  public readonly authorizationPolicies: k8s.apiextensions.CustomResource[] = [];
  /** The namespace's Istio PeerAuthentication (meshed namespaces only). */
  public readonly peerAuthentication?: k8s.apiextensions.CustomResource;

  constructor(name: string, args: NamespaceProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zt-netpol:network:NamespaceProtection", name, args, opts);
    const [baseline, ...scoped] = renderNamespacePolicies(
      args.namespace,
      args.connections,
      args.cluster,
    );
    const staged = isStaged(args.config);
    // Staged and enforced objects are different Pulumi types (different URNs): promotion creates
    // the enforced ones, in the same dependsOn order, before the engine deletes the staged ones.
    const render = (
      resourceName: string,
      manifest: NetworkPolicyManifest,
      options: pulumi.CustomResourceOptions,
    ): k8s.networking.v1.NetworkPolicy | k8s.apiextensions.CustomResource =>
      staged
        ? new k8s.apiextensions.CustomResource(
            resourceName,
            stageKubernetesPolicy(manifest),
            options,
          )
        : new k8s.networking.v1.NetworkPolicy(
            resourceName,
            { metadata: manifest.metadata, spec: manifest.spec },
            options,
          );
    this.scopedPolicies = scoped.map((manifest) =>
      render(`${name}-${manifest.metadata.name}`, manifest, { parent: this }),
    );
    this.baseline = render(`${name}-baseline`, baseline, {
      parent: this,
      dependsOn: this.scopedPolicies,
    });
    // The Calico policies come after the baseline. A Calico policy that applies to an endpoint
    // ends its tier with a deny, so created first on a first enforcement it would isolate its pods
    // with only its own rules (ICMP) until the baseline exists. After the baseline, what remains is
    // the other way round and smaller: for a moment the baseline isolates the pods and ICMP alone
    // is denied until the Calico policy exists. The update direction stays safe because a Calico
    // policy carries what Kubernetes policies cannot say (ICMP and other protocols), so no allow
    // moves between it and the baseline; if one ever did move from the baseline into a Calico
    // policy, the baseline would drop it first (docs/rollout.md, "The first-enforcement window").
    // On delete Pulumi goes the reverse way: the Calico policies, then the baseline, then the
    // pod-scoped objects, which carry the baseline's allows (components/rules.ts).
    this.calicoPolicies = args.config.calicoPolicies.map(
      (policy) =>
        new CalicoNetworkPolicy(
          `${name}-${policy.name}`,
          { namespace: args.namespace, policy, ...(staged ? { staged } : {}) },
          { parent: this, dependsOn: [this.baseline] },
        ),
    );
    // Istio authorization has no staged kind: it is rendered as written whatever the rollout
    // (docs/rollout.md, "What staging does not cover").
    if (args.authorization) {
      // Pod-scoped ALLOW policies before the namespace-wide one (it would otherwise cut their
      // flows off for a moment), and mTLS last, once every allow is in place.
      const [wide, ...rest] = args.authorization.policies;
      const custom = (
        manifest: { apiVersion: string; kind: string; metadata: object; spec: object },
        dependsOn: pulumi.Resource[],
      ) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${(manifest.metadata as { name: string }).name}`,
          {
            apiVersion: manifest.apiVersion,
            kind: manifest.kind,
            metadata: manifest.metadata,
            spec: manifest.spec,
          },
          { parent: this, dependsOn },
        );
      const scoped = rest.map((m) => custom(m, []));
      const namespaceWide = custom(wide, scoped);
      this.authorizationPolicies.push(namespaceWide, ...scoped);
      this.peerAuthentication = custom(args.authorization.peerAuthentication, [
        namespaceWide,
        ...scoped,
      ]);
    }
    // Outputs carry the args too: under the real engine they are what stack policies read.
    this.registerOutputs({
      ...args,
      baselineName: baseline.metadata.name,
      policyCount: 1 + scoped.length + this.calicoPolicies.length,
      authorizationPolicyCount: this.authorizationPolicies.length,
    });
  }
}
