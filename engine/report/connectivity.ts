/**
 * Namespace-level and workload-level views of the class connectivity, as plain data for the
 * policy pack's intent check and for the reports.
 */
import * as conn from "../model/connections";
import type { ConnectionSet, ModelProtocol, ProtocolPorts } from "../model/connections";
import type { Ipv4Range } from "../model/ipv4";
import { formatRange, formatRangeAsCidr } from "../model/ipv4";
import type { ClassConnectivity } from "../evaluate/matrix";

export type ConnectivityPeer =
  | { readonly kind: "namespace"; readonly name: string }
  | {
      readonly kind: "workload";
      readonly namespace: string;
      readonly name: string;
      readonly workloadKind: string;
    }
  | {
      readonly kind: "external";
      readonly range: Ipv4Range;
      /** `a.b.c.d-e.f.g.h`. */
      readonly text: string;
      /** The CIDR when the block is exactly one, else the range text. */
      readonly cidr: string;
    }
  | {
      /** Calico Enterprise `destination.domains`: addresses from DNS at run time, unknown here. */
      readonly kind: "domains";
      readonly domains: readonly string[];
    };

export interface Connection {
  readonly from: ConnectivityPeer;
  readonly to: ConnectivityPeer;
  readonly connections: ConnectionSet;
  /** Protocol → inclusive port ranges (JSON friendly). */
  readonly ports: readonly ProtocolPorts[];
  /** True when (some of) the TCP part is meshed-to-meshed HBONE and judged on the HBONE port. */
  readonly viaHbone: boolean;
}

export function peerName(peer: ConnectivityPeer): string {
  switch (peer.kind) {
    case "namespace":
      return peer.name;
    case "workload":
      return `${peer.namespace}/${peer.name}[${peer.workloadKind}]`;
    case "external":
      return `${peer.text}[External]`;
    case "domains":
      return domainsLabel(peer.domains);
  }
}

/** How reports name a domains peer: `domains: example.com, *.github.com`. */
export function domainsLabel(domains: readonly string[]): string {
  return `domains: ${domains.join(", ")}`;
}

export function externalPeer(range: Ipv4Range): ConnectivityPeer {
  return { kind: "external", range, text: formatRange(range), cidr: formatRangeAsCidr(range) };
}

class Accumulator {
  private readonly entries = new Map<
    string,
    { from: ConnectivityPeer; to: ConnectivityPeer; connections: ConnectionSet; viaHbone: boolean }
  >();

  add(
    from: ConnectivityPeer,
    to: ConnectivityPeer,
    connections: ConnectionSet,
    viaHbone: boolean,
  ): void {
    const key = `${peerName(from)}\u0000${peerName(to)}`;
    const existing = this.entries.get(key);
    if (existing) {
      existing.connections = conn.unionConnections(existing.connections, connections);
      existing.viaHbone ||= viaHbone;
    } else {
      this.entries.set(key, { from, to, connections, viaHbone });
    }
  }

  result(): Connection[] {
    return [...this.entries.values()]
      .map((e) => ({ ...e, ports: conn.connectionsToList(e.connections) }))
      .sort((a, b) => {
        const x = peerName(a.from);
        const y = peerName(b.from);
        if (x !== y) return x < y ? -1 : 1;
        const u = peerName(a.to);
        const v = peerName(b.to);
        return u < v ? -1 : u > v ? 1 : 0;
      });
  }
}

/**
 * For every ordered namespace pair, and namespace ↔ external block, the union over pods of the
 * allowed connections. Pairs with nothing allowed are omitted. A pod's traffic to itself is not
 * counted (it is always allowed).
 */
export function namespaceConnections(connectivity: ClassConnectivity): Connection[] {
  const acc = new Accumulator();
  const ns = (name: string): ConnectivityPeer => ({ kind: "namespace", name });
  for (const pair of connectivity.podPairs)
    acc.add(
      ns(pair.source.namespace),
      ns(pair.destination.namespace),
      pair.result.connections,
      pair.result.viaHbone,
    );
  for (const e of connectivity.egressToExternal)
    acc.add(ns(e.pod.namespace), externalPeer(e.block), e.result.connections, false);
  for (const e of connectivity.ingressFromExternal)
    acc.add(externalPeer(e.block), ns(e.pod.namespace), e.result.connections, false);
  return acc.result();
}

/**
 * Workload-level list in netpol-analyzer's shape: one node per owning workload, self pairs
 * excluded, external blocks as ranges.
 */
export function workloadConnections(
  connectivity: ClassConnectivity,
  protocols?: readonly ModelProtocol[],
): Connection[] {
  const acc = new Accumulator();
  const restrict = (c: ConnectionSet): ConnectionSet =>
    protocols ? conn.restrictProtocols(c, protocols) : c;
  const owners = (pods: ClassConnectivity["classes"][number]): ConnectivityPeer[] => {
    const seen = new Map<string, ConnectivityPeer>();
    for (const pod of pods.pods)
      seen.set(`${pod.owner.kind}/${pod.owner.name}`, {
        kind: "workload",
        namespace: pod.namespace,
        name: pod.owner.name,
        workloadKind: pod.owner.kind,
      });
    return [...seen.values()];
  };
  for (const pair of connectivity.podPairs) {
    const c = restrict(pair.result.connections);
    if (conn.isEmptyConnections(c)) continue;
    for (const from of owners(pair.source))
      for (const to of owners(pair.destination))
        if (peerName(from) !== peerName(to)) acc.add(from, to, c, pair.result.viaHbone);
  }
  for (const e of connectivity.egressToExternal) {
    const c = restrict(e.result.connections);
    if (!conn.isEmptyConnections(c))
      for (const from of owners(e.pod)) acc.add(from, externalPeer(e.block), c, false);
  }
  for (const e of connectivity.ingressFromExternal) {
    const c = restrict(e.result.connections);
    if (!conn.isEmptyConnections(c))
      for (const to of owners(e.pod)) acc.add(externalPeer(e.block), to, c, false);
  }
  return acc.result();
}
