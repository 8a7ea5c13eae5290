/**
 * A stack has no pods of its own, so the connectivity engine gets a representative inventory:
 * every protected namespace (labelled as the API server and istio would label it) and, in each,
 * one pod with no labels plus one pod per label set that a declared connection names.
 */
import { createHash } from "crypto";
import type { Connection } from "./connections";
import type { StackConfig } from "../config/types";
import { NAMESPACE_NAME_LABEL } from "./rules";
import { parseCalicoSelector } from "../engine";

export const AMBIENT_LABEL = "istio.io/dataplane-mode";

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** Hex digits of the label-set hash in a pod name: 40 bits, and collisions are refused below. */
const POD_NAME_HASH_LENGTH = 10;

/**
 * A readable name (the label values) made unique by a hash of the exact label set, so that
 * `{app: ""}` is not the unlabelled pod and `{app: "a-b"}` is not `{app: "a", tier: "b"}`.
 * 52 readable characters + "-" + 10 hex digits stay within the 63 of a DNS label.
 */
export function podName(labels: Readonly<Record<string, string>>): string {
  if (Object.keys(labels).length === 0) return "pod";
  const values = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, value]) => value);
  const readable = `pod-${values.join("-")}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .slice(0, 63 - POD_NAME_HASH_LENGTH - 1)
    .replace(/-+$/, "");
  const hash = createHash("sha256")
    .update(labelsKey(labels))
    .digest("hex")
    .slice(0, POD_NAME_HASH_LENGTH);
  return `${readable}-${hash}`;
}

/**
 * Labels of a pod that a Calico selector picks, when the selector's equality terms describe one
 * (`app == 'blackbox-exporter'`). Kept only if the parsed selector really matches them.
 */
export function podLabelsForSelector(selector: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  for (const match of selector.matchAll(/([A-Za-z0-9_./-]+)\s*==\s*(['"])([^'"]*)\2/g))
    labels[match[1]] = match[3];
  return parseCalicoSelector(selector).matches(labels) ? labels : undefined;
}

export function stackInventory(
  config: StackConfig,
  connections: readonly Connection[],
): Record<string, unknown>[] {
  const namespaces = new Set(config.namespaces.map((n) => n.name));
  namespaces.add(config.cluster.dns.namespace);
  if (config.cluster.mesh) namespaces.add(config.cluster.mesh.namespace);
  const podLabels = new Map<string, Map<string, Readonly<Record<string, string>>>>();
  // A flow end that names a service account gets a pod running as it (its mesh identity).
  const serviceAccounts = new Map<
    string,
    Map<string, { labels: Readonly<Record<string, string>>; sa: string }>
  >();
  for (const ns of namespaces) podLabels.set(ns, new Map([[labelsKey({}), {}]]));
  for (const c of connections) {
    for (const end of [c.from, c.to]) {
      if (end.kind !== "workload") continue;
      if (end.serviceAccount) {
        const byKey = serviceAccounts.get(end.namespace) ?? new Map();
        byKey.set(`${labelsKey(end.podLabels)}|${end.serviceAccount}`, {
          labels: end.podLabels,
          sa: end.serviceAccount,
        });
        serviceAccounts.set(end.namespace, byKey);
        continue;
      }
      podLabels.get(end.namespace)?.set(labelsKey(end.podLabels), end.podLabels);
    }
  }
  for (const ns of config.namespaces) {
    for (const policy of ns.calicoPolicies) {
      const labels = podLabelsForSelector(policy.selector);
      if (labels) podLabels.get(ns.name)?.set(labelsKey(labels), labels);
    }
  }
  const objects: Record<string, unknown>[] = [];
  for (const ns of [...namespaces].sort()) {
    const meshed = config.namespaces.find((n) => n.name === ns)?.meshed ?? false;
    const labels: Record<string, string> = {
      [NAMESPACE_NAME_LABEL]: ns,
      ...(meshed ? { [AMBIENT_LABEL]: "ambient" } : {}),
    };
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } });
    const named = new Map<string, string>();
    for (const pod of podLabels.get(ns)?.values() ?? []) {
      const name = podName(pod);
      const earlier = named.get(name);
      if (earlier !== undefined && earlier !== labelsKey(pod))
        throw new Error(
          `inventory: pods ${earlier} and ${labelsKey(pod)} in ${ns} share the name ${name}`,
        );
      named.set(name, labelsKey(pod));
      objects.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns, labels: { ...pod } },
        spec: { containers: [{ name: "app", image: "app" }] },
      });
    }
    for (const { labels, sa } of serviceAccounts.get(ns)?.values() ?? []) {
      objects.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: `${podName(labels)}-sa-${sa}`.slice(0, 63).replace(/[-.]+$/, ""),
          namespace: ns,
          labels: { ...labels },
        },
        spec: { serviceAccountName: sa, containers: [{ name: "app", image: "app" }] },
      });
    }
  }
  return objects;
}
