/**
 * Policy 8: ingress from 0.0.0.0/0 (or ::/0), or from any source at all (a rule without
 * `from`), only in edge namespaces and only on edge ports.
 */
import { netpolFinding } from "../lib/findings";
import { K8S_NETWORK_POLICY_TYPE, type NetpolRule, readNetworkPolicy } from "../lib/netpol";
import { type Finding, resourcePolicy } from "../lib/policy";

function anywhereSource(rule: NetpolRule): string | undefined {
  if (rule.peers.length === 0) return "any source (the rule has no from)";
  const whole = rule.peers.find((p) => p.ipBlock && p.ipBlock.cidr.prefix === 0);
  return whole ? `${whole.ipBlock?.cidr.text} (${whole.path})` : undefined;
}

export const ingressFromAnywhereEdgeOnly = resourcePolicy({
  name: "ingress-from-anywhere-edge-only",
  description:
    "Ingress from 0.0.0.0/0 or from any source is allowed only in edge namespaces (ingress-nginx) on edge ports (80, 443), as configured.",
  enforcementLevel: "mandatory",
  prevents:
    "Exposing an internal service (database, admin UI, metrics) to the LAN and the internet by bypassing the ingress controller.",
  facts: ["edge"],
  types: [K8S_NETWORK_POLICY_TYPE],
  check(subject, { facts }) {
    const policy = readNetworkPolicy(subject.props);
    const edgeNs = facts.edge.namespaces.includes(policy.namespace);
    const edgePorts = new Set(facts.edge.ports);
    const findings: Finding[] = [];
    for (const rule of policy.ingress) {
      const source = anywhereSource(rule);
      if (!source) continue;
      if (!edgeNs) {
        findings.push(
          netpolFinding(
            policy,
            rule.path,
            `admits ${source}, but ${policy.namespace} is not an edge namespace (${facts.edge.namespaces.join(", ") || "none configured"})`,
            "admit the ingress controller's namespace instead, or declare this namespace an edge namespace in the cluster facts",
          ),
        );
        continue;
      }
      const bad =
        rule.ports.length === 0
          ? ["every port"]
          : rule.ports
              .filter(
                (p) =>
                  typeof p.port !== "number" ||
                  p.endPort !== undefined ||
                  !edgePorts.has(p.port) ||
                  (p.protocol !== "TCP" && p.protocol !== "UDP"),
              )
              .map(
                (p) =>
                  `${p.protocol}/${p.port ?? "any"}${p.endPort !== undefined ? `-${p.endPort}` : ""}`,
              );
      if (bad.length > 0) {
        findings.push(
          netpolFinding(
            policy,
            `${rule.path}.ports`,
            `admits ${source} on ${bad.join(", ")}, outside the edge ports ${[...edgePorts].join(", ")}`,
            `restrict the rule to the edge ports: ${[...edgePorts].map((p) => `{protocol: TCP, port: ${p}}`).join(", ")}`,
          ),
        );
      }
    }
    return findings;
  },
});
