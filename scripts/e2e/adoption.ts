/**
 * Helpers for the adoption steps of scripts/e2e/run (docs/migration.md, step 5):
 *
 *   tsx scripts/e2e/adoption.ts order <manifests.yaml> <first.yaml> <second.yaml> <third.yaml>
 *       splits the plan in the order Pulumi creates it: pod-scoped allows (and the Istio objects)
 *       first, then each namespace's baseline, then the Calico policies
 *       (components/namespaceProtection.ts `dependsOn`); for the kubectl stand-in of --kubectl-only
 *   tsx scripts/e2e/adoption.ts samples <tree.yaml> <manifests.yaml> <sample.json>...
 *       judges `kubectl get … -A -o json` samples taken during the takeover (judgeSamples)
 *   tsx scripts/e2e/adoption.ts leftovers <tree.yaml> <manifests.yaml> <live.json>...
 *       the tree's objects under names the plan does not have that are still on the server
 *   tsx scripts/e2e/adoption.ts held|released <manager> <objects.yaml> <live.json>...
 *       before the takeover every object on the server has spec fields owned by <manager>
 *       (ArgoCD's); after it every one is there and none of its spec is <manager>'s
 *
 * Exit code 0 means the check holds; the reasons are printed either way.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { differences, type KubeObject, keyOf, normaliseSpec, parseManifests } from "./compare";

export const isBaseline = (o: KubeObject): boolean =>
  o.kind === "NetworkPolicy" &&
  o.apiVersion === "networking.k8s.io/v1" &&
  o.metadata.name === `${o.metadata.namespace}-network-policy`;

const spec = (o: KubeObject): unknown => normaliseSpec(o.kind, o.apiVersion, o.spec);
const same = (a: KubeObject, b: KubeObject): boolean => differences(spec(a), spec(b)).length === 0;

const isCalicoPolicy = (o: KubeObject): boolean =>
  o.kind === "NetworkPolicy" && o.apiVersion === "projectcalico.org/v3";

function order(plan: KubeObject[], first: string, second: string, third: string): number {
  const write = (file: string, objects: KubeObject[]) =>
    writeFileSync(file, objects.map((o) => `---\n${stringify(o)}`).join(""));
  const scoped = plan.filter((o) => !isBaseline(o) && !isCalicoPolicy(o));
  const baselines = plan.filter(isBaseline);
  const calico = plan.filter(isCalicoPolicy);
  write(first, scoped);
  write(second, baselines);
  write(third, calico);
  console.log(
    `${scoped.length} pod-scoped objects first, then ${baselines.length} baselines, then ${calico.length} Calico policies`,
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
 * - the plan's baseline only appears once the namespace's other planned Kubernetes policies exist
 *   (the allows that moved out of it);
 * - a planned Calico policy that the tree does not already hold only appears once the namespace
 *   has a baseline (it ends its tier with a deny: before any baseline it would isolate its pods
 *   with only its own rules; namespaceProtection.ts orders it after the baseline);
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
  const planned = byNamespace(plan.filter((p) => isCni(p) && !isBaseline(p) && !isCalicoPolicy(p)));
  const treeHolds = (o: KubeObject) => tree.some((t) => keyOf(t) === keyOf(o) && same(t, o));
  const newCalico = plan.filter((p) => isCalicoPolicy(p) && !treeHolds(p));
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
    for (const o of newCalico) {
      const ns = o.metadata.namespace!;
      const live = items.find((l) => keyOf(l) === keyOf(o));
      if (live && same(live, o) && !items.some((l) => isBaseline(l) && l.metadata.namespace === ns))
        problems.push(`sample ${i}: ${keyOf(o)} is there before ${ns} has a baseline`);
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

/** The provider's field managers: `pulumi-kubernetes-<random>` (provider.go `fieldManagerName`). */
const PROVIDER_MANAGER = "pulumi-kubernetes";

/** The field managers that own part of an object's spec (from `--show-managed-fields`). */
function specOwners(o: KubeObject): string[] {
  const entries = (o.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
  return entries.filter((m) => m.fieldsV1?.["f:spec"] !== undefined).map((m) => m.manager ?? "");
}

/**
 * `held`: every object of `objects` that is on the server has spec fields owned by `manager`
 * (before the takeover). `released`: every one is on the server and the provider owns spec
 * fields of it (after the takeover); `shared` lists those where `manager` still co-owns some
 * (server-side apply shares a field between managers that applied the same value; a forced
 * apply only moves the fields whose values conflict). An object without managed fields fails
 * either way, so a read-back without `--show-managed-fields` cannot pass.
 */
export function ownershipVerdict(
  mode: "held" | "released",
  manager: string,
  objects: readonly KubeObject[],
  live: readonly KubeObject[],
): {
  judged: number;
  missing: number;
  owners: Map<string, number>;
  wrong: string[];
  shared: string[];
} {
  const wanted = new Set(objects.map(keyOf));
  const judged = live.filter((l) => wanted.has(keyOf(l)));
  const owners = new Map<string, number>();
  const wrong: string[] = [];
  const shared: string[] = [];
  for (const o of judged) {
    const who = specOwners(o);
    for (const m of who) owners.set(m, (owners.get(m) ?? 0) + 1);
    const holds = who.includes(manager);
    if (who.length === 0) wrong.push(`${keyOf(o)}: no managed fields for its spec`);
    else if (mode === "held" ? !holds : !who.some((m) => m.startsWith(PROVIDER_MANAGER)))
      wrong.push(`${keyOf(o)}: spec owned by ${who.join(", ")}`);
    else if (mode === "released" && holds) shared.push(keyOf(o));
  }
  const missing = mode === "released" ? objects.length - judged.length : 0;
  return { judged: judged.length, missing, owners, wrong, shared };
}

function ownership(
  mode: "held" | "released",
  manager: string,
  objects: KubeObject[],
  live: KubeObject[],
): number {
  const { judged, missing, owners, wrong, shared } = ownershipVerdict(mode, manager, objects, live);
  console.log(
    `${judged} of ${objects.length} objects on the server; spec owned by: ${[...owners].map(([m, n]) => `${m} ${n}`).join(", ") || "nobody"}; ` +
      (mode === "held"
        ? `${wrong.length} not held by ${manager}`
        : `${wrong.length} not owned by the provider, ${shared.length} with fields ${manager} still co-owns (same values)`),
  );
  for (const w of wrong) console.log(`  ${w}`);
  return judged > 0 && wrong.length === 0 && missing === 0 ? 0 : 1;
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const read = (f: string) => parseManifests(readFileSync(f, "utf8"));
  switch (command) {
    case "order":
      return order(read(args[0]), args[1], args[2], args[3]);
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
    case "held":
    case "released":
      return ownership(
        command,
        args[0],
        read(args[1]),
        args
          .slice(2)
          .flatMap((f) => (JSON.parse(readFileSync(f, "utf8")) as { items: KubeObject[] }).items),
      );
    default:
      console.error("usage: adoption.ts order|samples|leftovers|held|released …");
      return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
