/**
 * Policy 11: HBONE rules match mesh membership.
 *
 * In Istio ambient, traffic between meshed pods is tunnelled by ztunnel over HBONE (mTLS, TCP
 * 15008) to the destination pod's IP; the source IP is preserved, so the destination's
 * NetworkPolicy must admit the *source namespace* on 15008 as well as on the app port (Istio
 * ambient docs, "Ambient and Kubernetes NetworkPolicy"). Meshed pods reach istiod for xDS and
 * the webhook (15012, 15017) and ztunnel (15008). Kubelet probes are SNATed by istio-cni to a
 * link-local /32 (169.254.7.127), which must be admitted or every probe fails.
 *
 * - `mesh-hbone-required` (mandatory): a meshed namespace has those rules;
 * - `hbone-outside-mesh` (advisory): a namespace outside the mesh has no HBONE rules (dead rules
 *   that suggest the namespace was meant to be meshed, or was removed from the mesh).
 *
 * Both are stack policies: NetworkPolicies are additive, so the rules may be spread over several
 * policies of the namespace, and mesh membership comes from the stack (NamespaceProtection
 * props, the Namespace's istio.io/dataplane-mode label) or, for plain YAML, the config.
 */
import { blockAdmits, parseCidr } from "../lib/cidr";
import { netpolFinding } from "../lib/findings";
import {
  effectivePolicyTypes,
  type NetpolPeer,
  type NetpolRule,
  peerNamespaces,
  portsAdmit,
} from "../lib/netpol";
import { type Finding, stackPolicy } from "../lib/policy";
import { isEmptySelector, namespaceSetIncludes, sameSelector } from "../lib/selectors";
import { isBaseline, type NetpolEntry, netpolsIn, readStack, type StackView } from "../lib/stack";

/** True when `rule` admits TCP `port` from a peer of namespace `ns` as broad as `peer`. */
function admitsFrom(
  rule: NetpolRule,
  own: string,
  ns: string,
  peer: NetpolPeer | undefined,
  port: number,
): boolean {
  if (!portsAdmit(rule.ports, "TCP", port)) return false;
  if (rule.peers.length === 0) return true;
  return rule.peers.some((candidate) => {
    const set = peerNamespaces(candidate, own);
    if (!set || namespaceSetIncludes(set, ns) !== true) return false;
    if (!candidate.podSelector || isEmptySelector(candidate.podSelector)) return true;
    return peer?.podSelector !== undefined && sameSelector(candidate.podSelector, peer.podSelector);
  });
}

function governs(entry: NetpolEntry, direction: "Ingress" | "Egress"): boolean {
  return effectivePolicyTypes(entry.model).has(direction);
}

/**
 * Rules that admit meshed namespaces on TCP application ports without HBONE. Ambient traffic
 * between meshed pods leaves the source and reaches the destination on the HBONE port, so both
 * corners need it: at the destination from the source namespace, at the source to the
 * destination namespace (Istio, "Ambient and Kubernetes NetworkPolicy").
 */
function missingHbone(
  view: StackView,
  entries: readonly NetpolEntry[],
  ns: string,
  hbonePort: number,
  direction: "Ingress" | "Egress",
): Finding[] {
  const findings: Finding[] = [];
  const rulesOf = (e: NetpolEntry) => (direction === "Ingress" ? e.model.ingress : e.model.egress);
  for (const entry of entries) {
    if (!governs(entry, direction)) continue;
    const samePods = entries.filter(
      (e) =>
        governs(e, direction) &&
        (isEmptySelector(e.model.podSelector) ||
          sameSelector(e.model.podSelector, entry.model.podSelector)),
    );
    for (const rule of rulesOf(entry)) {
      const carriesApp =
        rule.ports.length === 0 ||
        rule.ports.some(
          (p) => p.protocol === "TCP" && !(p.port === hbonePort && p.endPort === undefined),
        );
      if (!carriesApp) continue;
      for (const peer of rule.peers) {
        const set = peerNamespaces(peer, ns);
        if (!set) continue;
        const meshedPeers = [...view.meshedNamespaces]
          .filter((m) => namespaceSetIncludes(set, m) === true)
          .sort();
        const uncovered = meshedPeers.filter(
          (m) =>
            !samePods.some((e) => rulesOf(e).some((r) => admitsFrom(r, ns, m, peer, hbonePort))),
        );
        if (uncovered.length === 0) continue;
        const where = direction === "Ingress" ? "from there arrives" : "to there leaves";
        findings.push({
          ...netpolFinding(
            entry.model,
            peer.path,
            `${direction === "Ingress" ? "admits" : "reaches"} meshed namespace ${uncovered.join(", ")} on TCP app ports but not on HBONE ${hbonePort}: ambient traffic ${where} on ${hbonePort} and is dropped`,
            `add {protocol: TCP, port: ${hbonePort}} to ${rule.path}.ports`,
          ),
          urn: entry.urn,
        });
      }
    }
  }
  return findings;
}

export const meshHboneRequired = stackPolicy({
  name: "mesh-hbone-required",
  description:
    "In a meshed namespace, ingress admits HBONE (15008) from its mesh peers and the ambient probe source, and egress reaches the mesh namespace on 15008 and the istiod ports.",
  enforcementLevel: "mandatory",
  prevents:
    "A mesh outage: meshed traffic, xDS config and health probes dropped by the namespace's own default deny, so pods never become ready.",
  facts: ["mesh", "meshedNamespaces"],
  check(resources, { facts }) {
    const view = readStack(resources, facts, "mesh-hbone-required");
    const findings: Finding[] = [...view.problems];
    const mesh = view.facts.mesh;
    const namespaces = [...new Set(view.netpols.map((e) => e.model.namespace))]
      .filter(view.isMeshed)
      .sort();
    if (!mesh) {
      for (const ns of namespaces) {
        findings.push({
          message: `cannot verify mesh-hbone-required on namespace ${ns} because it is meshed but the cluster facts have no mesh`,
          fix: "set the mesh facts (namespace, hbonePort, istiodPorts, probeSource)",
          namespace: ns,
        });
      }
      return findings;
    }
    const probe = parseCidr(mesh.probeSource, "config mesh.probeSource");
    for (const ns of namespaces) {
      const entries = netpolsIn(view, ns);
      const allPods = entries.filter((e) => isEmptySelector(e.model.podSelector));
      const anchor = entries.find((e) => isBaseline(e.model)) ?? allPods[0] ?? entries[0];
      const at = (problem: string, fix: string): Finding => ({
        ...netpolFinding(anchor.model, "spec", problem, fix),
        urn: anchor.urn,
      });
      if (entries.some((e) => governs(e, "Egress"))) {
        const needed = [mesh.hbonePort, ...mesh.istiodPorts];
        const missing = needed.filter(
          (port) =>
            !allPods.some(
              (e) =>
                governs(e, "Egress") &&
                e.model.egress.some((r) => admitsFrom(r, ns, mesh.namespace, undefined, port)),
            ),
        );
        if (missing.length > 0) {
          findings.push(
            at(
              `meshed namespace ${ns} has no egress to ${mesh.namespace} on TCP ${missing.join(", ")} for all its pods`,
              `add to ${anchor.model.name} an egress rule to namespaceSelector {matchLabels: {kubernetes.io/metadata.name: ${mesh.namespace}}} on TCP ${needed.join(", ")}`,
            ),
          );
        }
      }
      findings.push(...missingHbone(view, entries, ns, mesh.hbonePort, "Egress"));
      if (!entries.some((e) => governs(e, "Ingress"))) continue;
      const probeAdmitted = allPods.some(
        (e) =>
          governs(e, "Ingress") &&
          e.model.ingress.some(
            (r) =>
              r.peers.length === 0 ||
              r.peers.some(
                (p) => p.ipBlock && blockAdmits(p.ipBlock.cidr, p.ipBlock.except, probe),
              ),
          ),
      );
      if (!probeAdmitted) {
        findings.push(
          at(
            `meshed namespace ${ns} does not admit the ambient probe source ${mesh.probeSource}: kubelet probes are SNATed to it and will fail`,
            `add to ${anchor.model.name} an ingress rule from ipBlock {cidr: ${mesh.probeSource}}`,
          ),
        );
      }
      findings.push(...missingHbone(view, entries, ns, mesh.hbonePort, "Ingress"));
    }
    return findings;
  },
});

export const hboneOutsideMesh = stackPolicy({
  name: "hbone-outside-mesh",
  description: "A namespace outside the ambient mesh has no HBONE (15008) rules.",
  enforcementLevel: "advisory",
  prevents:
    "Confusion that hides real gaps: HBONE rules in a namespace outside the mesh are dead, and usually mean the namespace was meant to be meshed (or was dropped from the mesh and kept stale rules).",
  facts: ["mesh", "meshedNamespaces"],
  check(resources, { facts }) {
    const view = readStack(resources, facts, "hbone-outside-mesh");
    const findings: Finding[] = [...view.problems];
    const mesh = view.facts.mesh;
    if (!mesh) return findings;
    for (const { model, urn } of view.netpols) {
      if (view.isMeshed(model.namespace) || model.namespace === mesh.namespace) continue;
      for (const rule of [...model.ingress, ...model.egress]) {
        for (const port of rule.ports) {
          const hits =
            typeof port.port === "number" &&
            port.protocol === "TCP" &&
            (port.endPort === undefined
              ? port.port === mesh.hbonePort
              : port.port <= mesh.hbonePort && mesh.hbonePort <= port.endPort);
          if (!hits) continue;
          findings.push({
            ...netpolFinding(
              model,
              port.path,
              `opens HBONE port ${mesh.hbonePort}, but ${model.namespace} is not in the ambient mesh`,
              `remove the ${mesh.hbonePort} entry, or enrol ${model.namespace} in the mesh (istio.io/dataplane-mode: ambient)`,
            ),
            urn,
          });
        }
      }
    }
    return findings;
  },
});
