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

function flatten(value: unknown, source: string, out: SourcedObject[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${source}[${i}]`, out));
    return;
  }
  if (typeof value !== "object") throw new ManifestParseError(source, "document is not an object");
  const obj = value as Record<string, unknown>;
  if (typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)) {
    obj.items.forEach((item: unknown, i) => flatten(item, `${source}.items[${i}]`, out));
    return;
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
