/**
 * Which workload a pod belongs to (docs/engine.md, "Workloads"): only the controller
 * ownerReference names it, a Node is not a workload controller (static pods), and pods of one
 * workload that a policy tells apart are refused rather than unioned.
 */
import assert from "node:assert/strict";
import {
  ManifestError,
  buildModel,
  computeConnectivity,
  formatConnections,
  peerName,
  workloadConnections,
} from "../../engine";
import { knp, ns } from "./helpers";

type Obj = Record<string, unknown>;

function ownedPod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ownerReferences: Obj[],
): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels, ownerReferences },
    spec: { containers: [{ name: "main" }] },
  };
}

const nodeOwner = (node: string): Obj => ({
  apiVersion: "v1",
  kind: "Node",
  name: node,
  uid: `uid-${node}`,
  controller: true,
});

function workloadLines(objects: Obj[]): string[] {
  const m = buildModel(objects, { ipBlockMatchesPods: false });
  return workloadConnections(computeConnectivity(m), ["TCP"]).map(
    (c) => `${peerName(c.from)} -> ${peerName(c.to)}: ${formatConnections(c.connections)}`,
  );
}

describe("workloads: which pods one line of the workload list stands for", () => {
  it("makes each static (mirror) pod owned by a Node a workload of its own", () => {
    const objects = [
      ns("kube-system"),
      ownedPod("kube-system", "kube-apiserver-cp1", { component: "kube-apiserver" }, [
        nodeOwner("cp1"),
      ]),
      ownedPod("kube-system", "etcd-cp1", { component: "etcd" }, [nodeOwner("cp1")]),
      // etcd only accepts the API server on 2379.
      knp("kube-system", "etcd", {
        podSelector: { matchLabels: { component: "etcd" } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { component: "kube-apiserver" } } }],
            ports: [{ port: 2379 }],
          },
        ],
      }),
    ];
    const m = buildModel(objects);
    assert.deepEqual(
      m.pods.map((p) => `${p.name}: ${p.owner.kind}/${p.owner.name}`),
      ["etcd-cp1: Pod/etcd-cp1", "kube-apiserver-cp1: Pod/kube-apiserver-cp1"],
    );
    const lines = workloadLines(objects);
    assert.ok(
      lines.includes("kube-system/kube-apiserver-cp1[Pod] -> kube-system/etcd-cp1[Pod]: TCP 2379"),
      lines.join("\n"),
    );
    // Folded into one node-owned workload, etcd took the API server's exposure: not any more.
    assert.deepEqual(
      lines.filter((line) => line.includes("[External] -> kube-system/etcd-cp1")),
      [],
    );
    assert.ok(lines.some((line) => line.includes("[External] -> kube-system/kube-apiserver-cp1")));
  });

  it("names the workload after the ownerReference with controller: true only", () => {
    const controller = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "api-7d9",
      uid: "u1",
      controller: true,
    };
    const notController = { apiVersion: "v1", kind: "ConfigMap", name: "owner-cm", uid: "u2" };
    const m = buildModel([
      ns("a"),
      ownedPod("a", "api-7d9-x1", { app: "api" }, [notController, controller]),
      ownedPod("a", "loose", { app: "loose" }, [notController]),
      ownedPod("a", "flagged-false", { app: "f" }, [{ ...controller, controller: false }]),
    ]);
    assert.deepEqual(
      m.pods.map((p) => `${p.name}: ${p.owner.kind}/${p.owner.name}`),
      ["api-7d9-x1: ReplicaSet/api-7d9", "flagged-false: Pod/flagged-false", "loose: Pod/loose"],
    );
  });

  const replicaSet = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "db-5f",
    uid: "u3",
    controller: true,
  };
  const shard = (name: string, role: string): Obj =>
    ownedPod("a", name, { app: "db", role, "pod-template-hash": name }, [replicaSet]);
  const primaryOnly = knp("a", "primary-only", {
    podSelector: { matchLabels: { app: "db", role: "primary" } },
    policyTypes: ["Ingress"],
    ingress: [],
  });

  it("refuses pods of one workload whose labels a policy tells apart, naming label and policy", () => {
    assert.throws(
      () =>
        buildModel([
          ns("a"),
          shard("db-5f-1", "primary"),
          shard("db-5f-2", "replica"),
          primaryOnly,
        ]),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.message.includes(
          "Pod/a/db-5f-2 metadata.labels.role: pods db-5f-1 and db-5f-2 of ReplicaSet db-5f differ in label role",
        ) &&
        e.message.includes("NetworkPolicy a/primary-only (its selector) tells apart"),
    );
  });

  const withIp = (pod: Obj, ip: string): Obj => ({ ...pod, status: { podIP: ip } });
  const fromBlock = knp("a", "from-block", {
    podSelector: {},
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr: "10.1.0.0/16" } }] }],
  });

  it("refuses pods of one workload that an ipBlock tells apart by address (ipBlocks match pods)", () => {
    const objects = [
      ns("a"),
      withIp(shard("db-5f-1", "primary"), "10.1.0.5"),
      withIp(shard("db-5f-2", "primary"), "10.2.0.5"),
      fromBlock,
    ];
    assert.throws(
      () => buildModel(objects),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.message.includes(
          "Pod/a/db-5f-2 status.podIP: pods db-5f-1 and db-5f-2 of ReplicaSet db-5f have addresses 10.1.0.5 and 10.2.0.5 that ipBlock 10.1.0.0/16 matches only one of, which NetworkPolicy a/from-block spec.egress[0] tells apart",
        ),
    );
    // netpol-analyzer's reading (ipBlocks never match pods) cannot tell them apart.
    assert.doesNotThrow(() => buildModel(objects, { ipBlockMatchesPods: false }));
  });

  it("refuses pods of one workload with different named ports once a rule names a port", () => {
    const withPort = (pod: Obj, port: number): Obj => ({
      ...pod,
      spec: { containers: [{ name: "main", ports: [{ name: "sql", containerPort: port }] }] },
    });
    const byName = knp("a", "sql", {
      podSelector: { matchLabels: { app: "db" } },
      policyTypes: ["Ingress"],
      ingress: [{ ports: [{ port: "sql" }] }],
    });
    assert.throws(
      () =>
        buildModel([
          ns("a"),
          withPort(shard("db-5f-1", "primary"), 5432),
          withPort(shard("db-5f-2", "primary"), 5433),
          byName,
        ]),
      (e: unknown) =>
        e instanceof ManifestError &&
        e.message.includes(
          "Pod/a/db-5f-2 spec.containers: pods db-5f-1 and db-5f-2 of ReplicaSet db-5f name different ports (sql=5432/TCP vs sql=5433/TCP)",
        ),
    );
  });

  it("keeps them one workload when no policy reads the labels that differ", () => {
    const m = buildModel([
      ns("a"),
      shard("db-5f-1", "primary"),
      shard("db-5f-2", "primary"),
      primaryOnly,
    ]);
    assert.deepEqual(new Set(m.pods.map((p) => p.owner.name)), new Set(["db-5f"]));
  });
});
