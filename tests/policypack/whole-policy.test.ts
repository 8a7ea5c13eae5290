/**
 * Issue 8 item 2: the pack judges what a policy admits as a whole, not peer by peer.
 * - internet ingress is any public exposure wider than one party's network (a /24, an IPv6 /48),
 *   in a non-edge namespace or on a non-edge port, whatever the peers look like;
 * - "every port" is any port set that covers a protocol's whole range, however written;
 * - the ambient probe source must reach every pod of a meshed namespace on every TCP port.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { loadStackConfig } from "../../config/load";
import { asPolicyEngineSees, renderStack } from "../../plan/render";
import { evaluateResources, packConfigFromFacts } from "../../policypack/run";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { netpolResource, violationsOf } from "./helpers";

const INGRESS = "ingress-from-anywhere-edge-only";

function ingressFrom(namespace: string, cidrs: string[][], ports: number[] = [443]) {
  return netpolResource(namespace, `${namespace}-network-policy`, {
    podSelector: {},
    policyTypes: ["Ingress", "Egress"],
    ingress: cidrs.map((group) => ({
      from: group.map((cidr) => ({ ipBlock: { cidr } })),
      ports: ports.map((port) => ({ protocol: "TCP", port })),
    })),
  });
}

describe("internet ingress is judged on the whole policy", () => {
  it("catches 0.0.0.0/1 + 128.0.0.0/1 as two peers of one rule", () => {
    const found = violationsOf(INGRESS, [ingressFrom("argocd", [["0.0.0.0/1", "128.0.0.0/1"]])]);
    assert.equal(found.length, 1);
    assert.match(found[0].message, /argocd is not an edge namespace/);
  });

  it("catches 0.0.0.0/1 and 128.0.0.0/1 as two rules, and 0.0.0.0/1 alone", () => {
    assert.equal(
      violationsOf(INGRESS, [ingressFrom("argocd", [["0.0.0.0/1"], ["128.0.0.0/1"]])]).length,
      1,
    );
    assert.equal(violationsOf(INGRESS, [ingressFrom("argocd", [["0.0.0.0/1"]])]).length, 1);
  });

  it("allows one party's /24 and refuses a /23 (256 public addresses at most)", () => {
    assert.deepEqual(violationsOf(INGRESS, [ingressFrom("argocd", [["203.0.113.0/24"]])]), []);
    const wider = violationsOf(INGRESS, [ingressFrom("argocd", [["198.51.100.0/23"]])]);
    assert.equal(wider.length, 1);
    assert.match(wider[0].message, /512 public IPv4 addresses/);
    // Two /24s of the same policy add up.
    assert.equal(
      violationsOf(INGRESS, [ingressFrom("argocd", [["203.0.113.0/24"], ["198.51.100.0/24"]])])
        .length,
      1,
    );
  });

  it("does not count private sources, and counts what an except leaves public", () => {
    assert.deepEqual(violationsOf(INGRESS, [ingressFrom("argocd", [["10.0.0.0/8"]])]), []);
    const open = netpolResource("argocd", "argocd-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["0.0.0.0/1"] } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    });
    assert.equal(violationsOf(INGRESS, [open]).length, 1);
  });

  it("judges IPv6 blocks too: ::/0 and a /47 are internet, a /48 is one party", () => {
    assert.equal(violationsOf(INGRESS, [ingressFrom("argocd", [["::/0"]])]).length, 1);
    assert.equal(violationsOf(INGRESS, [ingressFrom("argocd", [["2001:db8::/47"]])]).length, 1);
    assert.deepEqual(violationsOf(INGRESS, [ingressFrom("argocd", [["2001:db8::/48"]])]), []);
  });

  it("lets an edge namespace take the internet on edge ports only, however split", () => {
    const split = [["0.0.0.0/1"], ["128.0.0.0/1"]];
    assert.deepEqual(violationsOf(INGRESS, [ingressFrom("ingress-nginx", split, [80, 443])]), []);
    const off = violationsOf(INGRESS, [ingressFrom("ingress-nginx", split, [8080])]);
    assert.equal(off.length, 1);
    assert.match(off[0].message, /outside the edge ports 80, 443/);
  });

  it("judges Calico policies the same way (split nets are internet-wide)", () => {
    const calico = {
      type: "kubernetes:projectcalico.org/v3:NetworkPolicy",
      name: "argocd-open",
      props: {
        apiVersion: "projectcalico.org/v3",
        kind: "NetworkPolicy",
        metadata: { name: "argocd-open", namespace: "argocd" },
        spec: {
          selector: "app == 'argocd-server'",
          types: ["Ingress"],
          ingress: [
            {
              action: "Allow",
              protocol: "TCP",
              source: { nets: ["0.0.0.0/1", "128.0.0.0/1"] },
              destination: { ports: [8080] },
            },
          ],
        },
      },
    };
    const ingress = violationsOf(INGRESS, [calico]);
    assert.equal(ingress.length, 1);
    assert.match(
      ingress[0].message,
      /Calico NetworkPolicy argocd\/argocd-open .*argocd is not an edge namespace/,
    );
    const specific = violationsOf("calico-policy-specific", [calico]);
    assert.match(
      specific[0].message,
      /spec\.ingress\[0\]\.source\.nets: this Allow rule admits .*internet-wide/,
    );
  });

  it("judges an ipVersion 6 Calico rule on IPv6, which the IPv4 model leaves out", () => {
    const v6 = (ipVersion: number) => ({
      type: "kubernetes:projectcalico.org/v3:NetworkPolicy",
      name: "argocd-v6",
      props: {
        apiVersion: "projectcalico.org/v3",
        kind: "NetworkPolicy",
        metadata: { name: "argocd-v6", namespace: "argocd" },
        spec: {
          selector: "app == 'argocd-server'",
          types: ["Ingress"],
          ingress: [
            {
              action: "Allow",
              protocol: "TCP",
              ipVersion,
              source: { nets: ["2000::/3"] },
              destination: { ports: [8080] },
            },
          ],
        },
      },
    });
    assert.equal(violationsOf(INGRESS, [v6(6)]).length, 1);
    assert.deepEqual(violationsOf(INGRESS, [v6(4)]), []);
  });

  it("catches two rendered flows from 0.0.0.0/1 and 128.0.0.0/1 into a non-edge namespace", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-split-"));
    try {
      const source = path.join(__dirname, "../fixtures/Pulumi.minilab.yaml");
      const stack = loadStackConfig("minilab", path.dirname(source));
      const raw = (await import("yaml")).parse(fs.readFileSync(source, "utf8")) as {
        config: Record<string, unknown>;
      };
      raw.config["zt-netpol:flows"] = [
        ...(raw.config["zt-netpol:flows"] as unknown[]),
        {
          name: "low-half",
          from: { cidr: "0.0.0.0/1" },
          to: "api",
          ports: [8080],
          reason: "Half the internet.",
        },
        {
          name: "high-half",
          from: { cidr: "128.0.0.0/1" },
          to: "api",
          ports: [8080],
          reason: "The other half.",
        },
      ];
      fs.writeFileSync(path.join(dir, "Pulumi.split.yaml"), stringify(raw));
      const rendered = await renderStack("split", dir);
      const violations = evaluateResources(
        asPolicyEngineSees(rendered.resources),
        packConfigFromFacts(factsFromStackConfig(stack)),
      ).filter((v) => v.policyName === INGRESS);
      // The baseline, and the pod-scoped object of api that carries the baseline's ingress allows
      // (components/rules.ts, first enforcement): each object admits the internet, each is named.
      assert.deepEqual(
        violations.map((v) => v.resourceName).sort(),
        ["api-api-api-295134b1", "api-baseline"],
        JSON.stringify(violations, null, 2),
      );
      for (const v of violations) assert.match(v.message, /api is not an edge namespace/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("every port is any set covering a protocol's range", () => {
  const RULES = "rules-name-ports";
  const withPorts = (rules: { ports: unknown[] }[]) =>
    netpolResource("loki", "loki-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: rules.map((r) => ({ from: [{ podSelector: {} }], ...r })),
    });

  it("refuses 1-65535 written as a range", () => {
    const found = violationsOf(RULES, [
      withPorts([{ ports: [{ protocol: "TCP", port: 1, endPort: 65535 }] }]),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0].message, /covers every TCP port/);
  });

  it("refuses a union of entries, and of rules with the same peers, that covers the range", () => {
    const entries = withPorts([
      {
        ports: [
          { protocol: "UDP", port: 1, endPort: 30000 },
          { protocol: "UDP", port: 30001, endPort: 65535 },
        ],
      },
    ]);
    assert.match(violationsOf(RULES, [entries])[0].message, /covers every UDP port/);
    const rules = withPorts([
      { ports: [{ protocol: "TCP", port: 1, endPort: 40000 }] },
      { ports: [{ protocol: "TCP", port: 40001, endPort: 65535 }] },
    ]);
    assert.match(
      violationsOf(RULES, [rules])[0].message,
      /spec\.ingress\[0\] \+ spec\.ingress\[1\]: together admit every TCP port/,
    );
  });

  it("judges Calico destination ports the same way", () => {
    const calico = (ports: unknown[]) => ({
      type: "kubernetes:projectcalico.org/v3:NetworkPolicy",
      name: "loki-calico",
      props: {
        apiVersion: "projectcalico.org/v3",
        kind: "NetworkPolicy",
        metadata: { name: "loki-calico", namespace: "loki" },
        spec: {
          selector: "app == 'loki'",
          types: ["Egress"],
          egress: [
            {
              action: "Allow",
              protocol: "TCP",
              destination: { nets: ["10.0.1.204/32"], ports },
            },
          ],
        },
      },
    });
    const found = violationsOf("calico-policy-specific", [calico(["1:40000", "40001:65535"])]);
    assert.match(found[0].message, /destination\.ports: covers every TCP port/);
    assert.deepEqual(violationsOf("calico-policy-specific", [calico(["1:65534"])]), []);
  });

  it("accepts a range that leaves one port out", () => {
    assert.deepEqual(
      violationsOf(RULES, [withPorts([{ ports: [{ protocol: "TCP", port: 1, endPort: 65534 }] }])]),
      [],
    );
  });
});

describe("the ambient probe source must reach every pod on every port", () => {
  const MESH = "mesh-hbone-required";
  const meshed = (ingress: unknown[]) =>
    netpolResource("localstack", "localstack-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress,
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } },
            },
          ],
          ports: [15008, 15012, 15017].map((port) => ({ protocol: "TCP", port })),
        },
      ],
    });
  const config = { [MESH]: { meshedNamespaces: ["localstack"] } };

  it("does not count a rule without from that only names 15008", () => {
    const found = violationsOf(
      MESH,
      [meshed([{ ports: [{ protocol: "TCP", port: 15008 }] }])],
      config,
    );
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.match(found[0].message, /does not admit the ambient probe source 169\.254\.7\.127\/32/);
    assert.match(found[0].message, /admitted: only TCP 15008/);
  });

  it("accepts the probe /32 on every port", () => {
    assert.deepEqual(
      violationsOf(MESH, [meshed([{ from: [{ ipBlock: { cidr: "169.254.7.127/32" } }] }])], config),
      [],
    );
  });

  it("asks about pod-scoped policies' pods too", () => {
    const scoped = netpolResource("localstack", "localstack-s3", {
      podSelector: { matchLabels: { app: "s3" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ ipBlock: { cidr: "169.254.7.127/32" } }],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
      ],
    });
    // The baseline admits the probe everywhere; the pod-scoped policy adds, it cannot take away.
    assert.deepEqual(
      violationsOf(
        MESH,
        [meshed([{ from: [{ ipBlock: { cidr: "169.254.7.127/32" } }] }]), scoped],
        config,
      ),
      [],
    );
    // Without the baseline's probe rule, the s3 pods only get 8080.
    const found = violationsOf(MESH, [meshed([]), scoped], config);
    assert.match(found[0].message, /app=s3 \(admitted: only TCP 8080\)/);
  });
});

describe("pack-side fail-open cases", () => {
  it("judges internet egress against RFC 1918 even when privateRanges forgets two ranges", () => {
    const rule = netpolResource("velero", "velero-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    });
    const found = violationsOf("internet-egress-excepts-private", [rule], {
      "internet-egress-excepts-private": { privateRanges: ["10.0.0.0/8"] },
    });
    assert.equal(found.length, 1);
    assert.match(
      found[0].message,
      /contains 172\.16\.0\.0\/12, 192\.168\.0\.0\/16 but does not except them/,
    );
  });

  it("catches ports 1-65535 in a rendered flow, intraNamespace and webhookPorts", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-every-port-"));
    try {
      const source = path.join(__dirname, "../fixtures/Pulumi.minilab.yaml");
      const stack = loadStackConfig("minilab", path.dirname(source));
      const raw = (await import("yaml")).parse(fs.readFileSync(source, "utf8")) as {
        config: Record<string, { name?: string; [k: string]: unknown }[]>;
      };
      raw.config["zt-netpol:flows"].push({
        name: "everything",
        from: "web",
        to: "monitoring",
        ports: ["1-65535/TCP"],
        reason: "Every port.",
      });
      const api = raw.config["zt-netpol:namespaces"].find((n) => n.name === "api")!;
      api.intraNamespace = ["1-65535/UDP"];
      api.webhookPorts = ["1-65535/TCP"];
      fs.writeFileSync(path.join(dir, "Pulumi.every.yaml"), stringify(raw));
      let rendered;
      try {
        rendered = await renderStack("every", dir);
      } catch (error) {
        // Config validation refusing the ports is as good: nothing opens every port.
        assert.match((error as Error).message, /1-65535|every port/);
        return;
      }
      const messages = evaluateResources(
        asPolicyEngineSees(rendered.resources),
        packConfigFromFacts(factsFromStackConfig(stack)),
      )
        .filter((v) => v.policyName === "rules-name-ports")
        .map((v) => v.message)
        .join("\n");
      assert.match(messages, /monitoring\/.*covers every TCP port/);
      assert.match(messages, /api\/.*covers every UDP port/);
      assert.match(messages, /api\/.*spec\.ingress\[\d+\]\.ports: covers every TCP port/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
