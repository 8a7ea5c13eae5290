import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { loadStackConfig, readStackFile, rawConfigFromFlat } from "../../config/load";
import { renderNamespaceAuthorization } from "../../components/authorization";
import { expandConnections } from "../../components/connections";
import { ConfigError, validateStackConfig } from "../../config/validate";
import { installMockEngine, waitForRegistrations } from "../../plan/mockRuntime";
import { PROJECT_NAME } from "../../plan/render";

// Raw YAML is untyped by nature; the tests poke at it the way a user's typo would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type RawConfig = Record<string, any>;

const homelabRaw = () =>
  structuredClone(
    rawConfigFromFlat(readStackFile(path.join(__dirname, "../../Pulumi.homelab.yaml"))),
  ) as RawConfig;

function problemsOf(mutate: (raw: RawConfig) => void): string[] {
  const raw = homelabRaw();
  mutate(raw);
  try {
    validateStackConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail("config was accepted");
}

function expectProblem(mutate: (raw: RawConfig) => void, keyPath: string, fragment: RegExp): void {
  const problems = problemsOf(mutate);
  const hit = problems.find((p) => p.startsWith(`zt-netpol:${keyPath}:`));
  assert.ok(hit, `no problem at ${keyPath}; got:\n${problems.join("\n")}`);
  assert.match(hit, fragment);
}

const ns = (raw: RawConfig, name: string) =>
  raw.namespaces.find((n: { name: string }) => n.name === name);
const nsIndex = (name: string) =>
  homelabRaw().namespaces.findIndex((n: { name: string }) => n.name === name);

describe("stack config validation", () => {
  it("accepts the homelab stack", () => {
    const config = loadStackConfig("homelab");
    assert.equal(config.namespaces.length, 18);
    assert.equal(config.cluster.mesh?.probeSource, "169.254.7.127/32");
  });

  it("rejects an invalid CIDR with its key path", () => {
    expectProblem(
      (raw) => (raw.cluster.controlPlane.cidr = "10.0.10.0/33"),
      "cluster.controlPlane.cidr",
      /invalid IPv4 CIDR/,
    );
    expectProblem(
      (raw) => (raw.cluster.controlPlane.cidr = "10.0.10.5/24"),
      "cluster.controlPlane.cidr",
      /zero host bits/,
    );
  });

  it("rejects a port out of range", () => {
    const i = nsIndex("loki");
    expectProblem(
      (raw) => (ns(raw, "loki").metricsPorts = [70000]),
      `namespaces[${i}].metricsPorts[0]`,
      /1 to 65535/,
    );
    expectProblem((raw) => (raw.flows[0].ports = [0]), "flows[0].ports[0]", /1 to 65535/);
  });

  it("rejects an unknown protocol and points ICMP to Calico", () => {
    expectProblem(
      (raw) => (raw.flows[1].ports = ["4566/TCPP"]),
      "flows[1].ports[0].protocol",
      /unknown protocol/,
    );
    expectProblem(
      (raw) => (raw.flows[1].ports = [{ port: 1, protocol: "ICMP" }]),
      "flows[1].ports[0].protocol",
      /calicoPolicies/,
    );
  });

  it("rejects a flow naming an undeclared namespace", () => {
    expectProblem(
      (raw) => (raw.flows[1].to = "localstak"),
      "flows[1].to",
      /not a declared namespace/,
    );
  });

  it("rejects a duplicate namespace", () => {
    const count = homelabRaw().namespaces.length;
    expectProblem(
      (raw) => raw.namespaces.push({ name: "loki", purpose: "again" }),
      `namespaces[${count}].name`,
      /duplicate namespace "loki"/,
    );
  });

  it("rejects mesh use without mesh settings", () => {
    expectProblem(
      (raw) => delete raw.cluster.mesh,
      `namespaces[${nsIndex("localstack")}].meshed`,
      /cluster\.mesh/,
    );
  });

  it("rejects a Calico selector syntax error with the selector's key path", () => {
    const i = nsIndex("default");
    expectProblem(
      (raw) => (ns(raw, "default").calicoPolicies[0].selector = "app == 'blackbox-exporter"),
      `namespaces[${i}].calicoPolicies[0].selector`,
      /does not parse/,
    );
  });

  it("rejects an unknown key and suggests the intended one", () => {
    const i = nsIndex("velero");
    expectProblem(
      (raw) => (ns(raw, "velero").metricPorts = [8085]),
      `namespaces[${i}].metricPorts`,
      /did you mean "metricsPorts"/,
    );
    expectProblem((raw) => (raw.flow = []), "flow", /did you mean "flows"/);
  });

  it("refuses peers that would select the whole DNS namespace", () => {
    expectProblem(
      (raw) => (ns(raw, "kube-system").metricsPorts = [9153]),
      `namespaces[${nsIndex("kube-system")}].metricsPorts`,
      /cannot be scraped namespace-wide/,
    );
    expectProblem(
      (raw) =>
        raw.flows.push({
          name: "x",
          from: "velero",
          to: "kube-system",
          ports: [8080],
          reason: "r",
        }),
      `flows[${homelabRaw().flows.length}].to`,
      /AND semantics/,
    );
  });

  it("requires the private ranges that internet egress must except", () => {
    expectProblem(
      (raw) => (raw.cluster.privateRanges = []),
      "cluster.privateRanges",
      /must list the private ranges/,
    );
    expectProblem(
      (raw) => delete raw.cluster.privateRanges,
      "cluster.privateRanges",
      /must list the private ranges/,
    );
  });

  it("refuses Calico rules and policies that Calico would reject or ignore", () => {
    const i = nsIndex("default");
    const at = `namespaces[${i}].calicoPolicies[0]`;
    const icmp = (raw: RawConfig) => ns(raw, "default").calicoPolicies[0];
    expectProblem(
      (raw) => (icmp(raw).egress[0].ports = [53]),
      `${at}.egress[0].ports`,
      /ports need protocol TCP, UDP, SCTP, UDPLite \(got ICMP\)/,
    );
    expectProblem(
      (raw) => (icmp(raw).ingress = [{ action: "Allow", protocol: "ICMP", nets: ["gateway"] }]),
      `${at}.ingress`,
      /types does not include Ingress/,
    );
    expectProblem((raw) => (icmp(raw).types = ["Egress", "Egress"]), `${at}.types`, /twice/);
    expectProblem((raw) => (icmp(raw).order = Number.POSITIVE_INFINITY), `${at}.order`, /finite/);
    expectProblem(
      (raw) => ns(raw, "default").calicoPolicies.push(structuredClone(icmp(raw))),
      `namespaces[${i}].calicoPolicies[1].name`,
      /duplicate Calico policy name/,
    );
  });

  it("refuses label keys the API server would reject", () => {
    const longPrefix = `${"a".repeat(64)}.example.com/name`;
    expectProblem(
      (raw) => (raw.flows[7].from.podLabels = { [longPrefix]: "x" }),
      `flows[7].from.podLabels.${longPrefix}`,
      /invalid label key/,
    );
  });

  it("reads a namespace's picture tier and rejects an unknown one", () => {
    const config = loadStackConfig("homelab");
    assert.equal(config.namespaces.find((n) => n.name === "ingress-nginx")?.tier, "edge");
    expectProblem(
      (raw) => (ns(raw, "velero").tier = "backend"),
      `namespaces[${nsIndex("velero")}].tier`,
      /must be one of edge, apps, platform; got "backend"/,
    );
  });

  it("reports every problem at once", () => {
    const problems = problemsOf((raw) => {
      raw.flows[0].ports = [99999];
      raw.cluster.privateRanges = ["nope"];
    });
    assert.ok(problems.length >= 2, problems.join("\n"));
  });

  it("fails before the program registers any resource", async () => {
    const raw = homelabRaw();
    raw.flows[1].to = "nowhere";
    const flat = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [`zt-netpol:${k}`, JSON.stringify(v)]),
    );
    const monitor = await installMockEngine({
      project: PROJECT_NAME,
      stack: "broken",
      config: flat,
    });
    const program = require.resolve("../../index.ts");
    delete require.cache[program];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must run fresh
    assert.throws(() => require(program), /zt-netpol:flows\[1\]\.to: flow destination "nowhere"/);
    await waitForRegistrations();
    assert.deepEqual(monitor.captured, []);
  });

  it("loads any stack file by name from a directory", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-stack-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.copy.yaml"),
      stringify({
        config: Object.fromEntries(
          Object.entries(homelabRaw()).map(([k, v]) => [`zt-netpol:${k}`, v]),
        ),
      }),
    );
    assert.equal(
      loadStackConfig("copy", dir).flows.length,
      loadStackConfig("homelab").flows.length,
    );
  });
});

describe("stack config validation: ztunnel authorization ports (Istio lists them one by one)", () => {
  const addFlow = (to: string, ports: string[]) => (raw: RawConfig) =>
    raw.flows.push({ name: "wide", from: "velero", to, ports, reason: "test" });
  const flowIndex = () => homelabRaw().flows.length;

  it("refuses a TCP range wider than 256 ports into a meshed namespace, at the flow's ports", () => {
    expectProblem(
      addFlow("loki", ["1-32767"]),
      `flows[${flowIndex()}].ports`,
      /TCP 1-32767 reaches a meshed namespace and is 32767 ports wide: ztunnel's AuthorizationPolicy lists ports one by one \(Istio has no port ranges\), at most 256/,
    );
    expectProblem(addFlow("loki", ["1000-1256"]), `flows[${flowIndex()}].ports`, /257 ports/);
  });

  it("refuses it in a meshed namespace's own port lists", () => {
    expectProblem(
      (raw) => (ns(raw, "loki").intraNamespace = ["1-1000"]),
      `namespaces[${nsIndex("loki")}].intraNamespace`,
      /TCP 1-1000 reaches a meshed namespace/,
    );
  });

  it("accepts 256 ports, UDP ranges, and any range into a namespace outside the mesh", () => {
    for (const mutate of [
      addFlow("loki", ["1000-1255"]),
      addFlow("loki", ["1-32767/UDP"]),
      addFlow("localstack", ["1-32767/UDP"]),
      (raw: RawConfig) =>
        raw.flows.push({
          name: "wide",
          from: "loki",
          to: "velero",
          ports: ["1-32767"],
          reason: "test",
        }),
    ]) {
      const raw = homelabRaw();
      mutate(raw);
      assert.doesNotThrow(() => validateStackConfig(raw));
    }
  });

  it("renders the widest accepted range port by port", () => {
    const raw = homelabRaw();
    addFlow("loki", ["1000-1255"])(raw);
    const config = validateStackConfig(raw);
    const [wide] = renderNamespaceAuthorization(config, "loki", expandConnections(config)).policies;
    const ports = wide.spec.rules?.flatMap((r) => r.to?.[0].operation.ports ?? []) ?? [];
    for (let port = 1000; port <= 1255; port++) assert.ok(ports.includes(String(port)), `${port}`);
  });
});
