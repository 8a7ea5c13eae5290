import { strict as assert } from "assert";
import { renderCalicoPolicy } from "../../components/calico";
import { expandConnections, type Connection } from "../../components/connections";
import {
  cornerPorts,
  ipBlockPeer,
  renderNamespacePolicies,
  workloadPeer,
} from "../../components/rules";
import { loadStackConfig } from "../../config/load";
import type { StackConfig } from "../../config/types";
import { admits, networkPolicies } from "../helpers/policies";

const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

describe("pure rule builders", () => {
  const homelab: StackConfig = loadStackConfig("homelab");

  it("keeps namespaceSelector AND podSelector in one peer, and uses podSelector alone inside the namespace", () => {
    assert.deepEqual(workloadPeer("loki", "kube-system", { "k8s-app": "kube-dns" }), {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    });
    assert.deepEqual(workloadPeer("loki", "loki", {}), { podSelector: {} });
    assert.deepEqual(workloadPeer("loki", "velero", {}), {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "velero" } },
    });
  });

  it("excepts only the private ranges an egress CIDR contains, and never on ingress", () => {
    assert.deepEqual(ipBlockPeer("0.0.0.0/0", "Egress", PRIVATE).ipBlock?.except, PRIVATE);
    assert.deepEqual(ipBlockPeer("10.0.0.0/7", "Egress", PRIVATE).ipBlock?.except, ["10.0.0.0/8"]);
    assert.equal(ipBlockPeer("10.0.1.1/32", "Egress", PRIVATE).ipBlock?.except, undefined);
    assert.equal(ipBlockPeer("0.0.0.0/0", "Ingress", PRIVATE).ipBlock?.except, undefined);
  });

  it("adds HBONE to both corners only when both ends are meshed and the flow carries TCP", () => {
    const byName = new Map(expandConnections(homelab).map((c) => [c.name, c]));
    const meshed = byName.get("argo-workflows-to-localstack") as Connection;
    const plain = byName.get("velero-to-localstack") as Connection;
    assert.equal(meshed.hbone, true);
    assert.equal(plain.hbone, false);
    assert.deepEqual(
      cornerPorts(meshed, 15008).map((p) => p.port),
      [15008, 4566],
    );
    assert.deepEqual(
      cornerPorts(plain, 15008).map((p) => p.port),
      [4566],
    );
    const udpOnly: Connection = { ...meshed, ports: [{ port: 7946, protocol: "UDP" }] };
    assert.deepEqual(cornerPorts(udpOnly, 15008), [{ port: 7946, protocol: "UDP" }]);
  });

  it("renders one flow into every corner: egress at the source, ingress at the destination", () => {
    const config: StackConfig = {
      ...homelab,
      flows: [
        {
          name: "a-to-b",
          from: { kind: "workload", namespace: "velero", podLabels: {} },
          to: { kind: "workload", namespace: "falco", podLabels: {} },
          ports: [{ port: 2801, protocol: "TCP" }],
          reason: "test",
        },
      ],
    };
    const connections = expandConnections(config);
    const velero = networkPolicies(
      renderNamespacePolicies("velero", connections, config.cluster) as never,
    );
    const falco = networkPolicies(
      renderNamespacePolicies("falco", connections, config.cluster) as never,
    );
    assert.ok(
      admits(velero, {
        namespace: "velero",
        direction: "egress",
        peerNamespace: "falco",
        port: 2801,
      }),
    );
    assert.ok(
      admits(falco, {
        namespace: "falco",
        direction: "ingress",
        peerNamespace: "velero",
        port: 2801,
      }),
    );
    assert.ok(
      !admits(falco, {
        namespace: "falco",
        direction: "egress",
        peerNamespace: "velero",
        port: 2801,
      }),
    );
  });

  it("puts pod-scoped corners in their own objects with explicit policyTypes, leaving the baseline namespace-wide", () => {
    const [baseline, ...scoped] = renderNamespacePolicies(
      "loki",
      expandConnections(homelab),
      homelab.cluster,
    );
    assert.equal(baseline.metadata.name, "loki-network-policy");
    assert.deepEqual(baseline.spec.podSelector, {});
    assert.deepEqual(baseline.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(
      scoped.map((p) => [p.metadata.name, p.spec.policyTypes, p.spec.podSelector]),
      [
        [
          "loki-promtail-f991a37b",
          ["Egress"],
          { matchLabels: { "app.kubernetes.io/name": "promtail" } },
        ],
        ["loki-loki-4f0ca558", ["Ingress"], { matchLabels: { "app.kubernetes.io/name": "loki" } }],
      ],
    );
  });

  it("merges ports per peer and keeps the probe source's any-port rule without ports", () => {
    const [baseline] = renderNamespacePolicies(
      "localstack",
      expandConnections(homelab),
      homelab.cluster,
    );
    const probe = baseline.spec.ingress?.find(
      (r) => r.from[0].ipBlock?.cidr === "169.254.7.127/32",
    );
    assert.ok(probe);
    assert.equal(probe.ports, undefined);
    const peers = baseline.spec.ingress?.map((r) => JSON.stringify(r.from)) ?? [];
    assert.equal(new Set(peers).size, peers.length, "one rule per peer");
  });

  it("generates the universal patterns from namespace needs", () => {
    const connections = expandConnections(homelab);
    const kinds = (ns: string) =>
      new Set(
        connections
          .filter(
            (c) =>
              (c.from.kind === "workload" && c.from.namespace === ns) ||
              (c.to.kind === "workload" && c.to.namespace === ns),
          )
          .map((c) => c.kind),
      );
    assert.deepEqual([...kinds("tigera-operator")].sort(), ["dns", "kube-api"]);
    assert.ok(kinds("localstack").has("mesh-probe") && kinds("localstack").has("mesh-control"));
    assert.ok(!kinds("velero").has("mesh-probe"));
  });

  it("renders Calico rules with nets on the side the direction constrains", () => {
    const manifest = renderCalicoPolicy("default", {
      name: "icmp",
      selector: "app == 'x'",
      types: ["Ingress", "Egress"],
      ingress: [{ action: "Allow", protocol: "ICMP", nets: ["10.0.0.0/8"] }],
      egress: [{ action: "Deny", protocol: "TCP", nets: ["8.8.8.8/32"], ports: [53] }],
    });
    assert.deepEqual(manifest.spec.ingress, [
      { action: "Allow", protocol: "ICMP", source: { nets: ["10.0.0.0/8"] } },
    ]);
    assert.deepEqual(manifest.spec.egress, [
      { action: "Deny", protocol: "TCP", destination: { nets: ["8.8.8.8/32"], ports: [53] } },
    ]);
  });

  it("excepts private ranges from wider egress, but not from a CIDR that is itself private", () => {
    const pieces = ["10.0.0.0/9", "10.128.0.0/9", "172.16.0.0/12", "192.168.0.0/16"];
    assert.deepEqual(ipBlockPeer("10.0.0.0/8", "Egress", pieces), {
      ipBlock: { cidr: "10.0.0.0/8" },
    });
    assert.deepEqual(ipBlockPeer("0.0.0.0/0", "Egress", pieces), {
      ipBlock: { cidr: "0.0.0.0/0", except: pieces },
    });
    assert.deepEqual(ipBlockPeer("10.0.0.0/7", "Egress", pieces), {
      ipBlock: { cidr: "10.0.0.0/7", except: ["10.0.0.0/9", "10.128.0.0/9"] },
    });
    assert.deepEqual(ipBlockPeer("0.0.0.0/0", "Ingress", pieces), {
      ipBlock: { cidr: "0.0.0.0/0" },
    });
  });
});
