import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import type { CertManagerConfig, NamespaceConfig } from "../config/types";

export interface CertManagerInstallArgs {
  /** The opt-in settings from stack config (namespace, chart version). */
  readonly certManager: CertManagerConfig;
  /** The cert-manager namespace's protection config: the single source of its ports. */
  readonly protection: NamespaceConfig;
}

/** Chart values whose ports come from the namespace protection, so policy and workload agree. */
export function certManagerValues(args: CertManagerInstallArgs): certmanager.CertManagerArgs {
  const webhookPort = args.protection.webhookPorts[0]?.port;
  const metricsPort = args.protection.metricsPorts[0]?.port;
  if (webhookPort === undefined || metricsPort === undefined) {
    throw new Error(
      `cert-manager needs webhookPorts and metricsPorts on namespace "${args.protection.name}"`,
    );
  }
  return {
    installCRDs: true,
    webhook: { securePort: webhookPort },
    // The controller's listen address and the scrape target both follow the protection's port.
    extraArgs: [`--metrics-listen-address=0.0.0.0:${metricsPort}`],
    prometheus: { enabled: true, serviceMonitor: { enabled: false, targetPort: metricsPort } },
    helmOptions: {
      namespace: args.certManager.namespace,
      ...(args.certManager.version ? { version: args.certManager.version } : {}),
    },
  };
}

/** cert-manager from @pulumi/kubernetes-cert-manager, wired to its namespace protection. */
export class CertManagerInstall extends pulumi.ComponentResource {
  /** The cert-manager component. */
  public readonly release: certmanager.CertManager;

  constructor(name: string, args: CertManagerInstallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zt-netpol:apps:CertManagerInstall", name, args, opts);
    this.release = new certmanager.CertManager(`${name}-release`, certManagerValues(args), {
      parent: this,
    });
    this.registerOutputs({ namespace: args.certManager.namespace });
  }
}
