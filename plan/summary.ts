/** The preview-like summary `npm run plan` prints: resources per namespace and the declared flows. */
import type { Connection } from "../components/connections";
import type { Endpoint, PortSpec } from "../config/types";
import type { RenderResult } from "./render";

export function describeEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === "external")
    return endpoint.host ? `${endpoint.host} (${endpoint.cidr})` : endpoint.cidr;
  const labels = Object.entries(endpoint.podLabels).map(([k, v]) => `${k}=${v}`);
  return labels.length ? `${endpoint.namespace}/${labels.join(",")}` : endpoint.namespace;
}

export function describePorts(ports: readonly PortSpec[]): string {
  if (ports.length === 0) return "any port";
  return ports.map((p) => `${p.port}${p.endPort ? `-${p.endPort}` : ""}/${p.protocol}`).join(", ");
}

function metadataOf(manifest: Record<string, unknown>): { name: string; namespace: string } {
  const metadata = manifest.metadata as { name?: string; namespace?: string } | undefined;
  return { name: metadata?.name ?? "?", namespace: metadata?.namespace ?? "" };
}

export function summarise(result: RenderResult, connections: readonly Connection[]): string {
  const lines: string[] = [];
  const components = result.resources.filter((r) => !r.custom).length;
  lines.push(`Previewing stack ${result.stack} (offline, in-memory engine)`);
  lines.push(
    `  ${result.resources.length} resources to create: ${result.manifests.length} Kubernetes objects, ${components} components`,
  );
  lines.push("");
  lines.push("Resources per namespace:");
  const byNamespace = new Map<string, string[]>();
  for (const manifest of result.manifests) {
    const { name, namespace } = metadataOf(manifest);
    byNamespace.set(namespace, [
      ...(byNamespace.get(namespace) ?? []),
      `${manifest.kind as string} ${name}`,
    ]);
  }
  for (const ns of [...byNamespace.keys()].sort()) {
    const config = result.config.namespaces.find((n) => n.name === ns);
    const meshed = config?.meshed ? " [ambient]" : "";
    const staged = config?.rollout === "staged" ? " [staged: evaluated, not enforced]" : "";
    lines.push(`  ${ns}${meshed}${staged}`);
    for (const item of byNamespace.get(ns) ?? []) lines.push(`    + ${item}`);
  }
  const others = result.resources.filter(
    (r) => !r.type.startsWith("kubernetes:") && !r.type.startsWith("zt-netpol:"),
  );
  for (const r of others)
    lines.push(`  + ${r.type} ${r.name} (rendered by its provider at deploy time)`);
  lines.push("");
  lines.push(`Declared flows (${result.config.flows.length}), each rendered at both ends:`);
  for (const c of connections.filter((c) => c.kind === "flow")) {
    const mesh = c.hbone ? " +HBONE" : "";
    lines.push(
      `  ${c.name}: ${describeEndpoint(c.from)} -> ${describeEndpoint(c.to)} on ${describePorts(c.ports)}${mesh}`,
    );
  }
  lines.push(
    `  and ${connections.length - result.config.flows.length} connections from the universal patterns`,
  );
  return lines.join("\n");
}
