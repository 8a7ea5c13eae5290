/**
 * Helpers for the promotion steps of scripts/e2e/run (docs/rollout.md, "5. Promote"): one
 * namespace goes from `rollout: staged` to `rollout: enforced` under the real engine.
 *
 *   tsx scripts/e2e/promotion.ts rollout <Pulumi.stack.yaml> <namespace> staged|enforced
 *       sets the namespace's own `rollout` in the stack file (comments and layout kept)
 *   tsx scripts/e2e/promotion.ts swap <staged/manifests.yaml> <enforced/manifests.yaml> <namespace>
 *       the two offline plans differ by exactly the swap: every staged object of the namespace
 *       gives way to its enforced twin (same name and spec, without `stagedAction`), nothing else
 *   tsx scripts/e2e/promotion.ts samples <staged/manifests.yaml> <enforced/manifests.yaml> <namespace> <sample.json>...
 *       judges `kubectl get … -o json` samples of the namespace taken while `pulumi up` promotes it
 *       (see judgePromotionSamples)
 *
 * Exit code 0 means the check holds; the reasons are printed either way.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { isBaseline } from "./adoption";
import { differences, type KubeObject, keyOf, normaliseSpec, parseManifests } from "./compare";

/** The Calico staged kinds and the enforced kind each one becomes on promotion. */
const ENFORCED_TWIN: Readonly<Record<string, { apiVersion: string; kind: string }>> = {
  StagedKubernetesNetworkPolicy: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  StagedNetworkPolicy: { apiVersion: "projectcalico.org/v3", kind: "NetworkPolicy" },
  StagedGlobalNetworkPolicy: { apiVersion: "projectcalico.org/v3", kind: "GlobalNetworkPolicy" },
};

const isStaged = (o: KubeObject): boolean =>
  o.apiVersion === "projectcalico.org/v3" && o.kind in ENFORCED_TWIN;

/** The kinds a rollout setting changes (Istio objects are rendered the same either way). */
const isRolloutKind = (o: KubeObject): boolean =>
  isStaged(o) ||
  (o.kind === "NetworkPolicy" &&
    (o.apiVersion === "networking.k8s.io/v1" || o.apiVersion === "projectcalico.org/v3"));

/** A staged object's enforced twin: same metadata, the spec without `stagedAction`. */
export function enforcedTwin(staged: KubeObject): KubeObject {
  const twin = ENFORCED_TWIN[staged.kind];
  const spec = { ...((staged.spec ?? {}) as Record<string, unknown>) };
  delete spec.stagedAction;
  return { ...twin, metadata: staged.metadata, spec };
}

/** Problems with the plan diff of a promotion: anything that is not the namespace's swap. */
export function swapProblems(
  stagedPlan: readonly KubeObject[],
  enforcedPlan: readonly KubeObject[],
  namespace: string,
): { problems: string[]; swapped: number } {
  const problems: string[] = [];
  const before = new Map(stagedPlan.map((o) => [keyOf(o), o]));
  const after = new Map(enforcedPlan.map((o) => [keyOf(o), o]));
  const spec = (o: KubeObject) => normaliseSpec(o.kind, o.apiVersion, o.spec);
  const inNamespace = (o: KubeObject) => o.metadata.namespace === namespace;
  const staged = stagedPlan.filter((o) => inNamespace(o) && isStaged(o));
  if (staged.length === 0) problems.push(`the staged plan has no staged object in ${namespace}`);
  const expectedAfter = new Set<string>();
  for (const s of staged) {
    const twin = enforcedTwin(s);
    const key = keyOf(twin);
    expectedAfter.add(key);
    const got = after.get(key);
    if (!got) problems.push(`${keyOf(s)} has no enforced twin ${key} in the enforced plan`);
    else
      for (const d of differences(spec(twin), spec(got), "spec"))
        problems.push(`${key}: the enforced spec is not the staged one: ${d}`);
    if (after.has(keyOf(s))) problems.push(`${keyOf(s)} is still in the enforced plan`);
  }
  // Everything else is the same in both plans: same keys, same specs and metadata.
  for (const [key, o] of before) {
    if (inNamespace(o) && isStaged(o)) continue;
    const other = after.get(key);
    if (!other) problems.push(`${key} is only in the staged plan`);
    else if (differences(o, other).length > 0) problems.push(`${key} differs between the plans`);
  }
  for (const key of after.keys())
    if (!before.has(key) && !expectedAfter.has(key))
      problems.push(`${key} is only in the enforced plan`);
  return { problems, swapped: staged.length };
}

type Rule = Record<string, unknown>;
const RULE_LISTS = { Ingress: "ingress", Egress: "egress" } as const;

/**
 * The baseline's rules that a Kubernetes pod-scoped object does not carry in the directions it
 * lists (both specs as the API server gives them back: ports defaulted to TCP, empty lists
 * dropped), as `egress[2]`-style paths into the baseline. Empty means that the pods it selects,
 * isolated by it alone, already admit everything the baseline admits them in those directions.
 */
export function baselineRulesMissing(object: KubeObject, baseline: KubeObject): string[] {
  const spec = (o: KubeObject) =>
    (normaliseSpec(o.kind, o.apiVersion, o.spec) ?? {}) as {
      policyTypes?: string[];
      ingress?: Rule[];
      egress?: Rule[];
    };
  const own = spec(object);
  const wide = spec(baseline);
  return (own.policyTypes ?? ["Ingress"]).flatMap((type) => {
    const list = RULE_LISTS[type as keyof typeof RULE_LISTS];
    if (!list) return [`policyTypes ${type}`];
    const carried = own[list] ?? [];
    return (wide[list] ?? []).flatMap((rule, i) =>
      carried.some((c) => differences(c, rule).length === 0) ? [] : [`${list}[${i}]`],
    );
  });
}

/**
 * The sampling verdict of a promotion. Per sample of the namespace's policies:
 *  - the enforced baseline never exists without all of the namespace's enforced Kubernetes
 *    pod-scoped objects (their allows), and no staged object is gone before every enforced one
 *    exists (create before delete);
 *  - the first-enforcement window is judged: an enforced Kubernetes pod-scoped object present
 *    before the enforced baseline isolates the pods it selects, so it must carry the baseline's
 *    rules of its directions (components/rules.ts); `isolatedWithoutBaseline` lists those samples;
 *  - an enforced Calico policy never exists before the enforced baseline (it ends its tier with a
 *    deny, so it would isolate its pods with only its own rules; namespaceProtection.ts orders it
 *    after the baseline);
 *  - the transition is covered: one sample at least shows the staged state (every staged object,
 *    no enforced one) and one the promoted state (every enforced object, no staged one).
 */
export function judgePromotionSamples(
  stagedPlan: readonly KubeObject[],
  enforcedPlan: readonly KubeObject[],
  namespace: string,
  lists: readonly (readonly KubeObject[] | undefined)[],
): {
  problems: string[];
  isolatedWithoutBaseline: { sample: number; objects: string[] }[];
  stagedState: number;
  promotedState: number;
} {
  const ofNamespace = (plan: readonly KubeObject[]) =>
    plan.filter((o) => o.metadata.namespace === namespace && isRolloutKind(o));
  const staged = ofNamespace(stagedPlan).filter(isStaged).map(keyOf);
  const enforced = ofNamespace(enforcedPlan).filter((o) => !isStaged(o));
  const enforcedKeys = enforced.map(keyOf);
  const baseline = enforced.find(isBaseline);
  const baselineKey = baseline && keyOf(baseline);
  const isKubernetes = (o: KubeObject) => o.apiVersion === "networking.k8s.io/v1";
  const scopedKeys = enforced.filter((o) => isKubernetes(o) && !isBaseline(o)).map(keyOf);
  const calicoKeys = new Set(enforced.filter((o) => !isKubernetes(o)).map(keyOf));
  const problems: string[] = [];
  if (!baseline) problems.push(`the enforced plan has no baseline for ${namespace}`);
  const isolatedWithoutBaseline: { sample: number; objects: string[] }[] = [];
  let stagedState = 0;
  let promotedState = 0;
  lists.forEach((items, i) => {
    if (items === undefined) return; // a sample cut short by the end of sampling
    const present = new Set(items.map(keyOf));
    const enforcedMissing = enforcedKeys.filter((k) => !present.has(k));
    const enforcedPresent = enforcedKeys.filter((k) => present.has(k));
    const scopedMissing = scopedKeys.filter((k) => !present.has(k));
    const stagedMissing = staged.filter((k) => !present.has(k));
    if (baselineKey && present.has(baselineKey) && scopedMissing.length > 0)
      problems.push(
        `sample ${i}: ${namespace} has its enforced baseline without ${scopedMissing.join(", ")}`,
      );
    if (stagedMissing.length > 0 && enforcedMissing.length > 0)
      problems.push(
        `sample ${i}: ${stagedMissing.join(", ")} deleted before ${enforcedMissing.join(", ")} exist`,
      );
    if (baseline && baselineKey && !present.has(baselineKey) && enforcedPresent.length > 0) {
      isolatedWithoutBaseline.push({ sample: i, objects: enforcedPresent });
      for (const live of items.filter((o) => enforcedPresent.includes(keyOf(o)))) {
        if (calicoKeys.has(keyOf(live))) {
          problems.push(
            `sample ${i}: ${keyOf(live)} exists before the enforced baseline: it isolates its pods with only its own rules`,
          );
          continue;
        }
        const missing = baselineRulesMissing(live, baseline);
        if (missing.length > 0)
          problems.push(
            `sample ${i}: ${keyOf(live)} isolates its pods before the enforced baseline without the baseline's ${missing.join(", ")}`,
          );
      }
    }
    if (stagedMissing.length === 0 && enforcedPresent.length === 0) stagedState++;
    if (enforcedMissing.length === 0 && stagedMissing.length === staged.length) promotedState++;
  });
  if (stagedState === 0) problems.push("no sample shows the staged state (sampling started late)");
  if (promotedState === 0) problems.push("no sample shows the promoted state");
  return { problems, isolatedWithoutBaseline, stagedState, promotedState };
}

/** Sets `namespaces[name].rollout` in a stack file, keeping its comments and layout. */
function setRollout(file: string, namespace: string, rollout: string): number {
  const doc = parseDocument(readFileSync(file, "utf8"));
  const namespaces = doc.getIn(["config", "zt-netpol:namespaces"]) as YAMLSeq<YAMLMap> | undefined;
  const entry = namespaces?.items.find((n) => n.get("name") === namespace);
  if (!entry) {
    console.error(`${file}: config.zt-netpol:namespaces has no namespace ${namespace}`);
    return 1;
  }
  entry.set("rollout", rollout);
  writeFileSync(file, doc.toString({ lineWidth: 0, flowCollectionPadding: false }));
  console.log(`${file}: ${namespace} rollout: ${rollout}`);
  return 0;
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const read = (f: string) => parseManifests(readFileSync(f, "utf8"));
  switch (command) {
    case "rollout":
      return setRollout(args[0], args[1], args[2]);
    case "swap": {
      const { problems, swapped } = swapProblems(read(args[0]), read(args[1]), args[2]);
      console.log(
        `${args[2]}: ${swapped} staged objects swapped for their enforced twins; ${problems.length} other difference(s)`,
      );
      for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
      return problems.length === 0 ? 0 : 1;
    }
    case "samples": {
      const files = args.slice(3);
      const lists = files.map((file) => {
        try {
          return (JSON.parse(readFileSync(file, "utf8")) as { items: KubeObject[] }).items;
        } catch {
          return undefined;
        }
      });
      const verdict = judgePromotionSamples(read(args[0]), read(args[1]), args[2], lists);
      console.log(
        `${files.length} samples of ${args[2]}: ${verdict.stagedState} staged, ${verdict.promotedState} promoted; ${verdict.problems.length} problem(s)`,
      );
      for (const p of verdict.problems.slice(0, 20)) console.log(`  ${p}`);
      const window = verdict.isolatedWithoutBaseline;
      // Judged above: each of these objects carries the baseline's rules of its directions.
      console.log(
        `first-enforcement window (judged): ${window.length} samples show enforced pod-scoped objects before the enforced baseline; each must carry the baseline's namespace-wide rules of its directions`,
      );
      for (const w of window.slice(0, 5))
        console.log(`  sample ${w.sample}: ${w.objects.join(", ")}`);
      return verdict.problems.length === 0 ? 0 : 1;
    }
    default:
      console.error("usage: promotion.ts rollout|swap|samples …");
      return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
