/**
 * Policy 9: Kubernetes NetworkPolicies use TCP, UDP and SCTP only, spelled as the API spells
 * them (NetworkPolicyPort.protocol is an enum: `tcp` is rejected). ICMP needs a Calico policy
 * (projectcalico.org/v3 rules take `protocol: ICMP`), as the seed document's blackbox-exporter
 * policy does.
 *
 * The engine refuses other protocols when it reads the object; this policy turns those located
 * problems into its own advice, and checks the spelling, which the engine normalises.
 */
import { ManifestError, type Problem } from "../../engine";
import { policyFinding } from "../lib/findings";
import { type Finding, rejectedObject, resourcePolicy } from "../lib/policy";
import { K8S_NETWORK_POLICY_TYPE, readPolicy } from "../lib/reading";
import { rulesOf } from "../lib/rules";

const KUBERNETES_PROTOCOLS = new Set(["TCP", "UDP", "SCTP"]);
const MOVE_TO_CALICO =
  "move this rule to a Calico projectcalico.org/v3 NetworkPolicy (protocol: ICMP, destination.nets: [...]) and remove it here";

function isProtocolProblem(p: Problem): boolean {
  return /\.ports\[\d+\]\.protocol$/.test(p.path) && p.message.startsWith("unsupported protocol");
}

export const kubernetesProtocolsOnly = resourcePolicy({
  name: "kubernetes-protocols-only",
  description:
    "Kubernetes NetworkPolicies use only TCP, UDP and SCTP; ICMP and other protocols belong in a Calico NetworkPolicy.",
  enforcementLevel: "mandatory",
  prevents:
    "A deploy that fails at apply time (or a rule that never matches) because the Kubernetes API has no ICMP, leaving monitoring probes silently broken.",
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject) {
    let policy;
    try {
      policy = readPolicy(subject.type, subject.props);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      const protocolProblems = error.problems.filter(isProtocolProblem);
      if (protocolProblems.length === 0) throw error;
      const findings: Finding[] = protocolProblems.map((p) => ({
        message: `NetworkPolicy ${p.object.namespace}/${p.object.name} ${p.path}: is ${p.message.replace(/^unsupported protocol /, "").replace(/ \(TCP, UDP or SCTP\)$/, "")}; Kubernetes NetworkPolicies support only TCP, UDP and SCTP`,
        fix: MOVE_TO_CALICO,
        namespace: p.object.namespace,
        objectName: p.object.name,
      }));
      const others = error.problems.filter((p) => !isProtocolProblem(p));
      if (others.length > 0)
        findings.push(
          rejectedObject("kubernetes-protocols-only", subject.name, new ManifestError(others)),
        );
      return findings;
    }
    const findings: Finding[] = [];
    for (const { rule } of rulesOf(policy)) {
      for (const port of rule.written?.ports ?? []) {
        const text = port.protocolText;
        if (text === undefined || KUBERNETES_PROTOCOLS.has(text)) continue;
        findings.push(
          policyFinding(
            policy,
            `${port.path}.protocol`,
            `is ${JSON.stringify(text)}; the API accepts only TCP, UDP and SCTP, in upper case`,
            `write protocol: ${port.protocol}`,
          ),
        );
      }
    }
    return findings;
  },
});
