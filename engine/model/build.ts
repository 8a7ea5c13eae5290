/**
 * Plain Kubernetes/Calico objects → ClusterModel. Fails closed: every problem is collected and
 * thrown together as a ManifestError naming object and field.
 */
import type { SourcedObject } from "../load/parse";
import { normaliseCalicoPolicy } from "../normalise/calico-policy";
import { normaliseKubernetesPolicy } from "../normalise/k8s-policy";
import { isStagedKind, normaliseStagedPolicy } from "../normalise/staged";
import { isPortProtocol } from "./connections";
import type { PortProtocol } from "./connections";
import { parseCidr, parseIpv4 } from "./ipv4";
import { labelKeyProblem, labelValueProblem } from "./label-selector";
import type { Labels } from "./label-selector";
import type { ObjectRef } from "./problems";
import { ManifestError, ProblemSink } from "./problems";
import type {
  ClusterModel,
  EngineOptions,
  IgnoredObject,
  NamedPort,
  NamespaceInfo,
  NormalPolicy,
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

export function makePod(
  id: number,
  pending: PendingPod,
  namespace: NamespaceInfo,
  ip: number,
  ipSynthesised: boolean,
  options: ResolvedOptions,
  hypothetical = false,
): PodInfo {
  return {
    id,
    namespace: pending.namespace,
    name: pending.name,
    labels: pending.labels,
    calicoLabels: {
      ...pending.labels,
      "projectcalico.org/namespace": pending.namespace,
      "projectcalico.org/orchestrator": "k8s",
    },
    namespaceLabels: namespace.labels,
    calicoNamespaceLabels: namespace.calicoLabels,
    ip,
    ipSynthesised,
    namedPorts: pending.namedPorts,
    owner: pending.owner,
    // Pods opt out of ambient with istio.io/dataplane-mode=none (https://istio.io/latest/docs/ambient/usage/add-workloads/).
    meshed: options.mesh !== undefined && namespace.meshed && pending.labels[MESH_LABEL] !== "none",
    hypothetical,
  };
}

export function comparePolicies(a: NormalPolicy, b: NormalPolicy): number {
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
 * BaselineAdminNetworkPolicy are enforced by Calico 3.30+ in tiers of their own; NetworkSets and
 * HostEndpoints change what Calico selectors match.
 */
const UNMODELLED_POLICY_KINDS = new Set([
  "AdminNetworkPolicy",
  "BaselineAdminNetworkPolicy",
  "ClusterNetworkPolicy",
  "NetworkSet",
  "GlobalNetworkSet",
  "HostEndpoint",
]);

/** Kinds that can only narrow what NetworkPolicy allows: warned, not fatal. */
const WARNED_KINDS = new Set(["AuthorizationPolicy"]);

/** Calico's API group as served by its API server, and as stored in its CRDs. */
function isCalicoApiVersion(apiVersion: string): boolean {
  return (
    apiVersion.startsWith("projectcalico.org/") || apiVersion.startsWith("crd.projectcalico.org/")
  );
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
  const seen = new Set<string>();

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
      kind === "StagedGlobalNetworkPolicy";
    // netpol-analyzer and kubectl both put objects without a namespace into "default".
    const namespace = clusterScoped ? undefined : (rawNamespace ?? "default");
    const ref: ObjectRef = { kind: kind || "(no kind)", namespace, name: name || "(no name)" };
    if (kind === "") {
      sink.report(ref, "kind", "missing", source);
      continue;
    }
    const identity = `${apiVersion.split("/")[0]}|${kind}|${namespace ?? ""}|${name}`;
    const modelled =
      kind === "Namespace" ||
      kind === "Pod" ||
      kind in WORKLOAD_TEMPLATE_PATHS ||
      kind === "NetworkPolicy" ||
      kind === "GlobalNetworkPolicy" ||
      (isStagedKind(kind) && isCalicoApiVersion(apiVersion));
    if (!modelled) {
      const group = apiVersion.split("/")[0];
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
      if (WARNED_KINDS.has(kind)) {
        sink.warn(
          ref,
          "kind",
          `${kind} (${group}) is not modelled: it may deny traffic the verdicts call allowed`,
        );
      }
      ignored.push({ apiVersion, kind, namespace, name });
      continue;
    }
    if (name === "") {
      sink.report(ref, "metadata.name", "missing", source);
      continue;
    }
    if (seen.has(identity)) {
      sink.report(ref, "metadata.name", "duplicate object", source);
      continue;
    }
    seen.add(identity);
    if (namespace !== undefined) referencedNamespaces.add(namespace);

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
      const owners = Array.isArray(metadata.ownerReferences)
        ? metadata.ownerReferences.filter(isObject)
        : [];
      const controller = owners.find((o) => o.controller === true) ?? owners[0];
      const owner =
        controller && typeof controller.kind === "string" && typeof controller.name === "string"
          ? { kind: controller.kind, name: controller.name }
          : { kind: "Pod", name };
      pending.push({
        namespace: namespace ?? "default",
        name,
        labels,
        ip,
        namedPorts: readNamedPorts(obj.spec, ref, "spec", sink, source),
        owner,
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
      });
      continue;
    }
    if (kind === "NetworkPolicy" && apiVersion.startsWith("networking.k8s.io/")) {
      const policy = normaliseKubernetesPolicy(
        obj,
        { kind, namespace: namespace ?? "default", name },
        options.ipBlockMatchesPods,
        sink,
        source,
      );
      if (policy) policies.push(policy);
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
      );
      if (policy) policies.push(policy);
      continue;
    }
    if (isStagedKind(kind)) {
      // Read by the normaliser of the kind it stages; kept apart so nothing counts it as enforcing.
      const policy = normaliseStagedPolicy(obj, ref, options.ipBlockMatchesPods, sink, source);
      if (policy) stagedPolicies.push(policy);
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
    return makePod(i, p, namespace, p.ip ?? options.podCidr.lo + 1 + i, synthesised, options);
  });

  if (sink.problems.length > 0) throw new ManifestError(sink.problems);
  policies.sort(comparePolicies);
  stagedPolicies.sort(comparePolicies);
  return {
    options,
    namespaces,
    pods,
    policies,
    ...(stagedPolicies.length > 0 ? { stagedPolicies } : {}),
    ignored,
    warnings: sink.warnings,
  };
}
