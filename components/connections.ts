/**
 * Expands stack config into the full list of declared connections: the flows as written plus the
 * seed's universal patterns (DNS, Kubernetes API, Prometheus scraping, Istio ambient, intra-namespace,
 * webhooks, internet and LAN egress). Every policy rule is rendered from this list, and the policy
 * pack's intent check compares the rendered policies against it, so it is the single statement of
 * what the cluster should allow.
 */
import { EXTERNAL_NAMES } from "../config/types";
import type {
  ClusterConfig,
  Endpoint,
  NamespaceConfig,
  PortSpec,
  StackConfig,
  WorkloadEndpoint,
} from "../config/types";

export type ConnectionKind =
  | "flow"
  | "dns"
  | "dns-upstream"
  | "kube-api"
  | "metrics"
  | "mesh-control"
  | "mesh-ztunnel"
  | "mesh-probe"
  | "intra-namespace"
  | "webhook"
  | "internet-egress"
  | "lan-egress";

export interface Connection {
  /** Flow name for declared flows; a generated, stable name for universal patterns. */
  readonly name: string;
  readonly kind: ConnectionKind;
  readonly from: Endpoint;
  readonly to: Endpoint;
  /** Application ports. Empty only for the mesh probe source, which may use any port. */
  readonly ports: readonly PortSpec[];
  /** Both ends are ambient-meshed workloads: TCP also travels as HBONE on the mesh port. */
  readonly hbone: boolean;
  readonly reason: string;
}

export const INTERNET_CIDR = "0.0.0.0/0";

const tcp = (port: number): PortSpec => ({ port, protocol: "TCP" });

export function workload(
  namespace: string,
  podLabels: Readonly<Record<string, string>> = {},
): WorkloadEndpoint {
  return { kind: "workload", namespace, podLabels };
}

function isMeshed(config: StackConfig, namespace: string): boolean {
  return config.namespaces.some((ns) => ns.name === namespace && ns.meshed);
}

function bothMeshed(config: StackConfig, from: Endpoint, to: Endpoint): boolean {
  return (
    config.cluster.mesh !== undefined &&
    from.kind === "workload" &&
    to.kind === "workload" &&
    isMeshed(config, from.namespace) &&
    isMeshed(config, to.namespace)
  );
}

function connection(config: StackConfig, fields: Omit<Connection, "hbone">): Connection {
  return { ...fields, hbone: bothMeshed(config, fields.from, fields.to) };
}

/** DNS egress from every protected namespace to the DNS pods, UDP and TCP. */
function dnsConnections(config: StackConfig): Connection[] {
  const { dns } = config.cluster;
  return config.namespaces.map((ns) =>
    connection(config, {
      name: `dns-from-${ns.name}`,
      kind: "dns",
      from: workload(ns.name),
      to: workload(dns.namespace, dns.podLabels),
      ports: [
        { port: dns.port, protocol: "UDP" },
        { port: dns.port, protocol: "TCP" },
      ],
      reason: "name resolution through cluster DNS",
    }),
  );
}

/** The DNS pods forward names outside the cluster to the declared upstream resolvers. */
function dnsUpstreamConnections(config: StackConfig): Connection[] {
  const { dns } = config.cluster;
  return dns.upstream.map((resolver) => ({
    name: `dns-upstream-${resolver.host ?? resolver.cidr}`,
    kind: "dns-upstream" as const,
    from: workload(dns.namespace, dns.podLabels),
    to: resolver,
    ports: [
      { port: dns.port, protocol: "UDP" as const },
      { port: dns.port, protocol: "TCP" as const },
    ],
    hbone: false,
    reason: "cluster DNS forwards names outside the cluster to its upstream resolver",
  }));
}

/** The API ClusterIP and the control plane, always together (Calico routes some calls each way). */
export function kubeApiConnections(cluster: ClusterConfig, ns: NamespaceConfig): Connection[] {
  if (!ns.kubeApi) return [];
  const base = { kind: "kube-api" as const, from: workload(ns.name), hbone: false };
  return [
    {
      ...base,
      name: `kube-api-service-from-${ns.name}`,
      to: {
        kind: "external",
        cidr: `${cluster.apiServer.clusterIP}/32`,
        host: EXTERNAL_NAMES.kubeApi,
      },
      ports: [tcp(cluster.apiServer.port)],
      reason: "Kubernetes API through its ClusterIP",
    },
    {
      ...base,
      name: `kube-api-control-plane-from-${ns.name}`,
      to: { kind: "external", cidr: cluster.controlPlane.cidr, host: EXTERNAL_NAMES.controlPlane },
      ports: [tcp(cluster.controlPlane.port)],
      reason: "Kubernetes API on the control-plane nodes",
    },
  ];
}

/** Prometheus scrapes; validation refuses metricsPorts when no monitoring namespace is set. */
function metricsConnections(config: StackConfig, ns: NamespaceConfig): Connection[] {
  const monitoring = config.cluster.monitoringNamespace;
  if (ns.metricsPorts.length === 0 || monitoring === undefined) return [];
  return [
    connection(config, {
      name: `metrics-${ns.name}`,
      kind: "metrics",
      from: workload(monitoring),
      to: workload(ns.name),
      ports: ns.metricsPorts,
      reason: `Prometheus in ${monitoring} scrapes metrics`,
    }),
  ];
}

function namespaceConnections(config: StackConfig, ns: NamespaceConfig): Connection[] {
  const { cluster } = config;
  const out: Connection[] = [...kubeApiConnections(cluster, ns), ...metricsConnections(config, ns)];
  if (ns.intraNamespace.length > 0) {
    out.push(
      connection(config, {
        name: `intra-${ns.name}`,
        kind: "intra-namespace",
        from: workload(ns.name),
        to: workload(ns.name),
        ports: ns.intraNamespace,
        reason: "pods of the namespace talk to each other",
      }),
    );
  }
  if (ns.webhookPorts.length > 0) {
    out.push({
      name: `webhook-${ns.name}`,
      kind: "webhook",
      from: {
        kind: "external",
        cidr: cluster.controlPlane.cidr,
        host: EXTERNAL_NAMES.controlPlane,
      },
      to: workload(ns.name),
      ports: ns.webhookPorts,
      hbone: false,
      reason: "the API server calls admission/aggregated API webhooks",
    });
  }
  if (ns.externalEgress.length > 0) {
    out.push({
      name: `internet-from-${ns.name}`,
      kind: "internet-egress",
      from: workload(ns.name),
      to: { kind: "external", cidr: INTERNET_CIDR, host: EXTERNAL_NAMES.internet },
      ports: ns.externalEgress,
      hbone: false,
      reason: "internet services (registries, APIs), private ranges excepted",
    });
  }
  for (const target of ns.lanEgress) {
    out.push({
      name: `lan-${target.host}-from-${ns.name}`,
      kind: "lan-egress",
      from: workload(ns.name),
      to: { kind: "external", cidr: cluster.lanHosts[target.host], host: target.host },
      ports: target.ports,
      hbone: false,
      reason: `LAN host ${target.host}`,
    });
  }
  return out;
}

function flowConnections(config: StackConfig): Connection[] {
  return config.flows.map((flow) =>
    connection(config, {
      name: flow.name,
      kind: "flow",
      from: flow.from,
      to: flow.to,
      ports: flow.ports,
      reason: flow.reason,
    }),
  );
}

/**
 * Istio ambient needs, per meshed namespace: egress to istiod/ztunnel, ingress from the mesh
 * namespace on HBONE plus the ports it serves (the seed's pattern), and ingress from the kubelet
 * probe source, which istio-cni SNATs to a link-local address
 * (https://istio.io/latest/docs/ambient/usage/networkpolicy/).
 */
function meshConnections(
  config: StackConfig,
  served: ReadonlyMap<string, PortSpec[]>,
): Connection[] {
  const mesh = config.cluster.mesh;
  if (!mesh) return [];
  return config.namespaces
    .filter((ns) => ns.meshed)
    .flatMap((ns) => [
      {
        name: `mesh-control-from-${ns.name}`,
        kind: "mesh-control" as const,
        from: workload(ns.name),
        to: workload(mesh.namespace),
        ports: [mesh.hbonePort, ...mesh.istiodPorts].map(tcp),
        hbone: false,
        reason: "ztunnel HBONE and istiod (xDS, webhook)",
      },
      {
        name: `mesh-ztunnel-to-${ns.name}`,
        kind: "mesh-ztunnel" as const,
        from: workload(mesh.namespace),
        to: workload(ns.name),
        ports: [
          tcp(mesh.hbonePort),
          ...(served.get(ns.name) ?? []).filter((p) => p.protocol === "TCP"),
        ],
        hbone: false,
        reason: "ztunnel terminates HBONE and originates application connections",
      },
      {
        name: `mesh-probe-to-${ns.name}`,
        kind: "mesh-probe" as const,
        from: {
          kind: "external" as const,
          cidr: mesh.probeSource,
          host: EXTERNAL_NAMES.probeSource,
        },
        to: workload(ns.name),
        ports: [],
        hbone: false,
        reason: "kubelet health probes, SNATed by istio-cni in ambient mode",
      },
    ]);
}

function portKey(port: PortSpec): string {
  return `${port.protocol}/${port.port}-${port.endPort ?? port.port}`;
}

/** Union of port lists without duplicates, in first-seen order. */
export function unionPorts(...lists: readonly (readonly PortSpec[])[]): PortSpec[] {
  const seen = new Map<string, PortSpec>();
  for (const list of lists)
    for (const port of list) if (!seen.has(portKey(port))) seen.set(portKey(port), port);
  return [...seen.values()];
}

/** Every connection the stack declares, universal patterns included, in a stable order. */
export function expandConnections(config: StackConfig): Connection[] {
  const base = [
    ...dnsConnections(config),
    ...dnsUpstreamConnections(config),
    ...config.namespaces.flatMap((ns) => namespaceConnections(config, ns)),
    ...flowConnections(config),
  ];
  const served = new Map<string, PortSpec[]>();
  for (const c of base) {
    if (
      c.to.kind !== "workload" ||
      c.kind === "webhook" ||
      c.kind === "dns" ||
      c.kind === "intra-namespace"
    )
      continue;
    served.set(c.to.namespace, unionPorts(served.get(c.to.namespace) ?? [], c.ports));
  }
  return [...base, ...meshConnections(config, served)];
}

/**
 * The connections touching each namespace (either end), in declaration order: grouped once, since
 * filtering every connection for every namespace was quadratic in large stacks.
 */
export function connectionsByNamespace(
  connections: readonly Connection[],
): Map<string, Connection[]> {
  const byNamespace = new Map<string, Connection[]>();
  for (const connection of connections) {
    const ends = new Set(
      [connection.from, connection.to].flatMap((end) =>
        end.kind === "workload" ? [end.namespace] : [],
      ),
    );
    for (const namespace of ends) {
      const list = byNamespace.get(namespace);
      if (list) list.push(connection);
      else byNamespace.set(namespace, [connection]);
    }
  }
  return byNamespace;
}
