/**
 * The first-enforcement window (docs/rollout.md): each pod-scoped NetworkPolicy carries the
 * baseline's namespace-wide allows of its own directions, so whichever object isolates a pod first
 * already admits what the baseline admits it. Judged by the engine on the homelab plan:
 * 1. the copies change no verdict: the plan and the same plan without them allow the same;
 * 2. every pod-scoped object alone admits the pods it selects, in its directions, everything the
 *    baseline alone admits them.
 */
import { strict as assert } from "assert";
import { expandConnections } from "../../components/connections";
import { baselinePolicyName, type NetworkPolicyManifest } from "../../components/rules";
import { buildStackModel } from "../../components/stackModel";
import {
  Evaluator,
  computeConnectivity,
  formatConnections,
  isEmptyConnections,
  namespaceConnectivity,
  remoteRanges,
  subtractConnections,
  workloadConnections,
  type ClusterModel,
  type ConnectionSet,
  type Endpoint,
} from "../../engine";

import { renderStack, type RenderResult } from "../../plan/render";

/** A rendered manifest read as the Kubernetes NetworkPolicy the builder wrote. */
type Policy = Record<string, unknown> & NetworkPolicyManifest;
const isKubernetesPolicy = (m: Record<string, unknown>): m is Policy =>
  m.apiVersion === "networking.k8s.io/v1" && m.kind === "NetworkPolicy";
const isBaseline = (m: NetworkPolicyManifest) =>
  m.metadata.name === baselinePolicyName(m.metadata.namespace);
const ruleKey = (rule: unknown) => JSON.stringify(rule);

/** The plan as rendered before the fix: pod-scoped objects without the baseline's rules. */
function withoutBaselineCopies(manifests: readonly Record<string, unknown>[]) {
  const baselines = new Map(
    manifests
      .filter(isKubernetesPolicy)
      .filter(isBaseline)
      .map((b) => [b.metadata.namespace, b]),
  );
  let removed = 0;
  const stripped = manifests.map((m) => {
    if (!isKubernetesPolicy(m) || isBaseline(m)) return m;
    const baseline = baselines.get(m.metadata.namespace);
    if (!baseline) return m;
    const spec = structuredClone(m.spec);
    const strip = <Rule>(own: Rule[] | undefined, copies: readonly Rule[] | undefined) => {
      if (!own) return undefined;
      const copied = new Set((copies ?? []).map(ruleKey));
      const kept = own.filter((rule) => !copied.has(ruleKey(rule)));
      removed += own.length - kept.length;
      return kept;
    };
    const ingress = strip(spec.ingress, baseline.spec.ingress);
    const egress = strip(spec.egress, baseline.spec.egress);
    if (ingress) spec.ingress = ingress;
    if (egress) spec.egress = egress;
    return { ...m, spec };
  });
  return { stripped, removed };
}

describe("first enforcement: pod-scoped objects carry the baseline's namespace-wide allows", function () {
  this.timeout(120_000);
  let plan: RenderResult;
  const modelOf = (manifests: readonly Record<string, unknown>[]): ClusterModel =>
    buildStackModel(plan.config, manifests, expandConnections(plan.config));

  before(async () => {
    plan = await renderStack("homelab");
  });

  it("changes no verdict: the plan allows what it allows without the copies", () => {
    const { stripped, removed } = withoutBaselineCopies(plan.manifests);
    assert.ok(removed > 0, "the homelab plan's pod-scoped objects carry baseline rules");
    const before = computeConnectivity(modelOf(stripped));
    const after = computeConnectivity(modelOf(plan.manifests));
    assert.deepEqual(
      namespaceConnectivity(modelOf(plan.manifests), after),
      namespaceConnectivity(modelOf(stripped), before),
    );
    assert.deepEqual(workloadConnections(after), workloadConnections(before));
  });

  it("admits, by each pod-scoped object alone, what the baseline alone admits its pods", () => {
    const policies = plan.manifests.filter(isKubernetesPolicy);
    const scoped = policies.filter((m) => !isBaseline(m));
    assert.ok(scoped.length > 0);
    let judged = 0;
    for (const object of scoped) {
      const namespace = object.metadata.namespace;
      const baseline = policies.find((m) => isBaseline(m) && m.metadata.namespace === namespace);
      assert.ok(baseline, `${namespace} has a baseline`);
      const alone = new Evaluator(modelOf([object]));
      const byBaseline = new Evaluator(modelOf([baseline]));
      const wanted = object.spec.podSelector.matchLabels ?? {};
      const selected = alone.model.pods.filter(
        (pod) =>
          pod.namespace === namespace &&
          Object.entries(wanted).every(([key, value]) => pod.labels[key] === value),
      );
      assert.ok(selected.length > 0, `${object.metadata.name} selects a pod of the inventory`);
      for (const direction of object.spec.policyTypes.map((t) =>
        t === "Ingress" ? ("ingress" as const) : ("egress" as const),
      )) {
        const ranges = [
          ...remoteRanges(alone.model)[direction],
          ...remoteRanges(byBaseline.model)[direction],
        ];
        const remotes: Endpoint[] = [
          ...alone.model.pods.map((pod): Endpoint => ({ kind: "pod", pod })),
          ...ranges.map((range): Endpoint => ({ kind: "external", range })),
        ];
        for (const pod of selected) {
          const local: Endpoint = { kind: "pod", pod };
          for (const remote of remotes) {
            const corner = (e: Evaluator): ConnectionSet =>
              direction === "egress"
                ? e.cornerConnections("egress", local, remote)
                : e.cornerConnections("ingress", remote, local);
            const missing = subtractConnections(corner(byBaseline), corner(alone));
            assert.ok(
              isEmptyConnections(missing),
              `${object.metadata.name} alone denies ${pod.name} ${direction} ${
                remote.kind === "pod" ? `${remote.pod.namespace}/${remote.pod.name}` : "external"
              } ${formatConnections(missing)}, which the baseline admits`,
            );
            judged++;
          }
        }
      }
    }
    assert.ok(judged > 0);
  });
});
