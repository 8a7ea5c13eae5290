// The promotion judgements of scripts/e2e/promotion.ts, without the toolchain: the plan diff of a
// promotion must be exactly the staged-for-enforced swap, and samples taken during `pulumi up`
// must never show the enforced baseline without its allows or a staged object gone too early, and
// an enforced object that isolates pods before the baseline must carry the baseline's allows.
import assert from "node:assert/strict";
import type { KubeObject } from "../../scripts/e2e/compare";
import {
  baselineRulesMissing,
  enforcedTwin,
  judgePromotionSamples,
  swapProblems,
} from "../../scripts/e2e/promotion";

const ns = "default";
const stagedK8s = (name: string, spec: object): KubeObject => ({
  apiVersion: "projectcalico.org/v3",
  kind: "StagedKubernetesNetworkPolicy",
  metadata: { name, namespace: ns },
  spec: { stagedAction: "Set", ...spec },
});
const dns = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};
const scrape = { from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: 9100 }] };
const stagedBaseline = stagedK8s(`${ns}-network-policy`, {
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
  ingress: [scrape],
  egress: [dns],
});
// Egress only: it carries the baseline's egress rule (DNS), not its ingress one.
const stagedScoped = stagedK8s(`${ns}-grafana`, {
  podSelector: { matchLabels: { app: "grafana" } },
  policyTypes: ["Egress"],
  egress: [{ ports: [{ protocol: "TCP", port: 3100 }] }, dns],
});
const stagedCalico: KubeObject = {
  apiVersion: "projectcalico.org/v3",
  kind: "StagedNetworkPolicy",
  metadata: { name: "allow-icmp", namespace: ns },
  spec: { stagedAction: "Set", selector: "app == 'x'", types: ["Egress"] },
};
const other: KubeObject = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "loki-network-policy", namespace: "loki" },
  spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
};
const stagedPlan = [stagedBaseline, stagedScoped, stagedCalico, other];
const [baseline, scoped, calico] = [stagedBaseline, stagedScoped, stagedCalico].map(enforcedTwin);
const enforcedPlan = [baseline, scoped, calico, other];

describe("e2e promotion judgements", () => {
  it("maps each staged kind to its enforced twin without stagedAction", () => {
    assert.equal(baseline.apiVersion, "networking.k8s.io/v1");
    assert.equal(baseline.kind, "NetworkPolicy");
    assert.equal(calico.apiVersion, "projectcalico.org/v3");
    assert.equal(calico.kind, "NetworkPolicy");
    assert.equal((calico.spec as { stagedAction?: string }).stagedAction, undefined);
  });

  it("accepts a plan diff that is exactly the swap, and names anything more", () => {
    assert.deepEqual(swapProblems(stagedPlan, enforcedPlan, ns), { problems: [], swapped: 3 });
    const widened = {
      ...scoped,
      spec: {
        ...(scoped.spec as object),
        egress: [{ ports: [{ protocol: "TCP", port: 9999 }] }, dns],
      },
    };
    const changedOther = { ...other, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
    const { problems } = swapProblems(stagedPlan, [baseline, widened, calico, changedOther], ns);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0], /the enforced spec is not the staged one: spec.egress\[0\]/);
    assert.match(problems[1], /loki-network-policy differs between the plans/);
    const { problems: none } = swapProblems(enforcedPlan, enforcedPlan, ns);
    assert.match(none[0], /no staged object in default/);
  });

  it("passes create-before-delete, pod-scoped objects with the baseline's allows first, Calico last", () => {
    const verdict = judgePromotionSamples(stagedPlan, enforcedPlan, ns, [
      [stagedBaseline, stagedScoped, stagedCalico],
      [stagedBaseline, stagedScoped, stagedCalico, scoped],
      [stagedBaseline, stagedScoped, stagedCalico, scoped, baseline],
      undefined,
      [stagedBaseline, stagedScoped, stagedCalico, scoped, baseline, calico],
      [stagedScoped, scoped, calico, baseline],
      [scoped, calico, baseline],
    ]);
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.stagedState, 1);
    assert.equal(verdict.promotedState, 1);
    // The second sample: a pod-scoped object enforced before the baseline, carrying its allows.
    assert.deepEqual(
      verdict.isolatedWithoutBaseline.map((w) => w.sample),
      [1],
    );
  });

  it("reads the baseline's rules as the API server returns them, and names the missing ones", () => {
    const live = structuredClone(scoped);
    const rules = (live.spec as { egress: { ports: { protocol?: string }[] }[] }).egress;
    delete rules[1].ports[1].protocol; // TCP is the default the server fills in
    assert.deepEqual(baselineRulesMissing(live, baseline), []);
    const bare = { ...scoped, spec: { ...(scoped.spec as object), egress: [rules[0]] } };
    assert.deepEqual(baselineRulesMissing(bare, baseline), ["egress[0]"]);
    const both = {
      ...bare,
      spec: { ...(bare.spec as object), policyTypes: ["Ingress", "Egress"] },
    };
    assert.deepEqual(baselineRulesMissing(both, baseline), ["ingress[0]", "egress[0]"]);
  });

  it("fails a pod-scoped object without the baseline's allows, or a Calico policy, before the baseline", () => {
    const bare = {
      ...scoped,
      spec: { ...(scoped.spec as object), egress: [{ ports: [{ protocol: "TCP", port: 3100 }] }] },
    };
    const verdict = judgePromotionSamples(stagedPlan, enforcedPlan, ns, [
      [stagedBaseline, stagedScoped, stagedCalico],
      [stagedBaseline, stagedScoped, stagedCalico, bare, calico],
      [stagedBaseline, stagedScoped, stagedCalico, scoped, baseline, calico],
      [scoped, baseline, calico],
    ]);
    assert.equal(verdict.problems.length, 2, verdict.problems.join("\n"));
    assert.match(
      verdict.problems[0],
      /sample 1: .*default-grafana isolates its pods before the enforced baseline without the baseline's egress\[0\]/,
    );
    assert.match(
      verdict.problems[1],
      /sample 1: .*NetworkPolicy\/default\/allow-icmp exists before the enforced baseline/,
    );
  });

  it("fails a baseline without its pod-scoped allows, an early delete, and uncovered end states", () => {
    const verdict = judgePromotionSamples(stagedPlan, enforcedPlan, ns, [
      [stagedBaseline, stagedScoped, stagedCalico, baseline],
      [stagedScoped, stagedCalico, baseline, scoped],
    ]);
    assert.equal(verdict.problems.length, 4, verdict.problems.join("\n"));
    assert.match(
      verdict.problems[0],
      /sample 0: default has its enforced baseline without .*grafana/,
    );
    assert.match(
      verdict.problems[1],
      /sample 1: .*StagedKubernetesNetworkPolicy\/default\/default-network-policy deleted before .*allow-icmp/,
    );
    assert.match(verdict.problems[2], /no sample shows the staged state/);
    assert.match(verdict.problems[3], /no sample shows the promoted state/);
  });
});
