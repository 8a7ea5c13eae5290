import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CalicoPolicyConfig } from "../config/types";
import { parseCalicoSelector } from "../engine/calico/selector";
import { CALICO_API_VERSION, renderCalicoPolicy } from "./calico";
import { stageCalicoPolicy } from "./staged";

export interface CalicoNetworkPolicyArgs {
  /** Namespace the policy lives in (Calico NetworkPolicy is namespaced). */
  readonly namespace: string;
  /** The policy: name, Calico selector expression, order, types and rules. */
  readonly policy: CalicoPolicyConfig;
  /** Render the StagedNetworkPolicy (evaluated by Calico, never enforced) instead. */
  readonly staged?: boolean;
}

/**
 * A Calico `projectcalico.org/v3` NetworkPolicy, for what Kubernetes policies cannot say (ICMP).
 * The selector is parsed before anything is registered, so a typo fails the preview instead of
 * producing a policy Calico rejects or, worse, reads differently.
 */
export class CalicoNetworkPolicy extends pulumi.ComponentResource {
  /** The Calico custom resource. */
  public readonly policy: k8s.apiextensions.CustomResource;

  constructor(name: string, args: CalicoNetworkPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zt-netpol:calico:CalicoNetworkPolicy", name, args, opts);
    parseCalicoSelector(args.policy.selector);
    const enforced = renderCalicoPolicy(args.namespace, args.policy);
    const manifest = args.staged ? stageCalicoPolicy(enforced) : enforced;
    this.policy = new k8s.apiextensions.CustomResource(
      `${name}-policy`,
      {
        apiVersion: CALICO_API_VERSION,
        kind: manifest.kind,
        metadata: manifest.metadata,
        spec: manifest.spec,
      },
      // Children do not inherit dependsOn from their component: pass it on, so an order set on
      // the component (namespaceProtection.ts: after the baseline) holds for the resource itself.
      { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
    );
    this.registerOutputs({ ...args, policyName: manifest.metadata.name });
  }
}
