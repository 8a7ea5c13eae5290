/**
 * Shapes: what a peer or a target selector looks like, as import and the representative
 * inventory read it. They are a view of the normaliser's written form (`NormalRule.written`,
 * `NormalRule.calico`, `NormalPolicy.written`), derived here so that a policy is read once and
 * kept in one representation.
 */
import type {
  EndpointMatcher,
  NormalPolicy,
  NormalRule,
  PeerShape,
  TargetShape,
  WrittenCalicoEntity,
  WrittenNet,
} from "./types";
import type { Ipv4Range } from "./ipv4";

function ipv4Nets(nets: readonly WrittenNet[]): readonly Ipv4Range[] | undefined {
  if (nets.length === 0) return undefined;
  return nets.flatMap((net) => (net.ipv4 ? [net.ipv4] : []));
}

function calicoShape(entity: WrittenCalicoEntity): PeerShape {
  if (entity.domains !== undefined) return { kind: "domains", domains: entity.domains };
  return {
    kind: "calico",
    selector: entity.selectorNode,
    namespaceSelector: entity.namespaceSelectorNode,
    nets: ipv4Nets(entity.nets),
    notNets: ipv4Nets(entity.notNets),
  };
}

/**
 * The shape of `peer`, one of `rule`'s sources or destinations; undefined when the matcher is
 * not the rule's.
 */
export function peerShape(rule: NormalRule, peer: EndpointMatcher): PeerShape | undefined {
  if (rule.written !== undefined) {
    if (rule.written.peers === "any") return undefined;
    const written = rule.written.peers.find((p) => "matcher" in p && p.matcher === peer);
    if (written === undefined) return undefined;
    if (written.kind === "pods")
      return {
        kind: "pods",
        namespaces:
          written.namespaceSelector === undefined ? "own" : written.namespaceSelector.requirements,
        pods: written.podSelector?.requirements ?? [],
      };
    // IPv6 blocks carry no matcher, so a found ipBlock is an IPv4 one.
    if (written.family === 4)
      return { kind: "ipBlock", cidr: written.cidr, except: written.except };
    return undefined;
  }
  if (rule.calico !== undefined) {
    if (rule.sources !== "any" && rule.sources.includes(peer))
      return calicoShape(rule.calico.source);
    if (rule.destinations !== "any" && rule.destinations.includes(peer))
      return calicoShape(rule.calico.destination);
  }
  return undefined;
}

/** The shape of a policy's target selector. */
export function targetShape(policy: NormalPolicy): TargetShape | undefined {
  const { written } = policy;
  if (written.podSelector !== undefined)
    return { kind: "labels", requirements: written.podSelector.requirements };
  if (written.selector !== undefined)
    return { kind: "calico", selector: written.selector, text: written.selectorText ?? "" };
  return undefined;
}
