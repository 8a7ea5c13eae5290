/**
 * What the loader must know about kinds: which API groups decide or shape traffic (so a kind of
 * theirs that does not exist is a typo, never "some other kind"), and which kinds are
 * cluster-scoped (no namespace is set on them, by kustomize or by `--namespace`).
 *
 * Kind lists: Kubernetes API reference (networking.k8s.io/v1, policy.networking.k8s.io of the
 * network-policy-api project), Calico resource reference
 * (https://docs.tigera.io/calico/latest/reference/resources/overview) and Istio security
 * reference (https://istio.io/latest/docs/reference/config/security/).
 */

/** Kinds each policy API group serves, by group; `true` marks a cluster-scoped kind. */
const CALICO_KINDS: Readonly<Record<string, boolean>> = {
  NetworkPolicy: false,
  GlobalNetworkPolicy: true,
  StagedNetworkPolicy: false,
  StagedGlobalNetworkPolicy: true,
  StagedKubernetesNetworkPolicy: false,
  NetworkSet: false,
  GlobalNetworkSet: true,
  HostEndpoint: true,
  Tier: true,
  BGPConfiguration: true,
  BGPPeer: true,
  BGPFilter: true,
  FelixConfiguration: true,
  IPPool: true,
  IPReservation: true,
  IPAMConfiguration: true,
  ClusterInformation: true,
  KubeControllersConfiguration: true,
  CalicoNodeStatus: true,
  Profile: true,
  WorkloadEndpoint: false,
  BlockAffinity: true,
  IPAMBlock: true,
  IPAMHandle: true,
};

const POLICY_GROUP_KINDS: Readonly<Record<string, Readonly<Record<string, boolean>>>> = {
  "networking.k8s.io": {
    NetworkPolicy: false,
    Ingress: false,
    IngressClass: true,
    IPAddress: true,
    ServiceCIDR: true,
  },
  "projectcalico.org": CALICO_KINDS,
  "crd.projectcalico.org": CALICO_KINDS,
  "policy.networking.k8s.io": {
    AdminNetworkPolicy: true,
    BaselineAdminNetworkPolicy: true,
    ClusterNetworkPolicy: true,
  },
  "security.istio.io": {
    AuthorizationPolicy: false,
    PeerAuthentication: false,
    RequestAuthentication: false,
  },
};

/** Cluster-scoped kinds outside the policy groups that manifests commonly hold. */
const OTHER_CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "PriorityClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "RuntimeClass",
  "CSIDriver",
  "VolumeSnapshotClass",
  "ClusterIssuer",
]);

export function apiGroupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function isPolicyGroup(group: string): boolean {
  return group in POLICY_GROUP_KINDS;
}

/** The kinds a policy group serves, or undefined for any other group. */
export function policyGroupKinds(group: string): readonly string[] | undefined {
  const kinds = POLICY_GROUP_KINDS[group];
  return kinds ? Object.keys(kinds) : undefined;
}

export function isClusterScoped(apiVersion: string, kind: string): boolean {
  const kinds = POLICY_GROUP_KINDS[apiGroupOf(apiVersion)];
  if (kinds && kind in kinds) return kinds[kind];
  return OTHER_CLUSTER_SCOPED.has(kind);
}

/** A namespaced kind of a policy group: it must say which namespace it protects. */
export function isNamespacedPolicyKind(apiVersion: string, kind: string): boolean {
  const kinds = POLICY_GROUP_KINDS[apiGroupOf(apiVersion)];
  return kinds !== undefined && kind in kinds && !kinds[kind];
}

/**
 * One object's identity as the API server keys it: group, kind, namespace, name. Calico's
 * API server (projectcalico.org) stores its objects as crd.projectcalico.org CRDs, so both
 * groups name one object.
 */
export function objectIdentity(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  const group = apiGroupOf(apiVersion).replace(/^crd\.projectcalico\.org$/, "projectcalico.org");
  return `${group}|${kind}|${namespace ?? ""}|${name}`;
}

/**
 * Why a second object with an identity already seen cannot be judged: the API server keeps one
 * object per kind, namespace and name, the one applied last, and a tree does not say which.
 */
export function duplicateObjectMessage(
  kind: string,
  namespace: string | undefined,
  name: string,
  firstSource: string | undefined,
): string {
  return `duplicate object: ${firstSource ?? "an earlier document"} defines ${kind} ${namespace ? `${namespace}/` : ""}${name} too; the cluster keeps only the one applied last, which the files cannot tell: rename or remove one`;
}
