/** Multi-document YAML output with a stable, Kubernetes-conventional key order. */
import { stringify } from "yaml";

const KEY_ORDER = [
  "apiVersion",
  "kind",
  "metadata",
  "name",
  "namespace",
  "labels",
  "annotations",
  "spec",
  "namespaceSelector",
  "podSelector",
  "selector",
  "order",
  "policyTypes",
  "types",
  "ingress",
  "egress",
  "action",
  "from",
  "to",
  "ipBlock",
  "cidr",
  "except",
  "protocol",
  "source",
  "destination",
  "nets",
  "ports",
  "port",
  "endPort",
];

function rank(key: string): number {
  const index = KEY_ORDER.indexOf(key);
  return index === -1 ? KEY_ORDER.length : index;
}

/** Deep copy with object keys in KEY_ORDER, then alphabetical: diffs stay small and readable. */
export function canonicalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalise);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(
    ([a], [b]) => rank(a) - rank(b) || a.localeCompare(b),
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, canonicalise(v)]));
}

export function toMultiDocumentYaml(objects: readonly unknown[], header?: string): string {
  const body = objects
    .map((o) => stringify(canonicalise(o), { lineWidth: 0 }).trimEnd())
    .join("\n---\n");
  return `${header ? `${header}\n` : ""}${body}\n`;
}
