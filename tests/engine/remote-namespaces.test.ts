/** Evaluator.remoteNamespaceFilter: which peer namespaces a corner could let through (exact pruning). */
import { strict as assert } from "assert";
import { Evaluator } from "../../engine";
import { cnp, knp, model, ns, pod } from "./helpers";

const namespaces = [
  ns("app"),
  ns("db", { tier: "data" }),
  ns("cache", { tier: "data" }),
  ns("web"),
];

function filterFor(
  policies: Record<string, unknown>[],
  direction: "ingress" | "egress",
  ipBlockMatchesPods = false,
) {
  const m = model([...namespaces, pod("app", "a", { app: "a" }), ...policies], {
    ipBlockMatchesPods,
  });
  const local = m.pods.find((p) => p.name === "a")!;
  return new Evaluator(m).remoteNamespaceFilter(local, direction);
}

describe("Evaluator.remoteNamespaceFilter", () => {
  it("names only the namespaces a NetworkPolicy rule can match", () => {
    const egress = [
      knp("app", "out", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { tier: "data" } } }] },
          { to: [{ podSelector: { matchLabels: { app: "b" } } }] },
          { to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] },
        ],
      }),
    ];
    const reaches = filterFor(egress, "egress");
    assert.deepEqual(
      ["app", "db", "cache", "web", "elsewhere"].map((n) => reaches(n)),
      [true, true, true, false, true], // "elsewhere" has no Namespace object: its labels are unknown
    );
    // Where ipBlocks match pod addresses, the ipBlock rule may reach a pod anywhere.
    assert.equal(filterFor(egress, "egress", true)("web"), true);
  });

  it("lets every namespace through when a rule has no peer, no policy applies, or Calico decides", () => {
    const open = filterFor(
      [knp("app", "in", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })],
      "ingress",
    );
    assert.equal(open("web"), true);
    assert.equal(filterFor([], "ingress")("web"), true);
    const calico = filterFor(
      [
        cnp("app", "pass", {
          selector: "all()",
          types: ["Ingress"],
          ingress: [{ action: "Pass", source: { namespaceSelector: "tier == 'data'" } }],
        }),
      ],
      "ingress",
    );
    assert.equal(calico("web"), true);
  });
});
