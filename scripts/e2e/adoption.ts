/**
 * Helpers for the adoption step of scripts/e2e/run (docs/migration.md, step 5):
 *
 *   tsx scripts/e2e/adoption.ts order <manifests.yaml> <first.yaml> <second.yaml>
 *       splits the plan in the order Pulumi creates it: pod-scoped allows and Calico policies
 *       first, then each namespace's baseline (components/namespaceProtection.ts `dependsOn`)
 *   tsx scripts/e2e/adoption.ts samples <tree.yaml> <manifests.yaml> <sample.json>...
 *       judges `kubectl get networkpolicies -A -o json` samples taken during the takeover:
 *       once a namespace has its baseline it keeps one; a baseline is always either the old
 *       tree's or the plan's; and when the plan's baseline is there, so are the namespace's other
 *       planned objects (the allows that moved out of the baseline)
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
  const { problems, adopted } = judgeSamples(tree, plan, lists);
  console.log(
    `${files.length} samples of ${plan.filter(isBaseline).length} namespaces; ${adopted} show every baseline adopted; ${problems.length} problem(s)`,
  );
  for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
  return problems.length === 0 && adopted > 0 ? 0 : 1;
}

/** The sampling verdict: what went wrong in which sample, and how many show the end state. */
export function judgeSamples(
  tree: readonly KubeObject[],
  plan: readonly KubeObject[],
  lists: readonly (readonly KubeObject[] | undefined)[],
): { problems: string[]; adopted: number } {
  const old = new Map(tree.filter(isBaseline).map((o) => [o.metadata.namespace!, o]));
  const neu = new Map(plan.filter(isBaseline).map((o) => [o.metadata.namespace!, o]));
  const planned = new Map<string, string[]>();
  for (const o of plan.filter((p) => !isBaseline(p) && p.metadata.namespace)) {
    const list = planned.get(o.metadata.namespace!) ?? [];
    list.push(keyOf(o));
    planned.set(o.metadata.namespace!, list);
  }
  const problems: string[] = [];
  const hadBaseline = new Set<string>();
  let adopted = 0;
  lists.forEach((items, i) => {
    if (items === undefined) return;
    const present = new Set(items.map(keyOf));
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
      if (isNew && !isOld) {
        const missing = (planned.get(ns) ?? []).filter((k) => !present.has(k));
        if (missing.length > 0)
          problems.push(`sample ${i}: ${ns} has its new baseline without ${missing.join(", ")}`);
      }
    }
    if (
      [...neu].every(([ns, o]) =>
        items.some((l) => isBaseline(l) && l.metadata.namespace === ns && same(l, o)),
      )
    )
      adopted++;
  });
  return { problems, adopted };
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const read = (f: string) => parseManifests(readFileSync(f, "utf8"));
  switch (command) {
    case "order":
      return order(read(args[0]), args[1], args[2]);
    case "samples":
      return samples(read(args[0]), read(args[1]), args.slice(2));
    default:
      console.error("usage: adoption.ts order|samples …");
      return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
