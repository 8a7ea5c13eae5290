/** The plan's views of a stack's connectivity (the model itself: components/stackModel.ts). */
export { buildStackModel, stackEngineOptions } from "../components/stackModel";
import type { Connection } from "../components/connections";
import type { StackConfig } from "../config/types";
import type { Connection as EngineConnection, DiagramOptions } from "../engine";

/**
 * The seed's segmentation picture: the declared application flows on their own, above the full
 * diagram where the universal patterns (DNS, API, scraping, mesh) connect almost everything.
 */
export function declaredFlowFocus(
  config: StackConfig,
  connections: readonly Connection[],
): DiagramOptions {
  const pairs = new Set<string>();
  const externalEnds: { namespace: string; cidr: string; outbound: boolean }[] = [];
  for (const c of connections.filter((x) => x.kind === "flow")) {
    if (c.from.kind === "workload" && c.to.kind === "workload")
      pairs.add(`${c.from.namespace}\u0000${c.to.namespace}`);
    else if (c.from.kind === "workload" && c.to.kind === "external")
      externalEnds.push({ namespace: c.from.namespace, cidr: c.to.cidr, outbound: true });
    else if (c.from.kind === "external" && c.to.kind === "workload")
      externalEnds.push({ namespace: c.to.namespace, cidr: c.from.cidr, outbound: false });
  }
  // External groups are labelled "CIDR" or "CIDR except …": a flow's end matches its own CIDR.
  const matchesCidr = (label: string, cidr: string) =>
    label === cidr || label.startsWith(`${cidr} except `);
  const isFocus = (c: EngineConnection): boolean => {
    if (c.from.kind === "namespace" && c.to.kind === "namespace")
      return pairs.has(`${c.from.name}\u0000${c.to.name}`);
    const [ns, external, outbound] =
      c.from.kind === "namespace" ? [c.from, c.to, true] : [c.to, c.from, false];
    if (ns.kind !== "namespace" || external.kind !== "external") return false;
    return externalEnds.some(
      (e) =>
        e.outbound === outbound && e.namespace === ns.name && matchesCidr(external.cidr, e.cidr),
    );
  };
  return {
    focus: isFocus,
    focusTitle: `Declared flows of ${config.cluster.name}`,
    focusNote:
      "What the rendered policies allow between the ends of each declared flow. Every protected namespace also reaches DNS, " +
      "and, where configured, the Kubernetes API, the mesh control plane, the internet and LAN hosts; the monitoring namespace scrapes metrics ports: see the full diagram below.",
  };
}
