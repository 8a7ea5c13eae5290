/**
 * The intent check (issue #4): declared connections allowed end to end, nothing undeclared
 * between namespaces, nor between a namespace and external addresses (issue #8). Mutations of the homelab plan, judged through the in-process runner.
 */
import { strict as assert } from "assert";
import { loadStackConfig } from "../../config/load";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { checkIntent } from "../../policypack/lib/intent";
import {
  type CapturedResource,
  evaluateResources,
  packConfigFromFacts,
} from "../../policypack/run";
import { asPolicyEngineSees, renderStack } from "../../plan/render";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("declared-connectivity (intent check)", () => {
  let resources: CapturedResource[];
  let manifests: Json[];
  const config = loadStackConfig("homelab");

  before(async () => {
    const rendered = await renderStack("homelab");
    resources = asPolicyEngineSees(rendered.resources);
    manifests = rendered.manifests;
  });

  function edited(namespace: string, name: string, edit: (spec: Json) => void): Json[] {
    const copy = structuredClone(manifests);
    const target = copy.find((m) => m.metadata.namespace === namespace && m.metadata.name === name);
    assert.ok(target, `${namespace}/${name} not in the plan`);
    edit(target.spec);
    return copy;
  }
  const fromNs = (rule: Json, ns: string) =>
    (rule.from ?? rule.to ?? []).some(
      (p: Json) => p.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === ns,
    );

  it("finds nothing on the homelab plan", () => {
    assert.deepEqual(checkIntent(config, manifests), []);
  });

  it("names the flow and the missing ingress corner when a destination rule is dropped", () => {
    const broken = edited("localstack", "localstack-network-policy", (spec) => {
      spec.ingress = spec.ingress.filter((r: Json) => !fromNs(r, "velero"));
    });
    const messages = checkIntent(config, broken).map((f) => f.message);
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(
      messages[0],
      /declared flow "velero-to-localstack" \(velero -> localstack on TCP 4566\) is denied: missing ingress at localstack\//,
    );
  });

  it("names the missing egress corner when a source rule is dropped", () => {
    const broken = edited("argo-workflows", "argo-workflows-network-policy", (spec) => {
      spec.egress = spec.egress.filter(
        (r: Json) => !(r.to ?? []).some((p: Json) => p.ipBlock?.cidr === "0.0.0.0/0"),
      );
    });
    const messages = checkIntent(config, broken).map((f) => f.message);
    assert.ok(
      messages.some((m) =>
        /"argo-workflows-to-backblaze-b2" .* missing egress at argo-workflows\//.test(m),
      ),
      messages.join("\n"),
    );
  });

  it("reports an allowed connection the config does not declare", () => {
    let broken = edited("velero", "velero-network-policy", (spec) => {
      spec.egress.push({
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "falco" } } }],
        ports: [{ protocol: "TCP", port: 2801 }],
      });
    });
    // One corner alone opens nothing: the engine needs both, and so does the finding.
    assert.deepEqual(checkIntent(config, broken), []);
    const withIngress = structuredClone(broken);
    const falco = withIngress.find((m) => m.metadata.name === "falco-network-policy");
    falco?.spec.ingress.push({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "velero" } } }],
      ports: [{ protocol: "TCP", port: 2801 }],
    });
    broken = withIngress;
    const messages = checkIntent(config, broken).map((f) => f.message);
    assert.deepEqual(messages, [
      "velero -> falco is allowed on TCP 2801 but the config declares no such connection",
    ]);
  });

  it("reports a widened port range on a declared pair", () => {
    const broken = edited("localstack", "localstack-network-policy", (spec) => {
      const rule = spec.ingress.find((r: Json) => fromNs(r, "velero"));
      rule.ports = [{ protocol: "TCP", port: 4000, endPort: 5000 }];
    });
    const velero = structuredClone(broken);
    const egress = velero.find((m) => m.metadata.name === "velero-network-policy");
    const out = egress?.spec.egress.find((r: Json) => fromNs(r, "localstack"));
    out.ports = [{ protocol: "TCP", port: 4000, endPort: 5000 }];
    // With the identity layer in place ztunnel still narrows the plaintext to 4566 (gate 3):
    // without it, the CNI widening shows end to end.
    assert.deepEqual(checkIntent(config, velero), []);
    const cniOnly = velero.filter((m) => !String(m.apiVersion).startsWith("security.istio.io/"));
    const messages = checkIntent(config, cniOnly).map((f) => f.message);
    assert.ok(
      messages.includes(
        "velero -> localstack is allowed on TCP 4000-4565, TCP 4567-5000 but the config declares no such connection",
      ),
      messages.join("\n"),
    );
  });

  it("reports undeclared ingress from external addresses into a namespace", () => {
    const everyPort = edited("loki", "loki-network-policy", (spec) => {
      spec.ingress.push({ from: [{ ipBlock: { cidr: "0.0.0.0/1" } }] });
    });
    // loki is meshed: its ztunnel authorization still refuses TCP without a mesh identity, so
    // what reaches loki from half the internet is everything else.
    assert.deepEqual(
      checkIntent(config, everyPort).map((f) => [f.namespace, f.message]),
      [
        [
          "loki",
          "loki ingress from 0.0.0.0/1 is allowed on UDP 1-65535, SCTP 1-65535, ICMP but the config declares no such connection",
        ],
      ],
    );
    const lan = edited("loki", "loki-network-policy", (spec) => {
      spec.ingress.push({
        from: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
        ports: [{ protocol: "UDP", port: 7946 }],
      });
    });
    assert.deepEqual(
      checkIntent(config, lan).map((f) => f.message),
      [
        "loki ingress from 10.0.0.0/8 is allowed on UDP 7946 but the config declares no such connection",
      ],
    );
  });

  it("reports undeclared egress to external addresses, the LAN excepted from the internet", () => {
    // argo-workflows declares internet egress on 443 and the Kubernetes API: the internet is
    // declared without the private ranges, so 10.0.0.0/8 on 443 is undeclared except the API.
    const broken = edited("argo-workflows", "argo-workflows-network-policy", (spec) => {
      spec.egress.push({
        to: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 5432 },
        ],
      });
    });
    const external = checkIntent(config, broken)
      .map((f) => f.message)
      .filter((m) => m.startsWith("argo-workflows egress"));
    assert.deepEqual(external, [
      "argo-workflows egress to 10.0.0.0-10.96.0.0 is allowed on TCP 443, TCP 5432 but the config declares no such connection",
      "argo-workflows egress to 10.96.0.1/32 is allowed on TCP 5432 but the config declares no such connection",
      "argo-workflows egress to 10.96.0.2-10.255.255.255 is allowed on TCP 443, TCP 5432 but the config declares no such connection",
    ]);
  });

  it("accepts an external peer the config declares (internet egress on its port)", () => {
    const narrowed = edited("argo-workflows", "argo-workflows-network-policy", (spec) => {
      spec.egress.push({
        to: [{ ipBlock: { cidr: "8.8.8.0/24" } }],
        ports: [{ protocol: "TCP", port: 443 }],
      });
    });
    assert.deepEqual(checkIntent(config, narrowed), []);
  });

  it("runs as a mandatory stack policy of the pack, in plan and preview", () => {
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props) }));
    const target = copy.find(
      (r) => (r.props.metadata as Json)?.name === "localstack-network-policy",
    );
    const spec = target?.props.spec as Json;
    spec.ingress = spec.ingress.filter((r: Json) => !fromNs(r, "velero"));
    const violations = evaluateResources(copy, packConfigFromFacts(factsFromStackConfig(config)));
    const intent = violations.filter((v) => v.policyName === "declared-connectivity");
    assert.equal(intent.length, 1);
    assert.equal(intent[0].enforcementLevel, "mandatory");
    assert.match(intent[0].message, /velero-to-localstack/);
  });

  it("fails closed when the objects cannot be modelled", () => {
    const broken = edited("velero", "velero-network-policy", (spec) => {
      spec.egress.push({
        to: [{ ipBlock: { cidr: "10.0.0.0/99" } }],
        ports: [{ protocol: "TCP", port: 1 }],
      });
    });
    assert.throws(() => checkIntent(config, broken), /10\.0\.0\.0\/99/);
    const copy = resources.map((r) => ({ ...r, props: structuredClone(r.props) }));
    const target = copy.find((r) => (r.props.metadata as Json)?.name === "velero-network-policy");
    (target?.props.spec as Json).egress.push({
      to: [{ ipBlock: { cidr: "10.0.0.0/99" } }],
      ports: [{ protocol: "TCP", port: 1 }],
    });
    const intent = evaluateResources(
      copy,
      packConfigFromFacts(factsFromStackConfig(config)),
    ).filter((v) => v.policyName === "declared-connectivity");
    assert.equal(intent.length, 1);
    assert.match(intent[0].message, /cannot verify the declared connectivity/);
  });

  it("stays silent on plain YAML without a ClusterProtection (nothing is declared there)", () => {
    const plain = resources.filter((r) => r.type.startsWith("kubernetes:"));
    const violations = evaluateResources(plain, packConfigFromFacts(factsFromStackConfig(config)));
    assert.equal(violations.filter((v) => v.policyName === "declared-connectivity").length, 0);
  });
});

describe("stack policies under the real engine's view of components", () => {
  it("read the intent from the components' registered outputs, as `pulumi preview` hands them over", async () => {
    const rendered = await renderStack("homelab");
    const cluster = rendered.resources.find(
      (r) => r.type === "zt-netpol:cluster:ClusterProtection",
    );
    assert.ok(cluster?.outputs, "ClusterProtection registered outputs");
    assert.equal((cluster.outputs.cluster as { name: string }).name, "homelab");
    const violations = evaluateResources(
      asPolicyEngineSees(rendered.resources),
      packConfigFromFacts(factsFromStackConfig(rendered.config)),
    );
    assert.deepEqual(violations, []);
  });

  it("fail closed, by policy, when a component carries no intent (outputs without the config)", async () => {
    const rendered = await renderStack("homelab");
    const bare = asPolicyEngineSees(rendered.resources).map((r) =>
      r.type === "zt-netpol:cluster:ClusterProtection"
        ? { ...r, props: { connectionCount: 1 } }
        : r,
    );
    const violations = evaluateResources(
      bare,
      packConfigFromFacts(factsFromStackConfig(rendered.config)),
    );
    const intent = violations.filter((v) => v.policyName === "declared-connectivity");
    assert.equal(intent.length, 1);
    assert.equal(intent[0].enforcementLevel, "mandatory");
    assert.match(intent[0].message, /cannot verify.*cluster: missing/s);
    assert.ok(
      violations.some(
        (v) => v.policyName === "namespace-baseline-deny-all" && /cluster: missing/.test(v.message),
      ),
    );
  });
});
