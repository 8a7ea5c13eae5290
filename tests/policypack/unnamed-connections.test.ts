import * as assert from "assert";
import { stackEngineOptions } from "../../components/stackModel";
import { renderStack } from "../../plan/render";
import { missingCornerFindings } from "../../policypack/policies/missing-corners";
import { unnamedConnectionFindings } from "../../policypack/policies/unnamed-connections";

const knp = (namespace: string, spec: Record<string, unknown>, types = ["Ingress", "Egress"]) => ({
  object: {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { namespace, name: `${namespace}-network-policy` },
    spec: { podSelector: {}, policyTypes: types, ...spec },
  },
  source: `${namespace}.yaml#0`,
});
const ns = (name: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
});
const https = [{ protocol: "TCP", port: 443 }];
const noUrn = () => undefined;
const messages = (objects: ReturnType<typeof knp>[]) =>
  unnamedConnectionFindings(objects, noUrn).map((f) => f.message);

describe("unnamed-connections (plain YAML)", () => {
  const web = knp("web", { ingress: [{ ports: https }] });
  const jobs = knp("jobs", { egress: [{ ports: https }] });

  it("reports a pair that two peer-less rules open, once, at the ingress object", () => {
    const findings = unnamedConnectionFindings([web, jobs], noUrn);
    assert.strictEqual(findings.length, 1);
    assert.strictEqual(findings[0].namespace, "web");
    assert.strictEqual(findings[0].objectName, "web-network-policy");
    assert.match(
      findings[0].message,
      /^jobs -> web is allowed on TCP 443, but no rule names it: NetworkPolicy\/jobs\/jobs-network-policy spec\.egress\[0\] admits every destination and NetworkPolicy\/web\/web-network-policy spec\.ingress\[0\] every source/,
    );
  });

  it("counts a whole-cluster namespaceSelector {} as naming nobody", () => {
    const everyNamespace = knp("jobs", {
      egress: [{ to: [{ namespaceSelector: {} }], ports: https }],
    });
    assert.strictEqual(messages([web, everyNamespace]).length, 1);
  });

  it("is quiet when either corner names the other namespace", () => {
    const named = knp("web", { ingress: [{ from: [ns("jobs")], ports: https }] });
    assert.deepStrictEqual(messages([named, jobs]), []);
    const namedEgress = knp("jobs", { egress: [{ to: [ns("web")], ports: https }] });
    assert.deepStrictEqual(messages([web, namedEgress]), []);
  });

  it("leaves a corner that is not isolated to the completeness policies", () => {
    const ingressOnly = knp("jobs", { ingress: [] }, ["Ingress"]);
    assert.deepStrictEqual(messages([web, ingressOnly]), []);
  });
});

describe("the plain-YAML cross-object checks on the homelab's own plan", function () {
  this.timeout(120000);

  it("find nothing: every corner, the identity layer included, is there, and every pair is named", async () => {
    const rendered = await renderStack("homelab");
    const objects = rendered.manifests.map((object, i) => ({
      object: object as Record<string, unknown>,
      source: `manifests.yaml#${i}`,
    }));
    const { mesh } = stackEngineOptions(rendered.config);
    assert.ok(mesh, "the homelab has a mesh");
    assert.deepStrictEqual(
      missingCornerFindings(objects, false, noUrn, mesh).map((f) => f.message),
      [],
    );
    assert.deepStrictEqual(messages(objects as ReturnType<typeof knp>[]), []);
  });
});
