/**
 * The one reader of manifest inputs for every CLI (check, explain, diff, matrix, list, import):
 * files, directories (recursively), `-` for standard input, YAML (multi-document) and JSON,
 * `List`/`…List` objects, and kustomizations (see ./kustomize.ts).
 *
 * Fail closed: every file under a directory is either read or named in `skipped` with the
 * reason; a kind that does not exist in a policy API group, a namespaced policy object without
 * a namespace (unless `namespace` is given), a syntax error, a missing path are all collected
 * and thrown together as an InputError naming the file, document and path.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  apiGroupOf,
  duplicateObjectMessage,
  isClusterScoped,
  isNamespacedPolicyKind,
  isPolicyGroup,
  objectIdentity,
  policyGroupKinds,
} from "./kinds";
import {
  isKustomizationFile,
  kustomizationFileIn,
  readKustomization,
  transformAll,
} from "./kustomize";
import type { SourcedObject } from "./parse";
import { ManifestParseError, parseManifestText } from "./parse";
import { didYouMean } from "./suggest";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
export const STDIN = "-";

/** The skip reason of a file under a kustomization root that none of its kustomizations lists. */
export const NOT_IN_KUSTOMIZATION = "not listed in any kustomization's resources";

export interface InputProblem {
  /** `file`, `file#document`, `file#document.items[2]` or `file: field`. */
  readonly location: string;
  readonly message: string;
}

/** The input cannot be read as given. Lists every problem, each with its location. */
export class InputError extends Error {
  constructor(readonly problems: readonly InputProblem[]) {
    super(
      problems.length === 1
        ? `${problems[0].location}: ${problems[0].message}`
        : `${problems.length} problems in the input:\n` +
            problems.map((p) => `  - ${p.location}: ${p.message}`).join("\n"),
    );
    this.name = "InputError";
  }
}

export interface LoadOptions {
  /**
   * kubectl's `--namespace`: the namespace of namespaced objects that name none. Without it such
   * a policy object is an error, never silently put in "default" (kubectl would use the current
   * context's namespace, which the file does not show).
   */
  readonly namespace?: string;
  /** Reads standard input for the target `-`. */
  readonly readStdin?: () => string;
}

export interface SkippedInput {
  readonly path: string;
  readonly reason: string;
}

export interface LoadedInput {
  readonly objects: SourcedObject[];
  /** Every file read, in order (`-` for standard input). */
  readonly files: string[];
  /** Files under the given directories that were not read, with why. */
  readonly skipped: SkippedInput[];
}

class Reader {
  readonly objects: SourcedObject[] = [];
  readonly files: string[] = [];
  readonly skipped: SkippedInput[] = [];
  readonly problems: InputProblem[] = [];
  private readonly read = new Set<string>();

  constructor(private readonly options: LoadOptions) {}

  report(location: string, message: string): void {
    this.problems.push({ location, message });
  }

  target(target: string): void {
    if (target === STDIN) {
      const text = (this.options.readStdin ?? (() => fs.readFileSync(0, "utf8")))();
      this.objects.push(...this.parse(text, STDIN));
      return;
    }
    const stat = fs.statSync(target, { throwIfNoEntry: false });
    if (!stat) return this.report(target, "no such file or directory");
    if (stat.isDirectory()) return this.directory(target);
    if (isKustomizationFile(target)) {
      this.objects.push(...this.kustomization(path.dirname(target), []));
      this.nameUnread(path.dirname(target), NOT_IN_KUSTOMIZATION);
      return;
    }
    this.objects.push(...this.file(target));
  }

  private parse(text: string, name: string): SourcedObject[] {
    this.files.push(name);
    try {
      return parseManifestText(text, name);
    } catch (error) {
      if (error instanceof ManifestParseError) {
        this.report(error.source, error.message.slice(error.source.length + 2));
        return [];
      }
      throw error;
    }
  }

  /**
   * A file named by the user or found in a directory is read once. A kustomization resource is
   * read every time it is listed: one base under two overlays yields two sets of objects, each
   * transformed by its own overlay, as kustomize builds it.
   */
  private file(file: string, everyTime = false): SourcedObject[] {
    const key = path.resolve(file);
    if (this.read.has(key) && !everyTime) return [];
    this.read.add(key);
    return this.parse(fs.readFileSync(file, "utf8"), file);
  }

  /** A plain directory: every manifest file below it; a kustomization root: what it lists. */
  private directory(dir: string): void {
    if (kustomizationFileIn(dir)) {
      this.objects.push(...this.kustomization(dir, []));
      this.nameUnread(dir, NOT_IN_KUSTOMIZATION);
      return;
    }
    for (const entry of sortedEntries(dir)) {
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith(".")) this.skipped.push({ path: full, reason: "hidden" });
      else if (entry.isDirectory()) this.directory(full);
      else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
        this.objects.push(...this.file(full));
      else this.skipped.push({ path: full, reason: "not a .yaml, .yml or .json file" });
    }
  }

  private kustomization(dir: string, chain: readonly string[]): SourcedObject[] {
    const file = kustomizationFileIn(dir);
    if (file === undefined) return [];
    const key = path.resolve(dir);
    if (chain.includes(key)) {
      this.report(file, `cycle: ${[...chain, key].join(" → ")}`);
      return [];
    }
    this.read.add(path.resolve(file));
    this.files.push(file);
    const k = readKustomization(file, (location, message) => this.report(location, message));
    if (!k) return [];
    const out: SourcedObject[] = [];
    for (const { entry, field } of k.resources) {
      const resolved = path.join(dir, entry);
      const stat = fs.statSync(resolved, { throwIfNoEntry: false });
      if (!stat) this.report(`${file}: ${field}`, `${entry}: no such file or directory`);
      else if (stat.isDirectory()) {
        if (kustomizationFileIn(resolved))
          out.push(...this.kustomization(resolved, [...chain, key]));
        else
          this.report(
            `${file}: ${field}`,
            `${entry} is a directory without a kustomization.yaml (kustomize needs one to use a directory as a resource)`,
          );
      } else out.push(...this.file(resolved, true));
    }
    transformAll(out, k);
    return out;
  }

  /** Names every file under `dir` that no kustomization read. */
  private nameUnread(dir: string, reason: string): void {
    for (const entry of sortedEntries(dir)) {
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith(".")) this.skipped.push({ path: full, reason: "hidden" });
      else if (entry.isDirectory()) this.nameUnread(full, reason);
      else if (!this.read.has(path.resolve(full))) this.skipped.push({ path: full, reason });
    }
  }

  /** Checks that need the whole object: kinds of policy groups, and namespaces. */
  private readonly identities = new Map<string, string>();

  /**
   * Two objects of a kind that decides traffic (a policy group's, or a Namespace) with one
   * identity: the cluster keeps the one applied last, which the tree cannot tell, so the input
   * cannot be judged. Read after --namespace filled in (kustomize refuses such a pair too).
   */
  private noteIdentity(item: SourcedObject, apiVersion: string, kind: string, group: string): void {
    if (kind === "" || !(isPolicyGroup(group) || (kind === "Namespace" && apiVersion === "v1")))
      return;
    const metadata = isObject(item.object.metadata) ? item.object.metadata : {};
    const name = typeof metadata.name === "string" ? metadata.name : "";
    if (name === "") return;
    const namespace = isClusterScoped(apiVersion, kind)
      ? undefined
      : typeof metadata.namespace === "string" && metadata.namespace !== ""
        ? metadata.namespace
        : this.options.namespace;
    const identity = objectIdentity(apiVersion, kind, namespace, name);
    const first = this.identities.get(identity);
    if (first === undefined) this.identities.set(identity, item.source);
    else
      this.report(
        `${item.source} metadata.name`,
        duplicateObjectMessage(kind, namespace, name, first),
      );
  }

  checkObjects(): void {
    for (const item of this.objects) {
      const { object } = item;
      const kind = typeof object.kind === "string" ? object.kind : "";
      const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
      const group = apiGroupOf(apiVersion);
      this.noteIdentity(item, apiVersion, kind, group);
      if (kind !== "" && isPolicyGroup(group) && !(policyGroupKinds(group) ?? []).includes(kind)) {
        this.report(
          item.source,
          `kind ${JSON.stringify(kind)} does not exist in ${group}${didYouMean(kind, policyGroupKinds(group) ?? [])}; the API server would reject the object`,
        );
        continue;
      }
      if (kind === "" || isClusterScoped(apiVersion, kind)) continue;
      const metadata = isObject(object.metadata) ? object.metadata : undefined;
      const namespace =
        metadata && typeof metadata.namespace === "string" && metadata.namespace !== ""
          ? metadata.namespace
          : undefined;
      const wanted = this.options.namespace;
      if (namespace === undefined) {
        if (wanted !== undefined) {
          if (metadata) metadata.namespace = wanted;
          else object.metadata = { namespace: wanted };
        } else if (isNamespacedPolicyKind(apiVersion, kind))
          this.report(
            `${item.source} metadata.namespace`,
            `${kind} ${nameOf(object)} names no namespace: kubectl would apply it to the current context's namespace, which this file does not show; set metadata.namespace, a kustomization namespace, or pass --namespace NS`,
          );
      } else if (wanted !== undefined && namespace !== wanted) {
        // kubectl refuses this mismatch too ("the namespace from the provided object … does not match").
        this.report(
          `${item.source} metadata.namespace`,
          `is ${namespace}, but --namespace says ${wanted}`,
        );
      }
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function nameOf(object: Record<string, unknown>): string {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  return typeof metadata.name === "string" ? metadata.name : "(no name)";
}

function sortedEntries(dir: string): fs.Dirent[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reads every target. @throws InputError listing every problem found. */
export function loadInputs(targets: readonly string[], options: LoadOptions = {}): LoadedInput {
  const reader = new Reader(options);
  if (targets.filter((t) => t === STDIN).length > 1)
    reader.report(STDIN, "standard input can be read only once");
  for (const target of new Set(targets)) reader.target(target);
  reader.checkObjects();
  if (reader.problems.length > 0) throw new InputError(reader.problems);
  return { objects: reader.objects, files: [...new Set(reader.files)], skipped: reader.skipped };
}

/** The objects of `loadInputs`, for callers that only want the objects. */
export function loadManifestPaths(
  targets: readonly string[],
  options: LoadOptions = {},
): SourcedObject[] {
  return loadInputs(targets, options).objects;
}
