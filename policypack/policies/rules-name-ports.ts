/**
 * Policy 3: no rule admits every port.
 *
 * Judged on the connection sets the engine computes, not on how the ports are written: "every
 * port" is any port set that covers a protocol's whole range (1-65535), whether written as no
 * `ports`, a port entry without `port`, `port: 1, endPort: 65535`, or several entries (or several
 * rules naming the same peers) whose union covers it. A named port counts as any port of its
 * protocol (it resolves to whatever the pod calls that name).
 *
 * The one exception is the ambient-mesh kubelet probe source, a /32 that istio-cni SNATs probes
 * to (Istio ambient docs, "Ambient and Kubernetes NetworkPolicy"): probes target whatever port
 * each container declares, so an ingress rule admitting exactly that /32 may leave ports open.
 */
import {
  everyPortProtocols,
  type NormalRule,
  parseCidrRange,
  unionConnections,
  type ConnectionSet,
} from "../../engine";
import { policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { peersKey, rulesOf } from "../lib/rules";

function isProbeRule(rule: NormalRule, probeSource: string | undefined): boolean {
  const probe = probeSource === undefined ? undefined : parseCidrRange(probeSource);
  const peers = rule.written?.peers;
  return (
    probe !== undefined &&
    rule.sources !== "any" &&
    peers !== undefined &&
    peers !== "any" &&
    peers.length > 0 &&
    peers.every(
      (p) =>
        p.kind === "ipBlock" &&
        p.family === 4 &&
        p.except.length === 0 &&
        p.cidr.lo === probe.lo &&
        p.cidr.hi === probe.hi,
    )
  );
}

const EXAMPLE = "ports: [{protocol: TCP, port: 8080}]";

/** 169.254.0.0/16, where istio-cni SNATs ambient kubelet probes (169.254.7.127 by default). */
const LINK_LOCAL = parseCidrRange("169.254.0.0/16");

/**
 * A rule from one link-local /32 is most likely the ambient probe source; without the mesh fact
 * the pack cannot tell, so the advice names the fact instead of a port list probes cannot use.
 */
function probeHint(rule: NormalRule, probeSource: string | undefined): string {
  const peers = rule.written?.peers;
  const oneLinkLocalHost =
    probeSource === undefined &&
    LINK_LOCAL !== undefined &&
    peers !== undefined &&
    peers !== "any" &&
    peers.length === 1 &&
    peers[0].kind === "ipBlock" &&
    peers[0].family === 4 &&
    peers[0].cidr.lo === peers[0].cidr.hi &&
    peers[0].cidr.lo >= LINK_LOCAL.lo &&
    peers[0].cidr.hi <= LINK_LOCAL.hi;
  return oneLinkLocalHost
    ? "; or, if this address is the ambient mesh's kubelet probe source (probes use every port), give the mesh fact (--facts with mesh.probeSource)"
    : "";
}

export const rulesNamePorts = resourcePolicy({
  name: "rules-name-ports",
  description:
    "No NetworkPolicy rule admits every port of a protocol (no ports, a protocol without port, 1-65535 or a union covering it); no rule is {}. Only the ambient probe source /32 may use any port.",
  enforcementLevel: "mandatory",
  prevents:
    "Lateral movement on ports nobody meant to open: a rule without ports opens debug, admin and metrics ports of every selected pod to its peers.",
  facts: ["mesh"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readPolicy(subject.type, subject.props);
    const probeSource = facts.mesh?.probeSource;
    const findings: Finding[] = [];
    /** Per direction and peer set: the union of what the rules admit, and which rules. */
    const byPeers = new Map<
      string,
      { connections: ConnectionSet; paths: string[]; reported: Set<string> }
    >();
    for (const { rule, direction } of rulesOf(policy)) {
      const peerKey = direction === "ingress" ? "from" : "to";
      const written = rule.written;
      if (written?.peers === "any" && written.ports === undefined) {
        findings.push(
          policyFinding(
            policy,
            rule.path,
            `is {}: it admits every peer on every port`,
            `name the peers in ${peerKey} and the ports in ports, e.g. ${EXAMPLE}`,
          ),
        );
        continue;
      }
      if (isProbeRule(rule, probeSource)) continue;
      const whole = everyPortProtocols(rule.possibleConnections);
      if (written?.ports === undefined) {
        findings.push(
          policyFinding(
            policy,
            `${rule.path}.ports`,
            "is missing or empty: the rule admits every port of its peers",
            `list the ports the flow needs, e.g. ${EXAMPLE}${probeHint(rule, probeSource)}`,
          ),
        );
        continue;
      }
      const key = `${direction}\u0001${peersKey(rule)}`;
      const group = byPeers.get(key) ?? {
        connections: rule.possibleConnections,
        paths: [],
        reported: new Set<string>(),
      };
      group.connections = unionConnections(group.connections, rule.possibleConnections);
      group.paths.push(rule.path);
      whole.forEach((p) => group.reported.add(p));
      byPeers.set(key, group);
      for (const protocol of whole) {
        const open = written.ports.find((p) => p.protocol === protocol && p.ports === undefined);
        findings.push(
          open
            ? policyFinding(
                policy,
                open.path,
                `names protocol ${protocol} but no port: it admits every ${protocol} port`,
                `add port: <number> (and endPort for a deliberate range) to ${open.path}`,
              )
            : policyFinding(
                policy,
                `${rule.path}.ports`,
                `covers every ${protocol} port (1-65535): a range or a named port that spans the whole protocol is no restriction`,
                `list only the ports the flow needs, e.g. ${EXAMPLE}`,
              ),
        );
      }
    }
    for (const { connections, paths, reported } of byPeers.values()) {
      if (paths.length < 2) continue;
      for (const protocol of everyPortProtocols(connections)) {
        if (reported.has(protocol)) continue;
        findings.push(
          policyFinding(
            policy,
            paths.join(" + "),
            `together admit every ${protocol} port (1-65535) of the same peers`,
            `list only the ports the flow needs, e.g. ${EXAMPLE}`,
          ),
        );
      }
    }
    return findings;
  },
});
