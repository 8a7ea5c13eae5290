import { strict as assert } from "assert";
import { renderStack, type RenderResult } from "../../plan/render";
import {
  admits,
  admittingPolicies,
  networkPolicies,
  type Policy,
  type PeerQuery,
} from "../helpers/policies";

const SEED_NAMESPACES = [
  "ingress-nginx",
  "istio-system",
  "gatekeeper-system",
  "localstack",
  "unipoller",
  "loki",
  "trivy-system",
  "velero",
  "argo-workflows",
  "cert-manager",
  "external-dns",
  "metallb-system",
  "falco",
  "default",
  "argocd",
  "synology-csi",
  "kube-system",
  "tigera-operator",
];
const MESHED = ["default", "loki", "argo-workflows", "localstack", "unipoller", "trivy-system"];
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

describe("homelab stack under the mock engine", function () {
  let result: RenderResult;
  let policies: Policy[];
  const allows = (q: PeerQuery) =>
    assert.ok(admits(policies, q), `expected an allow for ${JSON.stringify(q)}`);
  const denies = (q: PeerQuery) =>
    assert.deepEqual(
      admittingPolicies(policies, q),
      [],
      `expected no allow for ${JSON.stringify(q)}`,
    );

  before(async () => {
    result = await renderStack("homelab");
    policies = networkPolicies(result.manifests);
  });

  it("protects all 18 namespaces of the seed, each with exactly one baseline denying both directions", () => {
    for (const ns of SEED_NAMESPACES) {
      const baselines = policies.filter(
        (p) =>
          p.metadata.namespace === ns &&
          Object.keys(p.spec.podSelector?.matchLabels ?? {}).length === 0 &&
          p.spec.policyTypes?.includes("Ingress") &&
          p.spec.policyTypes?.includes("Egress"),
      );
      assert.equal(baselines.length, 1, `${ns} has ${baselines.length} baselines`);
    }
    const namespaces = new Set(policies.map((p) => p.metadata.namespace));
    assert.deepEqual([...namespaces].sort(), [...SEED_NAMESPACES].sort());
  });

  it("reproduces the seed's localstack example corner by corner", () => {
    for (const [peer, ports] of [
      ["istio-system", [15008, 4566]],
      ["velero", [4566]],
      ["argo-workflows", [15008, 4566]],
      ["default", [15008, 4566]],
    ] as const) {
      for (const port of ports)
        allows({ namespace: "localstack", direction: "ingress", peerNamespace: peer, port });
    }
    // velero is outside the mesh: only the application port, never the tunnel.
    denies({ namespace: "localstack", direction: "ingress", peerNamespace: "velero", port: 15008 });
    denies({ namespace: "localstack", direction: "ingress", peerNamespace: "loki", port: 4566 });
    for (const port of [15008, 15012, 15017])
      allows({ namespace: "localstack", direction: "egress", peerNamespace: "istio-system", port });
  });

  it("gives every namespace DNS with AND semantics (kube-dns pods only, UDP and TCP 53)", () => {
    for (const ns of SEED_NAMESPACES) {
      for (const protocol of ["UDP", "TCP"]) {
        allows({
          namespace: ns,
          direction: "egress",
          peerNamespace: "kube-system",
          peerPodLabels: { "k8s-app": "kube-dns" },
          port: 53,
          protocol,
        });
        denies({
          namespace: ns,
          direction: "egress",
          peerNamespace: "kube-system",
          peerPodLabels: { app: "metrics-server" },
          port: 53,
          protocol,
        });
      }
      allows({
        namespace: "kube-system",
        podLabels: { "k8s-app": "kube-dns" },
        direction: "ingress",
        peerNamespace: ns,
        port: 53,
        protocol: "UDP",
      });
    }
  });

  it("opens the Kubernetes API as ClusterIP:443 and control plane:6443 together, only where declared", () => {
    for (const ns of result.config.namespaces) {
      const service = admits(policies, {
        namespace: ns.name,
        direction: "egress",
        peerCidr: "10.96.0.1/32",
        port: 443,
      });
      const control = admits(policies, {
        namespace: ns.name,
        direction: "egress",
        peerCidr: "10.0.10.0/24",
        port: 6443,
      });
      assert.equal(service, ns.kubeApi, `${ns.name} ClusterIP`);
      assert.equal(control, ns.kubeApi, `${ns.name} control plane`);
    }
    assert.equal(result.config.namespaces.find((n) => n.name === "tigera-operator")?.kubeApi, true);
  });

  it("lets Prometheus in default scrape every namespace's metrics ports, with HBONE where both ends are meshed", () => {
    for (const ns of result.config.namespaces) {
      for (const { port } of ns.metricsPorts) {
        allows({ namespace: ns.name, direction: "ingress", peerNamespace: "default", port });
        allows({ namespace: "default", direction: "egress", peerNamespace: ns.name, port });
      }
      const hbone = admits(policies, {
        namespace: ns.name,
        direction: "ingress",
        peerNamespace: "default",
        port: 15008,
      });
      // istio-system takes 15008 from every meshed namespace anyway (ztunnel), so it proves nothing here.
      if (ns.metricsPorts.length > 0 && ns.name !== "default" && ns.name !== "istio-system")
        assert.equal(hbone, MESHED.includes(ns.name), `${ns.name} HBONE from default`);
    }
  });

  it("applies the trivy-system erratum: default reaches both 15008 and 8080, and scan jobs reach 4954", () => {
    allows({
      namespace: "trivy-system",
      direction: "ingress",
      peerNamespace: "default",
      port: 15008,
    });
    allows({
      namespace: "trivy-system",
      direction: "ingress",
      peerNamespace: "default",
      port: 8080,
    });
    allows({
      namespace: "trivy-system",
      direction: "ingress",
      peerNamespace: "trivy-system",
      port: 4954,
    });
    allows({
      namespace: "trivy-system",
      direction: "egress",
      peerNamespace: "trivy-system",
      port: 4954,
    });
  });

  it("keeps cert-manager, external-dns and metallb-system as the seed spells them", () => {
    allows({
      namespace: "cert-manager",
      direction: "ingress",
      peerCidr: "10.0.10.0/24",
      port: 10250,
    });
    allows({
      namespace: "cert-manager",
      direction: "ingress",
      peerNamespace: "default",
      port: 9402,
    });
    allows({
      namespace: "cert-manager",
      direction: "ingress",
      peerNamespace: "cert-manager",
      port: 9402,
    });
    allows({
      namespace: "external-dns",
      direction: "ingress",
      peerNamespace: "default",
      port: 7979,
    });
    allows({
      namespace: "external-dns",
      direction: "ingress",
      peerNamespace: "default",
      port: 8080,
    });
    allows({
      namespace: "external-dns",
      direction: "ingress",
      peerNamespace: "external-dns",
      port: 8888,
    });
    for (const port of [443, 8443])
      allows({ namespace: "external-dns", direction: "egress", peerCidr: "10.0.1.1/32", port });
    allows({
      namespace: "metallb-system",
      direction: "ingress",
      peerNamespace: "default",
      port: 7472,
    });
    allows({
      namespace: "metallb-system",
      direction: "ingress",
      peerNamespace: "default",
      port: 7473,
    });
    allows({
      namespace: "metallb-system",
      direction: "ingress",
      peerNamespace: "metallb-system",
      port: 7946,
      protocol: "UDP",
    });
    allows({
      namespace: "metallb-system",
      direction: "ingress",
      peerNamespace: "metallb-system",
      port: 7946,
    });
    allows({
      namespace: "metallb-system",
      direction: "ingress",
      peerCidr: "10.0.10.0/24",
      port: 9443,
    });
  });

  it("sends internet egress to 0.0.0.0/0 minus every private range, on named ports only", () => {
    const internetRules = policies.flatMap((p) =>
      (p.spec.egress ?? []).filter((r) => r.to?.some((peer) => peer.ipBlock?.cidr === "0.0.0.0/0")),
    );
    assert.ok(internetRules.length >= 6);
    for (const rule of internetRules) {
      for (const peer of rule.to ?? []) assert.deepEqual(peer.ipBlock?.except, PRIVATE);
      assert.ok((rule.ports ?? []).length > 0 && rule.ports?.every((p) => p.port !== undefined));
    }
    allows({ namespace: "argo-workflows", direction: "egress", peerCidr: "0.0.0.0/0", port: 443 });
  });

  it("implements the architecture diagram's flows at both ends", () => {
    allows({ namespace: "ingress-nginx", direction: "ingress", peerCidr: "0.0.0.0/0", port: 80 });
    allows({ namespace: "ingress-nginx", direction: "ingress", peerCidr: "0.0.0.0/0", port: 443 });
    denies({
      namespace: "ingress-nginx",
      direction: "ingress",
      peerCidr: "0.0.0.0/0",
      port: 10254,
    });
    for (const [from, to, port] of [
      ["ingress-nginx", "localstack", 4566],
      ["ingress-nginx", "argo-workflows", 2746],
      ["velero", "localstack", 4566],
      ["argo-workflows", "localstack", 4566],
    ] as const) {
      allows({ namespace: from, direction: "egress", peerNamespace: to, port });
      allows({ namespace: to, direction: "ingress", peerNamespace: from, port });
    }
    const promtail = { "app.kubernetes.io/name": "promtail" };
    const loki = { "app.kubernetes.io/name": "loki" };
    allows({
      namespace: "loki",
      podLabels: promtail,
      direction: "egress",
      peerNamespace: "loki",
      peerPodLabels: loki,
      port: 3100,
    });
    allows({
      namespace: "loki",
      podLabels: loki,
      direction: "ingress",
      peerNamespace: "loki",
      peerPodLabels: promtail,
      port: 3100,
    });
    const alertmanager = { "app.kubernetes.io/name": "alertmanager" };
    allows({
      namespace: "loki",
      direction: "egress",
      peerNamespace: "default",
      peerPodLabels: alertmanager,
      port: 9093,
    });
    allows({
      namespace: "default",
      podLabels: alertmanager,
      direction: "ingress",
      peerNamespace: "loki",
      port: 9093,
    });
    allows({
      namespace: "default",
      podLabels: alertmanager,
      direction: "ingress",
      peerNamespace: "loki",
      port: 15008,
    });
  });

  it("admits the ztunnel probe source in meshed namespaces only", () => {
    for (const ns of SEED_NAMESPACES) {
      const probe = admits(policies, {
        namespace: ns,
        direction: "ingress",
        peerCidr: "169.254.7.127/32",
        port: 8080,
      });
      assert.equal(probe, MESHED.includes(ns), ns);
    }
  });

  it("renders the blackbox-exporter ICMP policy as a Calico CRD", () => {
    const calico = result.manifests.filter((m) => m.apiVersion === "projectcalico.org/v3");
    assert.equal(calico.length, 1);
    const spec = calico[0].spec as {
      selector: string;
      types: string[];
      egress: { action: string; protocol: string; destination: { nets: string[] } }[];
    };
    assert.deepEqual((calico[0].metadata as { namespace: string }).namespace, "default");
    assert.equal(spec.selector, "app == 'blackbox-exporter'");
    assert.deepEqual(spec.types, ["Egress"]);
    assert.deepEqual(spec.egress, [
      {
        action: "Allow",
        protocol: "ICMP",
        destination: { nets: ["10.0.1.1/32", "10.0.1.204/32", "8.8.8.8/32"] },
      },
    ]);
  });

  it("follows the component conventions: tokens, parents, child names and explicit metadata", () => {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    for (const r of result.resources) {
      assert.match(r.type, /^[a-z0-9-]+:[a-zA-Z0-9./-]+:[A-Za-z]+$/, r.type);
      if (r.type === "zt-netpol:cluster:ClusterProtection") continue;
      const parent = r.parent ? byUrn.get(r.parent) : undefined;
      assert.ok(parent, `${r.type} ${r.name} has no parent`);
      assert.ok(
        r.name.startsWith(`${parent.name}-`) ||
          parent.type === "zt-netpol:cluster:ClusterProtection",
        `${r.name} is not named after ${parent.name}`,
      );
      if (r.custom) {
        const metadata = r.props.metadata as { name?: string; namespace?: string };
        assert.ok(
          metadata.name && metadata.namespace,
          `${r.name} lacks explicit metadata.name/namespace`,
        );
      }
    }
  });

  it("passes the intent to stack policies through component props", () => {
    const cluster = result.resources.find((r) => r.type === "zt-netpol:cluster:ClusterProtection");
    assert.equal((cluster?.props.cluster as { name: string }).name, "homelab");
    assert.equal((cluster?.props.flows as unknown[]).length, result.config.flows.length);
    const loki = result.resources.find(
      (r) => r.type === "zt-netpol:network:NamespaceProtection" && r.name === "loki",
    );
    assert.equal(loki?.props.namespace, "loki");
    assert.equal((loki?.props.config as { meshed: boolean }).meshed, true);
  });

  it("orders the rollout: pod-scoped allows before the namespace's deny, Calico policies after it", () => {
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    const lokiBaseline = result.resources.find((r) => r.name === "loki-baseline");
    const deps = (lokiBaseline?.dependencies ?? []).map((u) => byUrn.get(u)?.name);
    assert.deepEqual(deps.sort(), ["loki-loki-loki-4f0ca558", "loki-loki-promtail-f991a37b"]);
    const defaultBaseline = result.resources.find((r) => r.name === "default-baseline");
    assert.ok(defaultBaseline);
    const defaultDeps = (defaultBaseline.dependencies ?? []).map((u) => byUrn.get(u)?.type);
    assert.ok(
      defaultDeps.length > 0 &&
        defaultDeps.every((t) => t === "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
      JSON.stringify(defaultDeps),
    );
    // The Calico custom resource itself (not only its component) waits for the baseline: a Calico
    // policy created first would isolate its pods with only ICMP (docs/rollout.md).
    const calico = result.resources.filter(
      (r) =>
        r.type === "kubernetes:projectcalico.org/v3:NetworkPolicy" &&
        (r.props.metadata as { namespace?: string } | undefined)?.namespace === "default",
    );
    assert.ok(calico.length > 0);
    for (const policy of calico)
      assert.ok(policy.dependencies.includes(defaultBaseline.urn), policy.name);
  });

  it("renders deterministically", async () => {
    const again = await renderStack("homelab");
    assert.deepEqual(again.manifests, result.manifests);
  });
});
