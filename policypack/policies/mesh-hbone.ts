/**
 * Policy 11: HBONE rules match mesh membership.
 *
 * In Istio ambient, traffic between meshed pods is tunnelled by ztunnel over HBONE (mTLS, TCP
 * 15008) to the destination pod's IP; the source IP is preserved, so the destination's
 * NetworkPolicy must admit the *source namespace* on 15008 as well as on the app port (Istio
 * ambient docs, "Ambient and Kubernetes NetworkPolicy"). Meshed pods reach istiod for xDS and
 * the webhook (15012, 15017) and ztunnel (15008). Kubelet probes are SNATed by istio-cni to a
 * link-local /32 (169.254.7.127), which must reach every port a container may be probed on.
 *
 * - `mesh-hbone-required` (mandatory): judged by the connectivity engine over every policy of the
 *   stack (Kubernetes and Calico, rule order included) for pods standing for every pod the
 *   policies can tell apart (engine `representativePods`): the probe source reaches each pod of a
 *   meshed namespace on every TCP port, each pod reaches the mesh namespace on the HBONE and
 *   istiod ports, and a corner that lets a meshed peer through on a TCP app port lets it through
 *   on HBONE too. A rule without `from` that names only 15008 no longer counts as a probe allow.
 * - `hbone-outside-mesh` (advisory): a namespace outside the mesh has no HBONE rules (dead rules
 *   that suggest the namespace was meant to be meshed, or was removed from the mesh).
 *
 * Both are stack policies: NetworkPolicies are additive, so the rules may be spread over several
 * policies of the namespace, and mesh membership comes from the stack (NamespaceProtection
 * props, the Namespace's istio.io/dataplane-mode label) or, for plain YAML, the config.
 */
import {
  allowsConnection,
  buildModel,
  type ClusterModel,
  type ConnectionSet,
  type Endpoint,
  Evaluator,
  intervals,
  type LabelSelectorMatcher,
  ManifestError,
  parseCidrRange,
  type PodInfo,
  representativePods,
} from "../../engine";
import type { MeshFacts } from "../lib/facts";
import { policyFinding } from "../lib/findings";
import { MalformedError } from "../lib/errors";
import { type Finding, rejectedObject, stackPolicy } from "../lib/policy";
import { rulesOf, writtenPeers } from "../lib/rules";
import { isBaseline, netpolsIn, readStack, type StackView } from "../lib/stack";

const pod = (p: PodInfo): Endpoint => ({ kind: "pod", pod: p });

function describePods(pods: readonly PodInfo[]): string {
  return pods
    .map((p) => (p.hypothetical ? p.name.replace(/^\(pod (.*)\)$/, "$1") : p.name))
    .join("; ");
}

/** The stack's policies and Namespaces as one engine model with the mesh facts. */
function meshModel(view: StackView, mesh: MeshFacts): ClusterModel {
  return buildModel(view.manifests, {
    // Pod IPs are synthetic here; an ipBlock that happens to contain them proves nothing.
    ipBlockMatchesPods: false,
    mesh: {
      namespace: mesh.namespace,
      hbonePort: mesh.hbonePort,
      probeSource: mesh.probeSource,
      meshedNamespaces: [...view.meshedNamespaces],
    },
  });
}

/** Pod selectors the namespace's own rules use for peers: remote pods worth asking about. */
function peerSelectors(view: StackView, namespace: string): LabelSelectorMatcher[] {
  return netpolsIn(view, namespace).flatMap(({ policy }) =>
    writtenPeers(policy).flatMap(({ peer }) =>
      peer.kind === "pods" && peer.podSelector ? [peer.podSelector] : [],
    ),
  );
}

function tcpAppPorts(c: ConnectionSet, hbonePort: number): intervals.IntervalSet {
  return intervals.subtract(c.TCP, [hbonePort, hbonePort]);
}

interface Gap {
  readonly policyRef: string;
  readonly namespace?: string;
  readonly policyName: string;
  readonly rulePath: string;
}

export const meshHboneRequired = stackPolicy({
  name: "mesh-hbone-required",
  description:
    "In a meshed namespace, the ambient probe source reaches every pod on every TCP port, every pod reaches the mesh namespace on HBONE (15008) and the istiod ports, and meshed peers admitted on app ports are admitted on HBONE.",
  enforcementLevel: "mandatory",
  prevents:
    "A mesh outage: meshed traffic, xDS config and health probes dropped by the namespace's own default deny, so pods never become ready.",
  facts: ["mesh", "meshedNamespaces"],
  check(resources, { facts }) {
    const view = readStack(resources, facts, "mesh-hbone-required");
    const findings: Finding[] = [...view.problems];
    const mesh = view.facts.mesh;
    const namespaces = [...new Set(view.netpols.map((e) => e.policy.namespace ?? ""))]
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
    const probeRange = parseCidrRange(mesh.probeSource);
    if (!probeRange)
      throw new MalformedError("mesh.probeSource", "expected an IPv4 address or /32");
    let model: ClusterModel;
    try {
      model = meshModel(view, mesh);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [...findings, rejectedObject("mesh-hbone-required", "the stack", error)];
    }
    const evaluator = new Evaluator(model);
    const probe: Endpoint = { kind: "external", range: probeRange };
    const meshPod = representativePods(model, mesh.namespace).find(
      (p) => p.hypothetical && Object.keys(p.labels).length === 0,
    ) as PodInfo;
    const meshedPeers = [...view.meshedNamespaces].filter((m) => m !== mesh.namespace).sort();
    const seen = new Set<string>();
    const push = (finding: Finding): void => {
      if (seen.has(finding.message)) return;
      seen.add(finding.message);
      findings.push(finding);
    };
    for (const ns of namespaces) {
      const entries = netpolsIn(view, ns);
      const anchor =
        entries.find((e) => isBaseline(e.policy)) ??
        entries.find((e) => e.policy.written.podSelector?.requirements.length === 0) ??
        entries[0];
      const at = (problem: string, fix: string): Finding => ({
        ...policyFinding(anchor.policy, "spec", problem, fix),
        urn: anchor.urn,
      });
      const locals = representativePods(model, ns).filter((p) => p.meshed);
      const isolated = (p: PodInfo, direction: "ingress" | "egress"): boolean =>
        evaluator.applicablePolicies(p, direction).length > 0;

      // Egress to ztunnel and istiod, for every pod.
      const needed = [mesh.hbonePort, ...mesh.istiodPorts];
      const noIstiod = new Map<string, PodInfo[]>();
      for (const local of locals.filter((p) => isolated(p, "egress"))) {
        const c = evaluator.cornerConnections("egress", pod(local), pod(meshPod));
        const missing = needed.filter((port) => !allowsConnection(c, "TCP", port));
        if (missing.length === 0) continue;
        const key = missing.join(", ");
        noIstiod.set(key, [...(noIstiod.get(key) ?? []), local]);
      }
      for (const [missing, pods] of noIstiod) {
        push(
          at(
            `meshed namespace ${ns} has no egress to ${mesh.namespace} on TCP ${missing} for all its pods (not for: ${describePods(pods)})`,
            `add to ${anchor.policy.ref.name} an egress rule to namespaceSelector {matchLabels: {kubernetes.io/metadata.name: ${mesh.namespace}}} on TCP ${needed.join(", ")}`,
          ),
        );
      }

      // Kubelet probes: any port a container may be probed on.
      const unprobed: string[] = [];
      for (const local of locals.filter((p) => isolated(p, "ingress"))) {
        const c = evaluator.cornerConnections("ingress", probe, pod(local));
        if (intervals.equals(c.TCP, [1, 65535])) continue;
        const admitted = c.TCP.length === 0 ? "nothing" : `only TCP ${formatPortSet(c.TCP)}`;
        unprobed.push(`${describePods([local])} (admitted: ${admitted})`);
      }
      if (unprobed.length > 0) {
        push(
          at(
            `meshed namespace ${ns} does not admit the ambient probe source ${mesh.probeSource} on every TCP port for all its pods: ${unprobed.join("; ")}; kubelet probes are SNATed to it and will fail`,
            `add to ${anchor.policy.ref.name} an ingress rule from ipBlock {cidr: ${mesh.probeSource}} without ports (probes use whatever port each container declares)`,
          ),
        );
      }

      // HBONE beside every app port a meshed peer is let through on, at both corners.
      const remoteSelectors = peerSelectors(view, ns);
      // Only peer namespaces some rule of these pods can match are asked about: elsewhere the
      // corner allows nothing, so no app port can lack its HBONE twin (asking every meshed
      // namespace on behalf of every meshed namespace made this check quadratic).
      const reaches = new Map(
        locals.map((local) => [
          local,
          {
            ingress: evaluator.remoteNamespaceFilter(local, "ingress"),
            egress: evaluator.remoteNamespaceFilter(local, "egress"),
          },
        ]),
      );
      for (const peerNs of meshedPeers) {
        const asked = (local: PodInfo, direction: "ingress" | "egress"): boolean =>
          isolated(local, direction) && reaches.get(local)![direction](peerNs);
        if (!locals.some((local) => asked(local, "ingress") || asked(local, "egress"))) continue;
        const remotes = representativePods(model, peerNs, remoteSelectors).filter((p) => p.meshed);
        for (const local of locals) {
          for (const remote of remotes) {
            for (const direction of ["ingress", "egress"] as const) {
              if (!asked(local, direction)) continue;
              const [source, destination] =
                direction === "ingress" ? [remote, local] : [local, remote];
              const c = evaluator.cornerConnections(direction, pod(source), pod(destination));
              const app = tcpAppPorts(c, mesh.hbonePort);
              if (intervals.isEmpty(app) || allowsConnection(c, "TCP", mesh.hbonePort)) continue;
              const decision = evaluator.cornerDecision(
                direction,
                pod(source),
                pod(destination),
                "TCP",
                app[0],
              );
              const gap = gapOf(decision.decidedBy?.policy, decision.decidedBy?.rule.path);
              if (!gap) continue;
              const entry = view.netpols.find(
                (e) => e.policy.namespace === gap.namespace && e.policy.ref.name === gap.policyName,
              );
              const verb = direction === "ingress" ? "admits" : "reaches";
              const where = direction === "ingress" ? "from there arrives" : "to there leaves";
              push({
                message: `${gap.policyRef} ${gap.rulePath}: ${verb} meshed namespace ${peerNs} on TCP app ports but not on HBONE ${mesh.hbonePort}: ambient traffic ${where} on ${mesh.hbonePort} and is dropped`,
                fix: `add {protocol: TCP, port: ${mesh.hbonePort}} to ${gap.rulePath}.ports`,
                namespace: gap.namespace,
                objectName: gap.policyName,
                urn: entry?.urn,
              });
            }
          }
        }
      }
    }
    return findings;
  },
});

function gapOf(
  policy: { ref: { kind: string; namespace?: string; name: string } } | undefined,
  rulePath: string | undefined,
): Gap | undefined {
  if (!policy || !rulePath) return undefined;
  const kind = policy.ref.kind === "NetworkPolicy" ? "NetworkPolicy" : `Calico ${policy.ref.kind}`;
  const ref = policy.ref.namespace ? `${policy.ref.namespace}/${policy.ref.name}` : policy.ref.name;
  return {
    policyRef: `${kind} ${ref}`,
    namespace: policy.ref.namespace,
    policyName: policy.ref.name,
    rulePath,
  };
}

function formatPortSet(set: intervals.IntervalSet): string {
  return intervals
    .toPairs(set)
    .map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`))
    .join(", ");
}

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
    for (const { policy, urn } of view.netpols) {
      const ns = policy.namespace ?? "";
      if (view.isMeshed(ns) || ns === mesh.namespace) continue;
      for (const { rule } of rulesOf(policy)) {
        for (const port of rule.written?.ports ?? []) {
          const hits =
            port.protocol === "TCP" &&
            port.ports !== undefined &&
            "from" in port.ports &&
            port.ports.from <= mesh.hbonePort &&
            mesh.hbonePort <= port.ports.to;
          if (!hits) continue;
          findings.push({
            ...policyFinding(
              policy,
              port.path,
              `opens HBONE port ${mesh.hbonePort}, but ${ns} is not in the ambient mesh`,
              `remove the ${mesh.hbonePort} entry, or enrol ${ns} in the mesh (istio.io/dataplane-mode: ambient)`,
            ),
            urn,
          });
        }
      }
    }
    return findings;
  },
});
