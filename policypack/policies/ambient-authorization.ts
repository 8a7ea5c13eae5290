/**
 * Issue #10's identity layer: Istio ambient authorization that ztunnel enforces at L4.
 *
 * - meshed-namespace-authorization: a meshed namespace without a namespace-wide ALLOW policy
 *   accepts, at ztunnel, every source on every TCP port the CNI lets through; with HBONE the CNI
 *   cannot tell ports apart, so that is every port. It also needs its mTLS mode pinned.
 * - authorization-within-declared-flows: an ALLOW rule that is empty (matches everything), names
 *   no port or no source, or grants a source or port no declared flow asks for.
 * - ztunnel-l4-only: L7 fields in a policy only ztunnel enforces. istiod drops such an ALLOW rule
 *   and enforces a DENY rule without them (pilot/pkg/serviceregistry/kube/controller/ambient/
 *   authorization.go in istio/istio), so the policy does not mean what it says.
 *
 * Every object is read once, by the connectivity engine (engine/normalise/istio-authorization.ts).
 */
import { renderNamespaceAuthorization } from "../../components/authorization";
import { expandConnections } from "../../components/connections";
import type { StackConfig } from "../../config/types";
import {
  buildModel,
  type ClusterModel,
  ManifestError,
  type NormalAuthorizationPolicy,
} from "../../engine";
import type { ClusterFacts } from "../lib/facts";
import { assertStackConfigShape } from "../lib/facts";
import { ISTIO_AUTHORIZATION_POLICY_TYPES, ISTIO_GATE_TYPES } from "../lib/istio";
import { type Finding, resourcePolicy, stackPolicy, type StackSubject } from "../lib/policy";
import { CLUSTER_PROTECTION_TYPE, readStack } from "../lib/stack";

type Raw = Record<string, unknown>;

function meshOptions(facts: ClusterFacts) {
  return facts.mesh
    ? {
        mesh: {
          namespace: facts.mesh.namespace,
          hbonePort: facts.mesh.hbonePort,
          probeSource: facts.mesh.probeSource.replace(/\/32$/, ""),
          trustDomain: facts.mesh.trustDomain,
          portPreserving: facts.mesh.portPreserving,
        },
      }
    : {};
}

/** The Istio objects of the input, read by the engine; a ManifestError becomes one finding. */
function istioModel(
  resources: readonly StackSubject[],
  facts: ClusterFacts,
  policy: string,
): { model?: ClusterModel; findings: Finding[]; urns: Map<string, string> } {
  const istio = resources.filter((r) => ISTIO_GATE_TYPES.includes(r.type));
  const urns = new Map<string, string>();
  for (const r of istio) {
    const metadata = (r.props.metadata ?? {}) as Raw;
    urns.set(`${String(metadata.namespace)}/${String(metadata.name)}`, r.urn);
  }
  try {
    return {
      model: buildModel(
        istio.map((r) => r.props),
        meshOptions(facts),
      ),
      findings: [],
      urns,
    };
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return {
      findings: [
        {
          message: `cannot verify ${policy} because the Istio objects cannot be read: ${error.message}`,
          fix: "fix the fields named above; the engine refuses what it cannot read",
        },
      ],
      urns,
    };
  }
}

const urnOf = (urns: Map<string, string>, p: NormalAuthorizationPolicy) =>
  urns.get(`${p.ref.namespace}/${p.ref.name}`);

export const meshedNamespaceAuthorization = stackPolicy({
  name: "meshed-namespace-authorization",
  description:
    "Every meshed namespace has a namespace-wide ALLOW AuthorizationPolicy and a namespace PeerAuthentication (STRICT, or PERMISSIVE with a DENY policy for plaintext).",
  enforcementLevel: "mandatory",
  prevents:
    "Every TCP port open between two meshed namespaces: the CNI only sees HBONE on 15008, so without ztunnel authorization nothing tells application ports apart.",
  facts: ["meshedNamespaces", "mesh", "protectedNamespaces"],
  check(resources, { facts, plainYaml }) {
    const view = readStack(resources, facts, "meshed-namespace-authorization");
    const { model, findings, urns } = istioModel(
      resources,
      view.facts,
      "meshed-namespace-authorization",
    );
    if (!model) return [...view.problems, ...findings];
    // A stack judges every meshed namespace it protects; plain YAML (npm run check) only the
    // namespaces whose Istio objects or Namespace object it holds: the identity layer may live elsewhere.
    const inStack = new Set<string>([
      ...(view.factsFromStack ? view.protectedNamespaces : []),
      ...view.declaredNamespaces.keys(),
      ...(model.authorizationPolicies ?? []).map((p) => p.namespace),
      ...(model.peerAuthentications ?? []).map((p) => p.namespace),
    ]);
    const out: Finding[] = [...view.problems];
    for (const ns of [...view.meshedNamespaces].sort()) {
      if (!inStack.has(ns)) continue;
      const policies = (model.authorizationPolicies ?? []).filter((p) => p.namespace === ns);
      if (!policies.some((p) => p.scope === "namespace" && p.action === "ALLOW"))
        out.push({
          message: `meshed namespace ${ns} has no namespace-wide ALLOW AuthorizationPolicy (no selector): ztunnel accepts every source on every TCP port of the pods no ALLOW policy selects`,
          fix: plainYaml
            ? `add an AuthorizationPolicy to ${ns} without selector, action ALLOW, with one rule per source that may connect (from.source.namespaces or principals, to.operation.ports)`
            : `render the stack (it creates ${ns}-authorization from the declared flows), or add an ALLOW policy without selector whose rules are the declared flows`,
          namespace: ns,
          urn: view.declaredNamespaces.get(ns),
        });
      const peer = (model.peerAuthentications ?? []).find(
        (p) => p.namespace === ns && p.scope === "namespace",
      );
      const plaintextDeny = policies.some(
        (p) =>
          p.scope === "namespace" &&
          p.action === "DENY" &&
          p.rules.some((r) =>
            r.clauses.some((c) =>
              c.some((m) => m.notPrincipals.some((s) => s.kind === "presence")),
            ),
          ),
      );
      if (!peer || (peer.mode !== "STRICT" && !(peer.mode === "PERMISSIVE" && plaintextDeny)))
        out.push({
          message: `meshed namespace ${ns} ${peer ? `has PeerAuthentication ${peer.ref.name} in mode ${peer.mode}` : "has no namespace-wide PeerAuthentication"}: plaintext from outside the mesh is not refused`,
          fix: `set mtls.mode STRICT in ${ns}-mtls, or PERMISSIVE together with a DENY policy of plaintext (notPrincipals: ["*"]) on every port but the declared plaintext ones`,
          namespace: ns,
          urn: peer ? urns.get(`${ns}/${peer.ref.name}`) : view.declaredNamespaces.get(ns),
        });
    }
    return [...out, ...findings];
  },
});

/** (namespace, selector, source, port) tuples an ALLOW rule grants, from the manifest as written. */
function grants(manifest: Raw, namespace: string): string[] {
  const spec = (manifest.spec ?? {}) as Raw;
  if ((spec.action ?? "ALLOW") !== "ALLOW") return [];
  const selector = JSON.stringify(((spec.selector ?? {}) as Raw).matchLabels ?? {});
  const out: string[] = [];
  for (const rule of (spec.rules ?? []) as Raw[]) {
    const sources: string[] = [];
    for (const from of (rule.from ?? []) as Raw[]) {
      const source = (from.source ?? {}) as Record<string, string[]>;
      const { namespaces, principals, ...rest } = source;
      for (const n of namespaces ?? []) sources.push(JSON.stringify({ namespaces: [n] }));
      for (const p of principals ?? []) sources.push(JSON.stringify({ principals: [p] }));
      if (Object.keys(rest).length > 0) sources.push(JSON.stringify(rest));
    }
    const ports: string[] = [];
    for (const to of (rule.to ?? []) as Raw[]) {
      const operation = (to.operation ?? {}) as Record<string, string[]>;
      ports.push(...(operation.ports ?? []));
    }
    for (const s of sources) for (const p of ports) out.push(`${namespace}|${selector}|${s}|${p}`);
  }
  return out;
}

function declaredGrants(config: StackConfig): Set<string> {
  const connections = expandConnections(config);
  const out = new Set<string>();
  for (const ns of config.namespaces.filter((n) => n.meshed)) {
    if (!config.cluster.mesh) break;
    const rendered = renderNamespaceAuthorization(config, ns.name, connections);
    for (const m of rendered.policies)
      for (const g of grants(m as unknown as Raw, ns.name)) out.add(g);
  }
  return out;
}

export const authorizationWithinDeclaredFlows = stackPolicy({
  name: "authorization-within-declared-flows",
  description:
    "Every ALLOW AuthorizationPolicy rule names a source and ports, and grants only sources and ports of the declared flows into the workloads it selects.",
  enforcementLevel: "mandatory",
  prevents:
    "An ALLOW rule `{}` or one without ports that opens every TCP port to every meshed workload, and a hand-added source that reaches a workload no flow declares.",
  facts: ["meshedNamespaces", "mesh", "protectedNamespaces"],
  check(resources, { facts, plainYaml }) {
    const { model, findings, urns } = istioModel(
      resources,
      facts,
      "authorization-within-declared-flows",
    );
    if (!model) return findings;
    const out: Finding[] = [...findings];
    for (const policy of model.authorizationPolicies ?? []) {
      if (policy.action !== "ALLOW") continue;
      for (const rule of policy.rules) {
        const where = `AuthorizationPolicy ${policy.namespace}/${policy.ref.name} ${rule.path}`;
        const base = {
          namespace: policy.namespace,
          objectName: policy.ref.name,
          urn: urnOf(urns, policy),
        };
        const matches = rule.clauses.flat();
        const problem =
          rule.clauses.length === 0
            ? "is empty: it matches every source on every port"
            : !matches.some((m) => m.destinationPorts.length > 0)
              ? "names no ports: it allows every TCP port"
              : !matches.some(
                    (m) =>
                      m.namespaces.length + m.principals.length + m.serviceAccounts.length > 0 ||
                      m.notPrincipals.some((s) => s.kind === "presence"),
                  )
                ? "names no source namespace, principal or plaintext restriction: it allows every source"
                : undefined;
        if (problem)
          out.push({
            ...base,
            message: `${where} ${problem}`,
            fix: plainYaml
              ? "write one rule per source that may connect, with from.source (namespaces or principals) and to.operation.ports"
              : "write one rule per declared source with from.source and to.operation.ports, as the stack renders them",
          });
      }
    }
    const cluster = resources.find((r) => r.type === CLUSTER_PROTECTION_TYPE);
    if (!cluster) return out;
    const config: unknown = cluster.props;
    assertStackConfigShape(config);
    const declared = declaredGrants(config);
    for (const r of resources.filter((x) => ISTIO_AUTHORIZATION_POLICY_TYPES.includes(x.type))) {
      const metadata = (r.props.metadata ?? {}) as Raw;
      const ns = String(metadata.namespace ?? "default");
      for (const g of grants(r.props, ns)) {
        if (declared.has(g)) continue;
        const [, selector, source, port] = g.split("|");
        out.push({
          message: `AuthorizationPolicy ${ns}/${String(metadata.name)} allows ${source} on TCP ${port} to ${selector === "{}" ? "every pod" : `pods ${selector}`} in ${ns}, which no declared flow asks for`,
          fix: `declare the flow under zt-netpol:flows (then render the stack), or remove the source or port from the rule`,
          namespace: ns,
          objectName: String(metadata.name),
          urn: r.urn,
        });
      }
    }
    return out;
  },
});

export const ztunnelL4Only = resourcePolicy({
  name: "ztunnel-l4-only",
  description:
    "An AuthorizationPolicy that only ztunnel enforces (no targetRef to a waypoint) uses L4 fields only: no hosts, methods, paths, requestPrincipals, remoteIpBlocks or L7 `when` keys.",
  enforcementLevel: "mandatory",
  prevents:
    "A policy that reads as narrower than it is: istiod drops an ALLOW rule with L7 fields (the flow it was meant for breaks) and enforces a DENY rule without them.",
  facts: ["mesh"],
  types: ISTIO_AUTHORIZATION_POLICY_TYPES,
  check(subject, { facts }) {
    let policy: NormalAuthorizationPolicy | undefined;
    try {
      policy = buildModel([subject.props], meshOptions(facts)).authorizationPolicies?.[0];
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      return [
        {
          message: `cannot verify ztunnel-l4-only because the policy cannot be read: ${error.message}`,
          fix: "fix the fields named above",
        },
      ];
    }
    if (!policy) return [];
    const base = { namespace: policy.namespace, objectName: policy.ref.name };
    return [
      ...policy.droppedRules.map((d) => ({
        ...base,
        message: `${d.path} of ALLOW policy ${policy.namespace}/${policy.ref.name} uses ${d.fields.join(", ")}, which ztunnel cannot see: istiod drops the whole rule`,
        fix: "keep only source namespaces/principals/ipBlocks and operation ports, or bind the policy to a waypoint with targetRefs",
      })),
      ...policy.rules
        .filter((r) => r.ignoredFields.length > 0)
        .map((r) => ({
          ...base,
          message: `${r.path} of DENY policy ${policy.namespace}/${policy.ref.name} uses ${r.ignoredFields.join(", ")}, which ztunnel cannot see: istiod enforces the rule without them (an entry left without an L4 field then matches nothing)`,
          fix: "remove the L7 fields (the DENY then reads as enforced), or bind the policy to a waypoint with targetRefs",
        })),
    ];
  },
});
