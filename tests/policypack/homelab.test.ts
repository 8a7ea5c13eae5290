/**
 * The homelab plan against the pack: zero mandatory violations, and each mutation of its output
 * caught by the policy meant to catch it.
 */
import { strict as assert } from "assert";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import {
  type CapturedResource,
  evaluateResources,
  formatViolations,
  type PackConfig,
  packConfigFromFacts,
} from "../../policypack/run";
import { asPolicyEngineSees, renderStack } from "../../plan/render";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("homelab plan under the policy pack", () => {
  let resources: CapturedResource[];
  let config: PackConfig;

  before(async () => {
    const rendered = await renderStack("homelab");
    resources = asPolicyEngineSees(rendered.resources).map((r) => ({
      ...r,
      props: structuredClone(r.props),
    }));
    config = packConfigFromFacts(factsFromStackConfig(rendered.config));
  });

  /** A deep copy of the plan with `edit` applied to the NetworkPolicy `namespace/name`. */
  function mutate(namespace: string, name: string, edit: (spec: Json) => void): CapturedResource[] {
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props) }));
    const target = copy.find(
      (r) =>
        r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
        (r.props.metadata as Json).namespace === namespace &&
        (r.props.metadata as Json).name === name,
    );
    assert.ok(target, `the plan has no NetworkPolicy ${namespace}/${name}`);
    edit(target.props.spec as Json);
    return copy;
  }

  function mandatoryPolicies(rs: CapturedResource[]): Set<string> {
    return new Set(
      evaluateResources(rs, config)
        .filter((v) => v.enforcementLevel === "mandatory")
        .map((v) => v.policyName),
    );
  }

  it("has zero mandatory violations", () => {
    const violations = evaluateResources(resources, config);
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    assert.equal(mandatory.length, 0, formatViolations(mandatory));
    // Sanity: the pack did see the policies (a plan with nothing in it would pass too).
    assert.ok(resources.filter((r) => r.type.endsWith(":NetworkPolicy")).length >= 18);
  });

  const findRule = (rules: Json[], predicate: (rule: Json) => boolean): Json => {
    const rule = rules.find(predicate);
    assert.ok(rule, "the plan lacks the rule this mutation needs");
    return rule;
  };
  const selectsNs = (peer: Json, ns: string): boolean =>
    peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === ns;

  const mutations: { name: string; policy: string; apply: () => CapturedResource[] }[] = [
    {
      name: "drop Egress from policyTypes",
      policy: "explicit-policy-types",
      apply: () =>
        mutate("localstack", "localstack-network-policy", (spec) => {
          spec.policyTypes = ["Ingress"];
        }),
    },
    {
      name: "split the DNS peer into two items",
      policy: "dns-and-semantics",
      apply: () =>
        mutate("velero", "velero-network-policy", (spec) => {
          const rule = findRule(spec.egress, (r) =>
            (r.to ?? []).some((p: Json) => selectsNs(p, "kube-system") && p.podSelector),
          );
          const peer = rule.to.find((p: Json) => selectsNs(p, "kube-system"));
          rule.to = [
            { namespaceSelector: peer.namespaceSelector },
            { podSelector: peer.podSelector },
          ];
        }),
    },
    {
      name: "drop the except list of internet egress",
      policy: "internet-egress-excepts-private",
      apply: () =>
        mutate("argocd", "argocd-network-policy", (spec) => {
          const rule = findRule(spec.egress, (r) =>
            (r.to ?? []).some((p: Json) => p.ipBlock?.cidr === "0.0.0.0/0"),
          );
          for (const peer of rule.to) if (peer.ipBlock) delete peer.ipBlock.except;
        }),
    },
    {
      name: "remove HBONE from a meshed namespace",
      policy: "mesh-hbone-required",
      apply: () =>
        mutate("localstack", "localstack-network-policy", (spec) => {
          for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
            rule.ports = (rule.ports ?? []).filter((p: Json) => p.port !== 15008);
          }
        }),
    },
    {
      name: "add an allow-all rule",
      policy: "rules-name-ports",
      apply: () =>
        mutate("velero", "velero-network-policy", (spec) => {
          spec.ingress = [...(spec.ingress ?? []), {}];
        }),
    },
    {
      name: "add namespaceSelector: {}",
      policy: "no-all-namespaces-selector",
      apply: () =>
        mutate("velero", "velero-network-policy", (spec) => {
          spec.egress.push({
            to: [{ namespaceSelector: {} }],
            ports: [{ protocol: "TCP", port: 443 }],
          });
        }),
    },
    {
      name: "put ICMP in a Kubernetes policy",
      policy: "kubernetes-protocols-only",
      apply: () =>
        mutate("default", "default-network-policy", (spec) => {
          spec.egress.push({
            to: [{ ipBlock: { cidr: "10.0.1.1/32" } }],
            ports: [{ protocol: "ICMP", port: 8 }],
          });
        }),
    },
    {
      name: "select a namespace by a mutable label",
      policy: "immutable-namespace-label",
      apply: () =>
        mutate("localstack", "localstack-network-policy", (spec) => {
          const rule = findRule(spec.ingress, (r) =>
            (r.from ?? []).some((p: Json) => selectsNs(p, "velero")),
          );
          const peer = rule.from.find((p: Json) => selectsNs(p, "velero"));
          peer.namespaceSelector = { matchLabels: { "backup-client": "true" } };
        }),
    },
  ];

  for (const mutation of mutations) {
    it(`catches "${mutation.name}" with ${mutation.policy}`, () => {
      const caught = mandatoryPolicies(mutation.apply());
      assert.ok(
        caught.has(mutation.policy),
        `${mutation.policy} missed it; reported: ${[...caught].join(", ") || "nothing"}`,
      );
    });
  }
});
