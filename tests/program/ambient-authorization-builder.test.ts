/**
 * components/authorization.ts: the identity layer rendered from the declared flows, and the
 * config fields it reads (serviceAccount on a flow end, mesh.trustDomain, mesh.portPreserving).
 */
import { strict as assert } from "assert";
import { renderNamespaceAuthorization } from "../../components/authorization";
import { expandConnections } from "../../components/connections";
import { loadStackConfig } from "../../config/load";
import type { FlowConfig, StackConfig } from "../../config/types";
import { validateStackConfig } from "../../config/validate";
import { renderNamespacePolicies } from "../../components/rules";
import { explainFlow } from "../../engine";
import { checkIntent } from "../../policypack/lib/intent";
import { buildStackModel } from "../../plan/connectivity";

/** The stack's objects from the pure builders (what the components register). */
function manifestsOf(config: StackConfig): Record<string, unknown>[] {
  const connections = expandConnections(config);
  return config.namespaces.flatMap((ns) => [
    ...renderNamespacePolicies(
      ns.name,
      connections.filter((c) =>
        [c.from, c.to].some((e) => e.kind === "workload" && e.namespace === ns.name),
      ),
      config.cluster,
    ),
    ...(ns.meshed
      ? (() => {
          const a = renderNamespaceAuthorization(config, ns.name, connections);
          return [...a.policies, a.peerAuthentication];
        })()
      : []),
  ]) as unknown as Record<string, unknown>[];
}

function withFlow(config: StackConfig, flow: FlowConfig, trustDomain?: string): StackConfig {
  const mesh = config.cluster.mesh!;
  return {
    ...config,
    cluster: { ...config.cluster, mesh: { ...mesh, trustDomain: trustDomain ?? mesh.trustDomain } },
    flows: [...config.flows, flow],
  };
}

describe("identity layer builder (components/authorization.ts)", () => {
  const homelab = loadStackConfig("homelab");
  const render = (config: StackConfig, ns: string) =>
    renderNamespaceAuthorization(config, ns, expandConnections(config));

  it("renders a namespace-wide ALLOW with one rule per source, TCP ports only, and STRICT mTLS", () => {
    const loki = render(homelab, "loki");
    const [wide] = loki.policies;
    assert.equal(wide.metadata.name, "loki-authorization");
    assert.equal(wide.metadata.labels["app.kubernetes.io/managed-by"], "zt-netpol");
    assert.equal(wide.spec.selector, undefined);
    assert.deepEqual(wide.spec.rules, [
      { from: [{ source: { namespaces: ["default"] } }], to: [{ operation: { ports: ["3100"] } }] },
      // intra-loki: 7946/UDP is not captured by ztunnel and is left out.
      {
        from: [{ source: { namespaces: ["loki"] } }],
        to: [{ operation: { ports: ["3100", "7946", "9095"] } }],
      },
    ]);
    assert.deepEqual(loki.peerAuthentication.spec, { mtls: { mode: "STRICT" } });
    assert.equal(loki.peerAuthentication.metadata.name, "loki-mtls");
  });

  it("scopes pod-labelled destinations with a selector", () => {
    const scoped = render(homelab, "loki").policies.find((p) => p.spec.selector);
    assert.deepEqual(scoped?.spec.selector, { matchLabels: { "app.kubernetes.io/name": "loki" } });
    assert.deepEqual(scoped?.spec.rules, [
      { from: [{ source: { namespaces: ["loki"] } }], to: [{ operation: { ports: ["3100"] } }] },
    ]);
  });

  it("gives plaintext sources notPrincipals ['*'], PERMISSIVE mTLS and a DENY of plaintext elsewhere", () => {
    const localstack = render(homelab, "localstack");
    assert.ok(
      localstack.policies[0].spec.rules?.some(
        (r) => JSON.stringify(r.from) === JSON.stringify([{ source: { notPrincipals: ["*"] } }]),
      ),
    );
    assert.equal(localstack.peerAuthentication.spec.mtls.mode, "PERMISSIVE");
    const deny = localstack.policies.find((p) => p.spec.action === "DENY");
    assert.deepEqual(deny?.spec.rules, [
      {
        from: [{ source: { notPrincipals: ["*"] } }],
        to: [{ operation: { notPorts: ["4566"] } }],
      },
    ]);
  });

  it("names a service account as a principal in the mesh's trust domain", () => {
    const flow: FlowConfig = {
      name: "grafana-sa-to-unipoller",
      from: { kind: "workload", namespace: "default", podLabels: {}, serviceAccount: "grafana" },
      to: { kind: "workload", namespace: "unipoller", podLabels: {} },
      ports: [{ port: 9130, protocol: "TCP" }],
      reason: "test",
    };
    const rules = render(withFlow(homelab, flow, "homelab.example"), "unipoller").policies[0].spec
      .rules;
    assert.ok(
      rules?.some(
        (r) => r.from?.[0].source.principals?.[0] === "homelab.example/ns/default/sa/grafana",
      ),
      JSON.stringify(rules),
    );
  });

  it("a flow that names a service account passes the intent check, and only that identity gets through", () => {
    const flow: FlowConfig = {
      name: "grafana-sa-to-unipoller",
      from: {
        kind: "workload",
        namespace: "default",
        podLabels: { "app.kubernetes.io/name": "grafana" },
        serviceAccount: "grafana",
      },
      to: { kind: "workload", namespace: "unipoller", podLabels: {} },
      ports: [{ port: 8443, protocol: "TCP" }],
      reason: "test",
    };
    const config = withFlow(homelab, flow);
    const manifests = manifestsOf(config);
    assert.deepEqual(
      checkIntent(config, manifests).map((f) => f.message),
      [],
    );
    const model = buildStackModel(config, manifests, expandConnections(config));
    const to = { namespace: "unipoller" };
    const labels = { "app.kubernetes.io/name": "grafana" };
    const asGrafana = explainFlow(model, {
      from: { namespace: "default", podLabels: labels, serviceAccount: "grafana" },
      to,
      port: 8443,
    });
    assert.equal(asGrafana.verdict, "allowed", asGrafana.text);
    const asDefault = explainFlow(model, {
      from: { namespace: "default", podLabels: labels, serviceAccount: "default" },
      to,
      port: 8443,
    });
    assert.equal(asDefault.verdict, "denied");
    assert.ok(
      asDefault.pairs.every(
        (p) => p.egress.allowed && p.ingress.allowed && p.ztunnel?.allowed === false,
      ),
    );
  });

  it("renders an allow-nothing ALLOW policy for a meshed namespace nothing reaches", () => {
    const config: StackConfig = {
      ...homelab,
      namespaces: [
        ...homelab.namespaces,
        {
          ...homelab.namespaces.find((n) => n.name === "unipoller")!,
          name: "quiet",
          metricsPorts: [],
          lanEgress: [],
        },
      ],
    };
    const quiet = render(config, "quiet");
    assert.deepEqual(quiet.policies[0].spec, { action: "ALLOW" });
  });

  it("validates serviceAccount, mesh.trustDomain and mesh.portPreserving with their key paths", () => {
    const base = {
      cluster: {
        name: "t",
        apiServer: { clusterIP: "10.96.0.1", port: 443 },
        controlPlane: { cidr: "10.0.0.0/24", port: 6443 },
        dns: { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" }, port: 53 },
        privateRanges: ["10.0.0.0/8"],
        monitoringNamespace: "mon",
        mesh: {
          namespace: "istio-system",
          hbonePort: 15008,
          istiodPorts: [15012],
          probeSource: "169.254.7.127/32",
          trustDomain: "Bad_Domain",
          portPreserving: "yes",
        },
        lanHosts: {},
        edge: { namespaces: [], ports: [] },
      },
      namespaces: [
        { name: "a", purpose: "a", meshed: true },
        { name: "b", purpose: "b", meshed: true },
      ],
      flows: [
        {
          name: "f",
          from: { namespace: "a", serviceAccount: "Not_Valid" },
          to: "b",
          ports: [80],
          reason: "r",
        },
        {
          name: "g",
          from: { cidr: "10.1.0.0/16", serviceAccount: "x" },
          to: "b",
          ports: [80],
          reason: "r",
        },
      ],
    };
    assert.throws(
      () => validateStackConfig(base as never),
      (error: Error) =>
        /mesh\.trustDomain.*invalid trust domain/.test(error.message) &&
        /mesh\.portPreserving.*must be true or false/.test(error.message) &&
        /flows\[0\]\.from\.serviceAccount.*invalid service account name/.test(error.message) &&
        /flows\[1\]\.from\.serviceAccount.*only apply to a namespace endpoint/.test(error.message),
    );
  });
});
