/**
 * Issue 8 item 1: one reading. The pack reads every NetworkPolicy and Calico policy through the
 * engine's normaliser, so `check` and preview reject what the API server (and the engine)
 * rejects, with the object and field named, and the pack's parallel readers are gone.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { evaluateResources } from "../../policypack/run";
import { netpolResource } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");

function rejectedBy(spec: Record<string, unknown>): string[] {
  return evaluateResources([netpolResource("velero", "velero-network-policy", spec)])
    .filter((v) => v.enforcementLevel === "mandatory" && /the object is invalid/.test(v.message))
    .map((v) => v.message);
}

const base = { podSelector: {}, policyTypes: ["Ingress", "Egress"] };

describe("the pack judges the engine's reading", () => {
  it("rejects an except outside its cidr, located", () => {
    const messages = rejectedBy({
      ...base,
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.1.0.0/24"] } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    });
    assert.ok(messages.length > 0);
    assert.match(
      messages[0],
      /NetworkPolicy\/velero\/velero-network-policy spec\.egress\[0\]\.to\[0\]\.ipBlock\.except\[0\]: 10\.1\.0\.0\/24 must be strictly inside 10\.0\.0\.0\/16/,
    );
  });

  it('rejects port: "8085" written as a string', () => {
    const messages = rejectedBy({
      ...base,
      ingress: [{ from: [{ podSelector: {} }], ports: [{ protocol: "TCP", port: "8085" }] }],
    });
    assert.match(
      messages[0],
      /spec\.ingress\[0\]\.ports\[0\]\.port: "8085" is a string, which the API server reads as a port name/,
    );
  });

  it("rejects an ipBlock without a prefix and a malformed IPv6 block", () => {
    const bare = rejectedBy({
      ...base,
      egress: [
        { to: [{ ipBlock: { cidr: "10.0.1.204" } }], ports: [{ protocol: "TCP", port: 5000 }] },
      ],
    });
    assert.match(bare[0], /ipBlock\.cidr: "10\.0\.1\.204" has no prefix length/);
    const v6 = rejectedBy({
      ...base,
      ingress: [
        {
          from: [{ ipBlock: { cidr: "2001:db8::/129" } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    });
    assert.match(v6[0], /ipBlock\.cidr: invalid CIDR "2001:db8::\/129"/);
    const mixed = rejectedBy({
      ...base,
      ingress: [
        {
          from: [{ ipBlock: { cidr: "::/0", except: ["10.0.0.0/8"] } }],
          ports: [{ protocol: "TCP", port: 443 }],
        },
      ],
    });
    assert.match(mixed[0], /ipBlock\.except\[0\]: invalid IPv6 CIDR "10\.0\.0\.0\/8"/);
  });

  it("rejects IPv4 text ipaddr.js would take but the API server refuses (10.1, hex)", () => {
    for (const cidr of ["10.1/16", "0x0a.0.0.0/8"]) {
      const messages = rejectedBy({
        ...base,
        egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ protocol: "TCP", port: 443 }] }],
      });
      assert.equal(messages.length > 0, true, cidr);
    }
  });

  it("is what npm run check reports on such a file (exit 2: invalid input, located)", function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "one-reading-"));
    try {
      const file = path.join(dir, "bad.yaml");
      fs.writeFileSync(
        file,
        [
          "apiVersion: networking.k8s.io/v1",
          "kind: NetworkPolicy",
          "metadata: {name: velero-network-policy, namespace: velero}",
          "spec:",
          "  podSelector: {}",
          "  policyTypes: [Ingress, Egress]",
          "  ingress:",
          "    - from: [{podSelector: {}}]",
          '      ports: [{protocol: TCP, port: "8085"}]',
          "",
        ].join("\n"),
      );
      const result = spawnSync(
        process.execPath,
        [require.resolve("tsx/cli"), "cli/check.ts", file, "--partial", "--stack", "homelab"],
        { cwd: ROOT, encoding: "utf8" },
      );
      const out = `${result.stdout}${result.stderr}`;
      assert.equal(result.status, 2, out);
      assert.match(out, /spec\.ingress\[0\]\.ports\[0\]\.port: "8085"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("has no parallel readers of NetworkPolicy, Calico, selectors or CIDRs left", () => {
    for (const gone of ["netpol.ts", "selectors.ts", "cidr.ts", "calico.ts"])
      assert.equal(fs.existsSync(path.join(ROOT, "policypack/lib", gone)), false, gone);
    // Address arithmetic lives in the engine's IP module only.
    const sources = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) =>
          e.isDirectory()
            ? e.name === "node_modules"
              ? []
              : sources(path.join(dir, e.name))
            : e.name.endsWith(".ts")
              ? [path.join(dir, e.name)]
              : [],
        );
    const importers = [
      ...sources(path.join(ROOT, "policypack")),
      ...sources(path.join(ROOT, "config")),
    ]
      .filter((f) => /from "ipaddr\.js"|require\("ipaddr\.js"\)/.test(fs.readFileSync(f, "utf8")))
      .map((f) => path.relative(ROOT, f));
    assert.deepEqual(importers, []);
  });
});
