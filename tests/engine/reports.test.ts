import assert from "node:assert/strict";
import * as path from "node:path";
import {
  buildModel,
  diffModels,
  explainFlow,
  loadManifestPaths,
  namespaceConnectivity,
  parseManifestText,
  renderDiff,
  renderHtml,
  renderMatrixMarkdown,
  renderMermaidMarkdown,
} from "../../engine";
import { explainQuery } from "../../cli/explain";
import { knp, model, ns, pod } from "./helpers";

const fixture = path.join(__dirname, "fixtures", "shop.yaml");
const mesh = { namespace: "istio-system", hbonePort: 15008, probeSource: "169.254.7.127" };

describe("reports", () => {
  it("explains a denied flow with both corners, the policy and a flows snippet", () => {
    const m = buildModel(loadManifestPaths([fixture]), { mesh });
    const result = explainFlow(m, {
      from: { namespace: "legacy" },
      to: { namespace: "payments", podLabels: { app: "api" } },
      port: 9090,
    });
    assert.equal(result.verdict, "denied");
    assert.match(result.text, /Verdict: denied/);
    assert.match(result.text, /Egress at the source \(legacy\/legacy\): not isolated/);
    assert.match(
      result.text,
      /Ingress at the destination \(payments\/api\): denied - selected by NetworkPolicy\/payments\/api-from-shop, NetworkPolicy\/payments\/default-deny/,
    );
    assert.ok(result.suggestion);
    assert.match(
      result.suggestion,
      /^- name: legacy-to-payments-api-9090\n {2}from: \{namespace: legacy\}\n {2}to: \{namespace: payments, podLabels: \{"app": "api"\}\}\n {2}ports: \[\{port: 9090, protocol: TCP\}\]\n {2}reason: "/,
    );
  });

  it("names the deciding rule of an allowed flow", () => {
    const m = buildModel(loadManifestPaths([fixture]), { mesh });
    const result = explainFlow(m, {
      from: { namespace: "shop" },
      to: { namespace: "payments" },
      port: 9090,
    });
    assert.equal(result.verdict, "allowed");
    assert.match(
      result.text,
      /allowed by NetworkPolicy\/payments\/api-from-shop ingress rule #1 \(spec\.ingress\[0\]/,
    );
    assert.equal(result.suggestion, undefined);
  });

  it("says which ipBlockMatchesPods setting decided", () => {
    const objs = [
      ns("a"),
      ns("b"),
      pod("a", "c", {}, { ip: "10.1.1.1" }),
      pod("b", "s"),
      knp("b", "ip", {
        podSelector: {},
        ingress: [{ from: [{ ipBlock: { cidr: "10.1.0.0/16" } }] }],
      }),
    ];
    const on = explainFlow(model(objs, { ipBlockMatchesPods: true }), {
      from: { namespace: "a" },
      to: { namespace: "b" },
      port: 80,
    });
    assert.match(on.text, /ipBlockMatchesPods=true/);
    assert.equal(on.verdict, "allowed");
    const off = explainFlow(model(objs, { ipBlockMatchesPods: false }), {
      from: { namespace: "a" },
      to: { namespace: "b" },
      port: 80,
    });
    assert.equal(off.verdict, "denied");
    assert.match(off.text, /does not match pods because ipBlockMatchesPods=false/);
  });

  it("evaluates a hypothetical pod when no pod matches (config-only stacks)", () => {
    const m = model([ns("a"), knp("a", "deny", { podSelector: {}, policyTypes: ["Egress"] })]);
    const result = explainFlow(m, {
      from: { namespace: "a", podLabels: { app: "x" } },
      to: { ip: "1.1.1.1" },
      port: 443,
    });
    assert.equal(result.verdict, "denied");
    assert.match(result.text, /hypothetical pod/);
    assert.match(result.suggestion ?? "", /to: \{cidr: 1\.1\.1\.1\/32\}/);
  });

  it("builds the namespace connectivity list for the intent check, with HBONE flags", () => {
    const m = buildModel(loadManifestPaths([fixture]), { mesh });
    const list = namespaceConnectivity(m);
    const shopToPayments = list.find(
      (c) =>
        c.from.kind === "namespace" &&
        c.from.name === "shop" &&
        c.to.kind === "namespace" &&
        c.to.name === "payments",
    );
    assert.ok(shopToPayments);
    assert.equal(shopToPayments.viaHbone, true);
    assert.deepEqual(shopToPayments.ports, [{ protocol: "TCP", ranges: [[1, 65535]] }]);
    assert.equal(
      list.some(
        (c) =>
          c.to.kind === "namespace" &&
          c.to.name === "payments" &&
          c.from.kind === "namespace" &&
          c.from.name === "legacy",
      ),
      false,
    );
    assert.ok(
      list.some(
        (c) => c.from.kind === "namespace" && c.from.name === "legacy" && c.to.kind === "external",
      ),
    );
  });

  it("renders the matrix, Mermaid and a self-contained HTML page", async () => {
    const m = buildModel(loadManifestPaths([fixture]), { mesh });
    const md = renderMatrixMarkdown(m);
    assert.match(md, /\| \*\*shop\*\* \| All Connections \| TCP 1-65535 \(HBONE\) \| - \|/);
    assert.match(md, /## External egress/);
    const mermaid = renderMermaidMarkdown(m);
    assert.match(mermaid, /```mermaid\nflowchart LR/);
    assert.match(mermaid, /n_shop ==>\|"TCP 1-65535 \(HBONE\)"\| n_payments/);
    const html = await renderHtml(m);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg /);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it("diffs two models: added, removed and changed", () => {
    const objs = [ns("a"), ns("b"), pod("a", "c"), pod("b", "s")];
    const before = model([
      ...objs,
      knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }),
    ]);
    const after = model([
      ...objs,
      knp("b", "p", { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 443 }] }] }),
      knp("a", "deny", { podSelector: {} }),
    ]);
    const changes = diffModels(before, after);
    const find = (from: string, to: string) => changes.find((c) => c.from === from && c.to === to);
    assert.equal(find("a", "b")?.type, "changed");
    assert.equal(find("b", "a")?.type, "removed");
    assert.match(renderDiff(changes), /changed: a => b : TCP 80 -> TCP 80,443/);
    assert.equal(diffModels(before, before).length, 0);
  });

  it("parses multi-document YAML, JSON and List kinds", () => {
    const objects = parseManifestText(
      'kind: PodList\napiVersion: v1\nitems:\n- metadata: {name: p, namespace: x}\n  spec: {containers: []}\n---\n{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "x"}}\n',
      "t.yaml",
    );
    assert.deepEqual(
      objects.map((o) => o.object.kind),
      ["Pod", "Namespace"],
    );
    assert.match(objects[0].source, /t\.yaml#0\.items\[0\]/);
  });

  it("reads the flow the explain flags ask about", () => {
    const query = explainQuery({
      from: "a/app=web,tier=x",
      to: "10.0.0.1",
      port: 443,
      protocol: "udp",
    });
    assert.deepEqual(query, {
      from: { namespace: "a", podLabels: { app: "web", tier: "x" } },
      to: { ip: "10.0.0.1" },
      port: 443,
      protocol: "UDP",
    });
    assert.throws(
      () => explainQuery({ from: "a", to: "b", protocol: "TCP" }),
      /--port is required/,
    );
    assert.throws(
      () => explainQuery({ from: "a", to: "b", port: 1, protocol: "tcpx" }),
      /--protocol/,
    );
  });
});
