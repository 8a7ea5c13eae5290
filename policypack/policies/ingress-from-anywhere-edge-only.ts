/**
 * Policy 8: internet ingress only in edge namespaces, on edge ports.
 *
 * Judged on what the whole policy admits, not peer by peer: the engine computes every external
 * address block its ingress rules admit, in order (engine `externalAdmission`, plus IPv6 blocks
 * from the written form), and the public part of that is the exposure. Internet ingress is a
 * public exposure wider than one party's network (see lib/exposure.ts: at most 256 IPv4
 * addresses, a /24, or one IPv6 /48): in a non-edge namespace on any port, in an edge namespace
 * on a port outside the edge ports. So `0.0.0.0/1` + `128.0.0.0/1`, 256 /8s or a rule without
 * `from` are caught as surely as `0.0.0.0/0`.
 *
 * The fix names what the rule is for: a webhook (called by the API server from the control plane),
 * HBONE (meshed peers), DNS (the namespaces DNS serves), otherwise the ingress controller.
 */
import type { ConnectionSet } from "../../engine";
import {
  externalAdmission,
  formatConnections,
  ipv6Admission,
  type NormalPolicy,
  portsOf,
  subtractConnections,
  unionConnections,
} from "../../engine";
import {
  describeExposure,
  isInternetWide,
  publicExposure,
  rulePurpose,
  WIDTH_RULE,
} from "../lib/exposure";
import type { ClusterFacts } from "../lib/facts";
import { NAME_LABEL_EXAMPLE, policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { POLICY_TYPES, readPolicy } from "../lib/reading";

/**
 * Common admission webhook ports: 8443 (ingress-nginx, gatekeeper), controller-runtime's 9443,
 * cert-manager's 10250, istiod's 15017. Not 443: that is every HTTPS service, and a webhook
 * served on it is named in this policy's `webhookPorts` config.
 */
export const DEFAULT_WEBHOOK_PORTS = [8443, 9443, 10250, 15017];

function edgePortsOf(facts: ClusterFacts): ConnectionSet {
  let set = portsOf("TCP", []);
  for (const port of facts.edge.ports)
    for (const protocol of ["TCP", "UDP"] as const)
      set = unionConnections(set, portsOf(protocol, [port, port]));
  return set;
}

function advice(
  namespace: string,
  edgeNamespace: boolean,
  connections: ConnectionSet,
  facts: ClusterFacts,
  webhookPorts: readonly number[],
): string {
  const narrow = `admit a specific party by its own range (${WIDTH_RULE}), or add {namespace: ${namespace}, reason: ...} to this policy's exemptions`;
  switch (rulePurpose(connections, facts, webhookPorts)) {
    case "webhook":
      return `this is a webhook port: the API server calls it from the control plane, so admit from: [{ipBlock: {cidr: ${facts.controlPlane.cidr}}}] instead (zt-netpol: webhookPorts)`;
    case "hbone":
      return `HBONE arrives from meshed pods with their real source IP: admit the meshed source namespaces by name (${NAME_LABEL_EXAMPLE("<namespace>")}) on ${facts.mesh?.hbonePort}`;
    case "dns":
      return `DNS clients are pods: admit the namespaces that resolve names by name (namespaceSelector with kubernetes.io/metadata.name In [...]) on ${facts.dns.port}`;
    default:
      if (edgeNamespace)
        return `admit only the namespaces that use these ports, by name (${NAME_LABEL_EXAMPLE("<namespace>")}); or ${narrow}`;
      return `admit the ingress controller's namespace instead (${NAME_LABEL_EXAMPLE(facts.edge.namespaces[0] ?? "<edge namespace>")}), or declare ${namespace} an edge namespace in the cluster facts; or ${narrow}`;
  }
}

export const ingressFromAnywhereEdgeOnly = resourcePolicy({
  name: "ingress-from-anywhere-edge-only",
  description:
    "Internet ingress (public sources wider than a /24, however the peers are written) is allowed only in edge namespaces (ingress-nginx) on edge ports (80, 443), as configured.",
  enforcementLevel: "mandatory",
  prevents:
    "Exposing an internal service (database, admin UI, metrics) to the LAN and the internet by bypassing the ingress controller.",
  facts: ["edge", "privateRanges", "controlPlane", "mesh", "dns", "apiServer"],
  properties: {
    webhookPorts: {
      type: "array",
      description:
        "Ports that serve admission or conversion webhooks: a rule on them is told to admit the control plane.",
      items: { type: "integer", minimum: 1, maximum: 65535 },
      default: DEFAULT_WEBHOOK_PORTS,
    },
  },
  types: POLICY_TYPES,
  check(subject, { facts, config }) {
    const policy = readPolicy(subject.type, subject.props);
    const namespace = policy.namespace ?? "(every namespace: a GlobalNetworkPolicy)";
    const webhookPorts = (config.webhookPorts ?? DEFAULT_WEBHOOK_PORTS) as number[];
    const edgeNamespace = facts.edge.namespaces.includes(namespace);
    const edgePorts = edgePortsOf(facts);
    const exposure = publicExposure(
      externalAdmission(policy, "ingress"),
      ipv6Admission(policy, "ingress"),
      facts.privateRanges,
      edgeNamespace ? (c) => subtractConnections(c, edgePorts) : undefined,
    );
    if (!isInternetWide(exposure)) return [];
    const where = exposure.rules.join(", ");
    const fix = advice(namespace, edgeNamespace, exposure.connections, facts, webhookPorts);
    const sources = anySource(policy, exposure.rules)
      ? "any source (the rule has no from)"
      : describeExposure(exposure);
    const problem = edgeNamespace
      ? `admits ${sources} on ${formatPorts(exposure.connections)}, outside the edge ports ${facts.edge.ports.join(", ")}`
      : `admits ${sources} on ${formatPorts(exposure.connections)}, but ${namespace} is not an edge namespace (${facts.edge.namespaces.join(", ") || "none configured"})`;
    const finding: Finding = policyFinding(
      policy,
      where,
      problem,
      edgeNamespace
        ? `restrict the rule to the edge ports: ${facts.edge.ports.map((p) => `{protocol: TCP, port: ${p}}`).join(", ")}; for anything else, ${fix}`
        : fix,
    );
    return [finding];
  },
});

function formatPorts(c: ConnectionSet): string {
  return formatConnections(c)
    .replace(/^All Connections$/, "every protocol and port")
    .replace(/(TCP|UDP|SCTP) /g, "$1/");
}

/** True when every rule behind the exposure has no `from` at all: it admits any source. */
function anySource(policy: NormalPolicy, paths: readonly string[]): boolean {
  return paths.every((path) =>
    policy.ingress.some((r) => r.path === path && r.written?.peers === "any"),
  );
}
