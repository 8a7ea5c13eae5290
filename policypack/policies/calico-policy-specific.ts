/**
 * Policy 10: Calico `projectcalico.org/v3` policies are explicit and specific.
 *
 * - `spec.selector` parses as a Calico selector expression (Calico syntax, `app == 'x'`, not a
 *   Kubernetes matchLabels map); an absent selector selects every endpoint of the namespace,
 *   which is reported unless every rule is a Pass (a tier's catch-all, which must select all);
 * - `spec.types` is explicit (Calico defaults it like Kubernetes policyTypes);
 * - no rule names a /0 network: ICMP and every other destination names its nets;
 * - an `Allow` rule names a protocol, its remote side (nets, selectors or, Calico Enterprise,
 *   `destination.domains`) and, for TCP/UDP/SCTP, its destination ports;
 * - what a rule reaches includes the nets of the network sets its selector matches (`check`
 *   reads each policy with the input's sets, see lib/reading.ts).
 *
 * These objects are CustomResources: matched by type string (see lib/reading.ts).
 */
import {
  everyPortProtocols,
  externalAdmission,
  ipv6Admission,
  ManifestError,
  type NormalPolicy,
  type NormalRule,
  type WrittenCalicoEntity,
} from "../../engine";
import { describeExposure, isInternetWide, publicExposure, WIDTH_RULE } from "../lib/exposure";
import { policyFinding } from "../lib/findings";
import { type Finding, rejectedObject, resourcePolicy } from "../lib/policy";
import { CALICO_POLICY_TYPES, readPolicy } from "../lib/reading";
import { rulesOf } from "../lib/rules";

/** Protocols whose rules carry ports in Calico. */
const PORTED_PROTOCOLS = new Set(["TCP", "UDP", "SCTP", "UDPLITE", "6", "17", "132", "136"]);

const SELECTOR_FIX =
  "write a Calico selector expression (app == 'x' && tier in {'a', 'b'}), not a Kubernetes matchLabels map";

/**
 * Whether the rule names its remote side: nets, selectors, or (Calico Enterprise) domains, which
 * the model reads as a peer of their own (whatever addresses DNS gives those names), never as
 * every destination.
 */
function namesRemote(entity: WrittenCalicoEntity, remote: NormalRule["destinations"]): boolean {
  return (
    entity.nets.length > 0 ||
    entity.selector !== undefined ||
    entity.namespaceSelector !== undefined ||
    (remote !== "any" && remote.some((peer) => peer.domains !== undefined))
  );
}

/** The engine refuses a selector that does not parse; say so in this policy's words. */
function selectorFindings(subjectName: string, error: ManifestError): Finding[] {
  const isSelector = (path: string, message: string): boolean =>
    /(^spec\.selector|[sS]elector)$/.test(path) && message.startsWith("invalid selector");
  const selectorProblems = error.problems.filter((p) => isSelector(p.path, p.message));
  if (selectorProblems.length === 0) throw error;
  const findings: Finding[] = selectorProblems.map((p) => ({
    message: `Calico ${p.object.kind.replace("projectcalico.org/", "")} ${p.object.namespace ? `${p.object.namespace}/` : ""}${p.object.name} ${p.path}: ${p.message.replace(/^invalid selector/, "invalid Calico selector")}`,
    fix: SELECTOR_FIX,
    namespace: p.object.namespace,
    objectName: p.object.name,
  }));
  const others = error.problems.filter((p) => !isSelector(p.path, p.message));
  if (others.length > 0)
    findings.push(rejectedObject("calico-policy-specific", subjectName, new ManifestError(others)));
  return findings;
}

/** Every rule of the policy is a Pass: it only hands traffic to the next tier. */
function isPassOnly(policy: NormalPolicy): boolean {
  const rules = [...policy.ingress, ...policy.egress];
  return rules.length > 0 && rules.every((rule) => rule.action === "Pass");
}

function judge(policy: NormalPolicy, privateRanges: readonly string[]): Finding[] {
  const finding = (path: string, problem: string, fix: string): Finding =>
    policyFinding(policy, path, problem, fix);
  const findings: Finding[] = [];
  // A tier's Pass-only catch-all must select every endpoint: with a narrower selector, the
  // endpoints it leaves out meet the tier's end-of-tier Deny instead of the next tier.
  if (policy.written.selectorText === undefined && !isPassOnly(policy)) {
    findings.push(
      finding(
        "spec.selector",
        "is missing, so the policy applies to every endpoint in its scope",
        "set spec.selector to a Calico expression, e.g. app == 'blackbox-exporter'",
      ),
    );
  }
  const types = policy.written.types ?? [];
  const counts = policy.written.ruleCounts;
  if (types.length === 0) {
    findings.push(
      finding(
        "spec.types",
        "is not set, so Calico infers it from which rule lists are present",
        "set spec.types explicitly, e.g. [Egress]",
      ),
    );
  } else {
    for (const [direction, count] of [
      ["Ingress", counts.ingress],
      ["Egress", counts.egress],
    ] as const) {
      if (count > 0 && !types.includes(direction)) {
        findings.push(
          finding(
            "spec.types",
            `lacks ${direction} although spec.${direction.toLowerCase()} has rules; they are ignored`,
            `add ${direction} to spec.types`,
          ),
        );
      }
    }
  }
  for (const { rule, direction } of rulesOf(policy)) {
    const calico = rule.calico;
    if (!calico) continue;
    for (const entity of [calico.source, calico.destination]) {
      for (const net of entity.nets) {
        if (net.prefix !== 0) continue;
        findings.push(
          finding(
            net.path,
            `is ${net.text}, every address`,
            "list the networks the rule is for, e.g. nets: [10.0.1.1/32, 8.8.8.8/32]",
          ),
        );
      }
    }
    if (rule.action !== "Allow") continue;
    const remote = direction === "egress" ? calico.destination : calico.source;
    const remotePeers = direction === "egress" ? rule.destinations : rule.sources;
    const remoteKey = direction === "egress" ? "destination" : "source";
    if (calico.protocol === undefined) {
      findings.push(
        finding(
          `${rule.path}.protocol`,
          "is missing: this Allow rule admits every protocol",
          "set protocol (ICMP, TCP, UDP, …)",
        ),
      );
    }
    const wholeNet = [...calico.source.nets, ...calico.destination.nets].some(
      (n) => n.prefix === 0,
    );
    if (namesRemote(remote, remotePeers) && !wholeNet) {
      // Judged on what the rule reaches, not how its nets are written (0.0.0.0/1 + 128.0.0.0/1).
      const single = { ...policy, ingress: [], egress: [], [direction]: [rule] };
      const exposure = publicExposure(
        externalAdmission(single, direction),
        ipv6Admission(single, direction),
        privateRanges,
      );
      if (isInternetWide(exposure)) {
        // Through a network set its selector matches, the set's nets are what to narrow.
        const sets = remotePeers === "any" ? [] : remotePeers.flatMap((p) => p.networkSets ?? []);
        findings.push(
          sets.length > 0
            ? finding(
                `${rule.path}.${remoteKey}.selector`,
                `this Allow rule ${direction === "egress" ? "reaches" : "admits"} ${describeExposure(exposure)} through ${sets.join(", ")}: internet-wide`,
                `list in the set's spec.nets only the networks the rule is for, ${WIDTH_RULE} each party (or select a narrower set)`,
              )
            : finding(
                `${rule.path}.${remoteKey}.nets`,
                `this Allow rule ${direction === "egress" ? "reaches" : "admits"} ${describeExposure(exposure)}: internet-wide`,
                `list the networks the rule is for, ${WIDTH_RULE} each party, e.g. nets: [10.0.1.1/32, 8.8.8.8/32]`,
              ),
        );
      }
    }
    if (!namesRemote(remote, remotePeers)) {
      findings.push(
        finding(
          `${rule.path}.${remoteKey}`,
          `names no nets or selectors: this Allow rule reaches every ${direction === "egress" ? "destination" : "source"}`,
          `list the networks in ${remoteKey}.nets (or select endpoints with ${remoteKey}.selector)`,
        ),
      );
    }
    const every = everyPortProtocols(rule.possibleConnections);
    if (calico.destination.hasPorts && every.length > 0) {
      findings.push(
        finding(
          `${rule.path}.destination.ports`,
          `covers every ${every.join("/")} port (1-65535): a range spanning the whole protocol is no restriction`,
          "list only the ports the rule is for in destination.ports",
        ),
      );
    }
    if (
      calico.protocol !== undefined &&
      PORTED_PROTOCOLS.has(String(calico.protocol).toUpperCase()) &&
      !calico.destination.hasPorts
    ) {
      findings.push(
        finding(
          `${rule.path}.destination.ports`,
          `is missing: this ${calico.protocol} Allow rule admits every port`,
          "list the ports in destination.ports",
        ),
      );
    }
  }
  return findings;
}

export const calicoPolicySpecific = resourcePolicy({
  name: "calico-policy-specific",
  description:
    "Calico projectcalico.org/v3 policies have a selector that parses, explicit types, no 0.0.0.0/0 nets, and Allow rules that name protocol, peers and ports.",
  enforcementLevel: "mandatory",
  prevents:
    "A Calico policy that silently selects everything or allows everything: a Kubernetes-style selector string, a missing types field or an Allow rule without nets opens more than the ICMP it was written for.",
  facts: ["privateRanges"],
  types: CALICO_POLICY_TYPES,
  check(subject, { facts }) {
    let policy: NormalPolicy;
    try {
      policy = readPolicy(subject.type, subject.props);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return selectorFindings(subject.name, error);
    }
    return judge(policy, facts.privateRanges);
  },
});
