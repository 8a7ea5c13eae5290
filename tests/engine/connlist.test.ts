/** `npm run list`'s formats and focus (engine/report/connlist.ts), on a two-workload namespace. */
import { strict as assert } from "assert";
import { computeConnectivity, connlist, type ConnlistOptions, renderConnlist } from "../../engine";
import { knp, model, ns, pod } from "./helpers";

// netpol-analyzer's minimal example in one namespace with a dash (the dot subgraph id turns it
// into an underscore): the world may reach frontend on 8080, frontend may reach backend on 9090
// and anything on 53 (TCP and UDP, so the csv field needs quotes).
const objects = [
  ns("my-app"),
  pod("my-app", "frontend", { app: "frontend" }),
  pod("my-app", "backend", { app: "backend" }),
  knp("my-app", "backend", {
    podSelector: { matchLabels: { app: "backend" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      { from: [{ podSelector: { matchLabels: { app: "frontend" } } }], ports: [{ port: 9090 }] },
    ],
  }),
  knp("my-app", "frontend", {
    podSelector: { matchLabels: { app: "frontend" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ ports: [{ port: 8080 }] }],
    egress: [
      { to: [{ podSelector: { matchLabels: { app: "backend" } } }], ports: [{ port: 9090 }] },
      { ports: [{ port: 53, protocol: "UDP" }, { port: 53 }] },
    ],
  }),
];

const EXTERNAL = "0.0.0.0-255.255.255.255[External]";
const FRONTEND = "my-app/frontend[Pod]";
const BACKEND = "my-app/backend[Pod]";

function listed(format: Parameters<typeof renderConnlist>[1], options?: ConnlistOptions): string {
  const m = model(objects, { ipBlockMatchesPods: false });
  return renderConnlist(connlist(m, computeConnectivity(m), options), format);
}

const DOT_NAMESPACE = [
  "digraph {",
  '\tsubgraph "cluster_my_app[namespace]" {',
  '\t\tcolor="black"',
  '\t\tfontcolor="black"',
  `\t\t"${BACKEND}" [label="backend[Pod]" color="blue" fontcolor="blue"]`,
  `\t\t"${FRONTEND}" [label="frontend[Pod]" color="blue" fontcolor="blue"]`,
  '\t\tlabel="my-app[namespace]"',
  "\t}",
];
const edge = (src: string, dst: string, conn: string, weight: string): string =>
  `\t"${src}" -> "${dst}" [label="${conn}" color="gold2" fontcolor="darkgreen" weight=${weight}]`;

describe("list formats (netpol-analyzer's shapes)", () => {
  it("txt: SRC => DST : CONN, sorted by source then destination", () => {
    assert.equal(
      listed("txt"),
      `${EXTERNAL} => ${FRONTEND} : TCP 8080\n` +
        `${FRONTEND} => ${EXTERNAL} : TCP 53,UDP 53\n` +
        `${FRONTEND} => ${BACKEND} : TCP 9090\n`,
    );
  });

  it("json: an array of {src, dst, conn} indented by two spaces", () => {
    const text = listed("json");
    assert.deepEqual(JSON.parse(text), [
      { src: EXTERNAL, dst: FRONTEND, conn: "TCP 8080" },
      { src: FRONTEND, dst: EXTERNAL, conn: "TCP 53,UDP 53" },
      { src: FRONTEND, dst: BACKEND, conn: "TCP 9090" },
    ]);
    assert.match(text, /^\[\n {2}\{\n {4}"src": /);
  });

  it("csv: a header, and a field with a comma is quoted", () => {
    assert.equal(
      listed("csv"),
      "src,dst,conn\n" +
        `${EXTERNAL},${FRONTEND},TCP 8080\n` +
        `${FRONTEND},${EXTERNAL},"TCP 53,UDP 53"\n` +
        `${FRONTEND},${BACKEND},TCP 9090\n`,
    );
  });

  it("md: one table", () => {
    assert.equal(
      listed("md"),
      "| src | dst | conn |\n|-----|-----|------|\n" +
        `| ${EXTERNAL} | ${FRONTEND} | TCP 8080 |\n` +
        `| ${FRONTEND} | ${EXTERNAL} | TCP 53,UDP 53 |\n` +
        `| ${FRONTEND} | ${BACKEND} | TCP 9090 |\n`,
    );
  });

  it("dot: namespaces as subgraphs, externals outside, edges weighted by name order", () => {
    assert.equal(
      listed("dot"),
      [
        ...DOT_NAMESPACE,
        `\t"${EXTERNAL}" [label="${EXTERNAL}" color="red2" fontcolor="red2"]`,
        edge(EXTERNAL, FRONTEND, "TCP 8080", "0.5"),
        edge(FRONTEND, EXTERNAL, "TCP 53,UDP 53", "1"),
        edge(FRONTEND, BACKEND, "TCP 9090", "1"),
        "}",
      ].join("\n") + "\n",
    );
  });
});

describe("list focus", () => {
  it("a focused workload keeps the connections with it at either end", () => {
    assert.equal(
      listed("txt", { focusWorkloads: ["my-app/backend"] }),
      `${FRONTEND} => ${BACKEND} : TCP 9090\n`,
    );
  });

  it("direction in keeps only connections into it, out only those out of it", () => {
    assert.equal(
      listed("txt", { focusWorkloads: ["frontend"], focusDirection: "in" }),
      `${EXTERNAL} => ${FRONTEND} : TCP 8080\n`,
    );
    assert.equal(
      listed("txt", { focusWorkloads: ["frontend"], focusDirection: "out" }),
      `${FRONTEND} => ${EXTERNAL} : TCP 53,UDP 53\n${FRONTEND} => ${BACKEND} : TCP 9090\n`,
    );
  });

  it("a focused workload without a connection in that direction is still drawn", () => {
    // backend starts nothing: its node stays, with no edge.
    assert.equal(
      listed("dot", { focusWorkloads: ["backend"], focusDirection: "out" }),
      [
        "digraph {",
        '\tsubgraph "cluster_my_app[namespace]" {',
        '\t\tcolor="black"',
        '\t\tfontcolor="black"',
        `\t\t"${BACKEND}" [label="backend[Pod]" color="blue" fontcolor="blue"]`,
        '\t\tlabel="my-app[namespace]"',
        "\t}",
        "}",
      ].join("\n") + "\n",
    );
  });

  it("names a focus that matches no workload, so the caller can refuse it", () => {
    const m = model(objects, { ipBlockMatchesPods: false });
    const list = connlist(m, computeConnectivity(m), {
      focusWorkloads: ["frontend", "other/frontend", "fronted"],
    });
    assert.deepEqual(list.unmatchedFocus, ["other/frontend", "fronted"]);
  });
});
