/**
 * Policy 7: internet egress does not reach the private ranges, and no rule reaches a whole
 * private range.
 *
 * Judged on what each egress rule reaches (engine `externalAdmission`, in rule order), not on how
 * its peers are written:
 * - a rule whose public reach is internet-wide (wider than one party's network, lib/exposure.ts)
 *   must except every private range it also reaches, and must name its ports;
 * - a rule that reaches all of a private range (`10.0.0.0/8`) reaches every LAN host, node, pod
 *   and service in it: excepting the range would empty the block, so the advice is to name the
 *   hosts;
 * - a rule with no `to` reaches every address and every pod.
 *
 * The fix is computed from what the rule is for: the Kubernetes API (the API pair, ClusterIP:443
 * and control plane:6443), DNS (the DNS pods), HBONE (the meshed namespaces), a LAN host (its
 * /32), otherwise the excepts the rule is missing.
 */
import {
  everyPortProtocols,
  externalAdmission,
  formatRangeAsCidr,
  intervals,
  type Ipv4Range,
  ipv6Admission,
  type NormalPolicy,
  type NormalRule,
  parseCidrRange,
} from "../../engine";
import {
  apiPairAdvice,
  clusterDnsPeerAdvice,
  isInternetWide,
  privateRangesOf,
  publicExposure,
  rulePurpose,
} from "../lib/exposure";
import type { ClusterFacts } from "../lib/facts";
import { NAME_LABEL_EXAMPLE, policyFinding } from "../lib/findings";
import { type Finding, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { MalformedError } from "../lib/errors";

interface PrivateRange {
  readonly text: string;
  readonly range: Ipv4Range;
}

function covers(set: intervals.IntervalSet, r: Ipv4Range): boolean {
  return intervals.isEmpty(intervals.subtract([r.lo, r.hi], set));
}

/** Advice by purpose; `otherwise` is used for a plain application rule. */
function purposeAdvice(
  rule: NormalRule,
  facts: ClusterFacts,
  otherwise: string,
): { purpose: string; fix: string } {
  switch (rulePurpose(rule.possibleConnections, facts)) {
    case "kubeApi":
      return { purpose: "the Kubernetes API", fix: apiPairAdvice(facts) };
    case "dns":
      return {
        purpose: "DNS",
        fix: `reach the cluster's DNS pods with one peer item: ${clusterDnsPeerAdvice(facts)}\n    (an upstream resolver outside the cluster gets its own /32)`,
      };
    case "hbone":
      return {
        purpose: "HBONE",
        fix: `HBONE goes to meshed pods: name the destination namespaces (${NAME_LABEL_EXAMPLE("<namespace>")}) on ${facts.mesh?.hbonePort}`,
      };
    case "istiod":
      return {
        purpose: "istiod",
        fix: `istiod runs in the cluster: name its namespace and pods (${NAME_LABEL_EXAMPLE("istio-system")}, podSelector: {matchLabels: {app: istiod}})`,
      };
    default:
      return { purpose: "", fix: otherwise };
  }
}

function ruleReach(policy: NormalPolicy, rule: NormalRule): intervals.IntervalSet {
  const single = { ...policy, egress: [rule] };
  return intervals.fromRanges(
    externalAdmission(single, "egress").map((a) => [a.addresses.lo, a.addresses.hi] as const),
  );
}

export const internetEgressExceptsPrivate = resourcePolicy({
  name: "internet-egress-excepts-private",
  description:
    "Internet egress (public destinations wider than a /24) excepts every private range it would reach and names its ports; no egress rule reaches a whole private range.",
  enforcementLevel: "mandatory",
  prevents:
    "An 'internet egress' rule that also reaches the LAN, the NAS, the router admin UI and every in-cluster service: the classic pivot from a compromised pod.",
  facts: ["privateRanges", "apiServer", "controlPlane", "dns", "mesh"],
  withoutFacts:
    "judged the same (only the advice uses them): an API or DNS rule is told the shape to use, with placeholders for the cluster's addresses",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts, plainYaml }) {
    const policy = readPolicy(subject.type, subject.props);
    const privateRanges: PrivateRange[] = privateRangesOf(facts).map((text, i) => {
      const range = parseCidrRange(text);
      if (!range) throw new MalformedError(`privateRanges[${i}]`, `invalid CIDR ${text}`);
      return { text, range };
    });
    const exceptList = privateRangesOf(facts).join(", ");
    const findings: Finding[] = [];
    for (const rule of policy.egress) {
      const written = rule.written;
      if (!written) continue;
      if (written.peers === "any") {
        const { fix } = purposeAdvice(
          rule,
          facts,
          `name the destination; for the internet use ipBlock {cidr: 0.0.0.0/0, except: [${exceptList}]} with explicit ports`,
        );
        findings.push(
          policyFinding(
            policy,
            `${rule.path}.to`,
            "is missing or empty: the rule reaches every address, private ranges and every pod included",
            fix,
          ),
        );
        continue;
      }
      const reach = ruleReach(policy, rule);
      const single = { ...policy, egress: [rule] };
      const internet = isInternetWide(
        publicExposure(
          externalAdmission(single, "egress"),
          ipv6Admission(single, "egress"),
          facts.privateRanges,
        ),
      );
      const reached = privateRanges.filter(
        (p) => !intervals.isEmpty(intervals.intersect(reach, [p.range.lo, p.range.hi])),
      );
      if (internet && reached.length > 0) {
        for (const peer of written.peers) {
          if (peer.kind !== "ipBlock" || peer.family !== 4) continue;
          const excepted = intervals.fromRanges(peer.except.map((e) => [e.lo, e.hi] as const));
          const missing = reached.filter(
            (p) =>
              p.range.lo >= peer.cidr.lo &&
              p.range.hi <= peer.cidr.hi &&
              !covers(excepted, p.range),
          );
          if (missing.length === 0) continue;
          const exceptsNeeded = [
            ...new Set([
              ...peer.except.map((e) => formatRangeAsCidr(e)),
              ...missing.map((m) => m.text),
            ]),
          ];
          const { purpose, fix } = purposeAdvice(
            rule,
            facts,
            `set ipBlock.except: [${exceptsNeeded.join(", ")}] (reach LAN hosts with their own /32 rules)`,
          );
          findings.push(
            policyFinding(
              policy,
              `${peer.path}.ipBlock`,
              `${peer.text} contains ${missing.map((m) => m.text).join(", ")} but does not except ${missing.length === 1 ? "it" : "them"}${purpose ? `; the rule is for ${purpose}, which needs no internet-wide block` : ""}`,
              fix,
            ),
          );
        }
      }
      if (internet && everyPortProtocols(rule.possibleConnections).length > 0) {
        findings.push(
          policyFinding(
            policy,
            `${rule.path}.ports`,
            "egress to internet-wide destinations must name its ports, but this rule admits every port of a protocol",
            "list the ports, e.g. ports: [{protocol: TCP, port: 443}]",
          ),
        );
      }
      if (internet) continue;
      for (const p of privateRanges) {
        if (!covers(reach, p.range)) continue;
        const { purpose, fix } = purposeAdvice(
          rule,
          facts,
          `name the LAN host(s) the flow needs, each as ipBlock {cidr: <address>/32}${plainYaml ? "" : " (in stack config: cluster.lanHosts and the namespace's lanEgress)"}`,
        );
        findings.push(
          policyFinding(
            policy,
            `${rule.path}.to`,
            `reaches all of ${p.text}: every LAN host, node, pod and service in it${purpose ? ` for ${purpose}` : ""}; excepting ${p.text} would empty the block`,
            fix,
          ),
        );
      }
    }
    return findings;
  },
});
