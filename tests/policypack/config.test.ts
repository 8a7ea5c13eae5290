/** Pack config: the engine's reconciliation semantics, as `--policy-pack-config` applies them. */
import { strict as assert } from "assert";
import { FACT_SCHEMAS } from "../../policypack/lib/facts";
import { policies } from "../../policypack/policies";
import {
  evaluateResources,
  type PackConfig,
  PackConfigError,
  packConfigFromFacts,
  reconcilePackConfig,
} from "../../policypack/run";
import { homelabFacts, netpolResource } from "./helpers";

const openIngress = netpolResource("argocd", "argocd-network-policy", {
  podSelector: {},
  policyTypes: ["Ingress", "Egress"],
  ingress: [
    { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 8080 }] },
  ],
});

describe("policy pack config", () => {
  it("fills every policy with its level and schema defaults, and no cluster's facts", () => {
    const reconciled = reconcilePackConfig();
    for (const policy of policies)
      assert.equal(reconciled[policy.name].enforcementLevel, policy.enforcementLevel);
    assert.equal(reconciled["ingress-from-anywhere-edge-only"].properties.edge, undefined);
    for (const [key, schema] of Object.entries(FACT_SCHEMAS))
      assert.equal(schema.default, undefined, `fact ${key} has a default`);
    assert.deepEqual(reconciled["rules-name-ports"].properties.exemptions, []);
  });

  it("a policy without its facts fails closed at its own level, naming the fact and the fix", () => {
    const found = evaluateResources([openIngress]).filter(
      (v) => v.policyName === "ingress-from-anywhere-edge-only",
    );
    assert.equal(found.length, 1);
    assert.equal(found[0].enforcementLevel, "mandatory");
    assert.match(found[0].message, /cannot verify .* because cluster fact edge is missing/);
    assert.match(found[0].message, /--policy-pack-config/);
  });

  it("every policy has a description, an explicit level and a config schema", () => {
    for (const policy of policies) {
      assert.ok(policy.description.length > 20, policy.name);
      assert.ok(
        policy.enforcementLevel === "mandatory" || policy.enforcementLevel === "advisory",
        policy.name,
      );
      assert.ok(policy.configSchema?.properties.exemptions, policy.name);
    }
  });

  it("applies `all`, then per-policy levels", () => {
    const reconciled = reconcilePackConfig({ all: "advisory", "dns-and-semantics": "mandatory" });
    assert.equal(reconciled["rules-name-ports"].enforcementLevel, "advisory");
    assert.equal(reconciled["dns-and-semantics"].enforcementLevel, "mandatory");
  });

  it("lowers, disables and reconfigures policies as configured", () => {
    const name = "ingress-from-anywhere-edge-only";
    const judged = (config: PackConfig = {}) =>
      evaluateResources([openIngress], packConfigFromFacts(homelabFacts(), config)).filter(
        (v) => v.policyName === name,
      );
    assert.equal(judged()[0]?.enforcementLevel, "mandatory");
    assert.equal(judged({ [name]: "advisory" })[0]?.enforcementLevel, "advisory");
    assert.equal(judged({ [name]: "disabled" }).length, 0);
    const asEdge = { [name]: { edge: { namespaces: ["argocd"], ports: [8080] } } };
    assert.equal(judged(asEdge).length, 0);
  });

  it("rejects config the schema rejects, and policy names the pack does not have", () => {
    assert.throws(
      () =>
        reconcilePackConfig({
          "ingress-from-anywhere-edge-only": { edge: { namespaces: "argocd" } },
        }),
      PackConfigError,
    );
    assert.throws(() => reconcilePackConfig({ "rules-name-port": "advisory" }), /no such policy/);
    assert.throws(
      () => reconcilePackConfig({ "rules-name-ports": "loud" as never }),
      /not an enforcement level/,
    );
    assert.throws(
      () =>
        reconcilePackConfig({
          "no-all-namespaces-selector": { exemptions: [{ namespace: "velero" }] },
        }),
      /reason is required/,
    );
  });
});
