import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/types";
import { patchForceTransformation } from "./adoption";
import { renderNamespaceAuthorization } from "./authorization";
import { CertManagerInstall } from "./certManager";
import { connectionsByNamespace, expandConnections, type Connection } from "./connections";
import { NamespaceProtection } from "./namespaceProtection";

/** The validated stack config. */
export type ClusterProtectionArgs = StackConfig;

/**
 * The whole cluster's zero-trust setup: one NamespaceProtection per declared namespace, rendered
 * from the connections the config declares, and the optional workloads that must start behind
 * them. Its args are the validated stack config, so stack policies see the intent as props.
 */
export class ClusterProtection extends pulumi.ComponentResource {
  /** Protections by namespace name. */
  public readonly namespaces: Record<string, NamespaceProtection>;
  /** Every declared connection, universal patterns included. */
  public readonly connections: readonly Connection[];
  /** The cert-manager install, when enabled. */
  public readonly certManager?: CertManagerInstall;

  constructor(name: string, args: ClusterProtectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zt-netpol:cluster:ClusterProtection", name, args, opts);
    this.connections = expandConnections(args);
    this.namespaces = {};
    const touching = connectionsByNamespace(this.connections);
    // Adoption: the takeover annotation on every object of every namespace (components/adoption.ts).
    const childOptions: pulumi.ComponentResourceOptions = {
      parent: this,
      ...(args.adoption?.patchForce ? { transformations: [patchForceTransformation] } : {}),
    };
    for (const ns of args.namespaces) {
      const connections = touching.get(ns.name) ?? [];
      this.namespaces[ns.name] = new NamespaceProtection(
        ns.name,
        {
          namespace: ns.name,
          config: ns,
          cluster: args.cluster,
          connections,
          // Only connections into the namespace matter to its authorization: those touching it.
          ...(ns.meshed && args.cluster.mesh
            ? { authorization: renderNamespaceAuthorization(args, ns.name, connections) }
            : {}),
        },
        childOptions,
      );
    }
    const cm = args.certManager;
    if (cm?.enabled) {
      const protection = this.namespaces[cm.namespace];
      const protectionConfig = args.namespaces.find((n) => n.name === cm.namespace);
      if (!protection || !protectionConfig)
        throw new Error(`cert-manager namespace "${cm.namespace}" has no protection`);
      // Sync-wave -40 in the seed: workloads start only once their namespace is protected.
      this.certManager = new CertManagerInstall(
        `${name}-cert-manager`,
        { certManager: cm, protection: protectionConfig },
        { parent: this, dependsOn: [protection] },
      );
    }
    // The real engine shows stack policies a component's outputs, not its args: the intent rides
    // along so the policy pack can read it under `pulumi preview` as it does offline.
    this.registerOutputs({
      ...args,
      protectedNamespaces: Object.keys(this.namespaces),
      connectionCount: this.connections.length,
    });
  }
}
