import * as assert from "assert";
import { judgeSamples, oldOnly, ownershipVerdict } from "../../scripts/e2e/adoption";
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

  const perFlow: KubeObject = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "allow-web", namespace: "a" },
    spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] },
  };
  const authorization = (name: string, selector?: object): KubeObject => ({
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name, namespace: "a" },
    spec: { action: "ALLOW", ...(selector ? { selector } : {}) },
  });
  const wide = authorization("a-wide");
  const web = authorization("a-web", { matchLabels: { app: "web" } });
  const meshedPlan = [...plan, web, wide];

  it("accepts an old object of another name deleted after the new objects exist", () => {
    assert.deepStrictEqual(oldOnly([...tree, perFlow], plan), [perFlow]);
    const verdict = judgeSamples([...tree, perFlow], plan, [
      [baseline("a", 1), perFlow],
      [baseline("a", 2), scoped, perFlow],
      [baseline("a", 2), scoped],
    ]);
    assert.deepStrictEqual(verdict, { problems: [], adopted: 2, retired: 1 });
  });

  it("finds an old object of another name deleted before the new ones", () => {
    const { problems, retired } = judgeSamples([...tree, perFlow], plan, [
      [baseline("a", 1), perFlow],
      [baseline("a", 1)],
    ]);
    assert.deepStrictEqual(problems, [
      "sample 1: networking.k8s.io/v1/NetworkPolicy/a/allow-web is gone before a has its new baseline and policies",
    ]);
    assert.strictEqual(retired, 1);
  });

  it("finds a namespace-wide ALLOW before the pod-scoped one, and accepts the right order", () => {
    const early = judgeSamples(tree, meshedPlan, [[baseline("a", 2), scoped, wide]]);
    assert.deepStrictEqual(early.problems, [
      "sample 0: security.istio.io/v1/AuthorizationPolicy/a/a-wide is there without security.istio.io/v1/AuthorizationPolicy/a/a-web",
    ]);
    const inOrder = judgeSamples(tree, meshedPlan, [
      [baseline("a", 2), scoped, web],
      [baseline("a", 2), scoped, web, wide],
    ]);
    assert.deepStrictEqual(inOrder.problems, []);
    // A namespace-wide DENY (of plaintext) refuses only what it names: it may come first.
    const deny: KubeObject = {
      ...authorization("a-plaintext-ports"),
      spec: { action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] },
    };
    const denyFirst = judgeSamples(
      tree,
      [...meshedPlan, deny],
      [
        [baseline("a", 2), scoped, deny],
        [baseline("a", 2), scoped, deny, web, wide],
      ],
    );
    assert.deepStrictEqual(denyFirst.problems, []);
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

  it("accepts a new Calico policy after the baseline, and finds one before any baseline", () => {
    const icmp: KubeObject = {
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkPolicy",
      metadata: { name: "b-allow-icmp", namespace: "b" },
      spec: {
        selector: "all()",
        types: ["Ingress"],
        ingress: [{ action: "Allow", protocol: "ICMP" }],
      },
    };
    const withCalico = [...plan, baseline("b", 7), icmp];
    const after = judgeSamples(tree, withCalico, [
      [baseline("a", 1)],
      [baseline("a", 2), scoped, baseline("b", 7)],
      [baseline("a", 2), scoped, baseline("b", 7), icmp],
    ]);
    assert.deepStrictEqual(after.problems, []);
    const before = judgeSamples(tree, withCalico, [
      [baseline("a", 1), icmp],
      [baseline("a", 2), scoped, baseline("b", 7), icmp],
    ]);
    assert.deepStrictEqual(before.problems, [
      "sample 0: projectcalico.org/v3/NetworkPolicy/b/b-allow-icmp is there before b has a baseline",
    ]);
    // A Calico policy the tree already holds as planned was there before: it is not new.
    assert.deepStrictEqual(
      judgeSamples([...tree, icmp], withCalico, [[baseline("a", 1), icmp]]).problems,
      [],
    );
  });

  describe("field managers (held before, released after)", () => {
    const managed = (o: KubeObject, ...managers: string[]): KubeObject => ({
      ...o,
      metadata: {
        ...o.metadata,
        managedFields: managers.map((manager) => ({ manager, fieldsV1: { "f:spec": {} } })),
      } as KubeObject["metadata"],
    });
    const b = baseline("a", 2);

    it("accepts ArgoCD's ownership before and the provider's after", () => {
      assert.deepStrictEqual(
        ownershipVerdict("held", "argocd-controller", [b], [managed(b, "argocd-controller")]).wrong,
        [],
      );
      const after = ownershipVerdict(
        "released",
        "argocd-controller",
        [b],
        [managed(b, "pulumi-kubernetes-1a2b")],
      );
      assert.deepStrictEqual([after.wrong, after.missing], [[], 0]);
    });

    it("finds a spec only ArgoCD owns, a shared one, a missing object, and a read-back without managed fields", () => {
      const shared = ownershipVerdict(
        "released",
        "argocd-controller",
        [b],
        [managed(b, "pulumi-kubernetes-1a2b", "argocd-controller")],
      );
      assert.deepStrictEqual(
        [shared.wrong, shared.shared],
        [[], ["networking.k8s.io/v1/NetworkPolicy/a/a-network-policy"]],
      );
      assert.deepStrictEqual(
        ownershipVerdict("released", "argocd-controller", [b], [managed(b, "argocd-controller")])
          .wrong,
        ["networking.k8s.io/v1/NetworkPolicy/a/a-network-policy: spec owned by argocd-controller"],
      );
      assert.strictEqual(
        ownershipVerdict("released", "argocd-controller", [b, scoped], [managed(b, "x")]).missing,
        1,
      );
      assert.deepStrictEqual(ownershipVerdict("held", "argocd-controller", [b], [b]).wrong, [
        "networking.k8s.io/v1/NetworkPolicy/a/a-network-policy: no managed fields for its spec",
      ]);
    });
  });
});
