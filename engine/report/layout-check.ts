/**
 * What a person checks when reading a picture, as geometry on the layout: an edge must not run
 * through a node it does not start or end at (it would read as passing through it), a label must
 * not sit on a node or on another label (clipped or ambiguous), and everything must lie inside the
 * picture. Used by the tests on real pictures.
 */
import type { Box, LaidOutPicture, Point } from "./layout";

/** Boxes are shrunk by this much before testing, so touching an outline is not a crossing. */
const TOLERANCE = 1;

function shrink(box: Box, by: number): Box {
  return { x: box.x + by, y: box.y + by, width: box.width - 2 * by, height: box.height - 2 * by };
}

export function boxesOverlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Whether the segment p-q crosses the open box (Liang-Barsky clipping). */
export function segmentCrossesBox(p: Point, q: Point, box: Box): boolean {
  const dx = q.x - p.x;
  const dy = q.y - p.y;
  let t0 = 0;
  let t1 = 1;
  const edges: [number, number][] = [
    [-dx, p.x - box.x],
    [dx, box.x + box.width - p.x],
    [-dy, p.y - box.y],
    [dy, box.y + box.height - p.y],
  ];
  for (const [denominator, numerator] of edges) {
    if (denominator === 0) {
      if (numerator <= 0) return false;
      continue;
    }
    const t = numerator / denominator;
    if (denominator < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 >= t1) return false;
  }
  return true;
}

/** Every readability problem of a laid-out picture, as sentences; empty when it reads cleanly. */
export function layoutProblems(picture: LaidOutPicture): string[] {
  const problems: string[] = [];
  const inside = (box: Box): boolean =>
    box.x >= -TOLERANCE &&
    box.y >= -TOLERANCE &&
    box.x + box.width <= picture.width + TOLERANCE &&
    box.y + box.height <= picture.height + TOLERANCE;
  for (const n of picture.nodes)
    if (!inside(n)) problems.push(`node ${n.node.id} lies outside the picture`);
  for (const e of picture.edges) {
    if (e.sections.length === 0) problems.push(`edge ${e.edge.id} has no route`);
    for (const n of picture.nodes) {
      if (n.node.id === e.edge.from || n.node.id === e.edge.to) continue;
      const body = shrink(n, TOLERANCE);
      const crosses = e.sections.some((points) =>
        points.slice(1).some((q, i) => segmentCrossesBox(points[i], q, body)),
      );
      if (crosses) problems.push(`edge ${e.edge.id} runs through node ${n.node.id}`);
      if (boxesOverlap(shrink(e.labelBox, TOLERANCE), n))
        problems.push(`label of edge ${e.edge.id} overlaps node ${n.node.id}`);
    }
    // The edge's own ends: its label must not cover them either.
    for (const n of picture.nodes)
      if (
        (n.node.id === e.edge.from || n.node.id === e.edge.to) &&
        boxesOverlap(shrink(e.labelBox, TOLERANCE), n)
      )
        problems.push(`label of edge ${e.edge.id} overlaps its own end ${n.node.id}`);
    if (!inside(e.labelBox)) problems.push(`label of edge ${e.edge.id} lies outside the picture`);
  }
  for (let i = 0; i < picture.edges.length; i++)
    for (let j = i + 1; j < picture.edges.length; j++) {
      const [a, b] = [picture.edges[i], picture.edges[j]];
      if (boxesOverlap(shrink(a.labelBox, TOLERANCE), b.labelBox))
        problems.push(`labels of edges ${a.edge.id} and ${b.edge.id} overlap`);
    }
  for (const g of picture.groups)
    for (const n of picture.nodes)
      if (boxesOverlap(shrink(g.labelBox, TOLERANCE), n))
        problems.push(`group label ${g.label} overlaps node ${n.node.id}`);
  return problems;
}
