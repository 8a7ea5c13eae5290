/**
 * Fail closed: a value unknown at preview, or a malformed field, is a violation at the policy's
 * own (mandatory) level, never a silent pass or an advisory downgrade.
 */
import { strict as assert } from "assert";
import { unknownCheckingProxy } from "@pulumi/policy";
import { policies } from "../../policypack/policies";
import { evaluateResources } from "../../policypack/run";
import { netpolResource } from "./helpers";

/** @pulumi/policy's sentinel for an unknown string (unknownStringValue in its proxy.js). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const mandatoryResourcePolicies = policies
  .filter((p) => p.meta.kind === "resource" && p.enforcementLevel === "mandatory")
  .filter((p) => p.meta.types?.includes("kubernetes:networking.k8s.io/v1:NetworkPolicy"))
  .map((p) => p.name);

describe("policy pack fails closed", () => {
  it("reports a mandatory 'cannot verify' when the namespace is unknown at preview", () => {
    const resource = netpolResource("velero", "velero-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    (resource.props.metadata as Record<string, unknown>).namespace = UNKNOWN_STRING;
    const proxied = { ...resource, props: unknownCheckingProxy(resource.props) };
    const violations = evaluateResources([proxied]).filter((v) =>
      v.message.includes("because metadata.namespace is unknown during preview"),
    );
    const reporting = new Set(violations.map((v) => v.policyName));
    for (const name of mandatoryResourcePolicies) {
      assert.ok(reporting.has(name), `${name} did not fail closed`);
    }
    for (const v of violations) {
      // An advisory policy stays advisory; a mandatory one is never lowered.
      const policy = policies.find((p) => p.name === v.policyName);
      assert.equal(v.enforcementLevel, policy?.enforcementLevel, v.policyName);
    }
  });

  it("reports an unknown rule list with its path", () => {
    const resource = netpolResource("velero", "velero-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      egress: [{ to: [{ ipBlock: { cidr: UNKNOWN_STRING } }], ports: [{ port: 443 }] }],
    });
    const violations = evaluateResources([
      { ...resource, props: unknownCheckingProxy(resource.props) },
    ]);
    const mine = violations.filter((v) => v.policyName === "internet-egress-excepts-private");
    assert.equal(mine.length, 1);
    assert.equal(mine[0].enforcementLevel, "mandatory");
    assert.match(
      mine[0].message,
      /cannot verify .* because spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr is unknown/,
    );
  });

  it("reports a malformed field with its path instead of skipping the object", () => {
    const resource = netpolResource("velero", "velero-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: "everything",
    });
    const violations = evaluateResources([resource]).filter(
      (v) => v.policyName === "rules-name-ports",
    );
    assert.equal(violations.length, 1);
    assert.equal(violations[0].enforcementLevel, "mandatory");
    assert.match(
      violations[0].message,
      /cannot verify rules-name-ports .* invalid[^]*spec\.ingress: must be a list/,
    );
  });

  it("does not let a stack policy skip a NetworkPolicy it cannot read", () => {
    const broken = netpolResource("loki", "loki-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      egress: [{ to: [{}] }],
    });
    const violations = evaluateResources([broken], {
      "namespace-baseline-deny-all": { protectedNamespaces: ["loki"] },
    }).filter((v) => v.policyName === "namespace-baseline-deny-all");
    assert.ok(
      violations.some((v) =>
        /cannot verify .* spec\.egress\[0\]\.to\[0\]: a peer must set/.test(v.message),
      ),
    );
    assert.ok(violations.every((v) => v.enforcementLevel === "mandatory"));
  });
});
