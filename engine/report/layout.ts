/**
 * Pictures as data, laid out by ELK (Eclipse Layout Kernel, `elkjs`): its layered algorithm
 * (Sugiyama style) with orthogonal edge routing places nodes in layers, routes edges between them
 * around the nodes, and treats edge labels as boxes of their own so they never sit on a node.
 * Option reference: https://eclipse.dev/elk/reference/algorithms/org-eclipse-elk-layered.html
 *
 * elkjs was chosen over Graphviz compiled to WebAssembly because it is plain JavaScript (runs on
 * Node 20 with no WASM loader and no network), returns coordinates rather than finished SVG (so
 * the picture's styling, layers and the geometric checks work on the same numbers), and supports
 * nested groups with edges crossing them (`hierarchyHandling: INCLUDE_CHILDREN`).
 */
import type ElkConstructor from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkLabel, ElkNode } from "elkjs/lib/elk-api";

let elkClass: typeof ElkConstructor | undefined;

/**
 * ELK is loaded on the first layout: its bundle takes about 150 ms to load, and most importers of
 * the engine (check, explain, list, the policy pack) never draw a picture. A plain `require`,
 * because the pack is compiled by ts-node without this project's module interop settings; the
 * bundle exports its class as `default` too.
 */
function loadElk(): typeof ElkConstructor {
  if (!elkClass)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    elkClass = (require("elkjs/lib/elk.bundled.js") as { default: typeof ElkConstructor }).default;
  return elkClass;
}

/** A box in picture coordinates (absolute, top-left origin). */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export type NodeKind = "namespace" | "external" | "aggregate";

export interface PictureNode {
  readonly id: string;
  readonly label: string;
  readonly kind: NodeKind;
  /** Enclosing groups, outermost first (e.g. `["apps tier", "ambient mesh"]`). */
  readonly groups?: readonly string[];
  /** Extra line under the label (e.g. "12 namespaces"). */
  readonly detail?: string;
  /** Link target inside the page (a per-namespace section, say). */
  readonly href?: string;
  readonly title?: string;
}

/** How an edge is drawn; `layer` decides whether it is shown by default (see render). */
export type EdgeTone = "plain" | "hbone" | "added" | "removed" | "changed" | "undeclared";

export interface PictureEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Tooltip: the flow name or pattern and its reason. */
  readonly title: string;
  readonly layer: string;
  readonly tone: EdgeTone;
}

export interface PictureGraph {
  readonly nodes: readonly PictureNode[];
  readonly edges: readonly PictureEdge[];
}

export interface LaidOutNode extends Box {
  readonly node: PictureNode;
}

export interface LaidOutGroup extends Box {
  readonly path: readonly string[];
  readonly label: string;
  readonly labelBox: Box;
}

export interface LaidOutEdge {
  readonly edge: PictureEdge;
  /** Polylines, one per ELK edge section. */
  readonly sections: readonly (readonly Point[])[];
  readonly labelBox: Box;
}

export interface LaidOutPicture {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly LaidOutNode[];
  readonly groups: readonly LaidOutGroup[];
  readonly edges: readonly LaidOutEdge[];
}

// Text metrics: the page uses a 13 px sans-serif for nodes and 11 px for edge labels. Widths are
// estimated generously (wider than DejaVu Sans and Arial at these sizes) so text never overflows.
export const NODE_FONT_PX = 13;
export const LABEL_FONT_PX = 11;
const NODE_CHAR_PX = 7.8;
const LABEL_CHAR_PX = 6.8;
const NODE_HEIGHT = 34;
const NODE_DETAIL_HEIGHT = 48;
const LABEL_HEIGHT = 15;
const GROUP_LABEL_HEIGHT = 18;

export function nodeTextWidth(text: string): number {
  return Math.ceil(text.length * NODE_CHAR_PX);
}

export function labelTextWidth(text: string): number {
  return Math.ceil(text.length * LABEL_CHAR_PX) + 8;
}

function nodeSize(node: PictureNode): { width: number; height: number } {
  const text = Math.max(nodeTextWidth(node.label), nodeTextWidth(node.detail ?? ""));
  return { width: Math.max(90, text + 24), height: node.detail ? NODE_DETAIL_HEIGHT : NODE_HEIGHT };
}

const GROUP_PREFIX = "group:";

function groupId(path: readonly string[]): string {
  return GROUP_PREFIX + path.join("\u0000");
}

export type Direction = "RIGHT" | "DOWN";

/**
 * How to lay out: the flow direction and, optionally, at most `layerBound` nodes per layer
 * (Coffman-Graham layering), which trades length for width when one layer would be too wide.
 */
export interface LayoutVariant {
  readonly direction: Direction;
  readonly layerBound?: number;
  /**
   * Tighter spacing between edges: in a dense picture (a group drilled into, 70 edges) the
   * vertical tracks of the orthogonal routes, one per edge, make most of the width.
   */
  readonly compact?: boolean;
}

const ROOT_OPTIONS = {
  "elk.algorithm": "layered",
  "elk.edgeRouting": "ORTHOGONAL",
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  "elk.layered.spacing.nodeNodeBetweenLayers": "40",
  "elk.layered.spacing.edgeNodeBetweenLayers": "16",
  "elk.layered.spacing.edgeEdgeBetweenLayers": "10",
  "elk.spacing.nodeNode": "22",
  "elk.spacing.edgeNode": "14",
  "elk.spacing.edgeEdge": "10",
  "elk.spacing.edgeLabel": "3",
  "elk.spacing.labelNode": "6",
  "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
  "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
  "elk.edgeLabels.placement": "CENTER",
  "elk.layered.edgeLabels.sideSelection": "SMART_DOWN",
  "elk.padding": "[top=12,left=12,bottom=12,right=12]",
  // Fixed seed: the same graph always gives the same picture (the committed PNG depends on it).
  "elk.randomSeed": "1",
};

const GROUP_OPTIONS = {
  "elk.padding": `[top=${GROUP_LABEL_HEIGHT + 14},left=12,bottom=12,right=12]`,
  "elk.nodeLabels.placement": "[H_LEFT, V_TOP, INSIDE]",
};

/** Builds ELK's nested graph: groups become compound nodes, edges stay at the root. */
function elkGraph(graph: PictureGraph, variant: LayoutVariant): ElkNode {
  const root: ElkNode = {
    id: "root",
    layoutOptions: {
      ...ROOT_OPTIONS,
      "elk.direction": variant.direction,
      ...(variant.compact
        ? {
            "elk.layered.spacing.edgeEdgeBetweenLayers": "5",
            "elk.layered.spacing.edgeNodeBetweenLayers": "10",
            "elk.spacing.edgeEdge": "6",
          }
        : {}),
      ...(variant.layerBound
        ? {
            "elk.layered.layering.strategy": "COFFMAN_GRAHAM",
            "elk.layered.layering.coffmanGraham.layerBound": String(variant.layerBound),
          }
        : {}),
    },
    children: [],
    edges: [],
  };
  const groups = new Map<string, ElkNode>();
  const parentOf = (path: readonly string[]): ElkNode => {
    let parent = root;
    for (let depth = 1; depth <= path.length; depth++) {
      const id = groupId(path.slice(0, depth));
      let group = groups.get(id);
      if (!group) {
        const label = path[depth - 1];
        group = {
          id,
          layoutOptions: GROUP_OPTIONS,
          labels: [{ text: label, width: nodeTextWidth(label), height: GROUP_LABEL_HEIGHT }],
          children: [],
        };
        groups.set(id, group);
        parent.children!.push(group);
      }
      parent = group;
    }
    return parent;
  };
  for (const node of graph.nodes)
    parentOf(node.groups ?? []).children!.push({ id: node.id, ...nodeSize(node) });
  root.edges = graph.edges.map(
    (edge): ElkExtendedEdge => ({
      id: edge.id,
      sources: [edge.from],
      targets: [edge.to],
      labels: [{ text: edge.label, width: labelTextWidth(edge.label), height: LABEL_HEIGHT }],
    }),
  );
  return root;
}

interface Offset {
  readonly x: number;
  readonly y: number;
}

function absoluteBox(shape: ElkNode | ElkLabel, offset: Offset): Box {
  return {
    x: offset.x + (shape.x ?? 0),
    y: offset.y + (shape.y ?? 0),
    width: shape.width ?? 0,
    height: shape.height ?? 0,
  };
}

/**
 * Lays the picture out. ELK gives node positions relative to their parent and edge geometry
 * relative to the edge's container; everything is made absolute here.
 */
export async function layoutPicture(
  graph: PictureGraph,
  variant: LayoutVariant = { direction: "RIGHT" },
): Promise<LaidOutPicture> {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const edgesById = new Map(graph.edges.map((e) => [e.id, e]));
  for (const edge of graph.edges)
    if (!byId.has(edge.from) || !byId.has(edge.to))
      throw new Error(`picture edge ${edge.id} names a node that is not in the picture`);
  const ELK = loadElk();
  const laid = await new ELK().layout(elkGraph(graph, variant));
  const nodes: LaidOutNode[] = [];
  const groups: LaidOutGroup[] = [];
  const offsets = new Map<string, Offset>([["root", { x: 0, y: 0 }]]);
  const walk = (parent: ElkNode, offset: Offset, path: readonly string[]): void => {
    for (const child of parent.children ?? []) {
      const box = absoluteBox(child, offset);
      offsets.set(child.id, box);
      if (child.id.startsWith(GROUP_PREFIX)) {
        const label = child.labels?.[0];
        const childPath = [...path, label?.text ?? ""];
        groups.push({
          ...box,
          path: childPath,
          label: label?.text ?? "",
          labelBox: label ? absoluteBox(label, box) : { ...box, height: 0 },
        });
        walk(child, box, childPath);
      } else {
        nodes.push({ ...box, node: byId.get(child.id)! });
      }
    }
  };
  walk(laid, { x: 0, y: 0 }, []);
  const edges = (laid.edges ?? []).map((elkEdge): LaidOutEdge => {
    const offset = offsets.get((elkEdge as { container?: string }).container ?? "root")!;
    const at = (p: Point): Point => ({ x: offset.x + p.x, y: offset.y + p.y });
    const label = elkEdge.labels?.[0];
    return {
      edge: edgesById.get(elkEdge.id)!,
      sections: (elkEdge.sections ?? []).map((s) =>
        [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map(at),
      ),
      labelBox: label ? absoluteBox(label, offset) : { ...offset, width: 0, height: 0 },
    };
  });
  return {
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    nodes,
    groups: groups.sort((a, b) => a.path.length - b.path.length),
    edges,
  };
}
