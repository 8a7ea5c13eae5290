/**
 * Staged rollout under the capturing mock engine: a staged namespace renders only Calico staged
 * kinds, nothing enforced elsewhere changes, the pack judges the staged objects by the same rules,
 * and promotion is create-before-delete with the baseline created after its allows.
 */
import { strict as assert } from "assert";
import { ConfigError } from "../../config/validate";
import { loadStackConfig } from "../../config/load";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import {
  evaluateResources,
  formatViolations,
  hasMandatory,
  packConfigFromFacts,
} from "../../policypack/run";
import { rolloutSteps } from "../../plan/promotion";
import { asPolicyEngineSees, renderStack, type RenderResult } from "../../plan/render";
import { homelabWithRollout } from "./helpers";

const STAGED_K8S = "kubernetes:projectcalico.org/v3:StagedKubernetesNetworkPolicy";
const STAGED_CALICO = "kubernetes:projectcalico.org/v3:StagedNetworkPolicy";
const K8S = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CALICO = "kubernetes:projectcalico.org/v3:NetworkPolicy";

type Meta = { name: string; namespace: string };
const meta = (m: Record<string, unknown>): Meta => m.metadata as Meta;
const inNamespace = (ns: string) => (m: Record<string, unknown>) => meta(m).namespace === ns;

describe("staged rollout", function () {
  this.timeout(60_000);
  let enforced: RenderResult;
  let staged: RenderResult;

  before(async () => {
    enforced = await renderStack("homelab");
    // default has a Calico policy (ICMP) and pod-scoped objects: every staged kind shows up.
    // Same stack name (URNs carry it), another stack directory.
    staged = await renderStack(
      "homelab",
      homelabWithRollout("homelab", { namespaces: { default: "staged", loki: "staged" } }),
    );
  });

  it("renders each object of a staged namespace as its staged kind with stagedAction Set", () => {
    for (const ns of ["default", "loki"]) {
      // Istio authorization has no staged kind: rendered the same whatever the rollout.
      const istio = (m: Record<string, unknown>) =>
        String(m.apiVersion).startsWith("security.istio.io/");
      assert.deepEqual(
        staged.manifests.filter(inNamespace(ns)).filter(istio),
        enforced.manifests.filter(inNamespace(ns)).filter(istio),
      );
      const before = enforced.manifests.filter(inNamespace(ns)).filter((m) => !istio(m));
      const after = staged.manifests.filter(inNamespace(ns)).filter((m) => !istio(m));
      assert.ok(before.length > 1, `${ns} has objects`);
      assert.equal(after.length, before.length);
      for (const object of after) {
        assert.equal(object.apiVersion, "projectcalico.org/v3");
        assert.ok(
          object.kind === "StagedKubernetesNetworkPolicy" || object.kind === "StagedNetworkPolicy",
          String(object.kind),
        );
        assert.equal((object.spec as { stagedAction: string }).stagedAction, "Set");
        const twin = before.find((b) => meta(b).name === meta(object).name);
        assert.ok(twin, `${meta(object).name} stages an object of the enforced render`);
        const { stagedAction, ...spec } = object.spec as Record<string, unknown>;
        assert.equal(stagedAction, "Set");
        assert.deepEqual(spec, twin.spec, "same spec as the object it stages");
        assert.equal(
          object.kind,
          twin.kind === "NetworkPolicy" && twin.apiVersion === "networking.k8s.io/v1"
            ? "StagedKubernetesNetworkPolicy"
            : "StagedNetworkPolicy",
        );
      }
    }
    assert.ok(
      staged.manifests.some((m) => m.kind === "StagedNetworkPolicy"),
      "a Calico one",
    );
  });

  it("changes nothing enforced outside the staged namespaces", () => {
    const others = (r: RenderResult) =>
      r.manifests.filter((m) => !["default", "loki"].includes(meta(m).namespace));
    assert.deepEqual(others(staged), others(enforced));
  });

  it("reads the setting stack-wide, per namespace (which wins), and refuses other values", () => {
    const dir = homelabWithRollout("mixedlab", {
      stack: "staged",
      namespaces: { velero: "enforced" },
    });
    const config = loadStackConfig("mixedlab", dir);
    assert.equal(config.rollout, "staged");
    assert.equal(config.namespaces.find((n) => n.name === "loki")?.rollout, "staged");
    assert.equal(config.namespaces.find((n) => n.name === "velero")?.rollout, undefined);
    const bad = homelabWithRollout("badlab", { namespaces: { loki: "audit" as "staged" } });
    assert.throws(
      () => loadStackConfig("badlab", bad),
      (e: unknown) =>
        e instanceof ConfigError &&
        /namespaces\[\d+\]\.rollout: must be "staged" or "enforced", got "audit"/.test(e.message),
    );
  });

  it("passes the policy pack: staged objects are judged as the objects promotion enforces", () => {
    const resources = asPolicyEngineSees(staged.resources);
    const stagedTypes = resources.filter((r) => r.type === STAGED_K8S || r.type === STAGED_CALICO);
    assert.ok(stagedTypes.length > 0);
    const violations = evaluateResources(
      resources,
      packConfigFromFacts(factsFromStackConfig(staged.config)),
    );
    assert.ok(!hasMandatory(violations), formatViolations(violations));
  });

  it("the pack's type filters see staged objects: a bad staged rule is caught like an enforced one", () => {
    const resources = asPolicyEngineSees(staged.resources).map((r) => ({
      ...r,
      props: structuredClone(r.props),
    }));
    const baseline = resources.find(
      (r) =>
        r.type === STAGED_K8S &&
        (r.props.metadata as Meta).name === "loki-network-policy" &&
        (r.props.metadata as Meta).namespace === "loki",
    );
    assert.ok(baseline);
    // Every namespace, every pod: the all-namespaces selector the pack forbids.
    (baseline.props.spec as { ingress: unknown[] }).ingress.push({
      from: [{ namespaceSelector: {} }],
    });
    const violations = evaluateResources(
      resources,
      packConfigFromFacts(factsFromStackConfig(staged.config)),
    );
    const names = new Set(violations.map((v) => v.policyName));
    assert.ok(names.has("no-all-namespaces-selector"), formatViolations(violations));
    assert.ok(hasMandatory(violations));
  });

  const withStagedSpec = (spec: (old: Record<string, unknown>) => Record<string, unknown>) => {
    const resources = asPolicyEngineSees(staged.resources).map((r) => ({
      ...r,
      props: structuredClone(r.props),
    }));
    const target = resources.find((r) => r.type === STAGED_K8S);
    assert.ok(target);
    target.props.spec = spec(target.props.spec as Record<string, unknown>);
    return evaluateResources(resources, packConfigFromFacts(factsFromStackConfig(staged.config)));
  };

  it("the pack cannot verify a staged Delete (it removes a policy rather than being one)", () => {
    const violations = withStagedSpec(() => ({ stagedAction: "Delete" }));
    assert.ok(
      violations.some((v) => /spec\.stagedAction: only Set is judged/.test(v.message)),
      formatViolations(violations),
    );
  });

  it("the pack rejects, at its field, what Calico rejects in a staged object (the engine reads it)", () => {
    const deleteWithRules = withStagedSpec((spec) => ({ ...spec, stagedAction: "Delete" }));
    assert.ok(
      deleteWithRules.some((v) =>
        /spec\.podSelector: must be empty when stagedAction is Delete/.test(v.message),
      ),
      formatViolations(deleteWithRules),
    );
    const learn = withStagedSpec((spec) => ({ ...spec, stagedAction: "Learn" }));
    assert.ok(
      learn.some((v) => /spec\.stagedAction: Learn is not modelled/.test(v.message)),
      formatViolations(learn),
    );
  });

  it("promotion previews as create-before-delete touching exactly the swapped objects", () => {
    const steps = rolloutSteps(staged.resources, enforced.resources);
    const touched = (ns: string) => steps.filter((s) => s.object.startsWith(`${ns}/`));
    assert.equal(steps.filter((s) => s.op === "update").length, 0, JSON.stringify(steps));
    assert.equal(
      steps.length,
      touched("default").length + touched("loki").length,
      "only the promoted namespaces",
    );
    for (const ns of ["default", "loki"]) {
      const creates = touched(ns).filter((s) => s.op === "create");
      const deletes = touched(ns).filter((s) => s.op === "delete");
      assert.deepEqual(
        creates.map((s) => s.type).sort(),
        // Istio authorization has no staged kind: it stays as it is (not touched by promotion).
        enforced.resources
          .filter(
            (r) =>
              (r.type === K8S || r.type === CALICO) &&
              (r.props.metadata as Meta | undefined)?.namespace === ns,
          )
          .map((r) => r.type)
          .sort(),
      );
      assert.ok(creates.every((s) => s.type === K8S || s.type === CALICO));
      assert.ok(deletes.every((s) => s.type === STAGED_K8S || s.type === STAGED_CALICO));
      assert.equal(creates.length, deletes.length, "one enforced object per staged one");
      const lastCreate = Math.max(...creates.map((c) => steps.indexOf(c)));
      const firstDelete = Math.min(...deletes.map((d) => steps.indexOf(d)));
      assert.ok(lastCreate < firstDelete, "every enforced object exists before a staged one goes");
    }
  });

  it("at every step of the promotion a namespace's enforced baseline never exists without its allows", () => {
    const steps = rolloutSteps(staged.resources, enforced.resources);
    const byUrn = new Map(enforced.resources.map((r) => [r.urn, r]));
    const live = new Set(staged.resources.filter((r) => r.custom).map((r) => r.urn));
    for (const [i, step] of steps.entries()) {
      if (step.op === "delete") live.delete(step.urn);
      else live.add(step.urn);
      for (const ns of ["default", "loki"]) {
        const baseline = enforced.resources.find((r) => r.name === `${ns}-baseline`);
        assert.ok(baseline);
        const ofNamespace = enforced.resources.filter(
          (r) =>
            r.custom &&
            r.urn !== baseline.urn &&
            (r.props.metadata as Meta | undefined)?.namespace === ns,
        );
        // The Calico policies come after the baseline (a Calico policy applying to a pod ends its
        // tier with a deny: created first it would isolate the pod with only ICMP).
        for (const r of ofNamespace.filter((r) => r.type === CALICO))
          assert.ok(
            live.has(baseline.urn) || !live.has(r.urn),
            `step ${i}: ${ns} Calico ${r.name} live before the baseline`,
          );
        if (!live.has(baseline.urn)) continue;
        for (const r of ofNamespace.filter((r) => r.type !== CALICO))
          assert.ok(live.has(r.urn), `step ${i}: ${ns} baseline live without ${r.name}`);
        for (const dep of baseline.dependencies) assert.ok(byUrn.has(dep));
      }
    }
  });

  it("demotion (enforced → staged) is the same swap the other way round", () => {
    const steps = rolloutSteps(enforced.resources, staged.resources);
    const creates = steps.filter((s) => s.op === "create");
    const deletes = steps.filter((s) => s.op === "delete");
    assert.ok(creates.every((s) => s.type === STAGED_K8S || s.type === STAGED_CALICO));
    assert.ok(deletes.every((s) => s.type === K8S || s.type === CALICO));
    assert.ok(Math.max(...creates.map((c) => steps.indexOf(c))) < steps.indexOf(deletes[0]));
  });
});
