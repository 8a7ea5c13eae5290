import * as assert from "assert";
import { judgeSamples } from "../../scripts/e2e/adoption";
import type { KubeObject } from "../../scripts/e2e/compare";

const baseline = (ns: string, port: number): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: `${ns}-network-policy`, namespace: ns },
  spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ port }] }] },
});
const scoped: KubeObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "a-web", namespace: "a" },
  spec: { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: 80 }] }] },
};

describe("adoption sampling (scripts/e2e/adoption.ts)", () => {
  const tree = [baseline("a", 1)];
  const plan = [baseline("a", 2), scoped];

  it("accepts old, then the moved allows, then the new baseline", () => {
    const { problems, adopted } = judgeSamples(tree, plan, [
      [baseline("a", 1)],
      [baseline("a", 1), scoped],
      undefined,
      [baseline("a", 2), scoped],
    ]);
    assert.deepStrictEqual(problems, []);
    assert.strictEqual(adopted, 1);
  });

  it("finds a namespace that lost its baseline, a third baseline, and a baseline before its allows", () => {
    const { problems } = judgeSamples(tree, plan, [
      [baseline("a", 1)],
      [],
      [baseline("a", 3)],
      [baseline("a", 2)],
    ]);
    assert.deepStrictEqual(problems, [
      "sample 1: a lost its baseline",
      "sample 2: a's baseline is neither the old nor the new one",
      "sample 3: a has its new baseline without networking.k8s.io/v1/NetworkPolicy/a/a-web",
    ]);
  });
});
