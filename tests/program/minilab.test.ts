import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { renderStack } from "../../plan/render";
import { admits, networkPolicies } from "../helpers/policies";

const FIXTURES = path.join(__dirname, "../fixtures");

describe("a second cluster is config only", () => {
  it("renders the minilab stack with its own facts and no mesh", async () => {
    const result = await renderStack("minilab", FIXTURES);
    const policies = networkPolicies(result.manifests);
    assert.deepEqual([...new Set(policies.map((p) => p.metadata.namespace))].sort(), [
      "api",
      "kube-system",
      "monitoring",
      "web",
    ]);
    assert.ok(
      admits(policies, {
        namespace: "api",
        direction: "egress",
        peerCidr: "10.43.0.1/32",
        port: 443,
      }),
    );
    assert.ok(
      admits(policies, {
        namespace: "api",
        direction: "egress",
        peerCidr: "192.168.50.0/28",
        port: 6443,
      }),
    );
    assert.ok(
      admits(policies, {
        namespace: "api",
        direction: "ingress",
        peerNamespace: "api",
        port: 7005,
      }),
    );
    assert.ok(
      !admits(policies, {
        namespace: "api",
        direction: "ingress",
        peerNamespace: "api",
        port: 7011,
      }),
    );
    assert.ok(
      admits(policies, {
        namespace: "api",
        podLabels: { app: "api" },
        direction: "ingress",
        peerNamespace: "web",
        peerPodLabels: { app: "frontend" },
        port: 8080,
      }),
    );
    assert.ok(
      !admits(policies, {
        namespace: "api",
        podLabels: { app: "api" },
        direction: "ingress",
        peerNamespace: "web",
        peerPodLabels: { app: "other" },
        port: 8080,
      }),
    );
    assert.ok(
      admits(policies, {
        namespace: "monitoring",
        direction: "egress",
        peerCidr: "192.168.50.1/32",
        port: 161,
        protocol: "UDP",
      }),
    );
    assert.ok(!JSON.stringify(result.manifests).includes("15008"), "no mesh, no HBONE");
  });

  it("installs cert-manager behind its protection with ports taken from it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-cm-"));
    const document = parse(fs.readFileSync(path.join(FIXTURES, "Pulumi.minilab.yaml"), "utf8"));
    document.config["zt-netpol:namespaces"].push({
      name: "cert-manager",
      purpose: "TLS",
      kubeApi: true,
      webhookPorts: [10260],
      metricsPorts: [9403],
    });
    document.config["zt-netpol:certManager"] = {
      enabled: true,
      namespace: "cert-manager",
      version: "v1.16.2",
    };
    fs.writeFileSync(path.join(dir, "Pulumi.cm.yaml"), stringify(document));
    const result = await renderStack("cm", dir);
    const release = result.resources.find(
      (r) => r.type === "kubernetes-cert-manager:index:CertManager",
    );
    assert.ok(release, "cert-manager component registered");
    const props = release.props as {
      webhook: { securePort: number };
      extraArgs: string[];
      prometheus: { serviceMonitor: { targetPort: number } };
      helmOptions: { namespace: string; version: string };
    };
    assert.equal(props.webhook.securePort, 10260);
    assert.deepEqual(props.extraArgs, ["--metrics-listen-address=0.0.0.0:9403"]);
    assert.equal(props.prometheus.serviceMonitor.targetPort, 9403);
    assert.deepEqual(props.helmOptions, { namespace: "cert-manager", version: "v1.16.2" });
    const policies = networkPolicies(result.manifests);
    assert.ok(
      admits(policies, {
        namespace: "cert-manager",
        direction: "ingress",
        peerCidr: "192.168.50.0/28",
        port: 10260,
      }),
    );
    assert.ok(
      admits(policies, {
        namespace: "cert-manager",
        direction: "ingress",
        peerNamespace: "monitoring",
        port: 9403,
      }),
    );
    const install = result.resources.find((r) => r.type === "zt-netpol:apps:CertManagerInstall");
    const byUrn = new Map(result.resources.map((r) => [r.urn, r]));
    const deps = (install?.dependencies ?? []).map((u) => byUrn.get(u));
    assert.ok(
      deps.some((d) => d?.name === "cert-manager-baseline"),
      "cert-manager waits for its namespace's baseline",
    );
  });

  it("refuses cert-manager when its namespace is not protected", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-cm-"));
    const document = parse(fs.readFileSync(path.join(FIXTURES, "Pulumi.minilab.yaml"), "utf8"));
    document.config["zt-netpol:certManager"] = { enabled: true, namespace: "cert-manager" };
    fs.writeFileSync(path.join(dir, "Pulumi.cm.yaml"), stringify(document));
    await assert.rejects(
      renderStack("cm", dir),
      /zt-netpol:certManager\.namespace: cert-manager is enabled but namespace "cert-manager" is not protected/,
    );
  });
});
