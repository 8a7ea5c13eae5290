/**
 * Helpers for scripts/e2e/run: compare what the API server holds, and what `pulumi preview`
 * would change, with the offline plan (`npm run plan` → manifests.yaml).
 *
 *   tsx scripts/e2e/compare.ts namespaces <manifests.yaml>
 *   tsx scripts/e2e/compare.ts live <manifests.yaml> <live.json>...
 *   tsx scripts/e2e/compare.ts changes <before/manifests.yaml> <after/manifests.yaml> <preview.json>
 *   tsx scripts/e2e/compare.ts gone <manifests.yaml> <live.json>...
 *   tsx scripts/e2e/compare.ts select <manifests.yaml> <apiGroup>   the plan's objects of one API group
 *
 * `live.json` files are `kubectl get … -o json` lists. Exit code 0 means the check holds; the
 * reasons are printed either way.
 */
import { readFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
}

/** `apiVersion/kind/namespace/name`: one object, whatever tool reports it. */
export function keyOf(o: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === "object" && !!o.kind);
}

/**
 * What the API server does to a spec on the way in and out: NetworkPolicy ports default to TCP,
 * and Go's `omitempty` drops empty lists and nulls when it serialises. Empty objects stay
 * (`podSelector: {}` means "every pod").
 */
export function normaliseSpec(kind: string, apiVersion: string, spec: unknown): unknown {
  const defaulted =
    kind === "NetworkPolicy" && apiVersion === "networking.k8s.io/v1"
      ? defaultPorts(structuredClone(spec))
      : structuredClone(spec);
  return prune(defaulted);
}

function defaultPorts(spec: unknown): unknown {
  const s = spec as { ingress?: { ports?: { protocol?: string }[] }[]; egress?: typeof s.ingress };
  for (const rule of [...(s?.ingress ?? []), ...(s?.egress ?? [])]) {
    for (const port of rule.ports ?? []) {
      if (port.protocol === undefined) port.protocol = "TCP";
    }
  }
  return spec;
}

function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(prune);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      out[k] = prune(v);
    }
    return out;
  }
  return value;
}

/** JSON paths where two values differ (object keys in any order, lists in order). */
export function differences(a: unknown, b: unknown, path = "$"): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    if (a.length !== b.length) out.push(`${path}: ${a.length} items vs ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      out.push(...differences(a[i], b[i], `${path}[${i}]`));
    }
    return out;
  }
  if (
    a &&
    b &&
    typeof a === "object" &&
    typeof b === "object" &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
    return keys.flatMap((k) => differences(ao[k], bo[k], `${path}.${k}`));
  }
  return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

export interface LiveComparison {
  matched: string[];
  missing: string[];
  extra: string[];
  differing: { key: string; differences: string[] }[];
}

/**
 * The live objects against the plan: the same set of objects (by key), the same specs after the
 * server's defaulting, and the plan's labels and annotations present on the live object.
 */
export function compareLive(planned: KubeObject[], live: KubeObject[]): LiveComparison {
  const liveByKey = new Map(live.map((o) => [keyOf(o), o]));
  const plannedKeys = new Set(planned.map(keyOf));
  const result: LiveComparison = { matched: [], missing: [], extra: [], differing: [] };
  for (const p of planned) {
    const key = keyOf(p);
    const l = liveByKey.get(key);
    if (!l) {
      result.missing.push(key);
      continue;
    }
    const diffs = differences(
      normaliseSpec(p.kind, p.apiVersion, p.spec),
      normaliseSpec(l.kind, l.apiVersion, l.spec),
      "spec",
    );
    for (const field of ["labels", "annotations"] as const) {
      for (const [k, v] of Object.entries(p.metadata[field] ?? {})) {
        const got = l.metadata[field]?.[k];
        if (got !== v)
          diffs.push(`metadata.${field}.${k}: ${JSON.stringify(v)} vs ${JSON.stringify(got)}`);
      }
    }
    if (diffs.length > 0) result.differing.push({ key, differences: diffs });
    else result.matched.push(key);
  }
  result.extra = [...liveByKey.keys()].filter((k) => !plannedKeys.has(k)).sort();
  return result;
}

/** Objects that differ between two plans: added, removed or changed (metadata or spec). */
export function planChanges(before: KubeObject[], after: KubeObject[]): Map<string, string> {
  const b = new Map(before.map((o) => [keyOf(o), o]));
  const a = new Map(after.map((o) => [keyOf(o), o]));
  const out = new Map<string, string>();
  for (const [k, o] of a) {
    const old = b.get(k);
    if (!old) out.set(k, "create");
    else if (differences(comparable(old), comparable(o)).length > 0) out.set(k, "update");
  }
  for (const k of b.keys()) if (!a.has(k)) out.set(k, "delete");
  return out;
}

function comparable(o: KubeObject): unknown {
  return {
    labels: o.metadata.labels ?? {},
    annotations: o.metadata.annotations ?? {},
    spec: normaliseSpec(o.kind, o.apiVersion, o.spec),
  };
}

interface PreviewStep {
  op: string;
  urn: string;
  type?: string;
  oldState?: { inputs?: Partial<KubeObject>; outputs?: Partial<KubeObject> };
  newState?: { inputs?: Partial<KubeObject>; outputs?: Partial<KubeObject> };
}

/** A URN's resource type: `urn:pulumi:stack::project::parent$…$type::name` → `type`. */
export function urnType(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/**
 * What a `pulumi preview --json` would touch: Kubernetes objects by key, with their operation,
 * and everything else (component resources, providers) by URN. Components take the config as
 * their inputs, so a config change updates them in the state without touching the cluster.
 */
export function previewChanges(preview: { steps?: PreviewStep[] }): {
  objects: Map<string, string>;
  others: Map<string, string>;
} {
  const objects = new Map<string, string>();
  const others = new Map<string, string>();
  for (const step of preview.steps ?? []) {
    if (step.op === "same" || step.op === "read") continue;
    const state = step.newState?.inputs ?? step.oldState?.inputs ?? step.oldState?.outputs;
    if (
      urnType(step.urn).startsWith("kubernetes:") &&
      state?.kind &&
      state.apiVersion &&
      state.metadata?.name
    ) {
      objects.set(keyOf(state as KubeObject), step.op);
    } else {
      others.set(step.urn, step.op);
    }
  }
  return { objects, others };
}

function liveObjects(files: string[]): KubeObject[] {
  return files.flatMap(
    (f) => (JSON.parse(readFileSync(f, "utf8")) as { items: KubeObject[] }).items,
  );
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const plan = (f: string) => parseManifests(readFileSync(f, "utf8"));
  switch (command) {
    case "namespaces": {
      const namespaces = new Set(
        plan(args[0])
          .map((o) => o.metadata.namespace)
          .filter(Boolean),
      );
      console.log([...namespaces].sort().join("\n"));
      return 0;
    }
    case "live": {
      const planned = plan(args[0]);
      const r = compareLive(planned, liveObjects(args.slice(1)));
      console.log(
        `planned ${planned.length}, matched ${r.matched.length}, missing ${r.missing.length}, extra ${r.extra.length}, differing ${r.differing.length}`,
      );
      for (const k of r.missing) console.log(`  missing on the server: ${k}`);
      for (const k of r.extra) console.log(`  on the server, not planned: ${k}`);
      for (const d of r.differing)
        console.log(`  differs: ${d.key}\n    ${d.differences.join("\n    ")}`);
      return r.missing.length + r.extra.length + r.differing.length === 0 && r.matched.length > 0
        ? 0
        : 1;
    }
    case "changes": {
      const expected = planChanges(plan(args[0]), plan(args[1]));
      const { objects: actual, others } = previewChanges(JSON.parse(readFileSync(args[2], "utf8")));
      const fmt = (m: Map<string, string>) => [...m].sort().map(([k, op]) => `${op} ${k}`);
      console.log(`expected (offline plan diff): ${expected.size}`);
      for (const line of fmt(expected)) console.log(`  ${line}`);
      console.log(`preview, Kubernetes objects: ${actual.size}`);
      for (const line of fmt(actual)) console.log(`  ${line}`);
      console.log(`preview, other resources (state only): ${others.size}`);
      for (const line of fmt(others)) console.log(`  ${line}`);
      const same =
        expected.size > 0 &&
        expected.size === actual.size &&
        [...expected].every(([k, op]) => actual.get(k) === op);
      return same ? 0 : 1;
    }
    case "gone": {
      const planned = new Set(plan(args[0]).map(keyOf));
      const left = liveObjects(args.slice(1))
        .map(keyOf)
        .filter((k) => planned.has(k));
      console.log(`planned objects still on the server: ${left.length}`);
      for (const k of left) console.log(`  ${k}`);
      return left.length === 0 ? 0 : 1;
    }
    case "select": {
      const selected = plan(args[0]).filter((o) => o.apiVersion.startsWith(`${args[1]}/`));
      process.stdout.write(selected.map((o) => `---\n${stringify(o)}`).join(""));
      console.error(`${selected.length} ${args[1]} objects`);
      return selected.length > 0 ? 0 : 1;
    }
    default:
      console.error("usage: compare.ts namespaces|live|changes|gone|select …");
      return 2;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
