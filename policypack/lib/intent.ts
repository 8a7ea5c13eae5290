/**
 * The intent check: the rendered policies allow every declared connection end to end, and no
 * namespace-to-namespace connection the config does not declare. "Declared" is the stack config
 * expanded by components/connections.ts (flows plus universal patterns); "allowed" is what the
 * connectivity engine computes from the rendered objects, so a rendering bug or a hand edit shows.
 */
import { ztunnelSees } from "../../components/authorization";
import { cornerPorts } from "../../components/rules";
import type { Connection as Declared } from "../../components/connections";
import { expandConnections } from "../../components/connections";
import { formatIpv4, parseStrictCidr } from "../../config/net";
import type { Endpoint, StackConfig } from "../../config/types";
import {
  explainFlow,
  intervals,
  namespaceConnectivity,
  type ClusterModel,
  type ModelProtocol,
  type QueryEndpoint,
} from "../../engine";
import { buildStackModel } from "../../components/stackModel";

export interface IntentFinding {
  readonly message: string;
  readonly fix: string;
  readonly namespace?: string;
}

/** An address inside `cidr`, outside the private ranges when the CIDR is wider than them. */
function representativeAddress(cidr: string, privateRanges: readonly string[]): string {
  const block = parseStrictCidr(cidr);
  if (!block) return cidr.replace(/\/\d+$/, "");
  if (block.lo === block.hi) return formatIpv4(block.lo);
  // A host address (not the network address) of the block, public when the block has one.
  const hosts: intervals.IntervalSet = [block.lo + 1, block.hi];
  const privates = intervals.fromRanges(
    privateRanges.flatMap((r) => {
      const range = parseStrictCidr(r);
      return range ? [[range.lo, range.hi] as const] : [];
    }),
  );
  const publicHosts = intervals.subtract(hosts, privates);
  return formatIpv4(publicHosts.length > 0 ? publicHosts[0] : hosts[0]);
}

function queryEndpoint(endpoint: Endpoint, config: StackConfig): QueryEndpoint {
  return endpoint.kind === "workload"
    ? {
        namespace: endpoint.namespace,
        podLabels: { ...endpoint.podLabels },
        ...(endpoint.serviceAccount ? { serviceAccount: endpoint.serviceAccount } : {}),
      }
    : { ip: representativeAddress(endpoint.cidr, config.cluster.privateRanges) };
}

function describe(endpoint: Endpoint): string {
  if (endpoint.kind === "external")
    return endpoint.host ? `${endpoint.host} (${endpoint.cidr})` : endpoint.cidr;
  const labels = Object.entries(endpoint.podLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return labels ? `${endpoint.namespace}/${labels}` : endpoint.namespace;
}

/** Probes use any port: one representative port stands for them. */
const PROBE_PORT = 8080;

function missingCorners(
  model: ClusterModel,
  declared: Declared,
  config: StackConfig,
): IntentFinding[] {
  const findings: IntentFinding[] = [];
  const ports =
    declared.ports.length > 0 ? declared.ports : [{ port: PROBE_PORT, protocol: "TCP" as const }];
  for (const port of ports) {
    for (const number of new Set([port.port, port.endPort ?? port.port])) {
      const explanation = explainFlow(model, {
        from: queryEndpoint(declared.from, config),
        to: queryEndpoint(declared.to, config),
        port: number,
        protocol: port.protocol as ModelProtocol,
      });
      if (explanation.verdict === "allowed") continue;
      // A pattern ztunnel never judges (probes, the seed's mesh-namespace ingress) only needs the CNI.
      const cniOnly = !ztunnelSees(declared);
      if (cniOnly && explanation.pairs.every((p) => p.egress.allowed && p.ingress.allowed))
        continue;
      const denied = explanation.pairs.find((p) =>
        cniOnly ? !(p.egress.allowed && p.ingress.allowed) : !p.allowed,
      );
      const corners = denied
        ? [
            denied.egress.allowed ? undefined : `egress at ${denied.source}`,
            denied.ingress.allowed ? undefined : `ingress at ${denied.destination}`,
            cniOnly || denied.ztunnel === undefined || denied.ztunnel.allowed
              ? undefined
              : `ztunnel authorization at ${denied.destination}`,
          ]
            .filter(Boolean)
            .join(" and ")
        : "no pod pair";
      findings.push({
        message: `declared ${declared.kind} "${declared.name}" (${describe(declared.from)} -> ${describe(declared.to)} on ${port.protocol} ${number}) is denied: missing ${corners}`,
        fix: `render the stack again (npm run plan) and do not edit generated policies by hand; \`npm run explain\` shows the deciding rules`,
        namespace:
          declared.to.kind === "workload"
            ? declared.to.namespace
            : declared.from.kind === "workload"
              ? declared.from.namespace
              : undefined,
      });
    }
  }
  return findings;
}

type Ranges = Map<string, [number, number][]>;

function addRange(ranges: Ranges, protocol: string, from: number, to: number): void {
  ranges.set(protocol, [...(ranges.get(protocol) ?? []), [from, to]]);
}

/** The parts of [from, to] that the declared ranges do not cover. */
function uncovered(ranges: Ranges, protocol: string, from: number, to: number): [number, number][] {
  const gaps: [number, number][] = [];
  let next = from;
  for (const [a, b] of [...(ranges.get(protocol) ?? [])].sort((x, y) => x[0] - y[0])) {
    if (b < next) continue;
    if (a > to) break;
    if (a > next) gaps.push([next, a - 1]);
    next = Math.max(next, b + 1);
    if (next > to) return gaps;
  }
  if (next <= to) gaps.push([next, to]);
  return gaps;
}

/** Declared port ranges per ordered namespace pair, as the CNI sees them (HBONE included). */
function declaredPairs(
  connections: readonly Declared[],
  hbonePort: number | undefined,
): Map<string, { ranges: Ranges; hbone: boolean }> {
  const pairs = new Map<string, { ranges: Ranges; hbone: boolean }>();
  for (const c of connections) {
    if (c.from.kind !== "workload" || c.to.kind !== "workload") continue;
    const key = `${c.from.namespace}\u0000${c.to.namespace}`;
    const entry = pairs.get(key) ?? { ranges: new Map(), hbone: false };
    for (const p of cornerPorts(c, hbonePort))
      addRange(entry.ranges, p.protocol, p.port, p.endPort ?? p.port);
    entry.hbone ||= c.hbone;
    pairs.set(key, entry);
  }
  return pairs;
}

function undeclaredConnections(
  model: ClusterModel,
  connections: readonly Declared[],
  config: StackConfig,
): IntentFinding[] {
  const declared = declaredPairs(connections, config.cluster.mesh?.hbonePort);
  const findings: IntentFinding[] = [];
  for (const allowed of namespaceConnectivity(model)) {
    if (allowed.from.kind !== "namespace" || allowed.to.kind !== "namespace") continue;
    const entry = declared.get(`${allowed.from.name}\u0000${allowed.to.name}`);
    const extra: string[] = [];
    for (const { protocol, ranges } of allowed.ports) {
      // No HBONE shortcut: ztunnel authorization at the meshed destination makes the engine see
      // the application ports, so a meshed pair is declared port by port like any other.
      for (const [from, to] of ranges) {
        const gaps = entry ? uncovered(entry.ranges, protocol, from, to) : [[from, to]];
        for (const [a, b] of gaps) extra.push(`${protocol} ${a === b ? a : `${a}-${b}`}`);
      }
    }
    if (extra.length === 0) continue;
    findings.push({
      message: `${allowed.from.name} -> ${allowed.to.name} is allowed on ${extra.join(", ")}${allowed.viaHbone ? " (HBONE)" : ""} but the config declares no such connection`,
      fix: `declare a flow from ${allowed.from.name} to ${allowed.to.name} under zt-netpol:flows, or remove the rule that opens it`,
      namespace: allowed.to.name,
    });
  }
  return findings;
}

/**
 * Checks rendered `manifests` against the intent in `config`. Throws the engine's ManifestError
 * when the manifests cannot be modelled (the caller reports that as a violation: fail closed).
 */
export function checkIntent(
  config: StackConfig,
  manifests: readonly Record<string, unknown>[],
): IntentFinding[] {
  const connections = expandConnections(config);
  const model = buildStackModel(config, manifests, connections);
  return [
    ...connections.flatMap((c) => missingCorners(model, c, config)),
    ...undeclaredConnections(model, connections, config),
  ];
}
