/** Small builders for test manifests and a pair-level "is it allowed" helper. */
import {
  Evaluator,
  allowsConnection,
  buildModel,
  evaluatePair,
  type ClusterModel,
  type EngineOptions,
  type Endpoint,
  type ModelProtocol,
  parseIpv4,
} from "../../engine";

type Obj = Record<string, unknown>;

export function ns(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

export interface PodOptions {
  readonly ip?: string;
  readonly ports?: readonly { name: string; containerPort: number; protocol?: string }[];
}

export function pod(
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  options: PodOptions = {},
): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: "main", ports: options.ports ?? [] }] },
    ...(options.ip ? { status: { podIP: options.ip } } : {}),
  };
}

export function knp(namespace: string, name: string, spec: Obj): Obj {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec,
  };
}

export function cnp(namespace: string, name: string, spec: Obj): Obj {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec,
  };
}

export function model(objects: Obj[], options: EngineOptions = {}): ClusterModel {
  return buildModel(objects, options);
}

/** `"ns/name"` for a pod, or an IPv4 address for an external endpoint. */
export function endpoint(m: ClusterModel, ref: string): Endpoint {
  const ip = parseIpv4(ref);
  if (ip !== undefined) return { kind: "external", range: { lo: ip, hi: ip } };
  const [namespace, name] = ref.split("/");
  const found = m.pods.find((p) => p.namespace === namespace && p.name === name);
  if (!found) throw new Error(`no pod ${ref}`);
  return { kind: "pod", pod: found };
}

export function allowed(
  m: ClusterModel,
  from: string,
  to: string,
  port: number,
  protocol: ModelProtocol = "TCP",
): boolean {
  const result = evaluatePair(new Evaluator(m), endpoint(m, from), endpoint(m, to));
  return allowsConnection(result.connections, protocol, port);
}
