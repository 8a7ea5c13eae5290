/** The plan's views of a stack's connectivity (the model itself: components/stackModel.ts). */
import { buildStackModel } from "../components/stackModel";
export { buildStackModel, stackEngineOptions } from "../components/stackModel";
import { INTERNET_CIDR, type Connection, type ConnectionKind } from "../components/connections";
import { EXTERNAL_NAMES, type Endpoint, type PortSpec, type StackConfig } from "../config/types";
import {
  computeConnectivity,
  type ClusterModel,
  externalNameRanges,
  renderConnectivityPage,
  parseCidrRange,
  resolveExternalNames,
  type Connection as EngineConnection,
  type ConnectionReason,
  type DiagramOptions,
  type ExternalName,
  type Ipv4Range,
  type LayerSpec,
  type NamedConnection,
  type PagePicture,
  type PictureEdge,
  type PictureGraph,
  type PictureNode,
} from "../engine";
import { describeEndpoint } from "./summary";

const hostOf = (cidr: string): string => cidr.replace(/\/32$/, "");

/**
 * The config's names for external ranges: LAN hosts, the API ClusterIP, the control plane, the
 * mesh probe source, and "internet" (egress: everything but the private ranges, as the internet
 * egress rules render it; ingress: everything, as `from: internet` renders it). A range with
 * several names (the control plane is often a LAN host too) gets the LAN host's name.
 */
export function stackExternalNames(config: StackConfig): ExternalName[] {
  const { cluster } = config;
  const names: ExternalName[] = [];
  const taken = new Set<string>();
  const add = (label: string, cidr: string): void => {
    const key = cidr.includes("/") ? cidr : `${cidr}/32`;
    if (taken.has(key)) return;
    taken.add(key);
    names.push({ label: `${label} (${hostOf(key)})`, cidrs: [key] });
  };
  for (const [host, cidr] of Object.entries(cluster.lanHosts)) add(host, cidr);
  // The reserved names (config/types.ts): no LAN host can take them, so a label means one thing.
  add(EXTERNAL_NAMES.kubeApi, `${cluster.apiServer.clusterIP}/32`);
  add(EXTERNAL_NAMES.controlPlane, cluster.controlPlane.cidr);
  if (cluster.mesh) add(EXTERNAL_NAMES.probeSource, cluster.mesh.probeSource);
  const internet = EXTERNAL_NAMES.internet;
  names.push(
    { label: internet, cidrs: ["0.0.0.0/0"], except: cluster.privateRanges, direction: "egress" },
    { label: "private ranges", cidrs: cluster.privateRanges, direction: "egress" },
    { label: internet, cidrs: ["0.0.0.0/0"], direction: "ingress" },
  );
  return names;
}

/**
 * Tier then mesh: the tier the config gives (`tier`), or, when absent, derived from cluster facts
 * (edge namespaces are the edge tier; the DNS and mesh namespaces are platform); meshed namespaces
 * form an "ambient mesh" group inside their tier.
 */
export function stackNamespaceGroups(config: StackConfig): (namespace: string) => string[] {
  const { cluster } = config;
  return (namespace) => {
    const ns = config.namespaces.find((n) => n.name === namespace);
    const tier =
      ns?.tier ??
      (cluster.edge.namespaces.includes(namespace)
        ? "edge"
        : namespace === cluster.dns.namespace || namespace === cluster.mesh?.namespace
          ? "platform"
          : undefined);
    const groups = tier ? [`${tier} tier`] : [];
    if (ns?.meshed && cluster.mesh) groups.push("ambient mesh");
    return groups;
  };
}

/** Layers of the pictures, by connection kind; the universal patterns start hidden. */
export const STACK_LAYERS: readonly (LayerSpec & { kinds: readonly ConnectionKind[] })[] = [
  { id: "flows", label: "declared flows", hiddenByDefault: false, kinds: ["flow"] },
  {
    id: "egress",
    label: "internet and LAN egress",
    hiddenByDefault: false,
    kinds: ["internet-egress", "lan-egress"],
  },
  { id: "webhooks", label: "API server webhooks", hiddenByDefault: false, kinds: ["webhook"] },
  { id: "intra", label: "inside a namespace", hiddenByDefault: false, kinds: ["intra-namespace"] },
  { id: "metrics", label: "metrics scrapes", hiddenByDefault: true, kinds: ["metrics"] },
  { id: "api", label: "Kubernetes API", hiddenByDefault: true, kinds: ["kube-api"] },
  { id: "dns", label: "DNS", hiddenByDefault: true, kinds: ["dns"] },
  {
    id: "mesh",
    label: "mesh control plane",
    hiddenByDefault: true,
    kinds: ["mesh-control", "mesh-ztunnel", "mesh-probe"],
  },
];

/**
 * The addresses an external end of the pictures stands for, in one direction, by its label.
 * Memoised per stack: a large stack asks for the same few labels tens of thousands of times.
 */
function labelRanges(
  names: readonly ExternalName[],
): (label: string, direction: "egress" | "ingress") => Ipv4Range[] {
  const resolved = resolveExternalNames(names);
  const known = new Map<string, Ipv4Range[]>();
  return (label, direction) => {
    const key = `${direction}\u0000${label}`;
    let ranges = known.get(key);
    if (!ranges) {
      // Merged ends are labelled "a, b"; unnamed ones by their CIDRs ("x/n, y/m" or "x/n except …").
      const parts = label.split(/, | except /);
      const named = resolved.filter(
        (n) => (!n.direction || n.direction === direction) && parts.includes(n.label),
      );
      const first = named.length > 0 ? undefined : parseCidrRange(parts[0]);
      ranges = named.length > 0 ? named.flatMap((n) => n.ranges) : first ? [first] : [];
      known.set(key, ranges);
    }
    return ranges;
  };
}

function overlaps(a: readonly Ipv4Range[], b: readonly Ipv4Range[]): boolean {
  return a.some((x) => b.some((y) => x.lo <= y.hi && y.lo <= x.hi));
}

/** A declaration behind the pictures: a connection of the config, or a Calico policy rule. */
interface Declaration {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly layer: string;
  readonly reason: string;
}

function declarations(config: StackConfig, connections: readonly Connection[]): Declaration[] {
  const layerOf = (kind: ConnectionKind): string =>
    STACK_LAYERS.find((l) => l.kinds.includes(kind))?.id ?? "flows";
  const out: Declaration[] = connections.map((c) => ({
    from: c.from,
    to: c.to,
    layer: layerOf(c.kind),
    reason: c.kind === "flow" ? `flow ${c.name}` : c.name,
  }));
  for (const ns of config.namespaces)
    for (const policy of ns.calicoPolicies)
      for (const [direction, rules] of [
        ["egress", policy.egress],
        ["ingress", policy.ingress],
      ] as const)
        for (const rule of rules.filter((r) => r.action === "Allow" || r.action === "Pass"))
          for (const net of rule.nets) {
            const cidr = config.cluster.lanHosts[net] ?? net;
            const external: Endpoint = { kind: "external", cidr };
            const own: Endpoint = { kind: "workload", namespace: ns.name, podLabels: {} };
            out.push({
              from: direction === "egress" ? own : external,
              to: direction === "egress" ? external : own,
              layer: "egress",
              reason: `Calico policy ${policy.name}`,
            });
          }
  return out;
}

/**
 * The declarations behind an allowed namespace-level connection: same namespaces, or an external
 * end whose addresses overlap the declared ones (egress to 0.0.0.0/0 is rendered without the
 * private ranges). Its layer is that of the most application-like reason (STACK_LAYERS order).
 */
export function stackConnectionReasons(
  config: StackConfig,
  connections: readonly Connection[],
): (connection: NamedConnection) => ConnectionReason {
  const names = stackExternalNames(config);
  const internet = names.find(
    (n) => n.label === EXTERNAL_NAMES.internet && n.direction === "egress",
  )!;
  const internetRanges = externalNameRanges(internet);
  const rangesOfLabel = labelRanges(names);
  const cidrRanges = new Map<string, Ipv4Range[]>();
  const declaredRanges = (cidr: string, direction: "egress" | "ingress"): Ipv4Range[] => {
    if (direction === "egress" && cidr === INTERNET_CIDR) return internetRanges;
    let ranges = cidrRanges.get(cidr);
    if (!ranges) cidrRanges.set(cidr, (ranges = [parseCidrRange(cidr) ?? []].flat()));
    return ranges;
  };
  const endMatches = (
    end: Endpoint,
    peer: EngineConnection["from"],
    direction: "egress" | "ingress",
  ): boolean => {
    if (end.kind === "workload") return peer.kind === "namespace" && peer.name === end.namespace;
    if (peer.kind !== "external") return false;
    return overlaps(declaredRanges(end.cidr, direction), rangesOfLabel(peer.text, direction));
  };
  // A workload end matches only its own namespace and an external end only external peers, so
  // the declarations are grouped by that much of their ends, in declaration order: a connection
  // looks at its own group only (scanning every declaration per connection was quadratic).
  const endGroup = (end: Endpoint): string =>
    end.kind === "workload" ? `namespace ${end.namespace}` : "external";
  const peerGroup = (peer: EngineConnection["from"]): string | undefined =>
    peer.kind === "namespace"
      ? `namespace ${peer.name}`
      : peer.kind === "external"
        ? "external"
        : undefined;
  const byEnds = new Map<string, Declaration[]>();
  for (const d of declarations(config, connections)) {
    const key = `${endGroup(d.from)}\u0000${endGroup(d.to)}`;
    const group = byEnds.get(key);
    if (group) group.push(d);
    else byEnds.set(key, [d]);
  }
  const order = STACK_LAYERS.map((l) => l.id);
  return (c) => {
    const from = peerGroup(c.from);
    const to = peerGroup(c.to);
    const candidates =
      from === undefined || to === undefined ? [] : (byEnds.get(`${from}\u0000${to}`) ?? []);
    const behind = candidates.filter(
      (d) => endMatches(d.from, c.from, "ingress") && endMatches(d.to, c.to, "egress"),
    );
    const layers = [...new Set(behind.map((d) => d.layer))].sort(
      (a, b) => order.indexOf(a) - order.indexOf(b),
    );
    return { layer: layers[0] ?? "flows", layers, reasons: behind.map((d) => d.reason) };
  };
}

function formatPorts(ports: readonly PortSpec[]): string {
  if (ports.length === 0) return "any port";
  const byProtocol = new Map<string, string[]>();
  for (const p of ports)
    byProtocol.set(p.protocol, [
      ...(byProtocol.get(p.protocol) ?? []),
      p.endPort ? `${p.port}-${p.endPort}` : String(p.port),
    ]);
  return [...byProtocol.entries()]
    .map(([protocol, list]) => `${protocol} ${list.join(",")}`)
    .join(", ");
}

function podPart(end: Endpoint): string {
  return end.kind === "workload" ? Object.values(end.podLabels).join(",") : "";
}

/**
 * The seed's segmentation picture, drawn from the config: one edge per declared flow, labelled
 * with its declared ports (and the pods when a flow names them), inside namespaces grouped by
 * tier and mesh. Meshed pairs are drawn in the HBONE colour: their TCP also travels on the HBONE
 * port.
 */
export function declaredFlowsPicture(
  config: StackConfig,
  connections: readonly Connection[],
): PictureGraph {
  const names = stackExternalNames(config);
  const groups = stackNamespaceGroups(config);
  const nodes = new Map<string, PictureNode>();
  // An external end that is a source is drawn apart from the same end as a destination.
  const nodeFor = (end: Endpoint, direction: "egress" | "ingress"): string => {
    if (end.kind === "workload") {
      const id = `ns:${end.namespace}`;
      nodes.set(id, { id, label: end.namespace, kind: "namespace", groups: groups(end.namespace) });
      return id;
    }
    const label =
      names.find(
        (n) =>
          (!n.direction || n.direction === direction) &&
          n.cidrs.length === 1 &&
          n.cidrs[0] === end.cidr,
      )?.label ?? (end.host ? `${end.host} (${hostOf(end.cidr)})` : end.cidr);
    const id = `${direction === "ingress" ? "in" : "out"}:${label}`;
    nodes.set(id, { id, label, kind: "external" });
    return id;
  };
  const edges = connections
    .filter((c) => c.kind === "flow")
    .map((c): PictureEdge => {
      const pods = [podPart(c.from), podPart(c.to)];
      const scope = pods.some(Boolean) ? `${pods[0]}→${pods[1]} ` : "";
      const ports = formatPorts(c.ports);
      return {
        id: c.name,
        from: nodeFor(c.from, "ingress"),
        to: nodeFor(c.to, "egress"),
        label: `${scope}${ports}`,
        title: `${c.name}: ${ports}${c.hbone ? ` (meshed: also TCP ${config.cluster.mesh?.hbonePort}, HBONE)` : ""}. ${c.reason}`,
        layer: "flows",
        tone: c.hbone ? "hbone" : "plain",
      };
    });
  return { nodes: [...nodes.values()], edges };
}

/**
 * Everything the reports need from the config: external names, tiers, reasons, layers, the
 * declared picture, and (for Mermaid) the declared flows as a focus.
 */
export function declaredFlowFocus(
  config: StackConfig,
  connections: readonly Connection[],
): DiagramOptions {
  const explain = stackConnectionReasons(config, connections);
  const flows = connections.filter((c) => c.kind === "flow");
  return {
    focus: (c) => explain({ ...c, partial: [] }).reasons.some((r) => r.startsWith("flow ")),
    focusTitle: `Declared flows of ${config.cluster.name}`,
    focusNote:
      "What the rendered policies allow between the ends of each declared flow. Every protected namespace also reaches DNS, " +
      "and, where configured, the Kubernetes API, the mesh control plane, the internet and LAN hosts; the monitoring namespace scrapes metrics ports: see the full diagram below.",
    externalNames: stackExternalNames(config),
    namespaceGroups: stackNamespaceGroups(config),
    explainConnection: explain,
    layers: STACK_LAYERS.map(({ id, label, hiddenByDefault }) => ({ id, label, hiddenByDefault })),
    declaredPicture: {
      title: `Declared flows of ${config.cluster.name}`,
      note:
        "One edge per declared flow, labelled with its declared ports (pods first when the flow names them). " +
        (config.cluster.mesh
          ? `Purple: both ends meshed, so the flow also travels as HBONE on TCP ${config.cluster.mesh.hbonePort}. `
          : "") +
        "DNS, the API, metrics scrapes and the mesh are in the full picture below.",
      graph: declaredFlowsPicture(config, connections),
      table: {
        header: ["flow", "from", "to", "ports", "reason"],
        rows: flows.map((c) => [
          c.name,
          describeEndpoint(c.from),
          describeEndpoint(c.to),
          formatPorts(c.ports),
          c.reason,
        ]),
      },
    },
  };
}

/** The connectivity page of a rendered stack, with every picture's layout (for tests and docs). */
export async function stackConnectivityPage(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
  connections: readonly Connection[],
): Promise<{ html: string; pictures: PagePicture[]; model: ClusterModel }> {
  const model = buildStackModel(config, manifests, connections);
  const page = await renderConnectivityPage(
    model,
    computeConnectivity(model),
    declaredFlowFocus(config, connections),
  );
  return { ...page, model };
}
