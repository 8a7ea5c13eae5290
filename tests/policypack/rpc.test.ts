/**
 * The pack through @pulumi/policy's own analyzer server, spawned the way the Pulumi engine does:
 * the Node.js language host runs `@pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` in the
 * pack directory, which registers ts-node, loads policypack/index.ts (whose `new PolicyPack`
 * reads package.json, starts the gRPC server and prints its port), and the engine then calls
 * GetAnalyzerInfo, Configure (the reconciled `--policy-pack-config`), Analyze per resource and
 * AnalyzeStack. This test plays the engine over gRPC, so it proves the packaging (entry point,
 * name, version), the enforcement levels and the config behaviour the CLI relies on, and that the
 * in-process runner (policypack/run.ts) reports exactly what the real server reports.
 * No Pulumi CLI or plugin is involved.
 */
import { strict as assert } from "assert";
import { type ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { policies } from "../../policypack/policies";
import {
  type CapturedResource,
  evaluateResources,
  type PackConfig,
  PACK_NAME,
  PACK_VERSION,
  packConfigFromFacts,
  reconcilePackConfig,
} from "../../policypack/run";
import { homelabFacts, loadFixture, FIXTURES, netpolResource } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const PACK_DIR = path.join(ROOT, "policypack");
const LEVEL_NAMES: Record<number, string> = {
  [analyzerProto.EnforcementLevel.ADVISORY]: "advisory",
  [analyzerProto.EnforcementLevel.MANDATORY]: "mandatory",
  [analyzerProto.EnforcementLevel.DISABLED]: "disabled",
  [analyzerProto.EnforcementLevel.REMEDIATE]: "remediate",
};
const LEVEL_ENUM: Record<string, analyzerProto.EnforcementLevel> = {
  advisory: analyzerProto.EnforcementLevel.ADVISORY,
  mandatory: analyzerProto.EnforcementLevel.MANDATORY,
  disabled: analyzerProto.EnforcementLevel.DISABLED,
  remediate: analyzerProto.EnforcementLevel.REMEDIATE,
};

interface Diagnostic {
  policyName: string;
  enforcementLevel: string;
  message: string;
}

function call<Req, Res>(
  fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    fn(req, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

function options(): analyzerProto.AnalyzerResourceOptions {
  return new analyzerProto.AnalyzerResourceOptions();
}

function diagnostics(response: analyzerProto.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({
    policyName: d.getPolicyname(),
    enforcementLevel: LEVEL_NAMES[d.getEnforcementlevel()],
    message: d.getMessage(),
  }));
}

function sortKey(d: Diagnostic): string {
  return `${d.policyName}\u0000${d.enforcementLevel}\u0000${d.message}`;
}

describe("policy pack over the analyzer RPC (spawned like the engine does)", function () {
  // ts-node type-checks the pack on start-up.
  this.timeout(120_000);
  let child: ChildProcess;
  let client: analyzerRpc.AnalyzerClient;
  let stderr = "";

  before(async () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
    child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
      cwd: PACK_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^(\d+)\s*$/m.exec(out);
        if (match) resolve(Number(match[1]));
      });
      child.on("exit", (code) => reject(new Error(`pack exited with ${code}:\n${stderr}`)));
    });
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    if (child && child.exitCode === null) child.kill();
  });

  async function configure(config: PackConfig): Promise<void> {
    // What the engine sends: the reconciled config of every policy (defaults, all, per-policy).
    const request = new analyzerProto.ConfigureAnalyzerRequest();
    for (const [name, c] of Object.entries(reconcilePackConfig(config))) {
      const policyConfig = new analyzerProto.PolicyConfig();
      policyConfig.setEnforcementlevel(LEVEL_ENUM[c.enforcementLevel]);
      policyConfig.setProperties(Struct.fromJavaScript(c.properties as never));
      request.getPolicyconfigMap().set(name, policyConfig);
    }
    await call(client.configure.bind(client), request);
  }

  async function analyzeAll(resources: CapturedResource[]): Promise<Diagnostic[]> {
    const out: Diagnostic[] = [];
    for (const r of resources) {
      const request = new analyzerProto.AnalyzeRequest();
      request.setType(r.type);
      request.setName(r.name);
      request.setUrn(r.urn ?? `urn:pulumi:test::zt-netpol::${r.type}::${r.name}`);
      request.setProperties(Struct.fromJavaScript(r.props as never));
      request.setOptions(options());
      out.push(...diagnostics(await call(client.analyze.bind(client), request)));
    }
    const stack = new analyzerProto.AnalyzeStackRequest();
    stack.setResourcesList(
      resources.map((r) => {
        const resource = new analyzerProto.AnalyzerResource();
        resource.setType(r.type);
        resource.setName(r.name);
        resource.setUrn(r.urn ?? `urn:pulumi:test::zt-netpol::${r.type}::${r.name}`);
        resource.setProperties(Struct.fromJavaScript(r.props as never));
        resource.setOptions(options());
        return resource;
      }),
    );
    out.push(...diagnostics(await call(client.analyzeStack.bind(client), stack)));
    return out;
  }

  function inProcess(resources: CapturedResource[], config: PackConfig): Diagnostic[] {
    return evaluateResources(resources, config).map((v) => ({
      policyName: v.policyName,
      enforcementLevel: v.enforcementLevel,
      message: v.message,
    }));
  }

  it("serves the pack named and versioned from policypack/package.json, with every policy, level and schema", async () => {
    const info = await call<Empty, analyzerProto.AnalyzerInfo>(
      client.getAnalyzerInfo.bind(client),
      new Empty(),
    );
    assert.equal(info.getName(), PACK_NAME);
    assert.equal(info.getVersion(), PACK_VERSION);
    const served = info.getPoliciesList().map((p) => ({
      name: p.getName(),
      level: LEVEL_NAMES[p.getEnforcementlevel()],
      schemaKeys: Object.keys(p.getConfigschema()?.getProperties()?.toJavaScript() ?? {}).sort(),
    }));
    assert.deepEqual(
      served,
      policies.map((p) => ({
        name: p.name,
        level: p.enforcementLevel,
        schemaKeys: Object.keys(p.configSchema?.properties ?? {}).sort(),
      })),
    );
  });

  const fixtureSets: { name: string; files: string[]; config: PackConfig }[] = [
    {
      name: "failing fixtures with the homelab's facts",
      files: [
        "dns-and-semantics/fail-or-form.yaml",
        "internet-egress-excepts-private/fail-partial-except-and-no-ports.yaml",
        "mesh-hbone-required/fail-hbone-istiod-probe-missing.yaml",
        "calico-policy-specific/fail-open-allow.yaml",
        "kube-api-egress-paired/fail-clusterip-only.yaml",
      ],
      config: packConfigFromFacts(homelabFacts()),
    },
    {
      name: "the same without any facts (every fact-reading policy fails closed)",
      files: [
        "dns-and-semantics/fail-or-form.yaml",
        "internet-egress-excepts-private/fail-partial-except-and-no-ports.yaml",
        "kube-api-egress-paired/fail-clusterip-only.yaml",
      ],
      config: {},
    },
    {
      name: "the same under --policy-pack-config (all advisory, one disabled, facts changed)",
      files: [
        "dns-and-semantics/fail-or-form.yaml",
        "ingress-from-anywhere-edge-only/fail-not-edge.yaml",
        "mesh-hbone-required/fail-hbone-istiod-probe-missing.yaml",
      ],
      config: packConfigFromFacts(homelabFacts(), {
        all: "advisory",
        "mesh-hbone-required": "mandatory",
        "dns-and-semantics": "disabled",
        "ingress-from-anywhere-edge-only": { edge: { namespaces: ["argocd"], ports: [443] } },
      }),
    },
  ];

  for (const set of fixtureSets) {
    it(`reports exactly what the in-process runner reports: ${set.name}`, async () => {
      const resources = set.files.flatMap((f) => loadFixture(path.join(FIXTURES, f)).resources);
      await configure(set.config);
      const viaRpc = (await analyzeAll(resources)).sort((a, b) =>
        sortKey(a).localeCompare(sortKey(b)),
      );
      const local = inProcess(resources, set.config).sort((a, b) =>
        sortKey(a).localeCompare(sortKey(b)),
      );
      assert.ok(viaRpc.length > 0, "the fixtures should produce violations");
      assert.deepEqual(viaRpc, local);
      if (set.config.all === "advisory") {
        assert.ok(
          !viaRpc.some((d) => d.policyName === "dns-and-semantics"),
          "disabled policy reported",
        );
        assert.ok(
          !viaRpc.some((d) => d.policyName === "ingress-from-anywhere-edge-only"),
          "edge facts ignored",
        );
        assert.ok(
          viaRpc.some(
            (d) => d.policyName === "mesh-hbone-required" && d.enforcementLevel === "mandatory",
          ),
        );
        assert.ok(
          viaRpc
            .filter((d) => d.policyName !== "mesh-hbone-required")
            .every((d) => d.enforcementLevel === "advisory"),
        );
      } else if (Object.keys(set.config).length === 0) {
        for (const policy of [
          "dns-and-semantics",
          "internet-egress-excepts-private",
          "kube-api-egress-paired",
        ])
          assert.ok(
            viaRpc.some(
              (d) =>
                d.policyName === policy && /because cluster fact \w+ is missing/.test(d.message),
            ),
            `${policy} did not fail closed without facts`,
          );
      } else {
        assert.ok(viaRpc.some((d) => d.enforcementLevel === "mandatory"));
        assert.ok(
          viaRpc.some(
            (d) => d.policyName === "kube-api-egress-paired" && d.enforcementLevel === "advisory",
          ),
        );
      }
    });
  }

  it("fails closed on a value unknown at preview: mandatory, not the server's advisory downgrade", async () => {
    await configure({});
    const resource = netpolResource("velero", "velero-network-policy", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
    });
    // The engine encodes an unknown string as this sentinel (unknownStringValue in @pulumi/policy).
    (resource.props.metadata as Record<string, unknown>).namespace =
      "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const request = new analyzerProto.AnalyzeRequest();
    request.setType(resource.type);
    request.setName(resource.name);
    request.setUrn("urn:pulumi:test::zt-netpol::netpol::velero");
    request.setProperties(Struct.fromJavaScript(resource.props as never));
    request.setOptions(options());
    const found = diagnostics(await call(client.analyze.bind(client), request));
    const explicit = found.filter((d) => d.policyName === "explicit-policy-types");
    assert.equal(explicit.length, 1);
    assert.equal(explicit[0].enforcementLevel, "mandatory");
    assert.match(
      explicit[0].message,
      /cannot verify explicit-policy-types .* because metadata\.namespace is unknown during preview/,
    );
    assert.ok(
      !found.some((d) => d.message.includes("can't run policy")),
      "a policy let UnknownValueError escape",
    );
  });
});
