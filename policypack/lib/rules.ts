/**
 * Walking the engine's normalised rules: both directions, with the written peers and ports the
 * normaliser kept. Helpers only; every object was read (and validated) by the engine.
 */
import type {
  Direction,
  Labels,
  NormalPolicy,
  NormalRule,
  WrittenPeer,
  WrittenPort,
} from "../../engine";

/** Set by the API server on every namespace (since Kubernetes 1.21) and immutable. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export interface RuleAt {
  readonly rule: NormalRule;
  readonly direction: Direction;
}

/** The rules the API applies, ingress first (rules of a direction the types omit are gone). */
export function rulesOf(policy: NormalPolicy): RuleAt[] {
  return [
    ...policy.ingress.map((rule) => ({ rule, direction: "ingress" as const })),
    ...policy.egress.map((rule) => ({ rule, direction: "egress" as const })),
  ];
}

export interface PeerAt extends RuleAt {
  readonly peer: WrittenPeer;
}

/** Every written peer item of a Kubernetes policy's rules. */
export function writtenPeers(policy: NormalPolicy): PeerAt[] {
  return rulesOf(policy).flatMap(({ rule, direction }) => {
    const peers = rule.written?.peers;
    return peers === undefined || peers === "any"
      ? []
      : peers.map((peer) => ({ rule, direction, peer }));
  });
}

/** The labels every namespace named `name` carries (the API server sets the name label). */
export function namespaceLabels(name: string): Labels {
  return { [NAMESPACE_NAME_LABEL]: name };
}

export function describeWrittenPort(p: WrittenPort): string {
  const port =
    p.ports === undefined
      ? "any port"
      : "name" in p.ports
        ? p.ports.name
        : p.ports.from === p.ports.to
          ? String(p.ports.from)
          : `${p.ports.from}-${p.ports.to}`;
  return `${p.protocolText ?? p.protocol}/${port}`;
}

/** The peer key of a rule: rules with equal keys admit the same peers. */
export function peersKey(rule: NormalRule): string {
  const remote = rule.sources === "any" ? rule.destinations : rule.sources;
  return remote === "any"
    ? "any"
    : remote
        .map((m) => m.key)
        .sort()
        .join("\u0000");
}
