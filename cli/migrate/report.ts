/** The import report: facts, findings with their locations, the round trip, adoption. */
import type { SourcedObject } from "../../engine";
import type { ImportResult } from "./infer";
import type { DifferenceClass, RoundTrip } from "./roundtrip";
import { objectKey } from "./roundtrip";

const CLASSES: readonly DifferenceClass[] = [
  "closed (known-bad rule)",
  "narrowed (known-bad rule)",
  "missing corner added",
  "pattern normalised",
  "unexplained",
];

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The Pulumi type token of a Kubernetes object (`kubernetes:networking.k8s.io/v1:NetworkPolicy`). */
function pulumiType(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion}:${kind}`;
}

export function renderImportReport(
  input: string,
  stackFile: string,
  result: ImportResult,
  proof: RoundTrip,
  objects: readonly SourcedObject[],
): string {
  const raw = result.raw as { namespaces: unknown[]; flows: unknown[] };
  const out: string[] = [
    `# Import report: ${input} → ${stackFile}`,
    "",
    `Read ${objects.length} objects, ${result.counts.peers} rule peers: ${result.counts.patterns} became namespace patterns, ${result.counts.flowCorners} flow corners. ` +
      `Wrote ${raw.namespaces.length} namespaces and ${raw.flows.length} flows.`,
    "",
    "## Cluster facts (inferred)",
    "",
    "```json",
    JSON.stringify(result.facts, null, 2),
    "```",
    "",
    `## What the config cannot or should not express (${result.findings.length})`,
    "",
    "| location | found | import |",
    "|---|---|---|",
    ...result.findings.map(
      (f) => `| ${cell(f.location)} | ${cell(f.problem)} | ${f.action}: ${cell(f.detail)} |`,
    ),
    "",
    "## Round trip: original policies vs. the plan of the imported config",
    "",
    ...CLASSES.map((c) => `- ${c}: ${proof.counts[c]}`),
    "",
    "| class | from → to | change | why |",
    "|---|---|---|---|",
    ...proof.differences.map(
      (d) =>
        `| ${d.class} | ${cell(d.change.from)} → ${cell(d.change.to)} | ${d.direction === "opened" ? "+" : "-"} ${cell(d.connections)} | ${cell(d.why)} |`,
    ),
    "",
  ];
  // Adoption: same-name objects are taken over, other names are deleted after the plan's exist.
  const plan = new Set(proof.planObjects);
  const policies = objects.filter(
    (o) => typeof o.object.kind === "string" && /NetworkPolicy$/.test(o.object.kind as string),
  );
  const same = policies.filter((o) => plan.has(objectKey(o.object)));
  const other = policies.filter((o) => !plan.has(objectKey(o.object)));
  const ref = (o: SourcedObject): string => {
    const m = o.object.metadata as { name: string; namespace?: string };
    return `${m.namespace ? `${m.namespace}/` : ""}${m.name}`;
  };
  out.push(
    "## Adoption (docs/migration.md)",
    "",
    "Written to the stack file: `zt-netpol:adoption: {patchForce: true}` (every object carries `pulumi.com/patchForce: \"true\"`, so the provider's server-side apply takes the fields over from ArgoCD's or kubectl's field manager), `kubernetes:enableServerSideApply` and `kubernetes:upsertExistingObjects` (provider 4.29 and later: a create takes an existing object over instead of failing with AlreadyExists, as every create did before 4.29).",
    "",
    `Objects with the same name as the plan's (${same.length}): \`pulumi up\` takes them over in place, in the program's order (a namespace's allows before its baseline). To adopt them into the state without changing them instead (the parent components must already be in the state):`,
    "",
    ...same.map((o) => {
      const resource = proof.planResources.get(objectKey(o.object));
      const type = resource?.type ?? pulumiType(String(o.object.apiVersion), String(o.object.kind));
      const parent = resource?.parent ? ` --parent '${resource.parent}'` : "";
      return `    pulumi import ${type} ${resource?.name ?? "<resource name>"} ${ref(o)}${parent}`;
    }),
    "",
    `Objects the plan does not have (${other.length}): delete each after \`pulumi up\` has created the namespace's new objects:`,
    "",
    ...other.map(
      (o) =>
        `    kubectl delete ${String(o.object.kind).toLowerCase()}.${String(o.object.apiVersion).split("/")[0]} -n ${(o.object.metadata as { namespace?: string }).namespace ?? ""} ${(o.object.metadata as { name: string }).name}`,
    ),
    "",
    proof.counts.unexplained === 0
      ? "Every difference is explained."
      : `${proof.counts.unexplained} difference(s) are unexplained: do not apply before reading them.`,
    "",
  );
  return out.join("\n");
}
