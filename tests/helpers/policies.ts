/**
 * Meaning-level queries over rendered NetworkPolicies for tests: "does some policy selecting these
 * pods admit a peer from namespace X on port P?", independent of how rules are laid out.
 */
type Selector = { matchLabels?: Record<string, string> } | undefined;
type Peer = {
  namespaceSelector?: Selector;
  podSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
};
type Port = { protocol?: string; port?: number; endPort?: number };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: Port[] };
export type Policy = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { podSelector?: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
};

export function networkPolicies(manifests: readonly Record<string, unknown>[]): Policy[] {
  return manifests.filter(
    (m) => m.apiVersion === "networking.k8s.io/v1" && m.kind === "NetworkPolicy",
  ) as unknown as Policy[];
}

function selects(selector: Selector, labels: Record<string, string>): boolean {
  return Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

export interface PeerQuery {
  /** Namespace of the local pods the policy must select. */
  readonly namespace: string;
  readonly podLabels?: Record<string, string>;
  readonly direction: "ingress" | "egress";
  /** The remote side: a namespace (with pod labels) or an IP address. */
  readonly peerNamespace?: string;
  readonly peerPodLabels?: Record<string, string>;
  readonly peerCidr?: string;
  readonly port: number;
  readonly protocol?: string;
}

function peerMatches(peer: Peer, policyNamespace: string, q: PeerQuery): boolean {
  if (q.peerCidr !== undefined) return peer.ipBlock?.cidr === q.peerCidr;
  if (peer.ipBlock || q.peerNamespace === undefined) return false;
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { "kubernetes.io/metadata.name": q.peerNamespace })
    : q.peerNamespace === policyNamespace;
  return (
    nsOk && (peer.podSelector === undefined || selects(peer.podSelector, q.peerPodLabels ?? {}))
  );
}

function portMatches(ports: Port[] | undefined, q: PeerQuery): boolean {
  if (!ports || ports.length === 0) return true;
  const protocol = q.protocol ?? "TCP";
  return ports.some(
    (p) =>
      (p.protocol ?? "TCP") === protocol &&
      (p.port === undefined || (q.port >= p.port && q.port <= (p.endPort ?? p.port))),
  );
}

/** The policies (name) whose rules admit the queried peer; empty when none does. */
export function admittingPolicies(policies: readonly Policy[], q: PeerQuery): string[] {
  return policies
    .filter(
      (p) => p.metadata.namespace === q.namespace && selects(p.spec.podSelector, q.podLabels ?? {}),
    )
    .filter((p) => {
      const rules = (q.direction === "ingress" ? p.spec.ingress : p.spec.egress) ?? [];
      return rules.some((r) => {
        const peers = (q.direction === "ingress" ? r.from : r.to) ?? [];
        return (
          (peers.length === 0 ||
            peers.some((peer) => peerMatches(peer, p.metadata.namespace, q))) &&
          portMatches(r.ports, q)
        );
      });
    })
    .map((p) => p.metadata.name);
}

export function admits(policies: readonly Policy[], q: PeerQuery): boolean {
  return admittingPolicies(policies, q).length > 0;
}
