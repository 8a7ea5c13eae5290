/**
 * Helpers for the adoption steps of scripts/e2e/run (docs/migration.md, step 5):
 *
 *   tsx scripts/e2e/adoption.ts order <manifests.yaml> <first.yaml> <second.yaml>
 *       splits the plan in the order Pulumi creates it: pod-scoped allows and Calico policies
 *       first, then each namespace's baseline (components/namespaceProtection.ts `dependsOn`);
 *       for the kubectl stand-in of --kubectl-only
 *   tsx scripts/e2e/adoption.ts samples <tree.yaml> <manifests.yaml> <sample.json>...
 *       judges `kubectl get … -A -o json` samples taken during the takeover (judgeSamples)
 *   tsx scripts/e2e/adoption.ts leftovers <tree.yaml> <manifests.yaml> <live.json>...
 *       the tree's objects under names the plan does not have that are still on the server
 *   tsx scripts/e2e/adoption.ts takeover <manager> <manifests.yaml> <live.json>...
 *       the planned objects on the server of which <manager> (ArgoCD's) still owns a spec field
 *
 * Exit code 0 means the check holds; the reasons are printed either way.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { differences, type KubeObject, keyOf, normaliseSpec, parseManifests } from "./compare";

const isBaseline = (o: KubeObject): boolean =>
  o.kind === "NetworkPolicy" &&
  o.apiVersion === "networking.k8s.io/v1" &&
  o.metadata.name === `${o.metadata.namespace}-network-policy`;

const spec = (o: KubeObject): unknown => normaliseSpec(o.kind, o.apiVersion, o.spec);
const same = (a: KubeObject, b: KubeObject): boolean => differences(spec(a), spec(b)).length === 0;

function order(plan: KubeObject[], first: string, second: string): number {
  const write = (file: string, objects: KubeObject[]) =>
    writeFileSync(file, objects.map((o) => `---\n${stringify(o)}`).join(""));
  write(
    first,
    plan.filter((o) => !isBaseline(o)),
  );
  write(second, plan.filter(isBaseline));
  console.log(
    `${plan.filter((o) => !isBaseline(o)).length} pod-scoped/Calico objects first, then ${plan.filter(isBaseline).length} baselines`,
  );
  return 0;
}

function samples(tree: KubeObject[], plan: KubeObject[], files: string[]): number {
  const lists = files.map((file) => {
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as { items: KubeObject[] }).items;
    } catch {
      return undefined; // a sample cut short by the end of sampling
    }
  });
  const verdict = judgeSamples(tree, plan, lists);
  const read = lists.filter((l) => l !== undefined).length;
  console.log(
    `${read} samples (${files.length - read} cut short) of ${plan.filter(isBaseline).length} namespaces; ` +
      `${verdict.adopted} show every baseline adopted, ${verdict.retired} every old object gone; ` +
      `${verdict.problems.length} problem(s)`,
  );
  for (const p of verdict.problems.slice(0, 20)) console.log(`  ${p}`);
  return verdict.problems.length === 0 && verdict.adopted > 0 ? 0 : 1;
}

const isCni = (o: KubeObject): boolean => o.kind === "NetworkPolicy";
const isAuthorization = (o: KubeObject): boolean =>
  o.kind === "AuthorizationPolicy" && o.apiVersion.startsWith("security.istio.io/");
const isPeerAuthentication = (o: KubeObject): boolean =>
  o.kind === "PeerAuthentication" && o.apiVersion.startsWith("security.istio.io/");
/**
 * An ALLOW AuthorizationPolicy without a selector or targetRefs: it applies to every workload of
 * the namespace, and once a workload has an ALLOW policy ztunnel refuses what none admits. (A
 * DENY policy, such as the plaintext DENY of a PERMISSIVE namespace, refuses only what it names,
 * none of it planned, so it may come first.)
 */
const isNamespaceWideAllow = (o: KubeObject): boolean => {
  const spec = (o.spec ?? {}) as {
    action?: string;
    selector?: unknown;
    targetRefs?: unknown;
    targetRef?: unknown;
  };
  return (
    (spec.action ?? "ALLOW") === "ALLOW" &&
    spec.selector === undefined &&
    spec.targetRefs === undefined &&
    spec.targetRef === undefined
  );
};

function byNamespace(objects: readonly KubeObject[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const o of objects) {
    if (!o.metadata.namespace) continue;
    const list = out.get(o.metadata.namespace) ?? [];
    list.push(keyOf(o));
    out.set(o.metadata.namespace, list);
  }
  return out;
}

/** The tree's objects whose names the plan does not have: delete-after-create leaves none. */
export function oldOnly(tree: readonly KubeObject[], plan: readonly KubeObject[]): KubeObject[] {
  const planned = new Set(plan.map(keyOf));
  return tree.filter((o) => !planned.has(keyOf(o)));
}

/**
 * The sampling verdict: what went wrong in which sample, how many samples show every baseline
 * adopted, and how many show every old object of another name gone. Each sample is judged by
 * what a namespace needs to be neither open nor cut off:
 * - once a namespace has a baseline it keeps one, and it is always the tree's or the plan's;
 * - the plan's baseline only appears once the namespace's other planned Kubernetes and Calico
 *   policies exist (the allows that moved out of it);
 * - an old object under another name is gone only once the namespace has its new baseline and
 *   all its planned policies (delete after create);
 * - an Istio ALLOW policy for the whole namespace, or its PeerAuthentication, only appears once
 *   every planned AuthorizationPolicy of the namespace exists (the pod-scoped allows first;
 *   components/namespaceProtection.ts `dependsOn`).
 */
export function judgeSamples(
  tree: readonly KubeObject[],
  plan: readonly KubeObject[],
  lists: readonly (readonly KubeObject[] | undefined)[],
): { problems: string[]; adopted: number; retired: number } {
  const old = new Map(tree.filter(isBaseline).map((o) => [o.metadata.namespace!, o]));
  const neu = new Map(plan.filter(isBaseline).map((o) => [o.metadata.namespace!, o]));
  const planned = byNamespace(plan.filter((p) => isCni(p) && !isBaseline(p)));
  const authorizations = byNamespace(plan.filter(isAuthorization));
  const stale = oldOnly(tree, plan);
  const problems: string[] = [];
  const hadBaseline = new Set<string>();
  let adopted = 0;
  let retired = 0;
  lists.forEach((items, i) => {
    if (items === undefined) return;
    const present = new Set(items.map(keyOf));
    const missingOf = (keys: readonly string[] | undefined) =>
      (keys ?? []).filter((k) => !present.has(k));
    const complete = new Set<string>();
    for (const ns of neu.keys()) {
      const live = items.find((o) => isBaseline(o) && o.metadata.namespace === ns);
      if (!live) {
        if (hadBaseline.has(ns)) problems.push(`sample ${i}: ${ns} lost its baseline`);
        continue;
      }
      hadBaseline.add(ns);
      const isNew = same(live, neu.get(ns)!);
      const isOld = old.has(ns) && same(live, old.get(ns)!);
      if (!isNew && !isOld)
        problems.push(`sample ${i}: ${ns}'s baseline is neither the old nor the new one`);
      const missing = missingOf(planned.get(ns));
      if (isNew && !isOld && missing.length > 0)
        problems.push(`sample ${i}: ${ns} has its new baseline without ${missing.join(", ")}`);
      if (isNew && missing.length === 0) complete.add(ns);
    }
    for (const o of stale) {
      const ns = o.metadata.namespace!;
      if (!present.has(keyOf(o)) && hadBaseline.has(ns) && !complete.has(ns))
        problems.push(
          `sample ${i}: ${keyOf(o)} is gone before ${ns} has its new baseline and policies`,
        );
    }
    for (const o of items.filter(
      (l) => (isAuthorization(l) && isNamespaceWideAllow(l)) || isPeerAuthentication(l),
    )) {
      const missing = missingOf(authorizations.get(o.metadata.namespace!));
      if (missing.length > 0)
        problems.push(`sample ${i}: ${keyOf(o)} is there without ${missing.join(", ")}`);
    }
    if (
      [...neu].every(([ns, o]) =>
        items.some((l) => isBaseline(l) && l.metadata.namespace === ns && same(l, o)),
      )
    )
      adopted++;
    if (stale.length > 0 && stale.every((o) => !present.has(keyOf(o)))) retired++;
  });
  return { problems, adopted, retired };
}

function leftovers(tree: KubeObject[], plan: KubeObject[], live: KubeObject[]): number {
  const stale = oldOnly(tree, plan);
  const there = new Set(live.map(keyOf));
  const left = stale.filter((o) => there.has(keyOf(o)));
  console.log(
    `${stale.length} object(s) of the tree under names the plan does not have; ${left.length} left on the server`,
  );
  for (const o of left) console.log(`  left: ${keyOf(o)}`);
  return left.length === 0 && stale.length > 0 ? 0 : 1;
}

interface ManagedFieldsEntry {
  manager?: string;
  fieldsV1?: { "f:spec"?: unknown };
}

/** Which planned objects still have spec fields owned by `manager`, and who owns the rest. */
function takeover(manager: string, plan: KubeObject[], live: KubeObject[]): number {
  const planned = new Set(plan.map(keyOf));
  const owners = new Map<string, number>();
  const held: string[] = [];
  let judged = 0;
  for (const o of live.filter((l) => planned.has(keyOf(l)))) {
    judged++;
    const entries = ((o.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ??
      []) as ManagedFieldsEntry[];
    for (const e of entries.filter((m) => m.fieldsV1?.["f:spec"] !== undefined)) {
      const name = e.manager ?? "(none)";
      owners.set(name, (owners.get(name) ?? 0) + 1);
      if (name === manager) held.push(keyOf(o));
    }
  }
  const who = [...owners].map(([m, n]) => `${m} ${n}`).join(", ");
  console.log(
    `${judged} planned objects on the server; spec owned by: ${who || "nobody"}; ${held.length} still held by ${manager}`,
  );
  for (const k of held) console.log(`  held: ${k}`);
  return judged === planned.size && held.length === 0 ? 0 : 1;
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const read = (f: string) => parseManifests(readFileSync(f, "utf8"));
  switch (command) {
    case "order":
      return order(read(args[0]), args[1], args[2]);
    case "samples":
      return samples(read(args[0]), read(args[1]), args.slice(2));
    case "leftovers":
      return leftovers(
        read(args[0]),
        read(args[1]),
        args
          .slice(2)
          .flatMap((f) => (JSON.parse(readFileSync(f, "utf8")) as { items: KubeObject[] }).items),
      );
    case "takeover":
      return takeover(
        args[0],
        read(args[1]),
        args
          .slice(2)
          .flatMap((f) => (JSON.parse(readFileSync(f, "utf8")) as { items: KubeObject[] }).items),
      );
    default:
      console.error("usage: adoption.ts order|samples|leftovers|takeover …");
      return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
