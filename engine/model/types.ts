/** The normalised cluster model every evaluator and report works on. */
import type { ConnectionSet } from "./connections";
import type { Ipv4Range, Ipv6Range } from "./ipv4";
import type { LabelRequirement, Labels, LabelSelectorMatcher } from "./label-selector";
import type { SelectorNode } from "../calico/selector-ast";
import type { ObjectRef } from "./problems";
import type { PortProtocol } from "./connections";
import type {
  NormalAuthorizationPolicy,
  NormalPeerAuthentication,
} from "../normalise/istio-authorization";

export interface MeshOptions {
  /** Namespace of istiod and ztunnel (never meshed itself). */
  readonly namespace: string;
  /** HBONE port: meshed-to-meshed TCP reaches the CNI on this destination port. */
  readonly hbonePort: number;
  /** Source IP of kubelet probes to meshed pods (SNAT by istio-cni), e.g. 169.254.7.127. */
  readonly probeSource: string;
  /** Namespaces meshed in addition to those labelled istio.io/dataplane-mode=ambient. */
  readonly meshedNamespaces?: readonly string[];
  /** SPIFFE trust domain of workload identities (Istio's default: cluster.local). */
  readonly trustDomain?: string;
  /**
   * The CNI sees the original destination port of meshed-to-meshed TCP instead of the HBONE port
   * (Calico 3.32's bundled ztunnel keeps it, except through a waypoint).
   */
  readonly portPreserving?: boolean;
}

export interface EngineOptions {
  /**
   * Whether ipBlock peers (and Calico nets) match pod IPs. Calico does (default true);
   * netpol-analyzer assumes they never do (false).
   */
  readonly ipBlockMatchesPods?: boolean;
  /** Istio ambient settings; absent = no mesh. */
  readonly mesh?: MeshOptions;
  /** Range used to synthesise deterministic pod IPs when manifests carry none. */
  readonly podCidr?: string;
  /**
   * Without workloads in the input, derive representative pods from the selectors
   * (engine/model/representative.ts; default true). `false` keeps the model pod-less.
   */
  readonly representativePods?: boolean;
  /**
   * A Kubernetes port entry with a protocol the API rejects (ICMP): "error" (default) or "drop"
   * (warned, the entry allows nothing), for reading a tree that is being migrated.
   */
  readonly unsupportedProtocols?: "error" | "drop";
  /** Namespaces that exist besides those the input names (e.g. a stack's), for that inventory. */
  readonly extraNamespaces?: readonly string[];
}

export interface ResolvedOptions {
  readonly ipBlockMatchesPods: boolean;
  readonly mesh?: MeshOptions;
  readonly meshProbeSource?: number;
  readonly podCidr: Ipv4Range;
}

export interface NamespaceInfo {
  readonly name: string;
  /** Labels incl. kubernetes.io/metadata.name (always set, as the API server does). */
  readonly labels: Labels;
  /** Labels as Calico's namespaceSelector sees them (adds projectcalico.org/name). */
  readonly calicoLabels: Labels;
  /** False when synthesised because something referenced it. */
  readonly declared: boolean;
  readonly meshed: boolean;
}

export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: PortProtocol;
}

export interface PodInfo {
  readonly id: number;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Labels as Calico selectors see them (adds projectcalico.org/namespace, orchestrator). */
  readonly calicoLabels: Labels;
  readonly namespaceLabels: Labels;
  readonly calicoNamespaceLabels: Labels;
  readonly ip: number;
  readonly ipSynthesised: boolean;
  readonly namedPorts: readonly NamedPort[];
  /** The workload owning the pod (itself for a bare Pod). */
  readonly owner: { readonly kind: string; readonly name: string };
  readonly meshed: boolean;
  /** `spec.serviceAccountName` ("default" when unset): the pod's mesh identity. */
  readonly serviceAccount?: string;
  /** True for a pod invented by a query because no real pod matched. */
  readonly hypothetical: boolean;
}

export type Endpoint =
  | { readonly kind: "pod"; readonly pod: PodInfo }
  | {
      readonly kind: "external";
      readonly range: Ipv4Range;
      /** The network sets holding the range, when a report named it (`networkset ns/name`). */
      readonly name?: string;
    };

/**
 * A Calico NetworkSet (namespaced) or GlobalNetworkSet: named address ranges that rule selectors
 * match by label, as they match workload endpoints (engine/normalise/network-set.ts).
 */
export interface NetworkSetInfo {
  readonly ref: ObjectRef & { readonly kind: "NetworkSet" | "GlobalNetworkSet" };
  /** Undefined for a GlobalNetworkSet. */
  readonly namespace?: string;
  readonly name: string;
  /** Labels as rule selectors see them: `metadata.labels`, plus for a NetworkSet
   * `projectcalico.org/namespace` and its namespace's labels under the `pcns.` prefix. */
  readonly calicoLabels: Labels;
  /** Labels of its namespace as a namespaceSelector sees them; undefined for a GlobalNetworkSet. */
  readonly namespaceLabels?: Labels;
  /** `spec.nets` (IPv4; IPv6 nets are warned about and left out of the IPv4 model). */
  readonly nets: readonly Ipv4Range[];
  /** How reports name it: `networkset default/trusted-lan (10.0.0.0/16)`. */
  readonly label: string;
  /** File and document it came from, when loaded from files. */
  readonly source?: string;
}

/** How to find the pods a matcher may match without scanning every pod. */
export type PodHint =
  | { readonly kind: "none" }
  | { readonly kind: "all" }
  | { readonly kind: "namespaces"; readonly names: readonly string[] }
  | { readonly kind: "namespaceLabel"; readonly key: string; readonly values: readonly string[] }
  | { readonly kind: "ipRanges"; readonly ranges: readonly Ipv4Range[] };

/**
 * A peer as it was written, for tools that translate policies back into intent (import) or
 * invent pods the selectors tell apart (representative inventory). Matching never reads it.
 * Not stored: derived from the rule's written form by `peerShape` (engine/model/shapes.ts).
 */
export type PeerShape =
  | {
      readonly kind: "pods";
      /** "own" = the policy's namespace (nil namespaceSelector); [] = every namespace. */
      readonly namespaces: "own" | readonly LabelRequirement[];
      readonly pods: readonly LabelRequirement[];
    }
  | { readonly kind: "ipBlock"; readonly cidr: Ipv4Range; readonly except: readonly Ipv4Range[] }
  | {
      readonly kind: "calico";
      readonly selector?: SelectorNode;
      readonly namespaceSelector?: SelectorNode;
      readonly nets?: readonly Ipv4Range[];
      readonly notNets?: readonly Ipv4Range[];
    }
  /** Calico Enterprise `destination.domains`: names whose addresses DNS gives at run time. */
  | { readonly kind: "domains"; readonly domains: readonly string[] };

/** What a policy's target selector says, derived from `written` by `targetShape`. */
export type TargetShape =
  | { readonly kind: "labels"; readonly requirements: readonly LabelRequirement[] }
  | { readonly kind: "calico"; readonly selector: SelectorNode; readonly text: string };

/** One peer of a rule (an AND of its criteria). */
export interface EndpointMatcher {
  /** Canonical text; equal keys mean equal matchers (used to cache candidate sets). */
  readonly key: string;
  /** What a person reads in an explanation. */
  readonly description: string;
  /** True when the decision depends on IP ranges (so ipBlockMatchesPods matters). */
  readonly byIp: boolean;
  /** IP ranges whose boundaries cut the external address space into blocks. */
  readonly ranges: readonly Ipv4Range[];
  readonly podHint: PodHint;
  matchPod(pod: PodInfo): boolean;
  matchExternal(range: Ipv4Range): boolean;
  /** Label keys of pods the matcher reads (for equivalence classes). */
  readonly podLabelKeys: readonly string[];
  /**
   * Calico Enterprise `destination.domains`: the peer is whatever addresses DNS gives for these
   * names at run time, which no static analysis knows; such a matcher matches no pod and no
   * address block, and reports name it as its own peer.
   */
  readonly domains?: readonly string[];
  /** Calico: the network sets (their `label`s) whose nets the selector stands for, if any. */
  readonly networkSets?: readonly string[];
}

export type RuleAction = "Allow" | "Deny" | "Log" | "Pass";

/**
 * The written form of a rule, kept by the normaliser (the one reading) for the checks where the
 * form is the point: which peer item says what, at which path. Every part is already validated.
 */
export type WrittenPeer =
  | {
      readonly kind: "pods";
      readonly path: string;
      /** Absent: the policy's own namespace (Kubernetes) or its scope (Calico). */
      readonly namespaceSelector?: LabelSelectorMatcher;
      readonly podSelector?: LabelSelectorMatcher;
      /** The model's matcher for this peer. */
      readonly matcher: EndpointMatcher;
    }
  | {
      readonly kind: "ipBlock";
      readonly family: 4;
      readonly path: string;
      readonly text: string;
      readonly prefix: number;
      readonly cidr: Ipv4Range;
      readonly except: readonly Ipv4Range[];
      readonly matcher: EndpointMatcher;
    }
  | {
      /** Kept although the IPv4 model ignores it: the pack judges what it admits. */
      readonly kind: "ipBlock";
      readonly family: 6;
      readonly path: string;
      readonly text: string;
      readonly prefix: number;
      readonly cidr: Ipv6Range;
      readonly except: readonly Ipv6Range[];
    };

export interface WrittenPort {
  readonly path: string;
  /** Normalised (upper case). */
  readonly protocol: PortProtocol;
  /** As written (`tcp` stays `tcp`); `undefined` when the field is absent (TCP). */
  readonly protocolText?: string;
  /** Absent: every port of the protocol. */
  readonly ports?: { readonly from: number; readonly to: number } | { readonly name: string };
}

export interface WrittenRule {
  /** "any" when the rule has no `from`/`to` (or an empty list). */
  readonly peers: "any" | readonly WrittenPeer[];
  /** Absent when the rule has no `ports` (every protocol, every port). */
  readonly ports?: readonly WrittenPort[];
}
export type Direction = "ingress" | "egress";

export interface NormalRule {
  /** 0-based position in the policy's rule list for its direction. */
  readonly index: number;
  /** Field path, e.g. `spec.ingress[2]`. */
  readonly path: string;
  readonly action: RuleAction;
  /** Criteria on the packet source; "any" when unrestricted. OR over the list. */
  readonly sources: "any" | readonly EndpointMatcher[];
  /** Criteria on the packet destination; "any" when unrestricted. OR over the list. */
  readonly destinations: "any" | readonly EndpointMatcher[];
  /** Allowed protocol/ports, resolved against the destination (named ports). */
  connections(destination: Endpoint): ConnectionSet;
  readonly portsDescription: string;
  readonly usesNamedPorts: boolean;
  /**
   * Every connection the rule may allow towards some destination: a named port counts as every
   * port of its protocol, since it resolves to whatever the destination pod calls that name.
   */
  readonly possibleConnections: ConnectionSet;
  /** The connections the rule matches towards every destination (named ports left out). */
  readonly certainConnections: ConnectionSet;
  /** Kubernetes rules only: the written form (Calico keeps its own, see WrittenCalicoRule). */
  readonly written?: WrittenRule;
  /** Calico rules only. */
  readonly calico?: WrittenCalicoRule;
}

/** A Calico entity (source or destination) as written, validated. */
export interface WrittenCalicoEntity {
  readonly path: string;
  readonly selector?: string;
  readonly notSelector?: string;
  readonly namespaceSelector?: string;
  /** The parsed `selector` and `namespaceSelector` (the same reading the matcher evaluates). */
  readonly selectorNode?: SelectorNode;
  readonly namespaceSelectorNode?: SelectorNode;
  readonly nets: readonly WrittenNet[];
  readonly notNets: readonly WrittenNet[];
  readonly hasPorts: boolean;
  /** `destination.domains` (Calico Enterprise), as written; absent when not given. */
  readonly domains?: readonly string[];
}

export interface WrittenNet {
  readonly path: string;
  readonly text: string;
  readonly family: 4 | 6;
  readonly prefix: number;
  /** IPv6 nets: the addresses (the IPv4 model also holds IPv4 nets in the rule's matcher). */
  readonly ipv6?: Ipv6Range;
  /** IPv4 nets: the addresses. */
  readonly ipv4?: Ipv4Range;
}

export interface WrittenCalicoRule {
  /** As written; absent means every protocol. */
  readonly protocol?: string | number;
  /**
   * What the rule may allow for IPv6 traffic (`ipVersion: 6` rules match nothing in the IPv4
   * model, yet open IPv6); absent for `ipVersion: 4` rules.
   */
  readonly ipv6Connections?: ConnectionSet;
  readonly source: WrittenCalicoEntity;
  readonly destination: WrittenCalicoEntity;
}

/** What the policy says about itself as written (before defaulting). */
export interface WrittenPolicy {
  /** `spec.policyTypes` / `spec.types` as written; absent when the field is absent or empty. */
  readonly types?: readonly ("Ingress" | "Egress")[];
  /** Rules written per direction, including those the types make the API ignore. */
  readonly ruleCounts: { readonly ingress: number; readonly egress: number };
  /** Kubernetes: `spec.podSelector`. */
  readonly podSelector?: LabelSelectorMatcher;
  /** Calico: `spec.selector` as written (absent: every endpoint in scope). */
  readonly selectorText?: string;
  /** Calico: `spec.selector` parsed (`all()` when absent). */
  readonly selector?: SelectorNode;
}

export type EnforcedPolicyKind =
  | "NetworkPolicy"
  | "projectcalico.org/NetworkPolicy"
  | "projectcalico.org/GlobalNetworkPolicy";

/** Calico's staged kinds: evaluated by Felix ("pending" in flow logs), never enforced. */
export type StagedKind =
  | "projectcalico.org/StagedKubernetesNetworkPolicy"
  | "projectcalico.org/StagedNetworkPolicy"
  | "projectcalico.org/StagedGlobalNetworkPolicy";

export type PolicyKind = EnforcedPolicyKind | StagedKind;

/** Calico's stagedAction values the engine models (Learn and Ignore are rejected). */
export type StagedAction = "Set" | "Delete";

/** What a staged policy is and what promoting it does. */
export interface StagedMarker {
  readonly kind: StagedKind;
  /** Set: becomes (or replaces) the enforced policy of the same name; Delete: removes it. */
  readonly action: StagedAction;
  readonly enforcedKind: EnforcedPolicyKind;
}

/** What a Calico tier does when it applies to an endpoint and none of its policies decides. */
export type TierDefaultAction = "Deny" | "Pass";

/**
 * A Calico `Tier` (projectcalico.org/v3), or the built-in `default` tier when the input has none.
 * Tiers run by (order, name); a missing order sorts after every ordered tier (+Infinity).
 */
export interface NormalTier {
  readonly name: string;
  readonly order: number;
  readonly defaultAction: TierDefaultAction;
  /** False for the built-in default tier that no input object declares. */
  readonly declared: boolean;
  /** File and document of the Tier object, when loaded from files. */
  readonly source?: string;
}

export interface NormalPolicy {
  readonly ref: ObjectRef & { readonly kind: PolicyKind };
  /** Namespace the policy lives in; undefined for a GlobalNetworkPolicy. */
  readonly namespace?: string;
  /** Calico tier (`spec.tier`; `default` when absent and for Kubernetes policies). */
  readonly tier: string;
  /** The tier's order (set by buildModel from the Tier objects; sorts before `order`). */
  readonly tierOrder: number;
  /** Calico order; Kubernetes policies are 1000; a missing Calico order is +Infinity. */
  readonly order: number;
  /**
   * Name used to break ties between equal orders, as Felix sorts them: its policy key, which is
   * `<namespace>/<name>` for namespaced kinds (`<namespace>/knp.default.<name>` for Kubernetes
   * policies) and `<name>` for global ones.
   */
  readonly sortName: string;
  readonly appliesTo: { readonly ingress: boolean; readonly egress: boolean };
  readonly ingress: readonly NormalRule[];
  readonly egress: readonly NormalRule[];
  readonly targetDescription: string;
  selects(pod: PodInfo): boolean;
  /** Label keys the target selector reads. */
  readonly targetLabelKeys: readonly string[];
  readonly written: WrittenPolicy;
  /** File and document the policy came from (`dir/file.yaml#2`), when loaded from files. */
  readonly source?: string;
  /** Present only on staged policies, which live in `ClusterModel.stagedPolicies`. */
  readonly staged?: StagedMarker;
}

export interface IgnoredObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface ClusterModel {
  readonly options: ResolvedOptions;
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  readonly pods: readonly PodInfo[];
  /**
   * All enforced policies, sorted by (tierOrder, tier, order, sortName). Staged policies are
   * never here.
   */
  readonly policies: readonly NormalPolicy[];
  /** Every tier by name, the built-in `default` tier included. */
  readonly tiers: ReadonlyMap<string, NormalTier>;
  /**
   * Staged policies (each with its `staged` marker), sorted like `policies`. No evaluation reads
   * them; `promotedModel` and `pendingModel` (engine/evaluate/promote.ts) turn them into views.
   */
  readonly stagedPolicies?: readonly NormalPolicy[];
  readonly ignored: readonly IgnoredObject[];
  readonly warnings: readonly string[];
  /** Calico NetworkSets and GlobalNetworkSets, sorted by namespace and name (absent = none). */
  readonly networkSets?: readonly NetworkSetInfo[];
  /** Istio AuthorizationPolicies as ztunnel enforces them (absent = none). */
  readonly authorizationPolicies?: readonly NormalAuthorizationPolicy[];
  /** Istio PeerAuthentications (absent = none: PERMISSIVE). */
  readonly peerAuthentications?: readonly NormalPeerAuthentication[];
}
