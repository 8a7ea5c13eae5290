/**
 * The part of kustomize a policy tree needs: `resources` (files, and directories that hold a
 * kustomization of their own), `namespace` and `commonLabels`. Anything else a kustomization can
 * do (patches, generators, name prefixes, components, replacements…) changes objects in ways
 * this reader does not reproduce, so it is refused with the command that renders it exactly.
 *
 * Semantics, from the kustomize reference (https://kubectl.docs.kubernetes.io/references/kustomize/kustomization/):
 * - `namespace` sets metadata.namespace on every namespaced object, replacing one that is set;
 *   cluster-scoped objects are left alone;
 * - `commonLabels` adds labels to metadata.labels of every object and to the selectors and pod
 *   templates kustomize's default field specs list (kubernetes-sigs/kustomize
 *   api/internal/konfig/builtinpluginconsts/commonlabels.go). For a NetworkPolicy these are
 *   spec.podSelector.matchLabels and the podSelector.matchLabels of every from/to peer, each
 *   only when the matchLabels map already exists (`create: false`): `podSelector: {}` stays {}.
 * - an inner kustomization is built first; the outer one's transformers then apply to its output,
 *   so the outermost namespace wins.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { isClusterScoped, apiGroupOf } from "./kinds";
import type { SourcedObject } from "./parse";

type Raw = Record<string, unknown>;

/** File names kustomize looks for in a directory, in its order. */
export const KUSTOMIZATION_FILE_NAMES = [
  "kustomization.yaml",
  "kustomization.yml",
  "Kustomization",
];

const SUPPORTED_FIELDS = new Set([
  "apiVersion",
  "kind",
  "metadata",
  "resources",
  "namespace",
  "commonLabels",
]);

export function kustomizationFileIn(dir: string): string | undefined {
  return KUSTOMIZATION_FILE_NAMES.map((name) => path.join(dir, name)).find((file) =>
    fs.statSync(file, { throwIfNoEntry: false })?.isFile(),
  );
}

export function isKustomizationFile(file: string): boolean {
  return KUSTOMIZATION_FILE_NAMES.includes(path.basename(file));
}

function isObject(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What a kustomization asks for, checked; problems are reported with the file and field. */
export interface Kustomization {
  readonly file: string;
  readonly resources: readonly { readonly entry: string; readonly field: string }[];
  readonly namespace?: string;
  readonly commonLabels: Readonly<Record<string, string>>;
}

export function readKustomization(
  file: string,
  report: (location: string, message: string) => void,
): Kustomization | undefined {
  const text = fs.readFileSync(file, "utf8");
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  if (list.length !== 1 || list[0].errors.length > 0) {
    report(file, list[0]?.errors[0]?.message ?? "a kustomization is exactly one YAML document");
    return undefined;
  }
  const raw: unknown = list[0].toJS();
  if (!isObject(raw)) {
    report(file, "not a kustomization (expected a map)");
    return undefined;
  }
  let ok = true;
  const fail = (field: string, message: string): void => {
    ok = false;
    report(`${file}: ${field}`, message);
  };
  if (raw.kind !== undefined && raw.kind !== "Kustomization")
    fail("kind", `${JSON.stringify(raw.kind)} is not read (only kind: Kustomization)`);
  const unsupported = Object.keys(raw).filter((key) => !SUPPORTED_FIELDS.has(key));
  if (unsupported.length > 0)
    fail(
      unsupported.join(", "),
      `not reproduced here (only resources, namespace and commonLabels are); render the tree with kustomize and check its output: kubectl kustomize ${path.dirname(file)} | npm run check -- -`,
    );
  const resources: { entry: string; field: string }[] = [];
  if (raw.resources !== undefined && raw.resources !== null) {
    if (!Array.isArray(raw.resources)) fail("resources", "must be a list of paths");
    else
      raw.resources.forEach((entry: unknown, i) => {
        const field = `resources[${i}]`;
        if (typeof entry !== "string" || entry === "") fail(field, "must be a path");
        else if (/^[a-z]+:\/\/|^github\.com\/|^git@/.test(entry))
          fail(field, `${entry} is remote: only local files and directories are read`);
        else resources.push({ entry, field });
      });
  }
  let namespace: string | undefined;
  if (raw.namespace !== undefined && raw.namespace !== null) {
    if (typeof raw.namespace !== "string" || raw.namespace === "")
      fail("namespace", "must be a namespace name");
    else namespace = raw.namespace;
  }
  const commonLabels: Record<string, string> = {};
  if (raw.commonLabels !== undefined && raw.commonLabels !== null) {
    if (!isObject(raw.commonLabels)) fail("commonLabels", "must be a map of strings");
    else
      for (const [key, value] of Object.entries(raw.commonLabels)) {
        if (typeof value !== "string") fail(`commonLabels.${key}`, "must be a string");
        else commonLabels[key] = value;
      }
  }
  return ok ? { file, resources, namespace, commonLabels } : undefined;
}

function dig(object: unknown, keys: readonly string[]): unknown {
  let current = object;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Adds labels to the map at `keys`; creates it (and its parents) only when `create`. */
function addLabelsAt(object: Raw, keys: readonly string[], labels: Raw, create: boolean): void {
  let current: Raw = object;
  for (const key of keys) {
    const next = current[key];
    if (isObject(next)) current = next;
    else if (create && (next === undefined || next === null)) current = current[key] = {};
    else return;
  }
  Object.assign(current, labels);
}

/** Field specs with pod templates and selectors, per kind (create: true unless noted). */
const WORKLOAD_LABEL_PATHS: Readonly<Record<string, readonly [readonly string[], boolean][]>> = {
  Deployment: [
    [["spec", "selector", "matchLabels"], true],
    [["spec", "template", "metadata", "labels"], true],
  ],
  ReplicaSet: [
    [["spec", "selector", "matchLabels"], true],
    [["spec", "template", "metadata", "labels"], true],
  ],
  DaemonSet: [
    [["spec", "selector", "matchLabels"], true],
    [["spec", "template", "metadata", "labels"], true],
  ],
  StatefulSet: [
    [["spec", "selector", "matchLabels"], true],
    [["spec", "template", "metadata", "labels"], true],
  ],
  ReplicationController: [
    [["spec", "selector"], true],
    [["spec", "template", "metadata", "labels"], true],
  ],
  Job: [
    [["spec", "selector", "matchLabels"], false],
    [["spec", "template", "metadata", "labels"], true],
  ],
  CronJob: [
    [["spec", "jobTemplate", "spec", "selector", "matchLabels"], false],
    [["spec", "jobTemplate", "metadata", "labels"], true],
    [["spec", "jobTemplate", "spec", "template", "metadata", "labels"], true],
  ],
  Service: [[["spec", "selector"], true]],
};

export function applyCommonLabels(object: Raw, labels: Readonly<Record<string, string>>): void {
  if (Object.keys(labels).length === 0) return;
  const kind = typeof object.kind === "string" ? object.kind : "";
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  addLabelsAt(object, ["metadata", "labels"], labels, true);
  for (const [keys, create] of WORKLOAD_LABEL_PATHS[kind] ?? [])
    addLabelsAt(object, keys, labels, create);
  if (kind === "NetworkPolicy" && apiGroupOf(apiVersion) === "networking.k8s.io") {
    addLabelsAt(object, ["spec", "podSelector", "matchLabels"], labels, false);
    for (const [direction, peers] of [
      ["ingress", "from"],
      ["egress", "to"],
    ] as const) {
      const rules = dig(object, ["spec", direction]);
      if (!Array.isArray(rules)) continue;
      for (const rule of rules) {
        const list = isObject(rule) ? rule[peers] : undefined;
        if (!Array.isArray(list)) continue;
        for (const peer of list)
          if (isObject(peer)) addLabelsAt(peer, ["podSelector", "matchLabels"], labels, false);
      }
    }
  }
}

export function applyNamespace(object: Raw, namespace: string): void {
  const kind = typeof object.kind === "string" ? object.kind : "";
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  if (isClusterScoped(apiVersion, kind)) return;
  if (!isObject(object.metadata)) object.metadata = {};
  (object.metadata as Raw).namespace = namespace;
}

/** The transformers of one kustomization, applied to what its resources produced. */
export function transformAll(objects: readonly SourcedObject[], k: Kustomization): void {
  for (const { object } of objects) {
    if (k.namespace !== undefined) applyNamespace(object, k.namespace);
    applyCommonLabels(object, k.commonLabels);
  }
}
