/** matrix.md beyond one screen: a summary first, then each namespace's connections. */
import { strict as assert } from "assert";
import { renderMatrixMarkdown } from "../../engine";
import { knp, model, ns, pod } from "./helpers";

/** n namespaces in a ring: each may reach the next on 8080 and nothing else. */
function ring(n: number) {
  const name = (i: number): string => `team-${String(i).padStart(3, "0")}`;
  const objects = [];
  for (let i = 0; i < n; i++) {
    objects.push(ns(name(i)), pod(name(i), "app", { app: "app" }));
    objects.push(
      knp(name(i), "ring", {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": name((i + n - 1) % n) },
                },
              },
            ],
            ports: [{ port: 8080 }],
          },
        ],
        egress: [
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": name((i + 1) % n) },
                },
              },
            ],
            ports: [{ port: 8080 }],
          },
        ],
      }),
    );
  }
  return model(objects);
}

describe("matrix.md at scale", () => {
  it("keeps the namespace × namespace table for a small cluster", () => {
    const md = renderMatrixMarkdown(ring(5));
    assert.match(md, /\| from \\ to \| team-000 \| team-001 \|/);
    assert.match(md, /\| \*\*team-000\*\* \| - \| TCP 8080 \| - \|/);
  });

  it("summarises a large cluster first, then lists each namespace's connections", () => {
    const md = renderMatrixMarkdown(ring(40));
    assert.doesNotMatch(md, /from \\ to/);
    const summary = md.indexOf("## Summary");
    const details = md.indexOf("## Namespaces");
    assert.ok(summary > 0 && details > summary, "summary before the details");
    assert.match(md, /^40 namespaces: too many for one table/m);
    assert.match(md, /\| \[team-007\]\(#team-007\) \| 1 \| 1 \| - \| 0 \| 0 \|/);
    const section = md.slice(md.indexOf("### team-007"), md.indexOf("### team-008"));
    assert.match(section, /\| to \| team-008 \| TCP 8080 \|/);
    assert.match(section, /\| from \| team-006 \| TCP 8080 \|/);
    assert.equal(section.match(/^\| (to|from) /gm)?.length, 2, section);
  });
});
