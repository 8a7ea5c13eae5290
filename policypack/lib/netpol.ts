/**
 * A checked reading of a `networking.k8s.io/v1` NetworkPolicy.
 *
 * Semantics follow the Kubernetes NetworkPolicy reference
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
 * - a rule without `from`/`to` (or with an empty list) matches every peer;
 * - a rule without `ports` (or with an empty list) matches every port;
 * - a port entry without `port` matches every port of its protocol, which defaults to TCP;
 * - a peer with `namespaceSelector` and `podSelector` in the same item means both (AND), a
 *   `podSelector` alone means pods of the policy's own namespace;
 * - without `policyTypes` the API server assumes Ingress, plus Egress only when egress rules
 *   exist: an egress "default deny" without rules silently denies nothing.
 */
import { type Cidr, parseCidr } from "./cidr";
import { MalformedError } from "./errors";
import {
  isObject,
  type Json,
  readObject,
  readOptionalArray,
  readOptionalObject,
  readString,
} from "./read";
import {
  type LabelSelector,
  type NamespaceSet,
  namespaceSetOf,
  readLabelSelector,
} from "./selectors";

export const K8S_NETWORK_POLICY_TYPE = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const K8S_NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";

export type Direction = "ingress" | "egress";

export interface NetpolPort {
  readonly path: string;
  /** As written, `TCP` when omitted; other values are kept so policy 9 can name them. */
  readonly protocol: string;
  /** Absent: every port of the protocol. A string is a named container port. */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface IpBlock {
  readonly cidr: Cidr;
  readonly except: readonly Cidr[];
}

export interface NetpolPeer {
  readonly path: string;
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IpBlock;
}

export interface NetpolRule {
  readonly path: string;
  readonly direction: Direction;
  /** Empty: every peer. */
  readonly peers: readonly NetpolPeer[];
  /** Empty: every port. */
  readonly ports: readonly NetpolPort[];
}

export interface NetworkPolicyModel {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly podSelector: LabelSelector;
  /** As written; `undefined` when the field is absent. */
  readonly policyTypes?: readonly string[];
  readonly ingress: readonly NetpolRule[];
  readonly egress: readonly NetpolRule[];
}

function readPort(raw: unknown, path: string): NetpolPort {
  const entry = readObject(raw, path);
  const protocol = entry.protocol === undefined || entry.protocol === null ? "TCP" : entry.protocol;
  if (typeof protocol !== "string")
    throw new MalformedError(`${path}.protocol`, "expected a string");
  const port = entry.port;
  if (port !== undefined && port !== null) {
    const numeric =
      typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535;
    const named = typeof port === "string" && /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/.test(port);
    if (!numeric && !named) {
      throw new MalformedError(`${path}.port`, "expected a port number 1-65535 or a port name");
    }
  }
  const endPort = entry.endPort;
  if (endPort !== undefined && endPort !== null) {
    if (
      typeof endPort !== "number" ||
      !Number.isInteger(endPort) ||
      typeof port !== "number" ||
      endPort < port ||
      endPort > 65535
    ) {
      throw new MalformedError(`${path}.endPort`, "needs a numeric port and must be at least port");
    }
  }
  return {
    path,
    protocol,
    port: port === null ? undefined : (port as number | string | undefined),
    endPort: endPort === null ? undefined : (endPort as number | undefined),
  };
}

function readPeer(raw: unknown, path: string): NetpolPeer {
  const entry = readObject(raw, path);
  const hasPod = entry.podSelector !== undefined && entry.podSelector !== null;
  const hasNs = entry.namespaceSelector !== undefined && entry.namespaceSelector !== null;
  const ipBlockRaw = readOptionalObject(entry.ipBlock, `${path}.ipBlock`);
  if (ipBlockRaw && (hasPod || hasNs)) {
    throw new MalformedError(
      path,
      "ipBlock cannot be combined with podSelector or namespaceSelector",
    );
  }
  if (!ipBlockRaw && !hasPod && !hasNs) {
    throw new MalformedError(path, "a peer needs podSelector, namespaceSelector or ipBlock");
  }
  let ipBlock: IpBlock | undefined;
  if (ipBlockRaw) {
    const cidr = parseCidr(ipBlockRaw.cidr, `${path}.ipBlock.cidr`);
    const exceptRaw = readOptionalArray(ipBlockRaw.except, `${path}.ipBlock.except`) ?? [];
    const except = exceptRaw.map((e, i) => parseCidr(e, `${path}.ipBlock.except[${i}]`));
    ipBlock = { cidr, except };
  }
  return {
    path,
    podSelector: hasPod ? readLabelSelector(entry.podSelector, `${path}.podSelector`) : undefined,
    namespaceSelector: hasNs
      ? readLabelSelector(entry.namespaceSelector, `${path}.namespaceSelector`)
      : undefined,
    ipBlock,
  };
}

function readRules(spec: Json, direction: Direction): NetpolRule[] {
  const peerKey = direction === "ingress" ? "from" : "to";
  const list = readOptionalArray(spec[direction], `spec.${direction}`) ?? [];
  return list.map((raw, i) => {
    const path = `spec.${direction}[${i}]`;
    const rule = readObject(raw, path);
    const peers = (readOptionalArray(rule[peerKey], `${path}.${peerKey}`) ?? []).map((p, j) =>
      readPeer(p, `${path}.${peerKey}[${j}]`),
    );
    const ports = (readOptionalArray(rule.ports, `${path}.ports`) ?? []).map((p, j) =>
      readPort(p, `${path}.ports[${j}]`),
    );
    return { path, direction, peers, ports };
  });
}

export function readNetworkPolicy(props: unknown): NetworkPolicyModel {
  const object = readObject(props, "(object)");
  const metadata = readObject(object.metadata, "metadata");
  const name = readString(metadata.name, "metadata.name");
  // An object without a namespace lands wherever the client's context points: refuse to guess.
  const namespace = readString(metadata.namespace, "metadata.namespace");
  const labels: Record<string, string> = {};
  if (isObject(metadata.labels)) {
    for (const key of Object.keys(metadata.labels)) {
      const value = metadata.labels[key];
      if (typeof value === "string") labels[key] = value;
    }
  }
  const spec = readObject(object.spec, "spec");
  const podSelector = readLabelSelector(spec.podSelector ?? {}, "spec.podSelector");
  const typesRaw = readOptionalArray(spec.policyTypes, "spec.policyTypes");
  const policyTypes = typesRaw?.map((t, i) => {
    if (t !== "Ingress" && t !== "Egress") {
      throw new MalformedError(
        `spec.policyTypes[${i}]`,
        `expected Ingress or Egress, got ${JSON.stringify(t)}`,
      );
    }
    return t;
  });
  return {
    name,
    namespace,
    labels,
    podSelector,
    policyTypes,
    ingress: readRules(spec, "ingress"),
    egress: readRules(spec, "egress"),
  };
}

/** The policy types the API server applies, including its defaulting when the field is absent. */
export function effectivePolicyTypes(policy: NetworkPolicyModel): Set<"Ingress" | "Egress"> {
  if (policy.policyTypes && policy.policyTypes.length > 0) {
    return new Set(policy.policyTypes as ("Ingress" | "Egress")[]);
  }
  return new Set(policy.egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"]);
}

/** True when a rule's port list admits `protocol`/`port` (a numeric port). */
export function portsAdmit(ports: readonly NetpolPort[], protocol: string, port: number): boolean {
  if (ports.length === 0) return true;
  return ports.some((p) => {
    if (p.protocol !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port !== "number") return false; // a named port may resolve to anything
    return p.endPort === undefined ? p.port === port : p.port <= port && port <= p.endPort;
  });
}

/**
 * The namespaces a peer's pods can come from: the policy's own namespace for a bare podSelector,
 * none for an ipBlock (those are addresses, not pods).
 */
export function peerNamespaces(peer: NetpolPeer, ownNamespace: string): NamespaceSet | undefined {
  if (peer.ipBlock) return undefined;
  if (peer.namespaceSelector) return namespaceSetOf(peer.namespaceSelector);
  return { kind: "names", include: new Set([ownNamespace]) };
}

export function describePort(p: NetpolPort): string {
  const port =
    p.port === undefined
      ? "any port"
      : p.endPort !== undefined
        ? `${p.port}-${p.endPort}`
        : String(p.port);
  return `${p.protocol}/${port}`;
}

export function objectRef(policy: { namespace: string; name: string }): string {
  return `${policy.namespace}/${policy.name}`;
}
