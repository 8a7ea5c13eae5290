/**
 * Plain Kubernetes/Calico objects → ClusterModel. Fails closed: every problem is collected and
 * thrown together as a ManifestError naming object and field.
 */
import type { SourcedObject } from "../load/parse";
import { normaliseCalicoPolicy } from "../normalise/calico-policy";
import { normaliseKubernetesPolicy } from "../normalise/k8s-policy";
import {
  normaliseAuthorizationPolicy,
  normalisePeerAuthentication,
  type NormalAuthorizationPolicy,
  type NormalPeerAuthentication,
} from "../normalise/istio-authorization";
import { duplicateObjectMessage, objectIdentity } from "../load/kinds";
import { isStagedKind, normaliseStagedPolicy } from "../normalise/staged";
import { NetworkSetScope } from "../normalise/matchers";
import { NETWORK_SET_KINDS, normaliseNetworkSet } from "../normalise/network-set";
import { BUILT_IN_DEFAULT_TIER, DEFAULT_TIER, normaliseTier } from "../normalise/tier";
import { isPortProtocol } from "./connections";
import type { PortProtocol } from "./connections";
import { formatIpv4, parseCidr, parseIpv4 } from "./ipv4";
import { labelKeyProblem, labelValueProblem } from "./label-selector";
import { CALICO_SERVICE_ACCOUNT_LABEL, CALICO_SERVICE_ACCOUNT_PREFIX } from "../normalise/matchers";
import type { Labels } from "./label-selector";
import type { ObjectRef } from "./problems";
import { ManifestError, ProblemSink } from "./problems";
import { withRepresentativePods } from "./representative";
import type {
  ClusterModel,
  EndpointMatcher,
  EngineOptions,
  IgnoredObject,
  NamedPort,
  NamespaceInfo,
  NetworkSetInfo,
  NormalPolicy,
  NormalTier,
  PodInfo,
  ResolvedOptions,
} from "./types";

type Raw = Record<string, unknown>;

/** Kinds that carry a pod template, and where it lives. */
const WORKLOAD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

export const DEFAULT_POD_CIDR = "10.244.0.0/16";
const MESH_LABEL = "istio.io/dataplane-mode";

function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function dig(obj: unknown, path: readonly string[]): unknown {
  let current: unknown = obj;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function resolveOptions(options: EngineOptions = {}): ResolvedOptions {
  const podCidr = parseCidr(options.podCidr ?? DEFAULT_POD_CIDR);
  if (podCidr === undefined) throw new Error(`invalid podCidr ${options.podCidr}`);
  let meshProbeSource: number | undefined;
  if (options.mesh) {
    meshProbeSource = parseCidr(options.mesh.probeSource)?.lo;
    if (meshProbeSource === undefined)
      throw new Error(`invalid mesh.probeSource ${options.mesh.probeSource}`);
    if (
      !Number.isInteger(options.mesh.hbonePort) ||
      options.mesh.hbonePort < 1 ||
      options.mesh.hbonePort > 65535
    )
      throw new Error(`invalid mesh.hbonePort ${options.mesh.hbonePort}`);
  }
  return {
    ipBlockMatchesPods: options.ipBlockMatchesPods ?? true,
    mesh: options.mesh,
    meshProbeSource,
    podCidr,
  };
}

function readLabels(
  raw: unknown,
  ref: ObjectRef,
  path: string,
  sink: ProblemSink,
  source?: string,
): Labels {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) {
    sink.report(ref, path, "must be a map of strings", source);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) sink.report(ref, path, keyProblem, source);
    if (typeof value !== "string") {
      sink.report(ref, `${path}.${key}`, "label value must be a string", source);
      continue;
    }
    const valueProblem = labelValueProblem(value);
    if (valueProblem) sink.report(ref, `${path}.${key}`, valueProblem, source);
    out[key] = value;
  }
  return out;
}

function readNamedPorts(
  podSpec: unknown,
  ref: ObjectRef,
  path: string,
  sink: ProblemSink,
  source?: string,
): NamedPort[] {
  const out: NamedPort[] = [];
  for (const field of ["containers", "initContainers"] as const) {
    const containers = dig(podSpec, [field]);
    if (!Array.isArray(containers)) continue;
    containers.forEach((container: unknown, ci) => {
      const ports = dig(container, ["ports"]);
      if (ports === undefined || ports === null) return;
      if (!Array.isArray(ports)) {
        sink.report(ref, `${path}.${field}[${ci}].ports`, "must be a list", source);
        return;
      }
      ports.forEach((port: unknown, pi) => {
        const at = `${path}.${field}[${ci}].ports[${pi}]`;
        if (!isObject(port)) return;
        if (typeof port.name !== "string" || port.name === "") return;
        const number = port.containerPort;
        const protocolRaw = typeof port.protocol === "string" ? port.protocol.toUpperCase() : "TCP";
        if (
          typeof number !== "number" ||
          !Number.isInteger(number) ||
          number < 1 ||
          number > 65535
        ) {
          // Dropping the name is fail-closed: rules naming it then open nothing.
          sink.warn(
            ref,
            `${at}.containerPort`,
            `invalid port ${JSON.stringify(number)}; named port ${port.name} ignored`,
          );
          return;
        }
        if (!isPortProtocol(protocolRaw)) {
          sink.report(
            ref,
            `${at}.protocol`,
            `unsupported protocol ${JSON.stringify(port.protocol)}`,
            source,
          );
          return;
        }
        out.push({ name: port.name, port: number, protocol: protocolRaw as PortProtocol });
      });
    });
  }
  return out;
}

interface PendingPod {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly ip?: number;
  readonly namedPorts: NamedPort[];
  readonly owner: { kind: string; name: string };
  /** spec.serviceAccountName; the API server's ServiceAccount admission sets "default". */
  readonly serviceAccount?: string;
  /** Where the pod (or its template) came from, for located errors. */
  readonly origin?: {
    readonly ref: ObjectRef;
    readonly source?: string;
    readonly specPath: string;
  };
}

const DEFAULT_SERVICE_ACCOUNT = "default";
/** Calico's label prefixes for what an endpoint inherits from its namespace and service account. */
const CALICO_NAMESPACE_PREFIX = "pcns.";
const CALICO_NAME_LABEL = "projectcalico.org/name";

function prefixLabels(labels: Labels, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) out[prefix + key] = value;
  return out;
}

/**
 * The controller owning a pod names its workload. Only the ownerReference with `controller: true`
 * counts (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/#System,
 * ownerReferences: "at most one" controller), and a Node is not a workload controller: the
 * kubelet makes each static pod's mirror pod owned by its Node
 * (https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/), and each mirror pod
 * is a workload of its own.
 */
function workloadOwner(metadata: Raw, podName: string): { kind: string; name: string } {
  const owners = Array.isArray(metadata.ownerReferences)
    ? metadata.ownerReferences.filter(isObject)
    : [];
  const controller = owners.find((o) => o.controller === true);
  if (
    controller === undefined ||
    typeof controller.kind !== "string" ||
    typeof controller.name !== "string" ||
    controller.kind === "Node"
  )
    return { kind: "Pod", name: podName };
  return { kind: controller.kind, name: controller.name };
}

function readServiceAccountName(
  podSpec: unknown,
  ref: ObjectRef,
  path: string,
  sink: ProblemSink,
  source?: string,
): string | undefined {
  const raw = dig(podSpec, ["serviceAccountName"]) ?? dig(podSpec, ["serviceAccount"]);
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") {
    sink.report(ref, `${path}.serviceAccountName`, "must be a string", source);
    return undefined;
  }
  return raw;
}

function isSourced(value: unknown): value is SourcedObject {
  return (
    isObject(value) &&
    isObject(value.object) &&
    typeof value.source === "string" &&
    value.kind === undefined
  );
}

export function namespaceLabelsFor(name: string, declared: Labels): Labels {
  // The API server always sets kubernetes.io/metadata.name to the namespace name.
  return { ...declared, "kubernetes.io/metadata.name": name };
}

export function makeNamespace(
  name: string,
  declaredLabels: Labels,
  declared: boolean,
  options: ResolvedOptions,
): NamespaceInfo {
  const labels = namespaceLabelsFor(name, declaredLabels);
  const mesh = options.mesh;
  const meshed =
    mesh !== undefined &&
    name !== mesh.namespace &&
    (labels[MESH_LABEL] === "ambient" || (mesh.meshedNamespaces ?? []).includes(name));
  return {
    name,
    labels,
    calicoLabels: { ...labels, "projectcalico.org/name": name },
    declared,
    meshed,
  };
}

/**
 * The labels Calico selectors see on a pod's workload endpoint: the pod's labels, plus
 * projectcalico.org/namespace, projectcalico.org/orchestrator and (for names under 63 characters)
 * projectcalico.org/serviceaccount (libcalico-go k8s/conversion/workload_endpoint_default.go),
 * under the labels inherited from the namespace's and service account's profiles with the
 * `pcns.` and `pcsa.` prefixes (conversion.go NamespaceToProfile, ServiceAccountToProfile). The
 * endpoint's own labels win over inherited ones.
 */
function calicoEndpointLabels(
  pending: PendingPod,
  namespace: NamespaceInfo,
  serviceAccountLabels: Labels | undefined,
): Labels {
  const serviceAccount = pending.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT;
  return {
    ...prefixLabels(namespace.calicoLabels, CALICO_NAMESPACE_PREFIX),
    ...prefixLabels(
      { ...serviceAccountLabels, [CALICO_NAME_LABEL]: serviceAccount },
      CALICO_SERVICE_ACCOUNT_PREFIX,
    ),
    ...pending.labels,
    "projectcalico.org/namespace": pending.namespace,
    "projectcalico.org/orchestrator": "k8s",
    ...(serviceAccount.length < 63 ? { [CALICO_SERVICE_ACCOUNT_LABEL]: serviceAccount } : {}),
  };
}

export function makePod(
  id: number,
  pending: PendingPod,
  namespace: NamespaceInfo,
  ip: number,
  ipSynthesised: boolean,
  options: ResolvedOptions,
  hypothetical = false,
  serviceAccountLabels?: Labels,
): PodInfo {
  return {
    id,
    namespace: pending.namespace,
    name: pending.name,
    labels: pending.labels,
    calicoLabels: calicoEndpointLabels(pending, namespace, serviceAccountLabels),
    namespaceLabels: namespace.labels,
    calicoNamespaceLabels: namespace.calicoLabels,
    ip,
    ipSynthesised,
    namedPorts: pending.namedPorts,
    owner: pending.owner,
    serviceAccount: pending.serviceAccount ?? "default",
    // Pods opt out of ambient with istio.io/dataplane-mode=none (https://istio.io/latest/docs/ambient/usage/add-workloads/).
    meshed: options.mesh !== undefined && namespace.meshed && pending.labels[MESH_LABEL] !== "none",
    hypothetical,
  };
}

/**
 * Felix's evaluation order: tiers by (order, name), a missing order last (`TierLess` in
 * projectcalico/calico felix/calc/policy_sorter.go), then inside a tier policies by (order,
 * key name), a missing order last (`PolKVLess`).
 */
export function comparePolicies(a: NormalPolicy, b: NormalPolicy): number {
  if (a.tierOrder !== b.tierOrder) return a.tierOrder < b.tierOrder ? -1 : 1;
  if (a.tier !== b.tier) return a.tier < b.tier ? -1 : 1;
  if (a.order !== b.order) return a.order < b.order ? -1 : 1;
  if (a.sortName !== b.sortName) return a.sortName < b.sortName ? -1 : 1;
  return (a.namespace ?? "") < (b.namespace ?? "")
    ? -1
    : (a.namespace ?? "") > (b.namespace ?? "")
      ? 1
      : 0;
}

/**
 * Kinds that grant or deny traffic beside NetworkPolicy and that this engine does not model:
 * an input holding one fails, rather than yield verdicts that ignore it. AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy are enforced by Calico 3.30+ in tiers of their own; HostEndpoints
 * change what Calico selectors match. (NetworkSets and GlobalNetworkSets are read: see
 * engine/normalise/network-set.ts.)
 */
const UNMODELLED_POLICY_KINDS = new Set([
  "AdminNetworkPolicy",
  "BaselineAdminNetworkPolicy",
  "ClusterNetworkPolicy",
  "HostEndpoint",
]);

/** Calico's API group as served by its API server, and as stored in its CRDs. */
function isCalicoApiVersion(apiVersion: string): boolean {
  return (
    apiVersion.startsWith("projectcalico.org/") || apiVersion.startsWith("crd.projectcalico.org/")
  );
}

/**
 * Istio applies the oldest of two mesh- or namespace-level PeerAuthentications
 * (convertedSelectorPeerAuthentications in istio/istio pilot/.../ambient/authorization.go);
 * manifests carry no creation time, so which one wins cannot be told: refused.
 */
function reportCompetingPeerAuthentications(
  list: readonly NormalPeerAuthentication[],
  sink: ProblemSink,
): void {
  const seen = new Map<string, string>();
  for (const pa of list) {
    if (pa.scope === "workload") continue;
    const key = `${pa.scope}|${pa.namespace}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, pa.ref.name);
    else
      sink.report(
        pa.ref,
        "spec.selector",
        `a second ${pa.scope}-wide PeerAuthentication beside ${first}: Istio uses the older one, which the manifests cannot show`,
      );
  }
}

/**
 * Builds the model. Accepts plain objects or `{object, source}` pairs from the loader.
 * @throws ManifestError listing every problem found.
 */
export function buildModel(
  input: readonly (Raw | SourcedObject)[],
  engineOptions: EngineOptions = {},
): ClusterModel {
  const options = resolveOptions(engineOptions);
  const sink = new ProblemSink();
  const declaredNamespaces = new Map<string, Labels>();
  const referencedNamespaces = new Set<string>();
  const pending: PendingPod[] = [];
  const policies: NormalPolicy[] = [];
  const stagedPolicies: NormalPolicy[] = [];
  const ignored: IgnoredObject[] = [];
  const authorizationPolicies: NormalAuthorizationPolicy[] = [];
  const peerAuthentications: NormalPeerAuthentication[] = [];
  /** Identity of every object read → its source, to name both duplicates. */
  const seen = new Map<string, string | undefined>();
  const tiers = new Map<string, NormalTier>();
  const serviceAccounts = new Map<string, Labels>();
  // Bound once every object is read: a policy may come before the sets its selectors match.
  const networkSetScope = new NetworkSetScope();
  const pendingSets: {
    obj: Raw;
    ref: ObjectRef;
    labels: Labels;
    namespace?: string;
    source?: string;
  }[] = [];

  for (const item of input) {
    const obj = isSourced(item) ? item.object : item;
    const source = isSourced(item) ? item.source : undefined;
    const kind = typeof obj.kind === "string" ? obj.kind : "";
    const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
    const metadata = isObject(obj.metadata) ? obj.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "";
    const rawNamespace =
      typeof metadata.namespace === "string" && metadata.namespace !== ""
        ? metadata.namespace
        : undefined;
    const clusterScoped =
      kind === "Namespace" ||
      kind === "GlobalNetworkPolicy" ||
      kind === "GlobalNetworkSet" ||
      kind === "StagedGlobalNetworkPolicy" ||
      kind === "Tier";
    // netpol-analyzer and kubectl both put objects without a namespace into "default".
    const namespace = clusterScoped ? undefined : (rawNamespace ?? "default");
    const ref: ObjectRef = { kind: kind || "(no kind)", namespace, name: name || "(no name)" };
    if (kind === "") {
      sink.report(ref, "kind", "missing", source);
      continue;
    }
    const identity = objectIdentity(apiVersion, kind, namespace, name);
    const istio =
      apiVersion.startsWith("security.istio.io/") &&
      (kind === "AuthorizationPolicy" || kind === "PeerAuthentication");
    const modelled =
      istio ||
      kind === "Namespace" ||
      kind === "Pod" ||
      (kind === "ServiceAccount" && apiVersion === "v1") ||
      kind in WORKLOAD_TEMPLATE_PATHS ||
      kind === "NetworkPolicy" ||
      kind === "GlobalNetworkPolicy" ||
      (NETWORK_SET_KINDS.has(kind) && isCalicoApiVersion(apiVersion)) ||
      (kind === "Tier" && isCalicoApiVersion(apiVersion)) ||
      (isStagedKind(kind) && isCalicoApiVersion(apiVersion));
    if (!modelled) {
      if (UNMODELLED_POLICY_KINDS.has(kind)) {
        // These decide traffic too; evaluating without them could call an open path denied.
        sink.report(
          ref,
          "kind",
          `${kind} (${apiVersion}) decides traffic but is not modelled: remove it from the input to analyse the rest`,
          source,
        );
        continue;
      }
      ignored.push({ apiVersion, kind, namespace, name });
      continue;
    }
    if (name === "") {
      sink.report(ref, "metadata.name", "missing", source);
      continue;
    }
    if (seen.has(identity)) {
      sink.report(
        ref,
        "metadata.name",
        duplicateObjectMessage(kind, namespace, name, seen.get(identity)),
        source,
      );
      continue;
    }
    seen.set(identity, source);
    if (NETWORK_SET_KINDS.has(kind)) {
      // Its namespace's labels are known only once every Namespace is read. A set alone does
      // not make its namespace one the inventory invents pods for.
      pendingSets.push({
        obj,
        ref,
        labels: readLabels(metadata.labels, ref, "metadata.labels", sink, source),
        namespace,
        source,
      });
      continue;
    }
    if (namespace !== undefined) referencedNamespaces.add(namespace);

    if (istio) {
      // Istio's root namespace is the mesh namespace (meshConfig.rootNamespace defaults to istio-system).
      const ns = { kind, namespace: namespace ?? "default", name };
      const root = options.mesh?.namespace;
      if (kind === "AuthorizationPolicy") {
        const policy = normaliseAuthorizationPolicy(obj, ns, root, sink, source);
        if (policy) authorizationPolicies.push(policy);
      } else {
        const policy = normalisePeerAuthentication(obj, ns, root, sink, source);
        if (policy) peerAuthentications.push(policy);
      }
      continue;
    }
    if (kind === "Tier") {
      const tier = normaliseTier(obj, ref, sink, source);
      if (tier) tiers.set(tier.name, tier);
      continue;
    }
    if (kind === "Namespace") {
      declaredNamespaces.set(
        name,
        readLabels(metadata.labels, ref, "metadata.labels", sink, source),
      );
      continue;
    }
    if (kind === "Pod") {
      const labels = readLabels(metadata.labels, ref, "metadata.labels", sink, source);
      const status = isObject(obj.status) ? obj.status : {};
      let ip: number | undefined;
      const ipText =
        typeof status.podIP === "string" && status.podIP !== ""
          ? status.podIP
          : Array.isArray(status.podIPs) &&
              isObject(status.podIPs[0]) &&
              typeof status.podIPs[0].ip === "string"
            ? status.podIPs[0].ip
            : undefined;
      if (ipText !== undefined && !ipText.includes(":")) {
        ip = parseIpv4(ipText);
        if (ip === undefined)
          sink.report(ref, "status.podIP", `invalid IPv4 address ${ipText}`, source);
      }
      pending.push({
        namespace: namespace ?? "default",
        name,
        labels,
        ip,
        namedPorts: readNamedPorts(obj.spec, ref, "spec", sink, source),
        owner: workloadOwner(metadata, name),
        serviceAccount: readServiceAccountName(obj.spec, ref, "spec", sink, source),
        origin: { ref, source, specPath: "spec" },
      });
      continue;
    }
    if (kind in WORKLOAD_TEMPLATE_PATHS) {
      const templatePath = WORKLOAD_TEMPLATE_PATHS[kind];
      const template = dig(obj, templatePath);
      const at = templatePath.join(".");
      if (!isObject(template)) {
        sink.report(ref, at, "missing pod template", source);
        continue;
      }
      pending.push({
        namespace: namespace ?? "default",
        name,
        labels: readLabels(
          dig(template, ["metadata", "labels"]),
          ref,
          `${at}.metadata.labels`,
          sink,
          source,
        ),
        namedPorts: readNamedPorts(template.spec, ref, `${at}.spec`, sink, source),
        owner: { kind, name },
        serviceAccount: readServiceAccountName(template.spec, ref, `${at}.spec`, sink, source),
        origin: { ref, source, specPath: `${at}.spec` },
      });
      continue;
    }
    if (kind === "ServiceAccount") {
      serviceAccounts.set(
        `${namespace ?? "default"}/${name}`,
        readLabels(metadata.labels, ref, "metadata.labels", sink, source),
      );
      continue;
    }
    if (kind === "NetworkPolicy" && apiVersion.startsWith("networking.k8s.io/")) {
      const policy = normaliseKubernetesPolicy(
        obj,
        { kind, namespace: namespace ?? "default", name },
        options.ipBlockMatchesPods,
        sink,
        source,
        engineOptions.unsupportedProtocols,
      );
      if (policy) policies.push(source === undefined ? policy : { ...policy, source });
      continue;
    }
    if (
      (kind === "NetworkPolicy" || kind === "GlobalNetworkPolicy") &&
      isCalicoApiVersion(apiVersion)
    ) {
      const global = kind === "GlobalNetworkPolicy";
      const policy = normaliseCalicoPolicy(
        obj,
        { kind: `projectcalico.org/${kind}`, namespace, name },
        global,
        options.ipBlockMatchesPods,
        sink,
        source,
        networkSetScope,
      );
      if (policy) policies.push(source === undefined ? policy : { ...policy, source });
      continue;
    }
    if (isStagedKind(kind)) {
      // Read by the normaliser of the kind it stages; kept apart so nothing counts it as enforcing.
      const policy = normaliseStagedPolicy(
        obj,
        ref,
        options.ipBlockMatchesPods,
        sink,
        source,
        networkSetScope,
      );
      if (policy) stagedPolicies.push(source === undefined ? policy : { ...policy, source });
      continue;
    }
    ignored.push({ apiVersion, kind, namespace, name });
  }

  const namespaces = new Map<string, NamespaceInfo>();
  const allNames = new Set([...declaredNamespaces.keys(), ...referencedNamespaces]);
  for (const name of [...allNames].sort()) {
    namespaces.set(
      name,
      makeNamespace(
        name,
        declaredNamespaces.get(name) ?? {},
        declaredNamespaces.has(name),
        options,
      ),
    );
  }

  const networkSets: NetworkSetInfo[] = [];
  for (const pendingSet of pendingSets) {
    const setNamespace =
      pendingSet.namespace === undefined
        ? undefined
        : (namespaces.get(pendingSet.namespace) ??
          makeNamespace(
            pendingSet.namespace,
            declaredNamespaces.get(pendingSet.namespace) ?? {},
            declaredNamespaces.has(pendingSet.namespace),
            options,
          ));
    const set = normaliseNetworkSet(
      pendingSet.obj,
      pendingSet.ref,
      pendingSet.labels,
      setNamespace,
      sink,
      pendingSet.source,
    );
    if (set) networkSets.push(set);
  }
  networkSets.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  networkSetScope.bind(networkSets);

  // Deterministic synthetic IPs: pods sorted by namespace/name get consecutive addresses.
  pending.sort((a, b) =>
    a.namespace === b.namespace
      ? a.name < b.name
        ? -1
        : a.name > b.name
          ? 1
          : 0
      : a.namespace < b.namespace
        ? -1
        : 1,
  );
  const capacity = options.podCidr.hi - options.podCidr.lo - 1;
  if (pending.length > capacity)
    throw new Error(
      `podCidr has room for ${capacity} synthetic pod IPs, ${pending.length} pods need one`,
    );
  const pods: PodInfo[] = pending.map((p, i) => {
    const namespace = namespaces.get(p.namespace);
    if (namespace === undefined) throw new Error(`internal: namespace ${p.namespace} missing`);
    const synthesised = p.ip === undefined;
    const serviceAccountLabels = serviceAccounts.get(
      `${p.namespace}/${p.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT}`,
    );
    return makePod(
      i,
      p,
      namespace,
      p.ip ?? options.podCidr.lo + 1 + i,
      synthesised,
      options,
      false,
      serviceAccountLabels,
    );
  });

  // Staged policies read pods too: their promoted verdicts must be true of every pod of a workload.
  const reads = policyReads([...policies, ...stagedPolicies], options);
  checkServiceAccountsKnown(pending, serviceAccounts, reads, sink);
  checkWorkloadsUniform(pods, pending, reads, sink);
  reportCompetingPeerAuthentications(peerAuthentications, sink);
  if (!tiers.has(DEFAULT_TIER)) tiers.set(DEFAULT_TIER, BUILT_IN_DEFAULT_TIER);
  const tiered = [policies, stagedPolicies].map((list) => placeInTiers(list, tiers, sink));
  if (sink.problems.length > 0) throw new ManifestError(sink.problems);
  const [enforcedInTiers, stagedInTiers] = tiered;
  policies.splice(0, policies.length, ...enforcedInTiers.sort(comparePolicies));
  stagedPolicies.splice(0, stagedPolicies.length, ...stagedInTiers.sort(comparePolicies));
  const byRef = (a: { ref: ObjectRef }, b: { ref: ObjectRef }) =>
    `${a.ref.namespace}/${a.ref.name}` < `${b.ref.namespace}/${b.ref.name}` ? -1 : 1;
  const model: ClusterModel = {
    options,
    namespaces,
    pods,
    policies,
    tiers,
    ...(stagedPolicies.length > 0 ? { stagedPolicies } : {}),
    ...(networkSets.length > 0 ? { networkSets } : {}),
    ignored,
    warnings: sink.warnings,
    authorizationPolicies: authorizationPolicies.sort(byRef),
    peerAuthentications: peerAuthentications.sort(byRef),
  };
  // Without workloads every verdict would be "no pods": see engine/model/representative.ts.
  return pods.length === 0 && engineOptions.representativePods !== false
    ? withRepresentativePods(model, engineOptions.extraNamespaces)
    : model;
}

/**
 * Each policy with its tier's order. A tier no Tier object declares (other than the built-in
 * default) is an error at the policy's spec.tier: Calico refuses to create the policy
 * (clientv3 checks the tier exists), so it never takes effect, and guessing its order would
 * misplace every verdict it takes part in.
 */
function placeInTiers(
  list: readonly NormalPolicy[],
  tiers: ReadonlyMap<string, NormalTier>,
  sink: ProblemSink,
): NormalPolicy[] {
  const placed: NormalPolicy[] = [];
  for (const policy of list) {
    const tier = tiers.get(policy.tier);
    if (tier === undefined) {
      const known = [...tiers.keys()].sort().join(", ");
      sink.report(
        policy.ref,
        "spec.tier",
        `tier ${policy.tier} is not defined by any Tier object in the input (tiers: ${known}): add its Tier (projectcalico.org/v3) to the input`,
        policy.source,
      );
      continue;
    }
    placed.push(tier.order === policy.tierOrder ? policy : { ...policy, tierOrder: tier.order });
  }
  return placed;
}

/** What policies read of a pod, each with the first place that reads it (for messages). */
interface PolicyReads {
  /** Label keys (of Calico endpoint labels, a superset of the pod's labels). */
  readonly labels: ReadonlyMap<string, string>;
  /** Peers decided by address, one per distinct peer, when ipBlocks match pods. */
  readonly addressPeers: readonly { readonly peer: EndpointMatcher; readonly where: string }[];
  /** Where a rule resolves a named port on its destination, if any does. */
  readonly namedPorts?: string;
}

function policyReads(policies: readonly NormalPolicy[], options: ResolvedOptions): PolicyReads {
  const labels = new Map<string, string>();
  const addressPeers = new Map<string, { peer: EndpointMatcher; where: string }>();
  let namedPorts: string | undefined;
  const note = (key: string, where: string): void => {
    if (!labels.has(key)) labels.set(key, where);
  };
  for (const policy of policies) {
    const name = `${policy.ref.kind} ${policy.namespace ? `${policy.namespace}/` : ""}${policy.ref.name}`;
    for (const key of policy.targetLabelKeys) note(key, `${name} (its selector)`);
    for (const rule of [...policy.ingress, ...policy.egress]) {
      const where = `${name} ${rule.path}`;
      if (rule.usesNamedPorts && namedPorts === undefined) namedPorts = where;
      for (const peers of [rule.sources, rule.destinations])
        if (peers !== "any")
          for (const peer of peers) {
            for (const key of peer.podLabelKeys) note(key, where);
            if (peer.byIp && options.ipBlockMatchesPods && !addressPeers.has(peer.key))
              addressPeers.set(peer.key, { peer, where });
          }
    }
  }
  // Ambient membership is a label too: a pod opting out is reached differently (HBONE or not).
  if (options.mesh) note(MESH_LABEL, "the mesh (istio.io/dataplane-mode=none opts a pod out)");
  return { labels, addressPeers: [...addressPeers.values()], namedPorts };
}

/**
 * A selector over service-account labels (`serviceAccounts.selector`, or a `pcsa.` key) needs
 * the labels of every pod's ServiceAccount; a pod whose ServiceAccount is not in the input
 * cannot be judged, so it fails (the name label is known without the object).
 */
function checkServiceAccountsKnown(
  pending: readonly PendingPod[],
  serviceAccounts: ReadonlyMap<string, Labels>,
  reads: PolicyReads,
  sink: ProblemSink,
): void {
  const nameKey = CALICO_SERVICE_ACCOUNT_PREFIX + CALICO_NAME_LABEL;
  const reader = [...reads.labels].find(
    ([key]) => key.startsWith(CALICO_SERVICE_ACCOUNT_PREFIX) && key !== nameKey,
  );
  if (reader === undefined) return;
  for (const p of pending) {
    const serviceAccount = p.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT;
    if (p.origin === undefined || serviceAccounts.has(`${p.namespace}/${serviceAccount}`)) continue;
    sink.report(
      p.origin.ref,
      `${p.origin.specPath}.serviceAccountName`,
      `ServiceAccount ${p.namespace}/${serviceAccount} is not in the input, and ${reader[1]} selects by service-account labels (${reader[0]}): add the ServiceAccount`,
      p.origin.source,
    );
  }
}

/**
 * Pods of one workload must look the same to every policy: a workload-level verdict that mixes
 * pods a policy tells apart is true of none of them. Such pods are refused, with what differs
 * (a label a policy reads, an address an ipBlock or Calico net matches for one pod only, or the
 * named ports when a rule resolves one) and where a policy reads it. netpol-analyzer refuses
 * the same input ("Pods of the same owner … with different set of labels"). Pods without a
 * controller are workloads of their own; synthesised addresses are not compared (they are
 * arbitrary).
 */
function checkWorkloadsUniform(
  pods: readonly PodInfo[],
  pending: readonly PendingPod[],
  reads: PolicyReads,
  sink: ProblemSink,
): void {
  if (reads.labels.size === 0 && reads.addressPeers.length === 0 && !reads.namedPorts) return;
  const origins = new Map(pending.map((p) => [`${p.namespace}/${p.name}`, p.origin]));
  const first = new Map<string, PodInfo>();
  const portsOf = (pod: PodInfo): string =>
    pod.namedPorts
      .map((p) => `${p.name}=${p.port}/${p.protocol}`)
      .sort()
      .join(", ") || "none";
  for (const pod of pods) {
    if (pod.owner.kind === "Pod") continue;
    const workload = `${pod.namespace}/${pod.owner.kind}/${pod.owner.name}`;
    const earlier = first.get(workload);
    if (earlier === undefined) {
      first.set(workload, pod);
      continue;
    }
    const origin = origins.get(`${pod.namespace}/${pod.name}`);
    const refuse = (path: string, difference: string, where: string, fix: string): void =>
      sink.report(
        origin?.ref ?? { kind: "Pod", namespace: pod.namespace, name: pod.name },
        path,
        `pods ${earlier.name} and ${pod.name} of ${pod.owner.kind} ${pod.owner.name} ${difference}, which ${where} tells apart: a workload-level verdict would be true of neither; ${fix}`,
        origin?.source,
      );
    const show = (v: string | undefined): string =>
      v === undefined ? "absent" : JSON.stringify(v);
    const label = [...reads.labels].find(
      ([key]) => earlier.calicoLabels[key] !== pod.calicoLabels[key],
    );
    if (label !== undefined) {
      const [key, where] = label;
      refuse(
        `metadata.labels.${key}`,
        `differ in label ${key} (${show(earlier.calicoLabels[key])} vs ${show(pod.calicoLabels[key])})`,
        where,
        "give them separate owners or equal labels",
      );
      continue;
    }
    if (!earlier.ipSynthesised && !pod.ipSynthesised) {
      const address = reads.addressPeers.find(
        ({ peer }) => peer.matchPod(earlier) !== peer.matchPod(pod),
      );
      if (address !== undefined) {
        refuse(
          "status.podIP",
          `have addresses ${formatIpv4(earlier.ip)} and ${formatIpv4(pod.ip)} that ${address.peer.description} matches only one of`,
          address.where,
          "analyse them as pods of separate owners",
        );
        continue;
      }
    }
    if (reads.namedPorts !== undefined && portsOf(earlier) !== portsOf(pod))
      refuse(
        "spec.containers",
        `name different ports (${portsOf(earlier)} vs ${portsOf(pod)})`,
        `${reads.namedPorts} (a named port)`,
        "give them equal named ports",
      );
  }
}
