/**
 * Policy 10: Calico `projectcalico.org/v3` policies are explicit and specific.
 *
 * - `spec.selector` parses as a Calico selector expression (Calico syntax, `app == 'x'`, not a
 *   Kubernetes matchLabels map); an absent selector selects every endpoint of the namespace;
 * - `spec.types` is explicit (Calico defaults it like Kubernetes policyTypes);
 * - no rule names a /0 network: ICMP and every other destination names its nets;
 * - an `Allow` rule names a protocol, its remote side (nets or selectors) and, for TCP/UDP/SCTP,
 *   its destination ports.
 *
 * These objects are CustomResources: matched by type string (see lib/calico.ts).
 */
import { CalicoSelectorError, parseCalicoSelector } from "../../engine/calico/selector";
import {
  type CalicoEntity,
  CALICO_POLICY_TYPES,
  type CalicoPolicyModel,
  PORTED_PROTOCOLS,
  readCalicoPolicy,
} from "../lib/calico";
import { type Finding, resourcePolicy } from "../lib/policy";

function finding(policy: CalicoPolicyModel, path: string, problem: string, fix: string): Finding {
  const ref = policy.namespace ? `${policy.namespace}/${policy.name}` : policy.name;
  return {
    message: `Calico ${policy.kind} ${ref} ${path}: ${problem}`,
    fix,
    namespace: policy.namespace,
    objectName: policy.name,
  };
}

function selectorProblem(text: string): string | undefined {
  try {
    parseCalicoSelector(text);
    return undefined;
  } catch (error) {
    if (error instanceof CalicoSelectorError) return error.message;
    throw error;
  }
}

function namesRemote(entity: CalicoEntity): boolean {
  return (
    entity.nets.length > 0 ||
    entity.selector !== undefined ||
    entity.namespaceSelector !== undefined ||
    entity.hasServiceAccounts ||
    entity.hasServices
  );
}

export const calicoPolicySpecific = resourcePolicy({
  name: "calico-policy-specific",
  description:
    "Calico projectcalico.org/v3 policies have a selector that parses, explicit types, no 0.0.0.0/0 nets, and Allow rules that name protocol, peers and ports.",
  enforcementLevel: "mandatory",
  prevents:
    "A Calico policy that silently selects everything or allows everything: a Kubernetes-style selector string, a missing types field or an Allow rule without nets opens more than the ICMP it was written for.",
  types: CALICO_POLICY_TYPES,
  check(subject) {
    const policy = readCalicoPolicy(subject.props);
    const findings: Finding[] = [];
    if (policy.selector === undefined) {
      findings.push(
        finding(
          policy,
          "spec.selector",
          "is missing, so the policy applies to every endpoint in its scope",
          "set spec.selector to a Calico expression, e.g. app == 'blackbox-exporter'",
        ),
      );
    } else {
      const problem = selectorProblem(policy.selector);
      if (problem) {
        findings.push(
          finding(
            policy,
            "spec.selector",
            problem,
            "write a Calico selector expression (app == 'x' && tier in {'a', 'b'}), not a Kubernetes matchLabels map",
          ),
        );
      }
    }
    const types = policy.types ?? [];
    if (types.length === 0) {
      findings.push(
        finding(
          policy,
          "spec.types",
          "is not set, so Calico infers it from which rule lists are present",
          "set spec.types explicitly, e.g. [Egress]",
        ),
      );
    } else {
      for (const [direction, rules] of [
        ["Ingress", policy.ingress],
        ["Egress", policy.egress],
      ] as const) {
        if (rules.length > 0 && !types.includes(direction)) {
          findings.push(
            finding(
              policy,
              "spec.types",
              `lacks ${direction} although spec.${direction.toLowerCase()} has rules; they are ignored`,
              `add ${direction} to spec.types`,
            ),
          );
        }
      }
    }
    for (const rule of [...policy.ingress, ...policy.egress]) {
      for (const entity of [rule.source, rule.destination]) {
        for (const [key, text] of [
          ["selector", entity.selector],
          ["notSelector", entity.notSelector],
          ["namespaceSelector", entity.namespaceSelector],
        ] as const) {
          const problem = text === undefined ? undefined : selectorProblem(text);
          if (problem) {
            findings.push(
              finding(
                policy,
                `${entity.path}.${key}`,
                problem,
                "write a valid Calico selector expression",
              ),
            );
          }
        }
        entity.nets.forEach((net, i) => {
          if (net.prefix === 0) {
            findings.push(
              finding(
                policy,
                `${entity.path}.nets[${i}]`,
                `is ${net.text}, every address`,
                "list the networks the rule is for, e.g. nets: [10.0.1.1/32, 8.8.8.8/32]",
              ),
            );
          }
        });
      }
      if (rule.action !== "Allow") continue;
      const remote = rule.direction === "egress" ? rule.destination : rule.source;
      const remoteKey = rule.direction === "egress" ? "destination" : "source";
      if (rule.protocol === undefined) {
        findings.push(
          finding(
            policy,
            `${rule.path}.protocol`,
            "is missing: this Allow rule admits every protocol",
            "set protocol (ICMP, TCP, UDP, …)",
          ),
        );
      }
      if (!namesRemote(remote)) {
        findings.push(
          finding(
            policy,
            `${rule.path}.${remoteKey}`,
            `names no nets or selectors: this Allow rule reaches every ${rule.direction === "egress" ? "destination" : "source"}`,
            `list the networks in ${remoteKey}.nets (or select endpoints with ${remoteKey}.selector)`,
          ),
        );
      }
      if (
        rule.protocol !== undefined &&
        PORTED_PROTOCOLS.has(rule.protocol.toUpperCase()) &&
        rule.destination.ports.length === 0
      ) {
        findings.push(
          finding(
            policy,
            `${rule.path}.destination.ports`,
            `is missing: this ${rule.protocol} Allow rule admits every port`,
            "list the ports in destination.ports",
          ),
        );
      }
    }
    return findings;
  },
});
