/**
 * Cluster facts: what the policies must know about the cluster to judge a NetworkPolicy.
 *
 * They reach a policy two ways, in this order of preference:
 * 1. stack policies read them from the `ClusterProtection` component's props (the validated
 *    StackConfig of the stack being previewed), so a stack always judges itself by its own facts;
 * 2. pack config (`--policy-pack-config`), validated against each policy's `configSchema`
 *    (`npm run plan` writes one for the stack it plans, `packConfigFromFacts` builds one).
 *
 * There are no defaults, and nothing here reads a stack file. A default would be one cluster's
 * values (the homelab's), and judging another cluster by them fails open: its private ranges,
 * edge namespaces or DNS pods are not the homelab's. A policy whose facts were not passed in
 * reports "cannot verify … cluster fact X is missing" at its own level instead (MissingFactError),
 * and an error in one stack file can no longer break the pack for every stack at import time.
 */
import type { StackConfig } from "../../config/types";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { MalformedError } from "./errors";

export interface MeshFacts {
  /** Namespace of istiod and ztunnel. */
  readonly namespace: string;
  /** HBONE tunnel port. */
  readonly hbonePort: number;
  /** istiod ports meshed workloads must reach (xDS, webhook). */
  readonly istiodPorts: readonly number[];
  /** Source of kubelet probes in ambient mode (SNATed by istio-cni), a /32. */
  readonly probeSource: string;
  /** SPIFFE trust domain (default cluster.local). */
  readonly trustDomain?: string;
  /** The CNI sees the original port of meshed-to-meshed TCP (Calico 3.32's ztunnel). */
  readonly portPreserving?: boolean;
}

export interface ClusterFacts {
  readonly dns: {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
    readonly port: number;
  };
  readonly privateRanges: readonly string[];
  readonly apiServer: { readonly clusterIP: string; readonly port: number };
  readonly controlPlane: { readonly cidr: string; readonly port: number };
  /** `null` when the cluster has no mesh. */
  readonly mesh: MeshFacts | null;
  readonly edge: { readonly namespaces: readonly string[]; readonly ports: readonly number[] };
  readonly meshedNamespaces: readonly string[];
  readonly protectedNamespaces: readonly string[];
}

export type FactKey = keyof ClusterFacts;

export const FACT_KEYS: readonly FactKey[] = [
  "dns",
  "privateRanges",
  "apiServer",
  "controlPlane",
  "mesh",
  "edge",
  "meshedNamespaces",
  "protectedNamespaces",
];

/** A policy needed a cluster fact that neither the stack nor the pack config gave it. */
export class MissingFactError extends Error {
  constructor(readonly fact: FactKey) {
    super(`cluster fact ${fact} is missing`);
    this.name = "MissingFactError";
  }
}

/** How to pass facts in, for the fix line of a MissingFactError. */
export const PASS_FACTS_FIX =
  "pass the cluster facts: `pulumi preview --policy-pack policypack --policy-pack-config DIR/policy-pack-config.json` (written by `npm run plan -- --stack NAME --out DIR`), or `npm run check -- PATH --stack NAME | --facts FILE.json`";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Fails closed, by field, when a ClusterProtection's props do not carry the stack config (an old
 * program, or a component that does not register its intent as outputs).
 */
export function assertStackConfigShape(value: unknown): asserts value is StackConfig {
  if (!isRecord(value)) throw new MalformedError("props", "expected the stack config");
  if (!isRecord(value.cluster))
    throw new MalformedError("cluster", "missing: the component does not carry the stack config");
  for (const key of ["apiServer", "controlPlane", "dns", "edge"] as const) {
    if (!isRecord(value.cluster[key]))
      throw new MalformedError(`cluster.${key}`, "missing or not an object");
  }
  if (!Array.isArray(value.cluster.privateRanges))
    throw new MalformedError("cluster.privateRanges", "expected a list");
  for (const key of ["namespaces", "flows"] as const) {
    if (!Array.isArray(value[key])) throw new MalformedError(key, "expected a list");
  }
}

/** The facts of any stack, from its validated config. */
export function factsFromStackConfig(cfg: StackConfig): ClusterFacts {
  const cluster = cfg.cluster;
  const mesh = cluster.mesh;
  return {
    dns: {
      namespace: cluster.dns.namespace,
      podLabels: { ...cluster.dns.podLabels },
      port: cluster.dns.port,
    },
    privateRanges: [...cluster.privateRanges],
    apiServer: { clusterIP: cluster.apiServer.clusterIP, port: cluster.apiServer.port },
    controlPlane: { cidr: cluster.controlPlane.cidr, port: cluster.controlPlane.port },
    mesh: mesh
      ? {
          namespace: mesh.namespace,
          hbonePort: mesh.hbonePort,
          istiodPorts: [...mesh.istiodPorts],
          probeSource: mesh.probeSource,
          trustDomain: mesh.trustDomain,
          portPreserving: mesh.portPreserving,
        }
      : null,
    edge: { namespaces: [...cluster.edge.namespaces], ports: [...cluster.edge.ports] },
    meshedNamespaces: cfg.namespaces.filter((n) => n.meshed).map((n) => n.name),
    protectedNamespaces: cfg.namespaces.map((n) => n.name),
  };
}

const NAME: PolicyConfigJSONSchema = { type: "string", minLength: 1 };
const PORT: PolicyConfigJSONSchema = { type: "integer", minimum: 1, maximum: 65535 };
const CIDR: PolicyConfigJSONSchema = {
  type: "string",
  pattern: "^[0-9a-fA-F:.]+/[0-9]{1,3}$",
  description: "an IPv4 or IPv6 CIDR",
};
const NAMES: PolicyConfigJSONSchema = { type: "array", items: NAME };

/** JSON schema of each fact. No defaults: see the header. */
export const FACT_SCHEMAS: Record<FactKey, PolicyConfigJSONSchema> = {
  dns: {
    type: "object",
    description: "Cluster DNS: namespace, pod labels and port",
    properties: {
      namespace: NAME,
      podLabels: { type: "object", additionalProperties: { type: "string" }, minProperties: 1 },
      port: PORT,
    },
    required: ["namespace", "podLabels", "port"],
    additionalProperties: false,
  },
  privateRanges: {
    type: "array",
    description: "Ranges every internet egress rule must except",
    items: CIDR,
    minItems: 1,
  },
  apiServer: {
    type: "object",
    description: "Kubernetes API service ClusterIP and port",
    properties: { clusterIP: { type: "string", minLength: 1 }, port: PORT },
    required: ["clusterIP", "port"],
    additionalProperties: false,
  },
  controlPlane: {
    type: "object",
    description: "Control-plane node network and kube-apiserver port",
    properties: { cidr: CIDR, port: PORT },
    required: ["cidr", "port"],
    additionalProperties: false,
  },
  mesh: {
    type: ["object", "null"],
    description: "Istio ambient settings; null when the cluster has no mesh",
    properties: {
      namespace: NAME,
      hbonePort: PORT,
      istiodPorts: { type: "array", items: PORT },
      probeSource: CIDR,
      trustDomain: { type: "string", minLength: 1 },
      portPreserving: { type: "boolean" },
    },
    required: ["namespace", "hbonePort", "istiodPorts", "probeSource"],
    additionalProperties: false,
  },
  edge: {
    type: "object",
    description: "Namespaces that may take ingress from anywhere, and on which ports",
    properties: { namespaces: NAMES, ports: { type: "array", items: PORT } },
    required: ["namespaces", "ports"],
    additionalProperties: false,
  },
  meshedNamespaces: {
    ...NAMES,
    description: "Namespaces enrolled in the ambient mesh (used when the stack does not say)",
  },
  protectedNamespaces: {
    ...NAMES,
    description:
      "Namespaces that must have a default-deny baseline (used when the stack does not say)",
  },
};

/**
 * The facts in a policy's config. A fact that is not there throws MissingFactError when a check
 * reads it, so the check reports "cannot verify" at its own level and a check that does not
 * need it is not disturbed.
 */
export function factsFromPolicyConfig(config: Readonly<Record<string, unknown>>): ClusterFacts {
  const out: Record<string, unknown> = {};
  for (const key of FACT_KEYS) {
    const value = config[key];
    Object.defineProperty(out, key, {
      enumerable: value !== undefined,
      get: () => {
        if (value === undefined) throw new MissingFactError(key);
        return value;
      },
    });
  }
  return out as unknown as ClusterFacts;
}

/**
 * A fact only some readers declare (the namespace lists fill in what a stack does not say):
 * undefined when the policy was not given it, instead of MissingFactError.
 */
export function factIfGiven<K extends FactKey>(
  facts: ClusterFacts,
  key: K,
): ClusterFacts[K] | undefined {
  try {
    return facts[key];
  } catch (error) {
    if (error instanceof MissingFactError) return undefined;
    throw error;
  }
}

/**
 * A fact as a policy reads it: plain YAML (`npm run check` without a stack) may go without it
 * (undefined, and the policy says what it judges then); a stack must give it (MissingFactError).
 */
export function factFor<K extends FactKey>(
  facts: ClusterFacts,
  key: K,
  plainYaml: boolean,
): ClusterFacts[K] | undefined {
  return plainYaml ? factIfGiven(facts, key) : facts[key];
}
