/**
 * Policy 7: egress to a range that contains the private ranges excepts them and names its ports.
 *
 * `0.0.0.0/0` "for the internet" also matches every LAN host, the node network, the pod and
 * service CIDRs: without the excepts, an "internet HTTPS" rule is an "everything on 443" rule.
 * A rule with no `to` at all is the same, plus every pod of every namespace.
 */
import { cidrContains, parseCidr } from "../lib/cidr";
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";

export const internetEgressExceptsPrivate = resourcePolicy({
  name: "internet-egress-excepts-private",
  description:
    "Egress to a CIDR that contains the private ranges (above all 0.0.0.0/0) excepts every private range and names its ports.",
  enforcementLevel: "mandatory",
  prevents:
    "An 'internet egress' rule that also reaches the LAN, the NAS, the router admin UI and every in-cluster service: the classic pivot from a compromised pod.",
  facts: ["privateRanges"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readNetworkPolicy(subject.props);
    const privateRanges = facts.privateRanges.map((r, i) =>
      parseCidr(r, `config privateRanges[${i}]`),
    );
    const exceptList = facts.privateRanges.join(", ");
    const findings: Finding[] = [];
    for (const rule of policy.egress) {
      if (rule.peers.length === 0) {
        findings.push(
          netpolFinding(
            policy,
            `${rule.path}.to`,
            "is missing or empty: the rule reaches every address, private ranges and every pod included",
            `name the destination; for the internet use ipBlock {cidr: 0.0.0.0/0, except: [${exceptList}]} with explicit ports`,
          ),
        );
        continue;
      }
      let containsPrivate = false;
      for (const peer of rule.peers) {
        if (!peer.ipBlock) continue;
        const { cidr, except } = peer.ipBlock;
        const contained = privateRanges.filter((r) => cidrContains(cidr, r));
        if (contained.length === 0) continue;
        containsPrivate = true;
        const missing = contained.filter((r) => !except.some((e) => cidrContains(e, r)));
        if (missing.length > 0) {
          findings.push(
            netpolFinding(
              policy,
              `${peer.path}.ipBlock`,
              `${cidr.text} contains ${missing.map((m) => m.text).join(", ")} but does not except ${missing.length === 1 ? "it" : "them"}`,
              `set ipBlock.except: [${exceptList}] (reach LAN hosts with their own /32 rules)`,
            ),
          );
        }
      }
      const unnamed = rule.ports.length === 0 || rule.ports.some((p) => p.port === undefined);
      if (containsPrivate && unnamed) {
        findings.push(
          netpolFinding(
            policy,
            `${rule.path}.ports`,
            "egress to a range containing private ranges must name its ports, but this rule admits every port",
            "list the ports, e.g. ports: [{protocol: TCP, port: 443}]",
          ),
        );
      }
    }
    return findings;
  },
});
