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
 * The fix names what each port is for: a webhook (called by the API server from the control plane),
 * istiod (the mesh's proxies; never "restrict to the edge ports"), HBONE (meshed peers), DNS (the
 * namespaces DNS serves), otherwise the ingress controller.
 */
import type { ConnectionSet } from "../../engine";
import {
  everyPortProtocols,
  externalAdmission,
  formatConnections,
  intersectConnections,
  ipv6Admission,
  isEmptyConnections,
  type NormalPolicy,
  portsOf,
  subtractConnections,
  unionConnections,
} from "../../engine";
import {
  controlPlaneSource,
  describeExposure,
  DNS_PORT,
  ISTIOD_PORTS,
  isInternetWide,
  publicExposure,
  rulePurpose,
  WIDTH_RULE,
} from "../lib/exposure";
import { type ClusterFacts, factFor, factIfGiven } from "../lib/facts";
import { NAME_LABEL_EXAMPLE, policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { POLICY_TYPES, readPolicy } from "../lib/reading";

/**
 * Common admission webhook ports: 8443 (ingress-nginx, gatekeeper), controller-runtime's 9443,
 * cert-manager's 10250, istiod's 15017. Not 443: that is every HTTPS service, and a webhook
 * served on it is named in this policy's `webhookPorts` config.
 */
export const DEFAULT_WEBHOOK_PORTS = [8443, 9443, 10250, 15017];

function edgePortsOf(edgePorts: readonly number[]): ConnectionSet {
  let set = portsOf("TCP", []);
  for (const port of edgePorts)
    for (const protocol of ["TCP", "UDP"] as const)
      set = unionConnections(set, portsOf(protocol, [port, port]));
  return set;
}

function tcpPorts(ports: readonly number[]): ConnectionSet {
  let set = portsOf("TCP", []);
  for (const port of ports) set = unionConnections(set, portsOf("TCP", [port, port]));
  return set;
}

interface AdviceContext {
  readonly namespace: string;
  readonly edge: Readonly<{ namespaces: readonly string[]; ports: readonly number[] }> | undefined;
  readonly facts: ClusterFacts;
  readonly webhookPorts: readonly number[];
  readonly plainYaml: boolean;
}

/** Advice for ports that are no webhook, istiod, HBONE or DNS port. */
function appAdvice(c: AdviceContext, edgeNamespace: boolean): string {
  const exemption = `add {namespace: ${c.namespace}, reason: ...} to this policy's exemptions`;
  const narrow = `admit a specific party by its own range (${WIDTH_RULE}), or ${exemption}`;
  if (edgeNamespace)
    return `admit only the namespaces that use these ports, by name (${NAME_LABEL_EXAMPLE("<namespace>")}); or ${narrow}`;
  const declareEdge = c.edge
    ? c.plainYaml
      ? `add ${c.namespace} to the edge namespaces of --facts`
      : `declare ${c.namespace} an edge namespace (zt-netpol:cluster.edge.namespaces)`
    : `if ${c.namespace} is where the ingress controller runs, say so: --facts with edge: {namespaces: [${c.namespace}], ports: [...]}`;
  const controller = c.edge?.namespaces[0] ?? "<ingress controller namespace>";
  return `admit only the namespaces that call these ports, by name (${NAME_LABEL_EXAMPLE(controller)} for web traffic through the ingress controller, the monitoring namespace for metrics), or ${declareEdge}; or ${narrow}`;
}

/**
 * The fix, per kind of port the exposure holds: a webhook port is called by the API server (the
 * control plane), istiod's xDS by the mesh's proxies, HBONE by meshed pods, DNS by pods; only
 * what is left is application traffic, which the ingress controller (or an edge port) serves.
 */
function advice(connections: ConnectionSet, c: AdviceContext, edgeNamespace: boolean): string {
  // Every port of a protocol names no purpose: the rule is simply too wide.
  if (everyPortProtocols(connections).length > 0) return appAdvice(c, edgeNamespace);
  const webhooks = tcpPorts(c.webhookPorts);
  const istiod = subtractConnections(tcpPorts(ISTIOD_PORTS), webhooks);
  const mesh = factIfGiven(c.facts, "mesh");
  const parts: string[] = [];
  let rest = connections;
  const take = (set: ConnectionSet, say: (ports: string) => string): void => {
    const hit = intersectConnections(rest, set);
    if (isEmptyConnections(hit)) return;
    rest = subtractConnections(rest, set);
    parts.push(say(formatPorts(hit)));
  };
  take(
    webhooks,
    (ports) =>
      `${ports} is a webhook port: the API server calls it, so admit the control plane: ${controlPlaneSource(c.facts)}${c.plainYaml ? "" : " (zt-netpol: webhookPorts)"}`,
  );
  take(
    istiod,
    (ports) =>
      `${ports} is istiod's (xDS and CA on 15010/15012, monitoring on 15014): admit the namespaces of the mesh's proxies and the monitoring namespace by name (${NAME_LABEL_EXAMPLE("<namespace>")}), not the internet`,
  );
  if (mesh)
    take(
      tcpPorts([mesh.hbonePort]),
      (ports) =>
        `HBONE (${ports}) arrives from meshed pods with their real source IP: admit the meshed source namespaces by name (${NAME_LABEL_EXAMPLE("<namespace>")})`,
    );
  const dnsPort = factIfGiven(c.facts, "dns")?.port ?? DNS_PORT;
  take(
    unionConnections(portsOf("UDP", [dnsPort, dnsPort]), portsOf("TCP", [dnsPort, dnsPort])),
    (ports) =>
      `DNS (${ports}) clients are pods: admit the namespaces that resolve names by name (namespaceSelector with kubernetes.io/metadata.name In [...])`,
  );
  if (!isEmptyConnections(rest)) {
    const app = appAdvice(c, edgeNamespace);
    parts.push(parts.length === 0 ? app : `${formatPorts(rest)}: ${app}`);
  }
  return parts.join("; ");
}

export const ingressFromAnywhereEdgeOnly = resourcePolicy({
  name: "ingress-from-anywhere-edge-only",
  description:
    "Internet ingress (public sources wider than a /24, however the peers are written) is allowed only in edge namespaces (ingress-nginx) on edge ports (80, 443), as configured.",
  enforcementLevel: "mandatory",
  prevents:
    "Exposing an internal service (database, admin UI, metrics) to the LAN and the internet by bypassing the ingress controller.",
  facts: ["edge", "privateRanges", "controlPlane", "mesh", "dns", "apiServer"],
  withoutFacts:
    "no namespace is known to be an edge namespace, so every internet-wide ingress is reported (pass --facts edge to name the ingress controller's namespace and ports)",
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
  check(subject, { facts, config, plainYaml }) {
    const policy = readPolicy(subject.type, subject.props);
    // Plain YAML without the edge fact: no namespace is an edge namespace, every exposure is
    // reported; a stack must give it.
    const edge = factFor(facts, "edge", plainYaml);
    const namespace = policy.namespace ?? "(every namespace: a GlobalNetworkPolicy)";
    const webhookPorts = (config.webhookPorts ?? DEFAULT_WEBHOOK_PORTS) as number[];
    const edgeNamespace = edge?.namespaces.includes(namespace) ?? false;
    const exposure = publicExposure(
      externalAdmission(policy, "ingress"),
      ipv6Admission(policy, "ingress"),
      facts.privateRanges,
      edgeNamespace && edge ? (c) => subtractConnections(c, edgePortsOf(edge.ports)) : undefined,
    );
    if (!isInternetWide(exposure)) return [];
    const where = exposure.rules.join(", ");
    const context: AdviceContext = { namespace, edge, facts, webhookPorts, plainYaml };
    const fix = advice(exposure.connections, context, edgeNamespace);
    const sources = anySource(policy, exposure.rules)
      ? "any source (the rule has no from)"
      : describeExposure(exposure);
    const ports = formatPorts(exposure.connections);
    const problem =
      edgeNamespace && edge
        ? `admits ${sources} on ${ports}, outside the edge ports ${edge.ports.join(", ")}`
        : edge
          ? `admits ${sources} on ${ports}, but ${namespace} is not an edge namespace (${edge.namespaces.join(", ") || "none configured"})`
          : `admits ${sources} on ${ports}, and no edge namespaces are known (the cluster fact edge was not given)`;
    const appOnly = rulePurpose(exposure.connections, facts, webhookPorts) === "app";
    const finding: Finding = policyFinding(
      policy,
      where,
      problem,
      edgeNamespace && edge && appOnly
        ? `restrict the rule to the edge ports: ${edge.ports.map((p) => `{protocol: TCP, port: ${p}}`).join(", ")}; for anything else, ${fix}`
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
