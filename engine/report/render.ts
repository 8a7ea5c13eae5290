/**
 * Human reports: markdown matrix, Mermaid flowchart and a self-contained HTML page whose pictures
 * are laid out by ELK (engine/report/layout.ts) and drawn as inline SVG (no scripts, no CDN).
 */
import * as conn from "../model/connections";
import type { ClusterModel } from "../model/types";
import { formatRangeAsCidr } from "../model/ipv4";
import type { ClassConnectivity } from "../evaluate/matrix";
import { computeConnectivity } from "../evaluate/matrix";
import type { Connection, ConnectivityPeer } from "./connectivity";
import { namespaceConnections, peerName } from "./connectivity";
import {
  nameExternalPeers,
  namedConnectionText,
  type ExternalName,
  type NamedConnection,
} from "./external-names";
import {
  layoutPicture,
  type LaidOutPicture,
  type LayoutVariant,
  type PictureGraph,
} from "./layout";
import {
  aggregatePicture,
  drillDownPicture,
  groupAnchor,
  groupNamespaces,
  MAX_GROUP_SIZE,
  type NamespaceGrouping,
} from "./aggregate";
import {
  connectionLabel,
  DEFAULT_LAYER,
  endName,
  fullPicture,
  namespaceAnchor,
  namespacePicture,
  reasonOf,
  SHARED_LAYER,
  sharedServiceLayer,
  UNDECLARED_LAYER,
  type ConnectionReason,
  type LayerSpec,
  type PictureOptions,
} from "./pictures";
import { escapeHtml, layerClass, renderPictureSvg, TONE_COLOURS } from "./svg";

const HBONE_MARK = " (HBONE)";

/** A picture the caller built (the declared flows of a stack, say), drawn first on the page. */
export interface ExtraPicture {
  readonly title: string;
  readonly note?: string;
  readonly graph: PictureGraph;
  /** A table under the picture: header, then rows (the flows with their reasons). */
  readonly table?: {
    readonly header: readonly string[];
    readonly rows: readonly (readonly string[])[];
  };
}

/**
 * What the reports know beyond the manifests. `focus` picks the connections a reader cares about
 * first (Mermaid gets a diagram of them above the full one); the rest feeds the HTML page.
 */
export interface DiagramOptions {
  readonly focus?: (connection: Connection) => boolean;
  readonly focusTitle?: string;
  /** One paragraph under the focused diagram, e.g. what the full picture adds. */
  readonly focusNote?: string;
  /** Names for external ranges (LAN hosts, the API, the internet); blocks outside keep CIDRs. */
  readonly externalNames?: readonly ExternalName[];
  /** Group path of a namespace (tier, mesh), outermost first. */
  readonly namespaceGroups?: (namespace: string) => readonly string[];
  /** The layer and declared reasons of a connection; without it every edge is one plain layer. */
  readonly explainConnection?: (connection: NamedConnection) => ConnectionReason;
  /** Layers the page can toggle, in legend order. */
  readonly layers?: readonly LayerSpec[];
  readonly declaredPicture?: ExtraPicture;
}

/**
 * Names for manifests without a stack: the private ranges of RFC 1918
 * (https://www.rfc-editor.org/rfc/rfc1918) and everything else as "internet".
 */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
export const ADDRESS_SPACE_NAMES: readonly ExternalName[] = [
  { label: "private ranges", cidrs: PRIVATE_RANGES },
  { label: "internet", cidrs: ["0.0.0.0/0"], except: PRIVATE_RANGES },
];

/** Namespace-level connections, external ends named (or grouped) the way a person reads them. */
export function connectionsOf(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): NamedConnection[] {
  const computed = connectivity ?? computeConnectivity(model);
  return [
    ...nameExternalPeers(namespaceConnections(computed), [
      ...networkSetNames(model),
      ...(options.externalNames ?? ADDRESS_SPACE_NAMES),
    ]),
    ...domainsConnections(computed),
  ];
}

/**
 * Calico network sets name their ranges in every report (`networkset shop/trusted-lan
 * (192.168.10.0/24)`); as the smallest name holding a block wins, a set inside a stack's LAN
 * range keeps its own name.
 */
export function networkSetNames(model: ClusterModel): ExternalName[] {
  return (model.networkSets ?? [])
    .filter((set) => set.nets.length > 0)
    .map((set) => ({ label: set.label, cidrs: set.nets.map(formatRangeAsCidr) }));
}

/** Namespace → `domains: …` edges, one per distinct domain list (see DomainsPair). */
function domainsConnections(connectivity: ClassConnectivity): NamedConnection[] {
  const merged = new Map<string, NamedConnection>();
  for (const pair of connectivity.egressToDomains ?? []) {
    const key = `${pair.pod.namespace}\u0000${pair.domains.join(",")}`;
    const before = merged.get(key);
    const connections = before
      ? conn.unionConnections(before.connections, pair.connections)
      : pair.connections;
    merged.set(key, {
      from: { kind: "namespace", name: pair.pod.namespace },
      to: { kind: "domains", domains: pair.domains },
      connections,
      ports: conn.connectionsToList(connections),
      viaHbone: false,
      partial: [],
    });
  }
  return [...merged.values()];
}

export function cellText(c: NamedConnection, model: ClusterModel): string {
  return namedConnectionText(c, c.viaHbone && model.options.mesh ? HBONE_MARK : "");
}

/**
 * How the matrix reads a meshed pair, or "." without a mesh. The CNI sees their TCP as HBONE on
 * one port (unless `portPreserving`), so on its own it would open every TCP port; the ports a
 * cell lists are then what ztunnel authorization at the destination allows (docs/engine.md,
 * Istio ambient authorization), every TCP port only where no AuthorizationPolicy applies.
 */
export function hboneNote(model: ClusterModel): string {
  const mesh = model.options.mesh;
  if (!mesh) return ".";
  const cni = mesh.portPreserving
    ? "the CNI judges TCP on the application port"
    : `the CNI judges TCP on the HBONE port ${mesh.hbonePort}`;
  return `; "(HBONE)" = meshed-to-meshed: ${cni}, and the TCP ports listed are those ztunnel authorization at the destination allows (every TCP port where no AuthorizationPolicy applies).`;
}

export function escapeMd(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** An end outside the cluster: an address block or a Calico Enterprise domains peer. */
export function isOutside(peer: ConnectivityPeer): boolean {
  return peer.kind === "external" || peer.kind === "domains";
}

export function externalLabel(peer: ConnectivityPeer): string {
  return peer.kind === "external" ? peer.cidr : peerName(peer);
}

/**
 * Namespace × namespace table (rows = source, columns = destination) of allowed ports, union
 * over pods; "(HBONE)" marks cells carried meshed-to-meshed (see `hboneNote`). Then external
 * egress and ingress per namespace.
 */
export function renderMatrixMarkdown(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): string {
  const connections = connectionsOf(model, connectivity, options);
  const names = [...model.namespaces.keys()].sort();
  const cell = new Map<string, NamedConnection>();
  for (const c of connections) cell.set(`${peerName(c.from)}\u0000${peerName(c.to)}`, c);
  const lines: string[] = ["# Connectivity matrix", ""];
  lines.push(
    `Rows are sources, columns destinations; a cell lists what at least one pod pair may open. ` +
      `ipBlockMatchesPods=${model.options.ipBlockMatchesPods}` +
      hboneNote(model),
    "",
  );
  lines.push(`| from \\ to | ${names.map(escapeMd).join(" | ")} |`);
  lines.push(`|---|${names.map(() => "---").join("|")}|`);
  for (const from of names) {
    const row = names.map((to) => {
      const c = cell.get(`${from}\u0000${to}`);
      return c ? escapeMd(cellText(c, model)) : "-";
    });
    lines.push(`| **${escapeMd(from)}** | ${row.join(" | ")} |`);
  }
  const section = (title: string, items: NamedConnection[], external: "to" | "from"): void => {
    lines.push("", `## ${title}`, "");
    if (items.length === 0) {
      lines.push("(none)");
      return;
    }
    lines.push(
      external === "to"
        ? "| namespace | destination | allowed |"
        : "| source | namespace | allowed |",
      "|---|---|---|",
    );
    for (const c of items) {
      lines.push(
        external === "to"
          ? `| ${escapeMd(peerName(c.from))} | ${externalLabel(c.to)} | ${escapeMd(cellText(c, model))} |`
          : `| ${externalLabel(c.from)} | ${escapeMd(peerName(c.to))} | ${escapeMd(cellText(c, model))} |`,
      );
    }
  };
  section(
    "External egress",
    connections.filter((c) => isOutside(c.to)),
    "to",
  );
  section(
    "External ingress",
    connections.filter((c) => isOutside(c.from)),
    "from",
  );
  return lines.join("\n") + "\n";
}

function mermaidId(name: string): string {
  return "n_" + name.replace(/[^A-Za-z0-9_]/g, "_");
}

function shortConnections(c: NamedConnection, model: ClusterModel): string {
  const text = cellText(c, model);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

function mermaidFlowchart(connections: readonly NamedConnection[], model: ClusterModel): string {
  const edges = connections.filter((c) => peerName(c.from) !== peerName(c.to));
  const nodes = new Map<string, string>();
  for (const c of edges) {
    for (const peer of [c.from, c.to]) {
      const label = peer.kind === "external" ? externalLabel(peer) : peerName(peer);
      nodes.set(
        mermaidId(label),
        isOutside(peer) ? `${mermaidId(label)}{{"${label}"}}` : `${mermaidId(label)}["${label}"]`,
      );
    }
  }
  const lines = ["```mermaid", "flowchart LR"];
  for (const node of [...nodes.values()].sort()) lines.push(`  ${node}`);
  for (const c of edges) {
    const from = mermaidId(c.from.kind === "external" ? externalLabel(c.from) : peerName(c.from));
    const to = mermaidId(c.to.kind === "external" ? externalLabel(c.to) : peerName(c.to));
    const arrow = c.viaHbone && model.options.mesh ? "==>" : "-->";
    lines.push(`  ${from} ${arrow}|"${shortConnections(c, model).replace(/"/g, "'")}"| ${to}`);
  }
  lines.push("```");
  return lines.join("\n");
}

/** Mermaid flowcharts (inside markdown fences) of namespace-level flows. */
export function renderMermaidMarkdown(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): string {
  const connections = connectionsOf(model, connectivity, options);
  const parts = ["# Connectivity diagram", ""];
  if (options.focus) {
    parts.push(`## ${options.focusTitle ?? "Focus"}`, "");
    if (options.focusNote) parts.push(options.focusNote, "");
    parts.push(
      mermaidFlowchart(
        connections.filter((c) => options.focus!(c)),
        model,
      ),
      "",
      "## Every allowed connection",
      "",
    );
  }
  parts.push(mermaidFlowchart(connections, model));
  return `${parts.join("\n")}\n`;
}

/** The page asks for this viewport width (a laptop screen); pictures are laid out to fit it. */
/** A hidden-by-default layer's own picture, toggled by its checkbox. */
async function layerSection(
  layer: { readonly id: string; readonly label: string },
  graph: PictureGraph,
  pictureBlock: (graph: PictureGraph, id: string) => Promise<string>,
): Promise<string> {
  const body =
    graph.edges.length > 0
      ? await pictureBlock(
          // Inside a layer picture its edges are shown whatever their primary layer.
          { ...graph, edges: graph.edges.map((e) => ({ ...e, layer: layer.id })) },
          `layer-svg-${layerClass(layer.id)}`,
        )
      : "<p>Nothing in this layer.</p>";
  return [
    `<div class="layer-picture ${layerClass(layer.id)}"><h3>Layer: ${escapeHtml(layer.label)}</h3>`,
    body,
    "</div>",
  ].join("\n");
}

export const PAGE_WIDTH = 1280;
const PAGE_MARGIN = 24;
export const MAX_PICTURE_WIDTH = PAGE_WIDTH - 2 * PAGE_MARGIN;
/**
 * Above this many namespaces the full picture shows groups, each drilled into below (from
 * MAX_GROUP_SIZE on, also when the flat picture does not fit; docs/engine.md).
 */
export const AGGREGATE_ABOVE_NAMESPACES = 40;

/**
 * Left to right when that fits the page, otherwise top to bottom, then with a bound on the nodes
 * per layer; the narrowest result when nothing fits. Pictures of more than
 * `LAYER_BOUND_MAX_EDGES` edges are laid out with the edges' tracks packed closer, and without
 * bounded layers: on a group drilled into (70 edges) the tracks of the orthogonal routes make most
 * of the width, and Coffman-Graham layering takes 15-30 s there and is still too wide. One layout
 * of such a picture costs about a second of CPU, so they get at most two.
 */
const FIT_VARIANTS: readonly LayoutVariant[] = [
  { direction: "RIGHT" },
  { direction: "DOWN" },
  { direction: "DOWN", layerBound: 6 },
  { direction: "DOWN", layerBound: 4 },
  { direction: "RIGHT", layerBound: 4 },
];
const LAYER_BOUND_MAX_EDGES = 40;
const DENSE_FIT_VARIANTS: readonly LayoutVariant[] = [
  { direction: "RIGHT", compact: true },
  { direction: "DOWN", compact: true },
];

export async function layoutToFit(graph: PictureGraph): Promise<LaidOutPicture> {
  let best: LaidOutPicture | undefined;
  let failure: unknown;
  const dense = graph.edges.length > LAYER_BOUND_MAX_EDGES;
  const variants = dense ? DENSE_FIT_VARIANTS : FIT_VARIANTS.filter((v) => !v.compact);
  for (const variant of variants) {
    let laid: LaidOutPicture;
    try {
      laid = await layoutPicture(graph, variant);
    } catch (error) {
      // ELK's recursion can overflow the stack on one variant (Coffman-Graham layering on a
      // dense graph) while another lays the same graph out.
      if (!(error instanceof RangeError)) throw error;
      failure = error;
      continue;
    }
    if (laid.width <= MAX_PICTURE_WIDTH) return laid;
    if (!best || laid.width < best.width) best = laid;
  }
  if (!best) throw failure;
  return best;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`)
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** One picture of a page, with its layout (for the geometric checks). */
export interface PagePicture {
  readonly id: string;
  readonly graph: PictureGraph;
  readonly laid: LaidOutPicture;
}

/** Lays out and draws pictures, remembering each one. */
class PictureCollector {
  readonly pictures: PagePicture[] = [];

  /** A picture that cannot fit the page even laid out narrowest is left to the tables. */
  async block(graph: PictureGraph, id: string): Promise<string> {
    const laid = drawable(graph)
      ? await layoutToFit(graph).catch((error: unknown) => {
          if (error instanceof RangeError) return undefined; // see layoutToFit
          throw error;
        })
      : undefined;
    if (!laid || laid.width > MAX_PICTURE_WIDTH) {
      this.tooWide.push(id);
      return `<p class="too-dense">Too dense to draw within ${MAX_PICTURE_WIDTH} px (${graph.nodes.length} ends, ${graph.edges.length} edges): the tables list every edge.</p>`;
    }
    this.pictures.push({ id, graph, laid });
    return `<div class="picture">${renderPictureSvg(laid, id)}</div>`;
  }

  readonly tooWide: string[] = [];
}

const DEFAULT_LAYERS: readonly LayerSpec[] = [
  { id: DEFAULT_LAYER, label: "connections", hiddenByDefault: false },
];
const UNDECLARED_DEFAULT_LAYERS: readonly LayerSpec[] = [
  ...DEFAULT_LAYERS,
  {
    id: SHARED_LAYER,
    label: "shared services (reached by or reaching most namespaces)",
    hiddenByDefault: true,
  },
];

/** Checkboxes that show and hide layers of the pictures after them (CSS only, no script). */
function layerToggles(section: string, layers: readonly LayerSpec[]): string {
  return layers
    .map((l) => {
      const id = `${section}-${layerClass(l.id)}`;
      return `<input type="checkbox" id="${id}" class="toggle-${layerClass(l.id)}"${l.hiddenByDefault ? "" : " checked"}><label for="${id}">${escapeHtml(l.label)}</label>`;
    })
    .join("\n");
}

function layerCss(layers: readonly LayerSpec[]): string {
  return layers
    .map((l) => {
      const toggle = `.layered input.toggle-${layerClass(l.id)}`;
      return (
        `${toggle}:not(:checked) ~ .picture .${layerClass(l.id)}{display:none}\n` +
        `${toggle}:not(:checked) ~ .layer-picture.${layerClass(l.id)}{display:none}`
      );
    })
    .join("\n");
}

function reasonText(c: NamedConnection, options: DiagramOptions): string {
  const reasons = options.explainConnection?.(c).reasons ?? [];
  return reasons.length > 0 ? reasons.join("; ") : options.explainConnection ? "UNDECLARED" : "";
}

/**
 * A standalone HTML page (inline SVG and CSS, no script, nothing fetched): the caller's declared
 * picture, the full picture with toggleable layers (aggregated above
 * `AGGREGATE_ABOVE_NAMESPACES` namespaces, with one picture per group), one section per namespace
 * with the reason for every edge, and the table of every allowed connection.
 */
export async function renderHtml(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): Promise<string> {
  return (await renderConnectivityPage(model, connectivity, options)).html;
}

/** `renderHtml`, with every picture of the page and its layout. */
export async function renderConnectivityPage(
  model: ClusterModel,
  connectivity?: ClassConnectivity,
  options: DiagramOptions = {},
): Promise<{ html: string; pictures: PagePicture[] }> {
  const collector = new PictureCollector();
  const pictureBlock = (graph: PictureGraph, id: string): Promise<string> =>
    collector.block(graph, id);
  const connections = connectionsOf(model, connectivity, options);
  const namespaces = [...model.namespaces.keys()].sort();
  const meshed = model.options.mesh !== undefined;
  const pictureOptions: PictureOptions = {
    meshed,
    ...(options.namespaceGroups ? { namespaceGroups: options.namespaceGroups } : {}),
    ...(options.explainConnection
      ? { explainConnection: options.explainConnection }
      : { layerOf: sharedServiceLayer(connections, namespaces.length) }),
  };
  const layers = [
    ...(options.layers ?? (options.explainConnection ? DEFAULT_LAYERS : UNDECLARED_DEFAULT_LAYERS)),
    ...(options.explainConnection
      ? [{ id: UNDECLARED_LAYER, label: "undeclared (red)", hiddenByDefault: false }]
      : []),
  ];
  const parts: string[] = [];
  const declared = options.declaredPicture;
  if (declared) {
    parts.push(`<section id="declared"><h2>${escapeHtml(declared.title)}</h2>`);
    if (declared.note) parts.push(`<p>${escapeHtml(declared.note)}</p>`);
    parts.push(await pictureBlock(declared.graph, "declared-svg"));
    if (declared.table) parts.push(table(declared.table.header, declared.table.rows));
    parts.push("</section>");
  }
  parts.push(
    `<section id="full" class="layered"><h2>Every allowed connection</h2>`,
    `<p>Tick a layer to show it. Click a namespace for everything in and out of it, with reasons. Hover an edge for its reason.</p>`,
    layerToggles("full", layers),
  );
  const hidden = new Set(layers.filter((l) => l.hiddenByDefault).map((l) => l.id));
  const primary = (c: NamedConnection): string =>
    options.explainConnection && reasonOf(c, pictureOptions).reasons.length === 0
      ? UNDECLARED_LAYER
      : reasonOf(c, pictureOptions).layer;
  const visible = (c: NamedConnection): boolean => !hidden.has(primary(c));
  const inLayer =
    (layer: LayerSpec) =>
    (c: NamedConnection): boolean => {
      const reason = reasonOf(c, pictureOptions);
      return (reason.layers ?? [reason.layer]).includes(layer.id);
    };
  const inCluster = (c: NamedConnection): boolean =>
    c.from.kind === "namespace" && c.to.kind === "namespace";
  // Groups above AGGREGATE_ABOVE_NAMESPACES, or from MAX_GROUP_SIZE on when the flat picture
  // inside the cluster does not fit the page (docs/engine.md, "Pictures of large clusters").
  let aggregated = namespaces.length > AGGREGATE_ABOVE_NAMESPACES;
  let inside: string | undefined;
  if (!aggregated) {
    const tooWide = collector.tooWide.length;
    inside = await pictureBlock(
      fullPicture(connections, [], pictureOptions, (c) => visible(c) && inCluster(c)),
      "inside-svg",
    );
    aggregated = collector.tooWide.length > tooWide && namespaces.length > MAX_GROUP_SIZE;
  }
  if (!aggregated) {
    // Visible layers share one picture; each hidden layer is a picture of its own, shown by its
    // box: drawn into one layout, a hub layer (DNS: every namespace to one) buries the rest.
    // Inside the cluster and to/from outside are drawn apart: together they are twice as wide.
    parts.push(
      "<h3>Inside the cluster</h3>",
      inside!,
      "<h3>To and from outside the cluster</h3>",
      await pictureBlock(
        fullPicture(connections, [], pictureOptions, (c) => visible(c) && !inCluster(c)),
        "outside-svg",
      ),
    );
    const drawn = new Set(
      connections
        .filter(visible)
        .flatMap((c) => [c.from, c.to])
        .filter((p) => p.kind === "namespace")
        .map(endName),
    );
    const onlyHidden = namespaces.filter((n) => !drawn.has(n));
    if (onlyHidden.length > 0)
      parts.push(
        `<p>Only in the hidden layers: ${onlyHidden.map((n) => `<a href="#${namespaceAnchor(n)}">${escapeHtml(n)}</a>`).join(", ")}.</p>`,
      );
    for (const layer of layers.filter((l) => l.hiddenByDefault)) {
      // Hub pictures (everyone to DNS) read best flat: groups would stack them side by side.
      const flat = { ...pictureOptions, namespaceGroups: () => [] };
      const graph = fullPicture(connections, [], flat, inLayer(layer));
      parts.push(await layerSection(layer, graph, pictureBlock));
    }
  } else {
    const grouping = groupNamespaces(namespaces, (n) => aggregationKey(model, n, options));
    // Each group drilled into costs about a second of layout; past MAX_DRAWN_GROUPS the
    // overview could not be drawn anyway (every group twice, over MAX_DRAWN_NODES boxes).
    const drawGroups = grouping.groups.length <= MAX_DRAWN_GROUPS;
    const shown = connections.filter(visible);
    const pictureBlock = (graph: PictureGraph, id: string): Promise<string> =>
      drawGroups
        ? collector.block(graph, id)
        : Promise.resolve(
            `<p class="too-dense">Not drawn: ${grouping.groups.length} groups are more than the ${MAX_DRAWN_GROUPS} the pictures of groups are drawn for; the tables list every edge.</p>`,
          );
    parts.push(
      `<p>${namespaces.length} namespaces in ${grouping.groups.length} groups (by tier and mesh, at most ${MAX_GROUP_SIZE} namespaces each). The table counts the connections between groups; click a group for its namespaces and the reason of every edge, a namespace for everything in and out of it.</p>`,
      groupMatrix(shown, grouping),
      await pictureBlock(aggregatePicture(shown, grouping, pictureOptions), "aggregate-svg"),
    );
    for (const layer of layers.filter((l) => l.hiddenByDefault)) {
      const graph = aggregatePicture(connections.filter(inLayer(layer)), grouping, pictureOptions);
      parts.push(await layerSection(layer, graph, pictureBlock));
    }
    for (const [i, group] of grouping.groups.entries()) {
      // Hidden layers stay out of drill-downs (the per-namespace tables list them).
      const drill = drillDownPicture(shown, grouping, group, pictureOptions);
      parts.push(
        `<h3 id="${groupAnchor(group.label)}">${escapeHtml(group.label)} (${group.detail})</h3>`,
        `<p>${group.members.map((n) => `<a href="#${namespaceAnchor(n)}">${escapeHtml(n)}</a>`).join(" · ")}</p>`,
        await pictureBlock(drill.graph, `group-svg-${i}`),
        drill.rows.length === 0
          ? "<p>Nothing in or out in the layers shown.</p>"
          : table(
              ["from", "to", "allowed", "connections", "why"],
              drill.rows.map((r) => [r.from, r.to, r.allowed, String(r.connections), r.why]),
            ),
      );
    }
  }
  parts.push(legend(meshed), "</section>");
  parts.push(
    `<section id="namespaces"><h2>Per namespace</h2><p>${namespaces
      .map((n) => `<a href="#${namespaceAnchor(n)}">${escapeHtml(n)}</a>`)
      .join(" · ")}</p>`,
  );
  for (const [i, ns] of namespaces.entries()) {
    const { graph, connections: mine } = namespacePicture(connections, ns, pictureOptions);
    parts.push(`<h3 id="${namespaceAnchor(ns)}">${escapeHtml(ns)}</h3>`);
    // Large clusters keep the per-namespace tables and the group pictures above.
    if (!aggregated && mine.length > 0) parts.push(await pictureBlock(graph, `ns-svg-${i}`));
    parts.push(
      mine.length === 0
        ? "<p>Nothing in or out.</p>"
        : table(
            ["from", "to", "allowed", "why"],
            mine.map((c) => [
              endName(c.from),
              endName(c.to),
              connectionLabel(c, meshed),
              reasonText(c, options),
            ]),
          ),
    );
  }
  parts.push("</section>");
  parts.push(
    `<section id="table"><h2>Allowed connections</h2>`,
    table(
      ["from", "to", "allowed", "why"],
      connections.map((c) => [
        endName(c.from),
        endName(c.to),
        cellText(c, model),
        reasonText(c, options),
      ]),
    ),
    "</section>",
  );
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=${PAGE_WIDTH}">
<title>Connectivity</title>
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:${PAGE_MARGIN}px;max-width:${MAX_PICTURE_WIDTH}px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #bbb;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}th{background:#eee}
.picture{margin:8px 0 16px}.picture-svg{display:block}
.layered label{margin-right:1.2em}.legend span{display:inline-block;margin-right:1.5em}
.picture a:hover rect{stroke-width:2.5}
${layerCss(layers)}
</style>
</head><body>
<h1>Connectivity</h1>
<p>ipBlockMatchesPods=${model.options.ipBlockMatchesPods}</p>
${parts.join("\n")}
</body></html>
`;
  return { html, pictures: collector.pictures };
}

/**
 * Above this many boxes a picture is not laid out: at 90 px or more per box, 60 boxes already
 * need six rows of the page's width, and the layout gets slow (the 200 namespaces and 591 flows of
 * the synthetic stack's declared picture take 16 s to lay out, 8,540 px wide, and ELK's
 * Coffman-Graham layering overflows the stack on it). Large clusters are drawn in groups instead.
 */
export const MAX_DRAWN_NODES = 60;

/**
 * The pictures of groups are drawn for at most this many groups (600 namespaces): the overview
 * draws each group twice (sending, receiving) and would pass `MAX_DRAWN_NODES` beyond.
 */
export const MAX_DRAWN_GROUPS = MAX_DRAWN_NODES / 2;

/**
 * Whether a picture is worth laying out: ELK routes anything, but beyond about three edges per
 * node (all groups talking to all) boxes and labels never fit the page, and the layout is slow.
 */
function drawable(graph: PictureGraph): boolean {
  return (
    graph.nodes.length <= MAX_DRAWN_NODES &&
    graph.edges.length <= Math.max(12, 3 * graph.nodes.length)
  );
}

/** Group × group counts of connections, each group linking to its section. */
function groupMatrix(connections: readonly NamedConnection[], grouping: NamespaceGrouping): string {
  const counts = new Map<string, number>();
  for (const c of connections) {
    if (c.from.kind !== "namespace" || c.to.kind !== "namespace") continue;
    const key = `${grouping.groupOf(c.from.name).label}\u0000${grouping.groupOf(c.to.name).label}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const labels = grouping.groups.map((g) => g.label);
  const link = (g: string): string => `<a href="#${groupAnchor(g)}">${escapeHtml(g)}</a>`;
  const head = `<tr><th>from \\ to</th>${labels.map((g) => `<th>${link(g)}</th>`).join("")}</tr>`;
  const rows = labels.map(
    (from) =>
      `<tr><th>${link(from)}</th>${labels.map((to) => `<td>${counts.get(`${from}\u0000${to}`) ?? ""}</td>`).join("")}</tr>`,
  );
  return `<table class="group-matrix"><thead>${head}</thead><tbody>\n${rows.join("\n")}\n</tbody></table>`;
}

/**
 * The grouping key of a namespace (engine/report/aggregate.ts): its config groups (tier, mesh),
 * else its mesh membership, else one key for all.
 */
function aggregationKey(model: ClusterModel, namespace: string, options: DiagramOptions): string {
  const path = options.namespaceGroups?.(namespace) ?? [];
  if (path.length > 0) return path.join(" · ");
  if (!model.options.mesh) return "namespaces";
  return model.namespaces.get(namespace)?.meshed ? "ambient mesh" : "outside the mesh";
}

function legend(meshed: boolean): string {
  const swatch = (colour: string, text: string): string =>
    `<span><svg width="28" height="10"><line x1="0" y1="5" x2="28" y2="5" stroke="${colour}" stroke-width="2"/></svg> ${escapeHtml(text)}</span>`;
  return `<p class="legend"><span>Square box: namespace</span><span>Round box: external</span>${swatch(TONE_COLOURS.plain, "allowed")}${meshed ? swatch(TONE_COLOURS.hbone, "meshed to meshed (HBONE: TCP ports as ztunnel authorization allows them)") : ""}${swatch(TONE_COLOURS.undeclared, "allowed but declared by nothing")}</p>`;
}
