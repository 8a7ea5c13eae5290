/**
 * The identity-layer policies on the homelab plan, through the in-process runner: the rendered
 * plan passes, and each mutation is caught by the policy meant for it (and by the intent check
 * where the combined connectivity changes).
 */
import { strict as assert } from "assert";
import { unknownCheckingProxy } from "@pulumi/policy";
import { loadStackConfig } from "../../config/load";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import {
  type CapturedResource,
  evaluateResources,
  packConfigFromFacts,
} from "../../policypack/run";
import { asPolicyEngineSees, renderStack } from "../../plan/render";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const IDENTITY_POLICIES = [
  "meshed-namespace-authorization",
  "authorization-within-declared-flows",
  "ztunnel-l4-only",
  "declared-connectivity",
];
/** @pulumi/policy's sentinel for an unknown string (unknownStringValue in its proxy.js). */
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

describe("identity-layer policies on the homelab plan", () => {
  let resources: CapturedResource[];
  const config = packConfigFromFacts(factsFromStackConfig(loadStackConfig("homelab")));

  before(async function () {
    this.timeout(120000);
    resources = asPolicyEngineSees((await renderStack("homelab")).resources);
  });

  function violations(edit: (copy: CapturedResource[]) => CapturedResource[]) {
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props) }));
    return evaluateResources(edit(copy), config).filter((v) =>
      IDENTITY_POLICIES.includes(v.policyName),
    );
  }
  const named = (copy: CapturedResource[], name: string): Json => {
    const found = copy.find((r) => (r.props.metadata as Json)?.name === name);
    assert.ok(found, `${name} not in the plan`);
    return found.props as Json;
  };

  it("passes as rendered, and the plan holds the Istio objects the pack reads", () => {
    assert.deepEqual(
      violations((c) => c).map((v) => v.message),
      [],
    );
    const types = new Set(resources.map((r) => r.type));
    assert.ok(types.has("kubernetes:security.istio.io/v1:AuthorizationPolicy"), [...types].join());
    assert.ok(types.has("kubernetes:security.istio.io/v1:PeerAuthentication"));
  });

  /** Whether `policy` reported a message matching `pattern`. */
  const reported = (
    found: { policyName: string; message: string }[],
    policy: string,
    pattern: RegExp,
  ) =>
    assert.ok(
      found.some((v) => v.policyName === policy && pattern.test(v.message)),
      `${policy} did not report ${pattern}:\n${found.map((v) => `${v.policyName}: ${v.message}`).join("\n")}`,
    );

  it("a meshed namespace without its namespace-wide ALLOW policy: every TCP port opens", () => {
    const found = violations((copy) =>
      copy.filter((r) => (r.props.metadata as Json)?.name !== "loki-authorization"),
    );
    reported(
      found,
      "meshed-namespace-authorization",
      /meshed namespace loki has no namespace-wide ALLOW/,
    );
    // The intent check sees the HBONE hole again: between meshed namespaces every port is open.
    reported(
      found,
      "declared-connectivity",
      /default -> loki is allowed on TCP 1-3099, .*\(HBONE\)/,
    );
    // And the pod-scoped policy left alone now denies the namespace-wide flows into its pods.
    reported(
      found,
      "declared-connectivity",
      /"grafana-to-loki" .* missing ztunnel authorization at loki\/pod-loki/,
    );
  });

  it("a hand-added source or port outside the declared flows", () => {
    const found = violations((copy) => {
      const spec = named(copy, "localstack-authorization").spec;
      spec.rules.push({
        from: [{ source: { namespaces: ["loki"] } }],
        to: [{ operation: { ports: ["4566"] } }],
      });
      spec.rules[0].to[0].operation.ports.push("9999");
      return copy;
    });
    reported(
      found,
      "authorization-within-declared-flows",
      /localstack\/localstack-authorization allows \{"namespaces":\["loki"\]\} on TCP 4566 to every pod in localstack, which no declared flow asks for/,
    );
    reported(
      found,
      "authorization-within-declared-flows",
      /allows \{"namespaces":\["default"\]\} on TCP 9999/,
    );
    reported(
      found,
      "declared-connectivity",
      /default -> localstack is allowed on TCP 9999 \(HBONE\)/,
    );
  });

  it("STRICT turned PERMISSIVE without the plaintext DENY", () => {
    const found = violations((copy) => {
      named(copy, "loki-mtls").spec.mtls.mode = "PERMISSIVE";
      return copy;
    });
    assert.ok(
      found.some((v) =>
        /meshed namespace loki has PeerAuthentication loki-mtls in mode PERMISSIVE/.test(v.message),
      ),
      found.map((v) => v.message).join("\n"),
    );
  });

  it("ztunnel-l4-only fails closed when the namespace is unknown at preview", () => {
    const policy = resources.find((r) => (r.props.metadata as Json)?.name === "loki-authorization");
    assert.ok(policy);
    const props = structuredClone(policy.props) as Json;
    props.metadata.namespace = UNKNOWN_STRING;
    const found = evaluateResources(
      [{ ...policy, props: unknownCheckingProxy(props) }],
      config,
    ).filter((v) => v.policyName === "ztunnel-l4-only");
    assert.equal(found.length, 1);
    assert.equal(found[0].enforcementLevel, "mandatory");
    assert.match(found[0].message, /because metadata\.namespace is unknown during preview/);
  });
});
