/**
 * npm run bench [-- SIZE…]   (default 100 1000 5000, then one explain on the homelab)
 * Builds synthetic zero-trust clusters and times the full matrix and one explain. Each size runs
 * in its own child process so peak RSS is clean. A benchmark, not a test: it asserts nothing.
 *
 * Each namespace gets: a baseline deny (both directions), DNS to kube-system/kube-dns (UDP+TCP 53),
 * API access (10.96.0.1/32:443 + 10.0.10.0/24:6443), Prometheus ingress from "monitoring",
 * internet egress (0.0.0.0/0 minus private ranges, 443), 5 flows to other namespaces (egress at
 * the source, ingress at the destination, with HBONE where both ends are meshed) and 3 pods.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { Option } from "commander";
import { buildModel, computeConnectivity, explainFlow, namespaceConnectivity } from "../engine";
import { EXIT_OK, main, program, runProgram, UsageError } from "./lib/program";

type Obj = Record<string, unknown>;
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
const MESH = { namespace: "istio-system", hbonePort: 15008, probeSource: "169.254.7.127" };

const nsName = (i: number): string => `ns-${String(i).padStart(5, "0")}`;
const nameSel = (name: string): Obj => ({ matchLabels: { "kubernetes.io/metadata.name": name } });
const policy = (namespace: string, name: string, spec: Obj): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { namespace, name },
  spec,
});

export function syntheticCluster(size: number): Obj[] {
  const objects: Obj[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "kube-system" } },
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "monitoring" } },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
      spec: { containers: [{ name: "c" }] },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "prometheus", namespace: "monitoring", labels: { app: "prometheus" } },
      spec: { containers: [{ name: "c" }] },
    },
  ];
  const flowsIn = new Map<number, number[]>();
  for (let i = 0; i < size; i++) {
    const name = nsName(i);
    const meshed = i % 2 === 0;
    objects.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: meshed ? { "istio.io/dataplane-mode": "ambient" } : {} },
    });
    for (const app of ["web", "api", "worker"])
      objects.push({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: `${app}-0`, namespace: name, labels: { app } },
        spec: {
          containers: [
            {
              name: app,
              ports: [
                { name: "http", containerPort: 8080 },
                { name: "metrics", containerPort: 9090 },
              ],
            },
          ],
        },
      });
    objects.push(
      policy(name, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    );
    objects.push(
      policy(name, "allow-dns", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: nameSel("kube-system"),
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { port: 53, protocol: "UDP" },
              { port: 53, protocol: "TCP" },
            ],
          },
        ],
      }),
    );
    objects.push(
      policy(name, "allow-kube-api", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "10.96.0.1/32" } }], ports: [{ port: 443 }] },
          { to: [{ ipBlock: { cidr: "10.0.10.0/24" } }], ports: [{ port: 6443 }] },
        ],
      }),
    );
    objects.push(
      policy(name, "allow-prometheus", {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: nameSel("monitoring") }], ports: [{ port: "metrics" }] },
        ],
      }),
    );
    objects.push(
      policy(name, "allow-internet", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: PRIVATE } }], ports: [{ port: 443 }] },
        ],
      }),
    );
    const targets: number[] = [];
    for (let k = 1; k <= 5; k++) targets.push((i + k * 7 + k * k) % size);
    const unique = [...new Set(targets)].filter((t) => t !== i);
    objects.push(
      policy(name, "flows-out", {
        podSelector: { matchLabels: { app: "web" } },
        policyTypes: ["Egress"],
        egress: unique.map((t) => ({
          to: [
            { namespaceSelector: nameSel(nsName(t)), podSelector: { matchLabels: { app: "api" } } },
          ],
          ports: [{ port: 8080 }, { port: 15008 }],
        })),
      }),
    );
    for (const t of unique) flowsIn.set(t, [...(flowsIn.get(t) ?? []), i]);
  }
  for (const [t, sources] of flowsIn)
    objects.push(
      policy(nsName(t), "flows-in", {
        podSelector: { matchLabels: { app: "api" } },
        ingress: [
          {
            from: sources.map((s) => ({
              namespaceSelector: nameSel(nsName(s)),
              podSelector: { matchLabels: { app: "web" } },
            })),
            ports: [{ port: 8080 }, { port: 15008 }],
          },
        ],
      }),
    );
  return objects;
}

interface Measurement {
  readonly size: number;
  readonly namespaces: number;
  readonly pods: number;
  readonly policies: number;
  readonly buildMs: number;
  readonly matrixMs: number;
  readonly connections: number;
  readonly explainMs: number;
  readonly peakRssMiB: number;
}

function measure(size: number): Measurement {
  const objects = syntheticCluster(size);
  const t0 = performance.now();
  const model = buildModel(objects, { mesh: MESH });
  const t1 = performance.now();
  const connections = namespaceConnectivity(model, computeConnectivity(model));
  const t2 = performance.now();
  const explanation = explainFlow(model, {
    from: { namespace: nsName(0), podLabels: { app: "web" } },
    to: { namespace: nsName(8 % size), podLabels: { app: "api" } },
    port: 8080,
  });
  const t3 = performance.now();
  if (!explanation.text.includes("Verdict")) throw new Error("explain produced no verdict");
  return {
    size,
    namespaces: model.namespaces.size,
    pods: model.pods.length,
    policies: model.policies.length,
    buildMs: Math.round(t1 - t0),
    matrixMs: Math.round(t2 - t1),
    connections: connections.length,
    explainMs: Math.round((t3 - t2) * 10) / 10,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** A table of the sizes, each measured in its own child process; then the homelab explain. */
function bench(sizes: readonly number[], withHomelab: boolean): number {
  const rows: Measurement[] = [];
  for (const size of sizes) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, path.resolve(__filename), "--child", String(size)],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      throw new Error(`the measurement of ${size} namespaces failed (exit ${child.status})`);
    }
    rows.push(JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as Measurement);
  }
  const lines = [
    "| namespaces | pods | policies | build ms | full matrix ms | build+matrix s | ns-level connections | one explain ms | peak RSS MiB |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.pods} | ${r.policies} | ${r.buildMs} | ${r.matrixMs} | ${((r.buildMs + r.matrixMs) / 1000).toFixed(2)} | ${r.connections} | ${r.explainMs} | ${r.peakRssMiB} |`,
    ),
  ];
  const small = rows.find((r) => r.size === 1000);
  const big = rows.find((r) => r.size === 5000);
  if (small && big)
    lines.push(
      "",
      `growth 1,000 → 5,000 namespaces: ${((big.buildMs + big.matrixMs) / Math.max(1, small.buildMs + small.matrixMs)).toFixed(1)}× (goal ≤ 30×)`,
    );
  process.stdout.write(lines.join("\n") + "\n");
  if (!withHomelab) return EXIT_OK;
  // Measured in its own process, after the synthetic sizes, like them.
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, path.resolve(__filename), "--homelab"],
    { encoding: "utf8" },
  );
  process.stdout.write(child.stdout);
  process.stderr.write(child.stderr);
  if (child.status !== 0) throw new Error(`the homelab measurement failed (exit ${child.status})`);
  return EXIT_OK;
}

function namespaceCount(value: string): number {
  if (!/^[1-9]\d*$/.test(value))
    throw new UsageError(
      `SIZE must be a positive whole number of namespaces, not ${JSON.stringify(value)}`,
    );
  return Number(value);
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "bench",
    description:
      "Measure the engine on synthetic zero-trust clusters (each size in its own process, with peak RSS), then one explain on the homelab. Asserts nothing.",
    exitCodes: [{ code: EXIT_OK, meaning: "the table was printed" }],
    examples: ["npm run bench", "npm run bench -- 100 1000"],
  })
    .usage("[SIZE…]")
    .argument("[sizes...]", "namespace counts to measure (default: 100 1000 5000)")
    .addOption(new Option("--child <size>", "measure one size in this process").hideHelp())
    .addOption(new Option("--homelab", "measure the homelab explain in this process").hideHelp());
  return runProgram(command, argv, async (c) => {
    const flags = c.opts<{ child?: string; homelab?: boolean }>();
    if (flags.child !== undefined) {
      process.stdout.write(JSON.stringify(measure(namespaceCount(flags.child))) + "\n");
      return EXIT_OK;
    }
    if (flags.homelab) {
      process.stdout.write((await benchHomelab()) + "\n");
      return EXIT_OK;
    }
    const given = (c.processedArgs[0] as string[]).map(namespaceCount);
    return bench(given.length > 0 ? given : [100, 1000, 5000], given.length === 0);
  });
}

/** One explain on the real homelab: the stack rendered offline, then the engine in process. */
async function benchHomelab(): Promise<string> {
  const { renderStack } = await import("../plan/render");
  const { expandConnections } = await import("../components/connections");
  const { buildStackModel } = await import("../plan/connectivity");
  const result = await renderStack("homelab");
  const t0 = performance.now();
  const model = buildStackModel(result.config, result.manifests, expandConnections(result.config));
  const t1 = performance.now();
  const explanation = explainFlow(model, {
    from: { namespace: "argo-workflows" },
    to: { namespace: "localstack" },
    port: 4566,
  });
  const t2 = performance.now();
  if (explanation.verdict !== "allowed") throw new Error("homelab bench flow should be allowed");
  return `homelab (${result.manifests.length} objects): model build ${(t1 - t0).toFixed(1)} ms, one explain ${(t2 - t1).toFixed(1)} ms in process (goal < 300 ms)`;
}

main(module, run);
