/**
 * A connection set: for each modelled protocol, the destination ports it allows.
 * ICMP has no ports; its universe is the single value 0, so "ICMP allowed" is `[0, 0]`.
 */
import * as iv from "./intervals";
import type { IntervalSet } from "./intervals";

export const PORT_PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
export const PROTOCOLS = ["TCP", "UDP", "SCTP", "ICMP"] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];
export type ModelProtocol = (typeof PROTOCOLS)[number];

export const MIN_PORT = 1;
export const MAX_PORT = 65535;
const UNIVERSE: Readonly<Record<ModelProtocol, IntervalSet>> = {
  TCP: [MIN_PORT, MAX_PORT],
  UDP: [MIN_PORT, MAX_PORT],
  SCTP: [MIN_PORT, MAX_PORT],
  ICMP: [0, 0],
};

export type ConnectionSet = Readonly<Record<ModelProtocol, IntervalSet>>;

export const NO_CONNECTIONS: ConnectionSet = Object.freeze({
  TCP: iv.EMPTY_INTERVALS,
  UDP: iv.EMPTY_INTERVALS,
  SCTP: iv.EMPTY_INTERVALS,
  ICMP: iv.EMPTY_INTERVALS,
});
export const ALL_CONNECTIONS: ConnectionSet = Object.freeze({ ...UNIVERSE });

export function protocolUniverse(protocol: ModelProtocol): IntervalSet {
  return UNIVERSE[protocol];
}

export function isPortProtocol(protocol: string): protocol is PortProtocol {
  return (PORT_PROTOCOLS as readonly string[]).includes(protocol);
}

/** Everything of one protocol (all ports, or ICMP as a whole). */
export function wholeProtocol(protocol: ModelProtocol): ConnectionSet {
  return { ...NO_CONNECTIONS, [protocol]: UNIVERSE[protocol] };
}

export function portsOf(protocol: ModelProtocol, ports: IntervalSet): ConnectionSet {
  return { ...NO_CONNECTIONS, [protocol]: iv.intersect(ports, UNIVERSE[protocol]) };
}

function combine(
  a: ConnectionSet,
  b: ConnectionSet,
  op: (x: IntervalSet, y: IntervalSet) => IntervalSet,
): ConnectionSet {
  return {
    TCP: op(a.TCP, b.TCP),
    UDP: op(a.UDP, b.UDP),
    SCTP: op(a.SCTP, b.SCTP),
    ICMP: op(a.ICMP, b.ICMP),
  };
}

export const unionConnections = (a: ConnectionSet, b: ConnectionSet): ConnectionSet =>
  combine(a, b, iv.union);
export const intersectConnections = (a: ConnectionSet, b: ConnectionSet): ConnectionSet =>
  combine(a, b, iv.intersect);
export const subtractConnections = (a: ConnectionSet, b: ConnectionSet): ConnectionSet =>
  combine(a, b, iv.subtract);

export function complementConnections(a: ConnectionSet): ConnectionSet {
  return subtractConnections(ALL_CONNECTIONS, a);
}

export function isEmptyConnections(a: ConnectionSet): boolean {
  return PROTOCOLS.every((p) => a[p].length === 0);
}

export function equalConnections(a: ConnectionSet, b: ConnectionSet): boolean {
  return PROTOCOLS.every((p) => iv.equals(a[p], b[p]));
}

export function allowsConnection(a: ConnectionSet, protocol: ModelProtocol, port: number): boolean {
  return iv.contains(a[protocol], protocol === "ICMP" ? 0 : port);
}

/** Keeps only the given protocols (e.g. drop ICMP when comparing with a TCP/UDP/SCTP-only tool). */
export function restrictProtocols(a: ConnectionSet, keep: readonly ModelProtocol[]): ConnectionSet {
  const out: Record<ModelProtocol, IntervalSet> = { ...NO_CONNECTIONS };
  for (const p of keep) out[p] = a[p];
  return out;
}

function formatPorts(set: IntervalSet): string {
  return iv
    .toPairs(set)
    .map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`))
    .join(",");
}

/**
 * Human and machine friendly text: `All Connections`, `No Connections`, or comma-joined
 * protocol items in protocol-name order, e.g. `ICMP,SCTP 9003,TCP 1-79,81-65535`.
 * With `protocols` given, "All Connections" means all of those protocols.
 */
export function formatConnections(
  a: ConnectionSet,
  protocols: readonly ModelProtocol[] = PROTOCOLS,
): string {
  if (protocols.every((p) => a[p].length === 0)) return "No Connections";
  if (protocols.every((p) => iv.equals(a[p], UNIVERSE[p]))) return "All Connections";
  return [...protocols]
    .sort()
    .filter((p) => a[p].length > 0)
    .map((p) => (p === "ICMP" ? "ICMP" : `${p} ${formatPorts(a[p])}`))
    .join(",");
}

/** Plain-data view for JSON consumers: protocol → inclusive port ranges. */
export interface ProtocolPorts {
  readonly protocol: ModelProtocol;
  /** Inclusive `[from, to]` ranges; ICMP reports `[[0, 0]]`. */
  readonly ranges: readonly (readonly [number, number])[];
}

export function connectionsToList(a: ConnectionSet): ProtocolPorts[] {
  return PROTOCOLS.filter((p) => a[p].length > 0).map((p) => ({
    protocol: p,
    ranges: iv.toPairs(a[p]),
  }));
}

/** Port protocols whose whole port range (1-65535) the set covers: "every port", however written. */
export function everyPortProtocols(a: ConnectionSet): PortProtocol[] {
  return PORT_PROTOCOLS.filter((p) => iv.equals(a[p], UNIVERSE[p]));
}
