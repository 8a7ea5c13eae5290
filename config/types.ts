/**
 * The stack configuration schema: the operator's intent for one cluster.
 *
 * Everything here is plain data read from `Pulumi.<stack>.yaml` under the `zt-netpol:` namespace.
 * `validate.ts` turns the raw YAML into these types or fails with the offending key path.
 */

import type { Rollout } from "./rollout";

export type Protocol = "TCP" | "UDP" | "SCTP";

/**
 * Names that generated connections give external ends in reports and diffs. No LAN host may take
 * one of them (validate.ts), so a name in a report always means one thing.
 */
export const EXTERNAL_NAMES = {
  internet: "internet",
  kubeApi: "kubernetes-api",
  controlPlane: "control-plane",
  probeSource: "ztunnel-probe",
} as const;

/** A port with its protocol; `endPort` makes it an inclusive range. */
export interface PortSpec {
  readonly port: number;
  readonly protocol: Protocol;
  readonly endPort?: number;
}

/** Istio ambient settings; required as soon as any namespace is meshed. */
export interface MeshConfig {
  /** Namespace of istiod and ztunnel. */
  readonly namespace: string;
  /** HBONE tunnel port: meshed-to-meshed TCP reaches the CNI on this destination port. */
  readonly hbonePort: number;
  /** istiod ports that meshed workloads must reach (xDS, webhook). */
  readonly istiodPorts: readonly number[];
  /** Source of kubelet health probes in ambient mode (SNATed by istio-cni), a /32. */
  readonly probeSource: string;
  /** SPIFFE trust domain of workload identities (Istio's default `cluster.local`). */
  readonly trustDomain: string;
  /**
   * The CNI sees the original destination port of meshed-to-meshed TCP, not HBONE's (Calico
   * 3.32's bundled ztunnel keeps it, except through a waypoint). Default false.
   */
  readonly portPreserving: boolean;
}

export interface ClusterConfig {
  /** Human-readable cluster name for reports. */
  readonly name: string;
  /** Kubernetes API service ClusterIP and its port. */
  readonly apiServer: { readonly clusterIP: string; readonly port: number };
  /** Control-plane node network and the kube-apiserver port on it. */
  readonly controlPlane: { readonly cidr: string; readonly port: number };
  /** Cluster DNS: namespace, pod labels and port (UDP and TCP). */
  readonly dns: {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly port: number;
    /**
     * Resolvers the DNS pods forward to (LAN hosts or CIDRs), on the DNS port, UDP and TCP.
     * Empty when the config says `upstream: none` (the DNS pods answer cluster names only).
     */
    readonly upstream: readonly ExternalEndpoint[];
  };
  /** Ranges excepted from every internet egress rule; they cover RFC 1918 unless exempted. */
  readonly privateRanges: readonly string[];
  /** Parts of RFC 1918 that `privateRanges` deliberately leaves out, each with its reason. */
  readonly privateRangesExemptions: readonly PrivateRangeExemption[];
  /**
   * Namespace where Prometheus runs; it scrapes every namespace's metrics ports. Absent when
   * nothing scrapes: then no namespace may declare metricsPorts.
   */
  readonly monitoringNamespace?: string;
  /** Istio ambient mesh settings, absent when the cluster has no mesh. */
  readonly mesh?: MeshConfig;
  /** Named LAN hosts (IPv4 address or CIDR), usable as flow targets by name. */
  readonly lanHosts: Readonly<Record<string, string>>;
  /** Namespaces allowed to take ingress from the internet, and on which ports. */
  readonly edge: { readonly namespaces: readonly string[]; readonly ports: readonly number[] };
}

/** A part of RFC 1918 that internet egress may reach, and why. */
export interface PrivateRangeExemption {
  readonly range: string;
  readonly reason: string;
}

/** Egress to a named LAN host on some ports. */
export interface LanTarget {
  readonly host: string;
  readonly ports: readonly PortSpec[];
}

/** A Calico projectcalico.org/v3 rule. */
export interface CalicoRuleConfig {
  readonly action: "Allow" | "Deny" | "Log" | "Pass";
  readonly protocol?: "TCP" | "UDP" | "ICMP" | "ICMPv6" | "SCTP" | "UDPLite";
  /** Destination (egress) or source (ingress) networks: CIDRs or LAN host names. */
  readonly nets: readonly string[];
  readonly ports?: readonly number[];
}

/** A Calico NetworkPolicy for what Kubernetes policies cannot express (ICMP). */
export interface CalicoPolicyConfig {
  readonly name: string;
  /** Calico selector expression, e.g. `app == 'blackbox-exporter'`. */
  readonly selector: string;
  readonly order?: number;
  readonly types: readonly ("Ingress" | "Egress")[];
  readonly ingress: readonly CalicoRuleConfig[];
  readonly egress: readonly CalicoRuleConfig[];
}

/** What one protected namespace needs besides declared flows. */
export interface NamespaceConfig {
  readonly name: string;
  /** One line: what runs here (goes into the flow catalogue). */
  readonly purpose: string;
  /** Enrolled in the Istio ambient mesh (label istio.io/dataplane-mode=ambient). */
  readonly meshed: boolean;
  /** Needs the Kubernetes API (ClusterIP and control plane together). */
  readonly kubeApi: boolean;
  /** Ports reached on the internet (0.0.0.0/0 except private ranges). */
  readonly externalEgress: readonly PortSpec[];
  /** Ports scraped by Prometheus from the monitoring namespace. */
  readonly metricsPorts: readonly PortSpec[];
  /** Ports pods of this namespace use to talk to each other. */
  readonly intraNamespace: readonly PortSpec[];
  /** Admission webhook ports that the API server (control plane) calls. */
  readonly webhookPorts: readonly PortSpec[];
  /** Egress to named LAN hosts. */
  readonly lanEgress: readonly LanTarget[];
  /** Calico policies for this namespace (ICMP and friends). */
  readonly calicoPolicies: readonly CalicoPolicyConfig[];
  /** Why the namespace needs what it has: rendered into the flow catalogue. */
  readonly notes?: string;
  /** Staged (Calico staged kinds, never enforced) or enforced; absent means enforced. */
  readonly rollout?: Rollout;
  /** Where the namespace sits, for the pictures only (no policy depends on it). */
  readonly tier?: Tier;
}

/** Picture grouping: the edge faces the internet, apps serve users, platform runs the cluster. */
export const TIERS = ["edge", "apps", "platform"] as const;
export type Tier = (typeof TIERS)[number];

/** One end of a flow inside the cluster. */
export interface WorkloadEndpoint {
  readonly kind: "workload";
  readonly namespace: string;
  /** Pod labels; empty means every pod of the namespace. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The pods' service account: their mesh identity, used by ztunnel authorization. */
  readonly serviceAccount?: string;
}

/** One end of a flow outside the cluster (the internet, a LAN host, an IP range). */
export interface ExternalEndpoint {
  readonly kind: "external";
  /** A CIDR; `0.0.0.0/0` means the internet and gets the private-range excepts on egress. */
  readonly cidr: string;
  /** The LAN host name when the config used one, for reports. */
  readonly host?: string;
}

export type Endpoint = WorkloadEndpoint | ExternalEndpoint;

/** A flow declared once; every corner is generated from it. */
export interface FlowConfig {
  readonly name: string;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly ports: readonly PortSpec[];
  /** Why the flow exists (goes into the flow catalogue). */
  readonly reason: string;
}

/** Optional cert-manager install whose ports come from the cert-manager protection. */
export interface CertManagerConfig {
  readonly enabled: boolean;
  readonly namespace: string;
  /** Chart version pinned by the operator. */
  readonly version?: string;
}

/**
 * How the first `pulumi up` takes over objects that kubectl or ArgoCD applied (docs/migration.md,
 * step 5). Written by `npm run import`.
 */
export interface AdoptionConfig {
  /**
   * Put `pulumi.com/patchForce: "true"` on every object the program applies, so its server-side
   * apply takes over the fields another field manager (ArgoCD's `argocd-controller`, kubectl's)
   * owns instead of failing with a conflict. The provider reads the annotation in every v4
   * release (pulumi-kubernetes provider/v4 pkg/await/await.go `patchForce`); its stack-wide
   * `kubernetes:enablePatchForce` setting exists only from v4.29.
   */
  readonly patchForce: boolean;
}

export interface StackConfig {
  readonly cluster: ClusterConfig;
  readonly namespaces: readonly NamespaceConfig[];
  readonly flows: readonly FlowConfig[];
  readonly certManager?: CertManagerConfig;
  /** Stack-wide rollout default; each namespace's effective value is on the namespace. */
  readonly rollout?: Rollout;
  /** Taking over objects another tool applied (absent: no takeover settings). */
  readonly adoption?: AdoptionConfig;
}
