/** YAML/JSON text → plain objects. `List` kinds (kubectl get -o yaml/json) are flattened. */
import { parseAllDocuments } from "yaml";

/** Where an object was read: the file, the document in it, and the path inside the document. */
export interface SourceLocation {
  /** File as given (`-` for standard input). */
  readonly file: string;
  /** 0-based index of the YAML document in the file. */
  readonly document: number;
  /** Path of the object inside its document: `""` for the document itself, `items[3]` in a list. */
  readonly path: string;
}

export interface SourcedObject {
  readonly object: Record<string, unknown>;
  /** Where it came from, e.g. `dir/file.yaml#2` or `list.json.items[3]`. */
  readonly source: string;
  readonly location?: SourceLocation;
}

export class ManifestParseError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = "ManifestParseError";
  }
}

/**
 * `kubectl get -o yaml` lists may omit the kind of their items (and sometimes of the list).
 * Recover it from the list kind (`PodList` → `Pod`, `NetworkPolicyList` → `NetworkPolicy`) or,
 * failing that, from the item's shape: a pod spec has containers, a namespace spec has only
 * finalizers, a NetworkPolicy spec has a podSelector.
 */
function inferItemKind(
  listKind: string | undefined,
  item: Record<string, unknown>,
): string | undefined {
  if (listKind && listKind !== "List" && listKind.endsWith("List"))
    return listKind.slice(0, -"List".length);
  const spec = item.spec;
  if (spec !== null && typeof spec === "object") {
    const s = spec as Record<string, unknown>;
    if (Array.isArray(s.containers)) return "Pod";
    if (Object.keys(s).every((k) => k === "finalizers")) return "Namespace";
  }
  return undefined;
}

function flatten(
  value: unknown,
  where: { file: string; document: number; path: string; source: string },
  out: SourcedObject[],
  listKind?: string,
  listApiVersion?: unknown,
): void {
  if (value === null || value === undefined) return;
  const at = (step: string) => ({
    ...where,
    path: step.startsWith("[") || where.path === "" ? where.path + step : `${where.path}.${step}`,
    source: step.startsWith("[") ? where.source + step : `${where.source}.${step}`,
  });
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, at(`[${i}]`), out));
    return;
  }
  if (typeof value !== "object")
    throw new ManifestParseError(where.source, "document is not an object");
  let obj = value as Record<string, unknown>;
  const kind = typeof obj.kind === "string" ? obj.kind : undefined;
  if (Array.isArray(obj.items) && (kind === undefined || kind.endsWith("List"))) {
    const items = obj.items as unknown[];
    items.forEach((item: unknown, i) =>
      flatten(item, at(`items[${i}]`), out, kind ?? "List", obj.apiVersion),
    );
    return;
  }
  if (kind === undefined && listKind !== undefined) {
    const inferred = inferItemKind(listKind, obj);
    if (inferred !== undefined)
      obj = { apiVersion: listApiVersion ?? "v1", kind: inferred, ...obj };
  }
  out.push({
    object: obj,
    source: where.source,
    location: { file: where.file, document: where.document, path: where.path },
  });
}

/** Parses one (multi-document) YAML or JSON text. Syntax errors throw with the source name. */
export function parseManifestText(text: string, sourceName: string): SourcedObject[] {
  const out: SourcedObject[] = [];
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0)
      throw new ManifestParseError(`${sourceName}#${i}`, doc.errors[0].message);
    flatten(
      doc.toJS({ maxAliasCount: 1000 }),
      {
        file: sourceName,
        document: i,
        path: "",
        source: list.length > 1 ? `${sourceName}#${i}` : sourceName,
      },
      out,
    );
  });
  return out;
}
