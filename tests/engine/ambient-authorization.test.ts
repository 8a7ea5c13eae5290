/**
 * Gate 3, ztunnel authorization at a meshed destination: one test per semantic rule, each naming
 * its source, plus a property (combined verdict = CNI corners AND ztunnel, computed apart) and the
 * homelab's declared flows through all three gates.
 */
import { strict as assert } from "assert";
import fc from "fast-check";
import { expandConnections } from "../../components/connections";
import { ztunnelSees } from "../../components/authorization";
import { loadStackConfig } from "../../config/load";
import { buildModel, evaluatePair, Evaluator, explainFlow, type ClusterModel } from "../../engine";
import { allowsConnection } from "../../engine/model/connections";
import { renderStack } from "../../plan/render";
import { buildStackModel } from "../../plan/connectivity";

type Json = Record<string, unknown>;
const MESH = { namespace: "istio-system", hbonePort: 15008, probeSource: "169.254.7.127" };

const ns = (name: string, meshed = true): Json => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels: meshed ? { "istio.io/dataplane-mode": "ambient" } : {} },
});
const pod = (
  namespace: string,
  name: string,
  labels: Json = {},
  serviceAccount?: string,
): Json => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, labels },
  spec: {
    containers: [{ name: "c", image: "i" }],
    ...(serviceAccount ? { serviceAccountName: serviceAccount } : {}),
  },
});
const authz = (namespace: string, name: string, spec: Json): Json => ({
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name, namespace },
  spec,
});
const peerAuth = (namespace: string, spec: Json): Json => ({
  apiVersion: "security.istio.io/v1",
  kind: "PeerAuthentication",
  metadata: { name: `${namespace}-mtls`, namespace },
  spec,
});

/** Client in `a` (meshed unless said), server in `b` (meshed), plus a plain namespace `plain`. */
function cluster(extra: Json[], options: { portPreserving?: boolean } = {}): ClusterModel {
  return buildModel(
    [
      ns("a"),
      ns("b"),
      ns("plain", false),
      pod("a", "client", { app: "client" }, "client-sa"),
      pod("b", "server", { app: "server" }),
      pod("plain", "legacy"),
      ...extra,
    ],
    { mesh: { ...MESH, ...options } },
  );
}

const from = (namespace: string) => ({ namespace });
function verdict(
  model: ClusterModel,
  source: string,
  port: number,
  protocol: "TCP" | "UDP" = "TCP",
) {
  return explainFlow(model, { from: from(source), to: { namespace: "b" }, port, protocol });
}
const allowRule = (namespaces: string[], ports: string[]) => ({
  from: [{ source: { namespaces } }],
  to: [{ operation: { ports } }],
});

describe("ztunnel authorization (gate 3)", () => {
  it("no ALLOW policy: allowed (ztunnel src/state.rs assert_rbac: 'no allow policies, allow')", () => {
    assert.equal(verdict(cluster([]), "a", 8080).verdict, "allowed");
  });

  it("an ALLOW policy that applies denies what no rule matches (Istio authorization-policy reference; assert_rbac)", () => {
    const model = cluster([
      authz("b", "allow", { action: "ALLOW", rules: [allowRule(["a"], ["80"])] }),
    ]);
    assert.equal(verdict(model, "a", 80).verdict, "allowed");
    const denied = verdict(model, "a", 8080);
    assert.equal(denied.verdict, "denied");
    assert.match(
      denied.text,
      /Ztunnel authorization at the destination .*denied - ALLOW policies apply/,
    );
  });

  it("DENY is checked before ALLOW (assert_rbac: 'If there are any DENY policies that match the request, deny')", () => {
    const model = cluster([
      authz("b", "allow", { action: "ALLOW", rules: [allowRule(["a"], ["80"])] }),
      authz("b", "deny", {
        action: "DENY",
        rules: [{ from: [{ source: { namespaces: ["a"] } }] }],
      }),
    ]);
    const result = verdict(model, "a", 80);
    assert.equal(result.verdict, "denied");
    assert.match(result.text, /denied by AuthorizationPolicy\/b\/deny spec\.rules\[0\]/);
  });

  it("an ALLOW policy without rules allows nothing; a rule {} allows everything (ztunnel src/rbac.rs rbac_empty_policy)", () => {
    assert.equal(
      verdict(cluster([authz("b", "none", { action: "ALLOW" })]), "a", 80).verdict,
      "denied",
    );
    const open = cluster([authz("b", "all", { action: "ALLOW", rules: [{}] })]);
    assert.equal(verdict(open, "a", 12345).verdict, "allowed");
  });

  it("an ALLOW rule with L7 fields is dropped (istiod ambient/authorization.go handleRule)", () => {
    const model = cluster([
      authz("b", "get", {
        action: "ALLOW",
        rules: [
          { ...allowRule(["a"], ["80"]), to: [{ operation: { ports: ["80"], methods: ["GET"] } }] },
        ],
      }),
    ]);
    const result = verdict(model, "a", 80);
    assert.equal(result.verdict, "denied");
    assert.match(result.text, /Dropped by istiod .*uses to\[0\]\.operation\.methods/);
    assert.equal(model.authorizationPolicies?.[0].rules.length, 0);
  });

  it("a DENY rule is enforced without its L7 fields (handleRule: 'enforced without the HTTP rules')", () => {
    const model = cluster([
      authz("b", "deny-get", {
        action: "DENY",
        rules: [
          {
            from: [{ source: { namespaces: ["a"] } }],
            to: [{ operation: { ports: ["80"], methods: ["GET"] } }],
          },
        ],
      }),
    ]);
    assert.equal(verdict(model, "a", 80).verdict, "denied");
    assert.equal(verdict(model, "a", 81).verdict, "allowed");
    assert.deepEqual(model.authorizationPolicies?.[0].rules[0].ignoredFields, [
      "to[0].operation.methods",
    ]);
  });

  it("STRICT denies plaintext from outside the mesh; PERMISSIVE lets it reach authorization (istiod convertPeerAuthentication)", () => {
    const strict = cluster([peerAuth("b", { mtls: { mode: "STRICT" } })]);
    const plain = verdict(strict, "plain", 80);
    assert.equal(plain.verdict, "denied");
    assert.match(plain.text, /mTLS is STRICT \(PeerAuthentication\/b\/b-mtls\)/);
    assert.equal(verdict(strict, "a", 80).verdict, "allowed", "meshed sources have an identity");
    const permissive = cluster([peerAuth("b", { mtls: { mode: "PERMISSIVE" } })]);
    assert.equal(verdict(permissive, "plain", 80).verdict, "allowed");
  });

  it("port-level PERMISSIVE under a STRICT namespace opens plaintext on that port only (convertPeerAuthentication)", () => {
    const model = cluster([
      peerAuth("b", { mtls: { mode: "STRICT" } }),
      {
        ...peerAuth("b", {
          selector: { matchLabels: { app: "server" } },
          portLevelMtls: { "8080": { mode: "PERMISSIVE" } },
        }),
        metadata: { name: "server-ports", namespace: "b" },
      },
    ]);
    assert.equal(verdict(model, "plain", 8080).verdict, "allowed");
    assert.equal(verdict(model, "plain", 8081).verdict, "denied");
  });

  it("principals carry the trust domain and the service account, compared without spiffe:// (rbac.rs matches_principal)", () => {
    const rule = (principal: string) =>
      cluster([
        authz("b", "p", {
          action: "ALLOW",
          rules: [{ from: [{ source: { principals: [principal] } }] }],
        }),
      ]);
    assert.equal(verdict(rule("cluster.local/ns/a/sa/client-sa"), "a", 80).verdict, "allowed");
    assert.equal(verdict(rule("cluster.local/ns/a/sa/default"), "a", 80).verdict, "denied");
    assert.equal(
      verdict(rule("spiffe://cluster.local/ns/a/sa/client-sa"), "a", 80).verdict,
      "denied",
    );
    assert.equal(verdict(rule("*/ns/a/sa/client-sa"), "a", 80).verdict, "allowed", "suffix match");
  });

  it("notPrincipals ['*'] matches plaintext only (rbac.rs StringMatch::Presence)", () => {
    const model = cluster([
      authz("b", "plaintext", {
        action: "ALLOW",
        rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }],
      }),
    ]);
    assert.equal(verdict(model, "plain", 80).verdict, "allowed");
    assert.equal(verdict(model, "a", 80).verdict, "denied");
  });

  it("a policy in the root namespace applies mesh-wide; a selector narrows to its pods (authorization.go scope)", () => {
    const global = cluster([authz("istio-system", "mesh-deny-all", { action: "ALLOW" })]);
    assert.equal(verdict(global, "a", 80).verdict, "denied");
    const scoped = cluster([
      authz("b", "other-pods", { selector: { matchLabels: { app: "other" } }, action: "ALLOW" }),
    ]);
    assert.equal(verdict(scoped, "a", 80).verdict, "allowed", "the policy selects no server pod");
  });

  it("probes bypass ztunnel and UDP is not captured (istio.io ambient/usage/networkpolicy)", () => {
    const model = cluster([
      authz("b", "none", { action: "ALLOW" }),
      peerAuth("b", { mtls: { mode: "STRICT" } }),
    ]);
    const probe = explainFlow(model, {
      from: { kubelet: true },
      to: { namespace: "b" },
      port: 8080,
    });
    assert.match(
      probe.text,
      /bypassed - istio-cni does not redirect traffic from the probe source/,
    );
    assert.equal(probe.pairs[0].ztunnel, undefined);
    const udp = verdict(model, "a", 53, "UDP");
    assert.equal(udp.verdict, "allowed");
    assert.match(udp.text, /ztunnel captures TCP only/);
  });

  it("mesh.portPreserving makes the CNI judge the application port instead of HBONE", () => {
    const np = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "only-80", namespace: "b" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: 80 }] }] },
    };
    assert.equal(verdict(cluster([np]), "a", 80).verdict, "denied", "HBONE 15008 is not open");
    const preserving = cluster([np], { portPreserving: true });
    assert.equal(verdict(preserving, "a", 80).verdict, "allowed");
    assert.match(
      verdict(preserving, "a", 80).text,
      /keeps the original destination port \(mesh\.portPreserving\): the CNI sees TCP 80/,
    );
    assert.equal(verdict(preserving, "a", 81).verdict, "denied");
  });

  it("an IPv6-only ipBlocks list matches no IPv4 source; an empty L7 list is no L7 field (handleRule counts len > 0)", () => {
    const v6 = cluster([
      authz("b", "v6", {
        action: "ALLOW",
        rules: [{ from: [{ source: { ipBlocks: ["fd00::/8"] } }] }],
      }),
    ]);
    assert.equal(verdict(v6, "plain", 80).verdict, "denied");
    const emptyL7 = cluster([
      authz("b", "empty-l7", {
        action: "ALLOW",
        rules: [{ from: [{ source: { namespaces: ["a"], requestPrincipals: [] } }] }],
      }),
    ]);
    assert.equal(emptyL7.authorizationPolicies?.[0].droppedRules.length, 0);
    assert.equal(verdict(emptyL7, "a", 80).verdict, "allowed");
  });

  it("fails closed on an unreadable policy, with its field path", () => {
    assert.throws(
      () =>
        cluster([
          authz("b", "bad", {
            action: "ALLOW",
            rules: [{ to: [{ operation: { ports: ["http"] } }] }],
          }),
        ]),
      /AuthorizationPolicy\/b\/bad spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: invalid port/,
    );
  });

  it("property: the combined verdict equals CNI egress AND CNI ingress AND ztunnel, computed apart", () => {
    const portArb = fc.constantFrom("80", "443", "8080");
    const sourceArb = fc.oneof(
      fc.record({ namespaces: fc.subarray(["a", "plain"], { minLength: 1 }) }),
      fc.record({ principals: fc.constant(["cluster.local/ns/a/sa/client-sa"]) }),
      fc.record({ notPrincipals: fc.constant(["*"]) }),
    );
    const ruleArb = fc.record(
      {
        from: fc.array(
          sourceArb.map((source) => ({ source })),
          { maxLength: 2 },
        ),
        to: fc.array(
          fc.record({
            operation: fc.record({ ports: fc.subarray(["80", "443", "8080"], { minLength: 1 }) }),
          }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    );
    const policyArb = fc.record({
      action: fc.constantFrom("ALLOW", "DENY"),
      rules: fc.array(ruleArb, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(policyArb, { maxLength: 3 }),
        fc.constantFrom("STRICT", "PERMISSIVE"),
        fc.boolean(),
        portArb,
        fc.constantFrom("a", "plain"),
        (specs, mode, withNetpol, portText, sourceNs) => {
          const objects = specs.map((s, i) => authz("b", `p${i}`, s));
          objects.push(peerAuth("b", { mtls: { mode } }));
          if (withNetpol)
            objects.push({
              apiVersion: "networking.k8s.io/v1",
              kind: "NetworkPolicy",
              metadata: { name: "np", namespace: "b" },
              spec: {
                podSelector: {},
                policyTypes: ["Ingress"],
                ingress: [{ ports: [{ port: 15008 }, { port: 80 }] }],
              },
            });
          const model = cluster(objects);
          const evaluator = new Evaluator(model);
          const source = {
            kind: "pod" as const,
            pod: model.pods.find((p) => p.namespace === sourceNs)!,
          };
          const destination = {
            kind: "pod" as const,
            pod: model.pods.find((p) => p.namespace === "b")!,
          };
          const port = Number(portText);
          const combined = allowsConnection(
            evaluatePair(evaluator, source, destination).connections,
            "TCP",
            port,
          );
          const cniPort = sourceNs === "a" ? MESH.hbonePort : port;
          const cni =
            evaluator.cornerDecision("egress", source, destination, "TCP", cniPort).allowed &&
            evaluator.cornerDecision("ingress", source, destination, "TCP", cniPort).allowed;
          const ztunnel = evaluator.ztunnel.decide(source, destination.pod, port).allowed;
          assert.equal(combined, cni && ztunnel);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("homelab: every declared flow passes all three gates", () => {
  it("is allowed end to end, and ztunnel decides every TCP flow into a meshed namespace", async function () {
    this.timeout(120000);
    const config = loadStackConfig("homelab");
    const rendered = await renderStack("homelab");
    const connections = expandConnections(config);
    const model = buildStackModel(config, rendered.manifests, connections);
    const meshed = new Set(config.namespaces.filter((n) => n.meshed).map((n) => n.name));
    let judgedByZtunnel = 0;
    for (const c of connections.filter(
      (x) => x.from.kind === "workload" && x.to.kind === "workload" && ztunnelSees(x),
    )) {
      if (c.from.kind !== "workload" || c.to.kind !== "workload") continue;
      for (const p of c.ports) {
        const result = explainFlow(model, {
          from: { namespace: c.from.namespace, podLabels: { ...c.from.podLabels } },
          to: { namespace: c.to.namespace, podLabels: { ...c.to.podLabels } },
          port: p.port,
          protocol: p.protocol,
        });
        assert.equal(
          result.verdict,
          "allowed",
          `${c.name} ${p.protocol} ${p.port}\n${result.text}`,
        );
        if (p.protocol === "TCP" && meshed.has(c.to.namespace)) {
          assert.ok(
            result.pairs
              .filter((pair) => pair.source !== pair.destination) // a pod to itself
              .every((pair) => pair.ztunnel?.allowed),
            `${c.name}: ztunnel did not judge it`,
          );
          judgedByZtunnel++;
        }
      }
    }
    assert.ok(judgedByZtunnel > 10, `only ${judgedByZtunnel} flows reached ztunnel`);
    const loki = explainFlow(model, {
      from: { namespace: "argo-workflows" },
      to: { namespace: "localstack" },
      port: 9999,
    });
    assert.equal(loki.verdict, "denied");
    assert.ok(
      loki.pairs.every(
        (p) => p.egress.allowed && p.ingress.allowed && p.ztunnel?.allowed === false,
      ),
      loki.text,
    );
  });
});
