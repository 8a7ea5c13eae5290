/**
 * Issue 8's config entrances: reserved names, misspelt config namespaces, RFC 1918 coverage,
 * port lists that mean "every port", a cluster without monitoring, the DNS namespace and its
 * upstream resolver, and duplicate flows. Each case is a located error (or warning) or a plan the
 * pack passes.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { expandConnections } from "../../components/connections";
import { loadStackConfig } from "../../config/load";
import { ConfigError, stackConfigWarnings, validateStackConfig } from "../../config/validate";
import { formatViolations } from "../../policypack/run";
import { admits, networkPolicies } from "../helpers/policies";
import {
  HOMELAB_FILE,
  MINILAB_FILE,
  planAndJudge,
  rawConfigOf,
  writeStack,
  type RawConfig,
} from "./stacks";

function problemsOf(raw: RawConfig): string[] {
  try {
    validateStackConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return [...error.problems];
  }
  assert.fail("config was accepted");
}

function expectProblem(
  mutate: (raw: RawConfig) => void,
  keyPath: string,
  fragment: RegExp,
  base = HOMELAB_FILE,
): void {
  const raw = rawConfigOf(base);
  mutate(raw);
  const problems = problemsOf(raw);
  const hit = problems.find((p) => p.startsWith(`zt-netpol:${keyPath}:`));
  assert.ok(hit, `no problem at ${keyPath}; got:\n${problems.join("\n")}`);
  assert.match(hit, fragment);
}

function accepted(mutate: (raw: RawConfig) => void, base = HOMELAB_FILE) {
  const raw = rawConfigOf(base);
  mutate(raw);
  return validateStackConfig(raw);
}

const nsAt = (raw: RawConfig, name: string): RawConfig =>
  raw.namespaces.find((n: { name: string }) => n.name === name);
const indexOf = (name: string, base = HOMELAB_FILE): number =>
  rawConfigOf(base).namespaces.findIndex((n: { name: string }) => n.name === name);

describe("reserved names", () => {
  it("refuses a namespace named like the internet keyword, wherever a namespace is named", () => {
    const count = rawConfigOf(HOMELAB_FILE).namespaces.length;
    expectProblem(
      (raw) => raw.namespaces.push({ name: "internet", purpose: "x" }),
      `namespaces[${count}].name`,
      /"internet" is reserved: a flow end written internet means 0\.0\.0\.0\/0/,
    );
    expectProblem(
      (raw) => (raw.cluster.monitoringNamespace = "internet"),
      "cluster.monitoringNamespace",
      /reserved/,
    );
    expectProblem(
      (raw) => (raw.flows[1].to = { namespace: "internet", podLabels: { app: "x" } }),
      "flows[1].to.namespace",
      /reserved/,
    );
    expectProblem(
      (raw) => (raw.cluster.edge.namespaces = ["internet"]),
      "cluster.edge.namespaces[0]",
      /reserved/,
    );
  });

  it("still reads `internet` as the internet, and only own keys as keywords", () => {
    const config = loadStackConfig("homelab");
    assert.deepEqual(config.flows[0].from, {
      kind: "external",
      cidr: "0.0.0.0/0",
      host: "internet",
    });
    // `constructor` is a property of every object, not a keyword: it is an undeclared namespace.
    expectProblem(
      (raw) => (raw.flows[1].to = "constructor"),
      "flows[1].to",
      /flow destination "constructor" is not a declared namespace/,
    );
    expectProblem(
      (raw) => (raw.flows[1].to = { host: "constructor" }),
      "flows[1].to.host",
      /neither a CIDR nor a LAN host/,
    );
  });

  it("refuses LAN host names that reports already use for generated ends", () => {
    for (const name of ["internet", "control-plane", "kubernetes-api", "ztunnel-probe"]) {
      expectProblem(
        (raw) => (raw.cluster.lanHosts[name] = "10.0.1.9"),
        `cluster.lanHosts.${name}`,
        /is reserved/,
      );
    }
    expectProblem(
      (raw) => (raw.cluster.lanHosts.Gateway2 = "10.0.1.9"),
      "cluster.lanHosts.Gateway2",
      /lowercase RFC 1123 label/,
    );
  });
});

describe("misspelt config namespaces", () => {
  function stackWithKey(key: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-ns-"));
    const raw = rawConfigOf(HOMELAB_FILE);
    const config: Record<string, unknown> = {
      "zt-netpol:cluster": raw.cluster,
      "zt-netpol:namespaces": raw.namespaces,
      [key]: raw.flows,
      "kubernetes:context": "homelab-admin",
    };
    fs.writeFileSync(path.join(dir, "Pulumi.typo.yaml"), stringify({ config }));
    return dir;
  }

  for (const key of ["zt-netpo:flows", "zt_netpol:flows", "ztnetpol:flows", "ZT-NETPOL:flows"]) {
    it(`refuses ${key}, which would silently drop every flow`, () => {
      assert.throws(
        () => loadStackConfig("typo", stackWithKey(key)),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.problems.length, 1, error.problems.join("\n"));
          assert.match(
            error.problems[0],
            new RegExp(
              `^${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: config namespace .* \\(did you mean "zt-netpol:flows"\\?\\)`,
            ),
          );
          return true;
        },
      );
    });
  }

  it("leaves other projects' namespaces alone", () => {
    const config = loadStackConfig("typo", stackWithKey("zt-netpol:flows"));
    assert.equal(config.flows.length, rawConfigOf(HOMELAB_FILE).flows.length);
  });
});

describe("private ranges cover RFC 1918", () => {
  it("refuses privateRanges without 172.16/12 and 192.168/16, naming what is missing", () => {
    expectProblem(
      (raw) => (raw.cluster.privateRanges = ["10.0.0.0/8"]),
      "cluster.privateRanges",
      /does not cover 172\.16\.0\.0\/12, 192\.168\.0\.0\/16 of RFC 1918/,
    );
    expectProblem(
      (raw) => (raw.cluster.privateRanges = ["10.0.0.0/9", "172.16.0.0/12", "192.168.0.0/16"]),
      "cluster.privateRanges",
      /does not cover 10\.128\.0\.0\/9/,
    );
  });

  it("accepts the ranges in pieces, and a gap exempted with a reason", () => {
    accepted(
      (raw) =>
        (raw.cluster.privateRanges = [
          "10.0.0.0/9",
          "10.128.0.0/9",
          "172.16.0.0/12",
          "192.168.0.0/16",
        ]),
    );
    const config = accepted((raw) => {
      raw.cluster.privateRanges = ["10.0.0.0/8", "192.168.0.0/16"];
      raw.cluster.privateRangesExemptions = [
        { range: "172.16.0.0/12", reason: "the provider routes 172.16/12 as public space here" },
      ];
    });
    assert.deepEqual(config.cluster.privateRangesExemptions, [
      { range: "172.16.0.0/12", reason: "the provider routes 172.16/12 as public space here" },
    ]);
  });

  it("refuses an exemption without a reason, outside RFC 1918, or already covered", () => {
    expectProblem(
      (raw) => {
        raw.cluster.privateRanges = ["10.0.0.0/8", "192.168.0.0/16"];
        raw.cluster.privateRangesExemptions = [{ range: "172.16.0.0/12" }];
      },
      "cluster.privateRangesExemptions[0].reason",
      /is required/,
    );
    expectProblem(
      (raw) => (raw.cluster.privateRangesExemptions = [{ range: "100.64.0.0/10", reason: "r" }]),
      "cluster.privateRangesExemptions[0].range",
      /not inside RFC 1918/,
    );
    expectProblem(
      (raw) => (raw.cluster.privateRangesExemptions = [{ range: "10.1.0.0/16", reason: "r" }]),
      "cluster.privateRangesExemptions[0].range",
      /stale/,
    );
  });
});

describe("port lists that mean every port", () => {
  const loki = indexOf("loki");
  const cases: [string, (raw: RawConfig) => void, string, string][] = [
    ["a flow", (raw) => (raw.flows[1].ports = ["1-65535"]), "flows[1].ports", "TCP"],
    [
      "intraNamespace in two pieces",
      (raw) => (nsAt(raw, "loki").intraNamespace = ["1-1000/UDP", "1001-65535/UDP"]),
      `namespaces[${loki}].intraNamespace`,
      "UDP",
    ],
    [
      "externalEgress as an object",
      (raw) => (nsAt(raw, "loki").externalEgress = [{ port: 1, endPort: 65535 }]),
      `namespaces[${loki}].externalEgress`,
      "TCP",
    ],
    [
      "webhookPorts",
      (raw) => (nsAt(raw, "loki").webhookPorts = [443, "1-65535/SCTP"]),
      `namespaces[${loki}].webhookPorts`,
      "SCTP",
    ],
    [
      "a LAN host's ports",
      (raw) => (nsAt(raw, "unipoller").lanEgress[0].ports = ["1-65535"]),
      `namespaces[${indexOf("unipoller")}].lanEgress[0].ports`,
      "TCP",
    ],
  ];
  for (const [what, mutate, keyPath, protocol] of cases) {
    it(`refuses ${what} covering every ${protocol} port`, () => {
      expectProblem(mutate, keyPath, new RegExp(`covers every ${protocol} port \\(1-65535\\)`));
    });
  }

  it("accepts a wide range that leaves a port out", () => {
    // UDP: into a meshed namespace a wide TCP range is refused for another reason (ztunnel's
    // AuthorizationPolicy lists TCP ports one by one; tests/program/config.test.ts).
    accepted((raw) => (raw.flows[1].ports = ["2-65535/UDP"]));
  });
});

describe("a cluster without monitoring", () => {
  const withoutMonitoring = (raw: RawConfig) => {
    delete raw.cluster.monitoringNamespace;
    for (const ns of raw.namespaces) delete ns.metricsPorts;
  };

  it("refuses metricsPorts when nothing scrapes, saying why", () => {
    expectProblem(
      (raw) => delete raw.cluster.monitoringNamespace,
      `namespaces[${indexOf("web", MINILAB_FILE)}].metricsPorts`,
      /nothing scrapes them: cluster\.monitoringNamespace is not set/,
      MINILAB_FILE,
    );
  });

  it("says cert-manager needs a monitoring namespace rather than two contradicting fixes", () => {
    expectProblem(
      (raw) => {
        withoutMonitoring(raw);
        raw.namespaces.push({ name: "cert-manager", purpose: "TLS", webhookPorts: [10250] });
        raw.certManager = { enabled: true, namespace: "cert-manager" };
      },
      "certManager",
      /metricsPorts need cluster\.monitoringNamespace/,
      MINILAB_FILE,
    );
  });

  it("plans without scrape rules, and the pack passes", async () => {
    const raw = rawConfigOf(MINILAB_FILE);
    withoutMonitoring(raw);
    const config = validateStackConfig(raw);
    assert.ok(expandConnections(config).every((c) => c.kind !== "metrics"));
    const { result, mandatory } = await planAndJudge("nomon", writeStack("nomon", raw));
    assert.equal(mandatory.length, 0, formatViolations(mandatory));
    const policies = networkPolicies(result.manifests);
    assert.ok(
      !admits(policies, {
        namespace: "web",
        direction: "ingress",
        peerNamespace: "monitoring",
        port: 9100,
      }),
    );
  });
});

describe("the DNS namespace and its upstream", () => {
  it("refuses an unprotected DNS namespace and explains why it must be protected", () => {
    const raw = rawConfigOf(MINILAB_FILE);
    raw.namespaces = raw.namespaces.filter((n: { name: string }) => n.name !== "kube-system");
    const problem = problemsOf(raw).find((p) => p.startsWith("zt-netpol:cluster.dns.namespace:"));
    assert.ok(problem);
    assert.match(problem, /must itself be protected/);
    assert.match(problem, /every protected namespace's DNS egress points at it/);
    assert.match(problem, /open neighbour/);
  });

  it("refuses an unprotected mesh namespace while namespaces are meshed", () => {
    expectProblem(
      (raw) =>
        (raw.namespaces = raw.namespaces.filter(
          (n: { name: string }) => n.name !== "istio-system",
        )),
      "cluster.mesh.namespace",
      /the mesh namespace "istio-system" must itself be protected/,
    );
  });

  it("requires an upstream resolver or an explicit none", () => {
    expectProblem(
      (raw) => delete raw.cluster.dns.upstream,
      "cluster.dns.upstream",
      /is required: .*every lookup of a name outside the cluster fails/,
    );
    expectProblem((raw) => (raw.cluster.dns.upstream = []), "cluster.dns.upstream", /none/);
    expectProblem(
      (raw) => (raw.cluster.dns.upstream = ["gatewy"]),
      "cluster.dns.upstream[0]",
      /neither a CIDR nor a LAN host/,
    );
    expectProblem(
      (raw) => (raw.cluster.dns.upstream = ["0.0.0.0/0"]),
      "cluster.dns.upstream[0]",
      /not the whole internet/,
    );
    const none = accepted((raw) => (raw.cluster.dns.upstream = "none"));
    assert.ok(expandConnections(none).every((c) => c.kind !== "dns-upstream"));
  });

  it("generates the upstream egress for the DNS pods only, and the pack passes", async () => {
    const raw = rawConfigOf(MINILAB_FILE);
    raw.cluster.dns.upstream = ["router", "1.1.1.1"];
    const { result, mandatory } = await planAndJudge("upstream", writeStack("upstream", raw));
    assert.equal(mandatory.length, 0, formatViolations(mandatory));
    const policies = networkPolicies(result.manifests);
    const dnsPods = { "k8s-app": "kube-dns" };
    for (const [cidr, protocol] of [
      ["192.168.50.1/32", "UDP"],
      ["192.168.50.1/32", "TCP"],
      ["1.1.1.1/32", "UDP"],
    ]) {
      const query = {
        namespace: "kube-system",
        direction: "egress" as const,
        peerCidr: cidr,
        port: 53,
        protocol,
      };
      assert.ok(admits(policies, { ...query, podLabels: dnsPods }), `${cidr} ${protocol}`);
      const baseline = policies.filter((p) => p.spec.podSelector?.matchLabels === undefined);
      assert.ok(!admits(baseline, query), `only the DNS pods reach ${cidr}`);
    }
  });
});

describe("duplicate flows", () => {
  const pasted = {
    name: "grafana-to-prometheus-remote",
    from: { namespace: "default", podLabels: { "app.kubernetes.io/name": "grafana" } },
    to: "loki",
    ports: [3100],
    reason: "Grafana queries Loki.",
  };

  it("warns, with both key paths, on a flow whose ends and ports another flow declares", () => {
    const config = accepted((raw) => raw.flows.push(pasted));
    const index = config.flows.length - 1;
    const twin = config.flows.findIndex((f) => f.name === "grafana-to-loki");
    assert.deepEqual(stackConfigWarnings(config), [
      `zt-netpol:flows[${index}]: flow "grafana-to-prometheus-remote" duplicates flows[${twin}] "grafana-to-loki": same ends, and every port is already declared there; remove it or merge the reasons`,
    ]);
  });

  it("warns on the narrower of two, and not on flows that add a port or differ in an end", () => {
    const wider = accepted((raw) => raw.flows.push({ ...pasted, ports: [3100, 9095] }));
    const warnings = stackConfigWarnings(wider);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0],
      /flow "grafana-to-loki" duplicates flows\[\d+\] "grafana-to-prometheus-remote"/,
    );
    const otherEnd = accepted((raw) =>
      raw.flows.push({ ...pasted, from: { namespace: "default", podLabels: { app: "x" } } }),
    );
    assert.deepEqual(stackConfigWarnings(otherEnd), []);
    assert.deepEqual(stackConfigWarnings(loadStackConfig("homelab")), []);
  });
});
