/** YAML/JSON text → plain objects. `List` kinds (kubectl get -o yaml/json) are flattened. */
import { parseAllDocuments } from "yaml";

export interface SourcedObject {
  readonly object: Record<string, unknown>;
  /** Where it came from, e.g. `dir/file.yaml#2`. */
  readonly source: string;
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
 * Recover it from the list kind (`PodList` → `Pod`) or, failing that, from the item's shape:
 * a pod spec has containers, a namespace spec has only finalizers.
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
  source: string,
  out: SourcedObject[],
  listKind?: string,
  listApiVersion?: unknown,
): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${source}[${i}]`, out));
    return;
  }
  if (typeof value !== "object") throw new ManifestParseError(source, "document is not an object");
  let obj = value as Record<string, unknown>;
  const kind = typeof obj.kind === "string" ? obj.kind : undefined;
  if (Array.isArray(obj.items) && (kind === undefined || kind.endsWith("List"))) {
    obj.items.forEach((item: unknown, i) =>
      flatten(item, `${source}.items[${i}]`, out, kind ?? "List", obj.apiVersion),
    );
    return;
  }
  if (kind === undefined && listKind !== undefined) {
    const inferred = inferItemKind(listKind, obj);
    if (inferred !== undefined)
      obj = { apiVersion: listApiVersion ?? "v1", kind: inferred, ...obj };
  }
  out.push({ object: obj, source });
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
      list.length > 1 ? `${sourceName}#${i}` : sourceName,
      out,
    );
  });
  return out;
}
