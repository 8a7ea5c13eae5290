import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expandConnections } from "../../components/connections";
import {
  buildModel,
  computeConnectivity,
  diffModels,
  diffPicture,
  layoutPicture,
  layoutProblems,
  MAX_PICTURE_WIDTH,
  nameExternalPeers,
  namedConnectionText,
  namespaceConnections,
  renderConnectivityPage,
  renderDiffHtml,
  renderMatrixMarkdown,
  type LaidOutPicture,
  type PagePicture,
  type PictureGraph,
} from "../../engine";
import * as conn from "../../engine/model/connections";
import * as iv from "../../engine/model/intervals";
import type { NamedConnection } from "../../engine/report/external-names";
import { segmentCrossesBox } from "../../engine/report/layout-check";
import { connectionLabel } from "../../engine/report/pictures";
import { declaredFlowFocus, stackConnectivityPage } from "../../plan/connectivity";
import { renderStack, type RenderResult } from "../../plan/render";
import { syntheticCluster } from "../../cli/bench";
import { syntheticStackYaml } from "../../cli/lib/synthetic";
import { groupNamespaces } from "../../engine/report/aggregate";
import { knp, ns, pod } from "./helpers";

const ROOT = path.join(__dirname, "../..");

describe("pictures: layout geometry", () => {
  it("sees a segment that crosses a box, and one that only touches or misses it", () => {
    const box = { x: 10, y: 10, width: 20, height: 10 };
    assert.equal(segmentCrossesBox({ x: 0, y: 15 }, { x: 40, y: 15 }, box), true);
    assert.equal(segmentCrossesBox({ x: 20, y: 0 }, { x: 20, y: 12 }, box), true);
    assert.equal(segmentCrossesBox({ x: 0, y: 10 }, { x: 40, y: 10 }, box), false);
    assert.equal(segmentCrossesBox({ x: 0, y: 0 }, { x: 9, y: 40 }, box), false);
  });

  it("flags an edge through a node and a label on a node (the checker can fail)", () => {
    const node = (id: string, x: number) => ({
      x,
      y: 0,
      width: 50,
      height: 20,
      node: { id, label: id, kind: "namespace" as const },
    });
    const picture: LaidOutPicture = {
      width: 300,
      height: 40,
      nodes: [node("a", 0), node("b", 100), node("c", 200)],
      groups: [],
      edges: [
        {
          edge: { id: "a-c", from: "a", to: "c", label: "x", title: "", layer: "l", tone: "plain" },
          sections: [
            [
              { x: 50, y: 10 },
              { x: 200, y: 10 },
            ],
          ],
          labelBox: { x: 110, y: 5, width: 20, height: 10 },
        },
      ],
    };
    assert.deepEqual(layoutProblems(picture), [
      "edge a-c runs through node b",
      "label of edge a-c overlaps node b",
    ]);
  });

  it("lays out a small graph cleanly, self loop included", async () => {
    const graph: PictureGraph = {
      nodes: [
        { id: "a", label: "alpha", kind: "namespace", groups: ["apps tier"] },
        { id: "b", label: "beta", kind: "namespace", groups: ["apps tier", "ambient mesh"] },
        { id: "c", label: "internet", kind: "external" },
      ],
      edges: [
        { id: "e1", from: "a", to: "b", label: "TCP 80", title: "", layer: "l", tone: "plain" },
        { id: "e2", from: "b", to: "b", label: "TCP 9", title: "", layer: "l", tone: "hbone" },
        { id: "e3", from: "b", to: "c", label: "TCP 443", title: "", layer: "l", tone: "plain" },
      ],
    };
    const laid = await layoutPicture(graph);
    assert.deepEqual(layoutProblems(laid), []);
    assert.deepEqual(
      laid.groups.map((g) => g.label),
      ["apps tier", "ambient mesh"],
    );
    await assert.rejects(
      layoutPicture({ nodes: [], edges: [graph.edges[0]] }),
      /names a node that is not in the picture/,
    );
  });
});

describe("pictures: external ends by name", () => {
  const objects = [
    ns("a"),
    pod("a", "p"),
    knp("a", "egress", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }],
          ports: [{ port: 443 }],
        },
        { to: [{ ipBlock: { cidr: "8.8.8.8/32" } }], ports: [{ port: 53, protocol: "UDP" }] },
        { to: [{ ipBlock: { cidr: "10.0.1.1/32" } }], ports: [{ port: 8443 }] },
      ],
    }),
  ];
  const names = [
    { label: "gateway (10.0.1.1)", cidrs: ["10.0.1.1/32"] },
    {
      label: "internet",
      cidrs: ["0.0.0.0/0"],
      except: ["10.0.0.0/8"],
      direction: "egress" as const,
    },
  ];

  it("keeps one internet end, with the part only some addresses get qualified", () => {
    const model = buildModel(objects);
    const raw = namespaceConnections(computeConnectivity(model));
    assert.ok(raw.filter((c) => c.to.kind === "external").length >= 3, "the evaluator splits");
    const named = nameExternalPeers(raw, names).filter((c) => c.to.kind === "external");
    assert.deepEqual(
      named.map((c) => [c.to.kind === "external" ? c.to.text : "", namedConnectionText(c)]),
      [
        ["gateway (10.0.1.1)", "TCP 8443"],
        ["internet", "TCP 443; UDP 53 to 8.8.8.8/32"],
      ],
    );
  });

  it("says nothing holds everywhere when part of a name is reached by nobody", () => {
    const model = buildModel([
      ns("a"),
      pod("a", "p"),
      knp("a", "egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "8.8.8.8/32" } }], ports: [{ port: 53 }] }],
      }),
    ]);
    const named = nameExternalPeers(namespaceConnections(computeConnectivity(model)), names);
    const internet = named.find((c) => c.to.kind === "external");
    assert.ok(internet);
    assert.equal(namedConnectionText(internet), "TCP 53 to 8.8.8.8/32");
  });

  it("merges names treated identically into one end", () => {
    const model = buildModel([
      ns("a"),
      pod("a", "p"),
      knp("a", "egress", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "10.0.1.1/32" } }, { ipBlock: { cidr: "10.0.1.204/32" } }],
            ports: [{ port: 22 }],
          },
        ],
      }),
    ]);
    const named = nameExternalPeers(namespaceConnections(computeConnectivity(model)), [
      names[0],
      { label: "nas (10.0.1.204)", cidrs: ["10.0.1.204/32"] },
    ]).filter((c) => c.to.kind === "external");
    assert.deepEqual(
      named.map((c) => (c.to.kind === "external" ? c.to.text : "")),
      ["gateway (10.0.1.1), nas (10.0.1.204)"],
    );
  });
});

describe("pictures of the homelab", function () {
  this.timeout(240_000);
  let result: RenderResult;
  let page: Awaited<ReturnType<typeof stackConnectivityPage>>;
  const picture = (id: string): PagePicture => {
    const found = page.pictures.find((p) => p.id === id);
    assert.ok(found, `picture ${id}`);
    return found;
  };

  before(async () => {
    result = await renderStack("homelab");
    page = await stackConnectivityPage(
      result.config,
      result.manifests,
      expandConnections(result.config),
    );
  });

  it("reads cleanly: no edge through a node, no label on a node or a label, all inside", () => {
    for (const p of page.pictures) assert.deepEqual(layoutProblems(p.laid), [], p.id);
  });

  it("fits the page width", () => {
    for (const p of page.pictures)
      assert.ok(p.laid.width <= MAX_PICTURE_WIDTH, `${p.id} is ${p.laid.width} px wide`);
  });

  it("draws every declared flow as exactly one edge with its declared ports", () => {
    const declared = picture("declared-svg");
    for (const flow of result.config.flows)
      assert.equal(declared.laid.edges.filter((e) => e.edge.id === flow.name).length, 1, flow.name);
    assert.equal(declared.laid.edges.length, result.config.flows.length);
    const label = (id: string) => declared.graph.edges.find((e) => e.id === id)?.label;
    // Both ends meshed: the declared port, not the HBONE reading "TCP 1-65535".
    assert.equal(label("argo-workflows-to-localstack"), "TCP 4566");
    assert.equal(label("promtail-to-loki"), "promtail→loki TCP 3100");
    const loop = declared.graph.edges.find((e) => e.id === "promtail-to-loki")!;
    assert.equal(loop.from, loop.to, "an intra-namespace flow is drawn as a loop");
    assert.equal(
      declared.graph.edges.find((e) => e.id === "argo-workflows-to-localstack")?.tone,
      "hbone",
    );
  });

  it("labels meshed pairs with the ports the ztunnel gate allows, in the HBONE tone", () => {
    const edge = picture("inside-svg").graph.edges.find(
      (e) => e.from === "ns:argo-workflows" && e.to === "ns:localstack",
    );
    assert.equal(edge?.label, "TCP 4566");
    assert.equal(edge?.tone, "hbone");
  });

  it("names external ends by the config and groups namespaces by tier and mesh", () => {
    const outside = picture("outside-svg");
    const externals = outside.graph.nodes.filter((n) => n.kind === "external").map((n) => n.label);
    assert.deepEqual([...new Set(externals)].sort(), [
      "gateway (10.0.1.1)",
      "internet",
      "nas (10.0.1.204)",
      "nodes (10.0.10.0/24)",
    ]);
    const api = picture("layer-svg-layer-api");
    assert.ok(api.graph.nodes.some((n) => n.label === "kubernetes-api (10.96.0.1)"));
    const groups = picture("inside-svg").laid.groups.map((g) => g.path.join(" / "));
    assert.ok(groups.includes("apps tier / ambient mesh"), groups.join(", "));
    assert.ok(groups.includes("edge tier"));
  });

  it("traces every allowed connection to a reason, and every edge is in some picture", () => {
    const titles = page.pictures
      .filter((p) => !p.id.startsWith("ns-svg") && p.id !== "declared-svg")
      .flatMap((p) => p.graph.edges.map((e) => e.title));
    assert.deepEqual(
      titles.filter((t) => t.endsWith("declared by nothing")),
      [],
    );
    assert.match(page.html, /default -&gt; internet: ICMP to 8\.8\.8\.8\/32\. Why: Calico policy/);
  });

  it("hides DNS, API, metrics and mesh by default, with no script and nothing fetched", () => {
    for (const layer of ["dns", "api", "metrics", "mesh"]) {
      assert.match(
        page.html,
        new RegExp(
          `<input type="checkbox" id="full-layer-${layer}" class="toggle-layer-${layer}"><label`,
        ),
      );
      assert.match(
        page.html,
        new RegExp(
          `toggle-layer-${layer}:not\\(:checked\\) ~ \\.layer-picture\\.layer-${layer}\\{display:none\\}`,
        ),
      );
    }
    assert.match(page.html, /id="full-layer-flows" class="toggle-layer-flows" checked>/);
    assert.doesNotMatch(page.html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("has a section per namespace with the reason of every edge", () => {
    const section = page.html.slice(page.html.indexOf('<h3 id="ns-velero">'));
    const table = section.slice(0, section.indexOf("</table>"));
    assert.match(
      table,
      /<td>velero<\/td><td>localstack<\/td><td>TCP 4566<\/td><td>flow velero-to-localstack<\/td>/,
    );
    assert.match(
      table,
      /<td>velero<\/td><td>kube-system<\/td><td>TCP 53,UDP 53<\/td><td>dns-from-velero<\/td>/,
    );
  });

  it("names the matrix's external rows too, without splitting the internet", () => {
    const connections = expandConnections(result.config);
    const md = renderMatrixMarkdown(
      page.model,
      undefined,
      declaredFlowFocus(result.config, connections),
    );
    assert.match(md, /\| default \| internet \| ICMP to 8\.8\.8\.8\/32 \|/);
    assert.match(md, /\| trivy-system \| internet \| TCP 443 \|/);
    assert.match(md, /\| nodes \(10\.0\.10\.0\/24\) \| ingress-nginx \| TCP 80,443,8443 \|/);
    assert.doesNotMatch(md, /except|0\.0\.0\.0/);
  });
});

describe("pictures of a large cluster: grouping", () => {
  it("groups by key, cuts a key of more than 20 into equal alphabetical runs, whatever the input order", () => {
    const names = [
      ...Array.from({ length: 45 }, (_, i) => `m-${String(i).padStart(2, "0")}`),
      ...Array.from({ length: 20 }, (_, i) => `p-${String(i).padStart(2, "0")}`),
      "solo",
    ];
    const keyOf = (n: string): string =>
      n.startsWith("m-") ? "mesh" : n.startsWith("p-") ? "plain" : "alone";
    const grouping = groupNamespaces([...names].reverse(), keyOf);
    assert.deepEqual(
      grouping.groups.map((g) => [g.label, g.members.length, g.detail]),
      [
        ["alone", 1, "1 namespace"],
        ["mesh 1/3", 15, "m-00 … m-14"],
        ["mesh 2/3", 15, "m-15 … m-29"],
        ["mesh 3/3", 15, "m-30 … m-44"],
        ["plain", 20, "20 namespaces"],
      ],
    );
    assert.equal(grouping.groupOf("m-15").label, "mesh 2/3");
    assert.deepEqual(groupNamespaces(names, keyOf).groups, grouping.groups);
    assert.throws(() => grouping.groupOf("unknown"), /unknown is in no group/);
  });
});

/** The group × group connection counts of the page's matrix, keyed "from\0to". */
function groupMatrixCounts(html: string): Map<string, number> {
  const matrix = html.slice(html.indexOf('<table class="group-matrix">'));
  const table = matrix.slice(0, matrix.indexOf("</table>"));
  const header = /<thead>(.*?)<\/thead>/s.exec(table)![1];
  const columns = [...header.matchAll(/<a href="#[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
  const counts = new Map<string, number>();
  for (const row of table.slice(table.indexOf("<tbody>")).matchAll(/<tr>(.*?)<\/tr>/gs)) {
    const from = /<th><a href="#[^"]+">([^<]+)<\/a><\/th>/.exec(row[1])![1];
    [...row[1].matchAll(/<td>([^<]*)<\/td>/g)].forEach((cell, i) => {
      if (cell[1]) counts.set(`${from}\u0000${columns[i]}`, Number(cell[1]));
    });
  }
  return counts;
}

function assertCleanPictures(pictures: readonly PagePicture[]): void {
  for (const p of pictures) {
    assert.deepEqual(layoutProblems(p.laid), [], p.id);
    assert.ok(p.laid.width <= MAX_PICTURE_WIDTH, `${p.id} is ${p.laid.width} px wide`);
  }
}

/** Every box of a picture that links inside the page links to an element that exists. */
function assertLinksResolve(html: string, picture: PagePicture): void {
  for (const node of picture.graph.nodes)
    if (node.href)
      assert.ok(html.includes(`<h3 id="${node.href.slice(1)}">`), `${picture.id}: ${node.href}`);
}

describe("pictures of a large cluster", function () {
  this.timeout(600_000);

  it("aggregates 200 namespaces without a stack into runs of 20, drawing the overview", async () => {
    const model = buildModel(syntheticCluster(198));
    assert.equal(model.namespaces.size, 200);
    const page = await renderConnectivityPage(model);
    // No groups and no mesh: one key, cut into ten alphabetical runs, each drilled into.
    const matrix = page.html.slice(page.html.indexOf('<table class="group-matrix">'));
    const groupLinks = matrix.slice(0, matrix.indexOf("</thead>")).match(/href="#group-[^"]+"/g);
    assert.equal(groupLinks?.length, 10);
    for (const href of groupLinks!) {
      const anchor = /#([^"]+)/.exec(href)![1];
      assert.ok(page.html.includes(`<h3 id="${anchor}">`), `drill-down for ${anchor}`);
    }
    assert.ok(page.html.includes('<h3 id="ns-ns-00000">'), "and each namespace has its section");
    const overview = page.pictures.find((p) => p.id === "aggregate-svg");
    assert.ok(overview, "the overview is drawn");
    assertLinksResolve(page.html, overview);
    assertCleanPictures(page.pictures);
  });
});

describe("pictures of a cluster past 30 groups", function () {
  this.timeout(600_000);

  it("draws no group picture, and keeps the group table and every drill-down's section", async () => {
    const model = buildModel(syntheticCluster(698));
    const page = await renderConnectivityPage(model);
    assert.ok(!page.pictures.some((p) => p.id === "aggregate-svg" || p.id.startsWith("group-")));
    assert.match(page.html, /Not drawn: 35 groups are more than the 30/);
    assert.equal(groupMatrixCounts(page.html).size > 0, true);
    assert.equal([...page.html.matchAll(/<h3 id="group-namespaces_\d+_35">/g)].length, 35);
  });
});

describe("pictures of a generated 200-namespace stack", function () {
  this.timeout(900_000);
  let result: RenderResult;
  let page: PagePicture[];
  let html: string;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-pictures-"));
    try {
      // kube-system, istio-system and monitoring, and 197 application namespaces.
      fs.writeFileSync(path.join(dir, "Pulumi.synthetic.yaml"), syntheticStackYaml(197));
      result = await renderStack("synthetic", dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const rendered = await stackConnectivityPage(
      result.config,
      result.manifests,
      expandConnections(result.config),
    );
    assert.equal(rendered.model.namespaces.size, 200);
    page = rendered.pictures;
    html = rendered.html;
  });

  const drillDowns = (): PagePicture[] => page.filter((p) => p.id.startsWith("group-svg-"));

  it("draws the overview and every group drilled into, each reading cleanly within the page", () => {
    assert.ok(page.some((p) => p.id === "aggregate-svg"));
    // Tiers first (kube-system, istio-system: platform), then mesh membership, cut at 20.
    const headings = [...html.matchAll(/<h3 id="group-[^"]+">([^<]+)<\/h3>/g)].map((m) => m[1]);
    assert.equal(headings.length, 11);
    assert.ok(headings.includes("platform tier (2 namespaces)"), headings.join(", "));
    assert.ok(headings.some((h) => h.startsWith("ambient mesh 1/5 (")));
    assert.ok(headings.some((h) => h.startsWith("outside the mesh 5/5 (")));
    assert.equal(drillDowns().length, 11, "every drill-down is drawn");
    assertCleanPictures(page);
  });

  it("links every group box to its drill-down and every namespace box to its section", () => {
    for (const p of [page.find((q) => q.id === "aggregate-svg")!, ...drillDowns()])
      assertLinksResolve(html, p);
  });

  it("counts on each overview edge what the group matrix counts", () => {
    const counts = groupMatrixCounts(html);
    const overview = page.find((p) => p.id === "aggregate-svg")!;
    const byId = new Map(overview.graph.nodes.map((n) => [n.id, n]));
    let groupEdges = 0;
    for (const edge of overview.graph.edges) {
      const [from, to] = [byId.get(edge.from)!, byId.get(edge.to)!];
      if (from.kind !== "aggregate" || to.kind !== "aggregate") continue;
      groupEdges++;
      assert.equal(
        Number(/^(\d+) × /.exec(edge.label)?.[1]),
        counts.get(`${from.label}\u0000${to.label}`),
        `${from.label} -> ${to.label}: ${edge.label}`,
      );
    }
    assert.ok(groupEdges > 0);
  });

  it("traces every declared flow to exactly one edge in each drill-down it touches", () => {
    // A drill-down's group: the anchor of the last group heading above its picture.
    const anchorOf = (p: PagePicture): string => {
      const above = html.slice(0, html.indexOf(`id="${p.id}"`));
      return [...above.matchAll(/<h3 id="(group-[^"]+)">/g)].at(-1)![1];
    };
    const pictureOf = new Map<string, PagePicture>();
    for (const p of drillDowns())
      for (const n of p.graph.nodes) if (n.kind === "namespace") pictureOf.set(n.label, p);
    const flows = expandConnections(result.config).filter((c) => c.kind === "flow");
    assert.equal(flows.length, 591);
    for (const flow of flows) {
      assert.ok(flow.from.kind === "workload" && flow.to.kind === "workload");
      const [a, b] = [flow.from.namespace, flow.to.namespace];
      for (const [own, other, side] of [
        [a, b, "out:"],
        [b, a, "in:"],
      ] as const) {
        const picture = pictureOf.get(own)!;
        // The other end is a box of its own in the same group, else its group as one box.
        const otherAnchor = `#${anchorOf(pictureOf.get(other)!)}`;
        const otherId = picture.graph.nodes.find(
          (n) =>
            n.id === `ns:${other}` ||
            (n.kind === "aggregate" && n.id.startsWith(side) && n.href === otherAnchor),
        )?.id;
        assert.ok(otherId, `${flow.name}: the other end in ${picture.id}`);
        const [from, to] = side === "out:" ? [`ns:${own}`, otherId] : [otherId, `ns:${own}`];
        const edges = picture.graph.edges.filter((e) => e.from === from && e.to === to);
        assert.equal(edges.length, 1, `${flow.name} in ${picture.id}`);
        assert.ok(edges[0].title.includes(`flow ${flow.name}`), `${flow.name}: ${edges[0].title}`);
      }
    }
    // The table under each drill-down names the flows too.
    const section = html.slice(html.indexOf(`<h3 id="${anchorOf(drillDowns()[0])}">`));
    assert.match(section.slice(0, section.indexOf("<h3", 4)), /<td>[^<]*flow app-\d+-to-app-\d+/);
  });

  it("leaves the declared picture of 591 flows to its table, and fetches nothing", () => {
    assert.ok(!page.some((p) => p.id === "declared-svg"));
    const declared = html.slice(
      html.indexOf('<section id="declared">'),
      html.indexOf('<section id="full"'),
    );
    assert.match(declared, /class="too-dense"/);
    assert.match(declared, /app-00000-to-app-00001/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});

describe("diff picture", () => {
  it("draws added green, removed red and changed amber, on a clean layout", async () => {
    const objects = [ns("a"), ns("b"), ns("c"), pod("a", "x"), pod("b", "y"), pod("c", "z")];
    const before = buildModel([
      ...objects,
      knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }),
      knp("c", "p", { podSelector: {}, ingress: [{ ports: [{ port: 22 }] }] }),
    ]);
    const after = buildModel([
      ...objects,
      ns("d"),
      pod("d", "w"),
      knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 443 }] }] }),
      knp("c", "p", { podSelector: {}, policyTypes: ["Ingress"] }),
      knp("a", "p", { podSelector: {}, ingress: [{ ports: [{ port: 8080 }] }] }),
    ]);
    const changes = diffModels(before, after);
    const graph = diffPicture(changes);
    const tone = (from: string, to: string) =>
      graph.edges.find((e) => e.from === `ns:${from}` && e.to === `ns:${to}`)?.tone;
    assert.equal(tone("a", "b"), "changed");
    assert.equal(tone("a", "c"), "removed");
    assert.equal(tone("b", "a"), "changed");
    assert.equal(tone("d", "b"), "added");
    const label = (from: string, to: string) =>
      graph.edges.find((e) => e.from === `ns:${from}` && e.to === `ns:${to}`)?.label;
    assert.equal(label("a", "b"), "TCP 80 → TCP 80,443");
    assert.equal(label("a", "c"), "TCP 22");
    assert.equal(label("d", "b"), "TCP 80,443");
    assert.deepEqual(layoutProblems(await layoutPicture(graph)), []);
    const html = await renderDiffHtml(changes);
    assert.match(html, /<svg [^>]*id="diff-svg"/);
    assert.match(html, /stroke="#1a8a2e"|stroke="#c62828"/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    assert.match(await renderDiffHtml([]), /No connectivity changes/);
  });
});

describe("pictures: meshed edge labels and loading", () => {
  const hbone = (tcp: conn.ConnectionSet): NamedConnection => ({
    from: { kind: "namespace", name: "a" },
    to: { kind: "namespace", name: "b" },
    connections: tcp,
    ports: conn.connectionsToList(tcp),
    viaHbone: true,
    partial: [],
  });

  it("shows narrowed TCP ports as they are and all TCP as HBONE (all TCP)", () => {
    assert.equal(
      connectionLabel(hbone(conn.portsOf("TCP", iv.range(4566, 4566))), true),
      "TCP 4566",
    );
    const everyTcp = conn.unionConnections(
      conn.wholeProtocol("TCP"),
      conn.portsOf("UDP", iv.range(53, 53)),
    );
    assert.equal(connectionLabel(hbone(everyTcp), true), "HBONE (all TCP), UDP 53");
    assert.equal(connectionLabel(hbone(everyTcp), false), "TCP 1-65535,UDP 53");
  });

  it("importing the engine does not load elkjs (check, explain and the pack never draw)", () => {
    const script =
      'require("./engine"); process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes("elk.bundled"))))';
    const run = spawnSync(path.join(ROOT, "node_modules/.bin/tsx"), ["-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "false");
  });
});
