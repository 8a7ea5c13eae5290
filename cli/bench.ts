/**
 * npm run bench [-- SIZE…] [--scale] [--pictures]
 * (default: the engine at 100 1000 5000 10000 namespaces, the scale table, one explain on the
 * homelab). Builds synthetic zero-trust clusters and times the full matrix and one explain; the
 * scale table runs the whole `npm run plan` on a generated stack of 2,000 namespaces (about
 * 6,000 flows) and `npm run check` on a 20 MB manifest set. Each measurement runs in its own child
 * process so peak RSS is clean; wall and CPU time are both reported, with the load average, since
 * wall time on a shared machine says little alone. The scale table also times the connectivity page
 * (every ELK layout) of the homelab and of a generated 200-namespace stack (`--pictures`: only
 * those rows). A benchmark, not a test: it asserts nothing.
 *
 * Each namespace gets: a baseline deny (both directions), DNS to kube-system/kube-dns (UDP+TCP 53),
 * API access (10.96.0.1/32:443 + 10.0.10.0/24:6443), Prometheus ingress from "monitoring",
 * internet egress (0.0.0.0/0 minus private ranges, 443), 5 flows to other namespaces (egress at
 * the source, ingress at the destination, with HBONE where both ends are meshed) and 3 pods.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { Option } from "commander";
import { buildModel, computeConnectivity, explainFlow, namespaceConnectivity } from "../engine";
import { EXIT_OK, main, program, runProgram, UsageError } from "./lib/program";
import { flowTargets, syntheticStackYaml } from "./lib/synthetic";

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
  /** CPU time of build and matrix (user + system). */
  readonly cpuMs: number;
  readonly peakRssMiB: number;
}

function measure(size: number): Measurement {
  const objects = syntheticCluster(size);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const model = buildModel(objects, { mesh: MESH });
  const t1 = performance.now();
  const connections = namespaceConnectivity(model, computeConnectivity(model));
  const t2 = performance.now();
  const used = process.cpuUsage(cpu);
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
    cpuMs: Math.round((used.user + used.system) / 1000),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/** A table of the sizes, each measured in its own child process; then the scale table and the homelab explain. */
function bench(sizes: readonly number[], withHomelab: boolean, withScale: boolean): number {
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
    "| namespaces | pods | policies | build ms | full matrix ms | build+matrix s | CPU s | ns-level connections | one explain ms | peak RSS MiB |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.pods} | ${r.policies} | ${r.buildMs} | ${r.matrixMs} | ${((r.buildMs + r.matrixMs) / 1000).toFixed(2)} | ${(r.cpuMs / 1000).toFixed(2)} | ${r.connections} | ${r.explainMs} | ${r.peakRssMiB} |`,
    ),
  ];
  const small = rows.find((r) => r.size === 1000);
  const growth = (size: number, goal: string): void => {
    const big = rows.find((r) => r.size === size);
    if (small && big)
      lines.push(
        `growth 1,000 → ${size.toLocaleString("en")} namespaces: ${((big.buildMs + big.matrixMs) / Math.max(1, small.buildMs + small.matrixMs)).toFixed(1)}× wall, ${(big.cpuMs / Math.max(1, small.cpuMs)).toFixed(1)}× CPU (${goal})`,
      );
  };
  lines.push("");
  growth(5000, "linear: 5×");
  growth(10000, "linear: 10×");
  if (withScale) lines.push(scaleTable(rows));
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

/** One row of the scale table, measured in a child process from module load to the answer. */
interface ScaleMeasurement {
  readonly what: string;
  readonly input: string;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly exitCode: number;
  readonly note: string;
}

const PLAN_NAMESPACES = 2000;
/** syntheticCluster writes about 5 kB of YAML per namespace: 4,000 namespaces make ~20 MB. */
const CHECK_NAMESPACES = 4000;

async function timed(
  body: () => Promise<{ exitCode: number; note: string }>,
): Promise<Pick<ScaleMeasurement, "wallMs" | "cpuMs" | "peakRssMiB" | "exitCode" | "note">> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const { exitCode, note } = await body();
  const used = process.cpuUsage(cpu);
  return {
    wallMs: Math.round(performance.now() - t0),
    cpuMs: Math.round((used.user + used.system) / 1000),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    exitCode,
    note,
  };
}

/** The whole `npm run plan` (its CLI entry, in process) on a generated stack of `size` namespaces. */
async function measurePlan(size: number): Promise<ScaleMeasurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-bench-plan-"));
  try {
    fs.writeFileSync(path.join(dir, "Pulumi.synthetic.yaml"), syntheticStackYaml(size));
    let flows = 0;
    for (let i = 0; i < size; i++) flows += flowTargets(i, size).length;
    const out = path.join(dir, "out");
    const result = await timed(async () => {
      const { run } = await import("./plan");
      const exitCode = await run(["--stack", "synthetic", "--stack-dir", dir, "--out", out]);
      const matrix = fs.statSync(path.join(out, "matrix.md"), { throwIfNoEntry: false });
      return {
        exitCode,
        note: matrix ? `matrix.md ${(matrix.size / 2 ** 20).toFixed(1)} MiB` : "",
      };
    });
    return { what: "plan", input: `${size} namespaces, ${flows} flows`, ...result };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run check` (its CLI entry, in process) on one YAML file of `size` synthetic namespaces. */
async function measureCheck(size: number): Promise<ScaleMeasurement> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-bench-check-"));
  try {
    const file = path.join(dir, "cluster.yaml");
    fs.writeFileSync(
      file,
      syntheticCluster(size)
        .map((o) => stringify(o))
        .join("---\n"),
    );
    const megabytes = fs.statSync(file).size / 2 ** 20;
    const result = await timed(async () => {
      const { run } = await import("./check");
      // The synthetic cluster uses the homelab's API server, control plane and mesh addresses.
      return { exitCode: await run([file, "--stack", "homelab"]), note: "facts of stack homelab" };
    });
    return {
      what: "check",
      input: `${megabytes.toFixed(1)} MB YAML (${size} namespaces)`,
      ...result,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Namespaces of the generated stack whose connectivity page the bench draws (next to the homelab's 18). */
const PICTURE_NAMESPACES = 200;

/**
 * The connectivity page of a stack (model, matrix and every ELK layout; the offline render of the
 * stack before it is not timed): the homelab, or a generated stack of `size` namespaces.
 */
async function measurePictures(stack: "homelab" | number): Promise<ScaleMeasurement> {
  const { renderStack } = await import("../plan/render");
  const { expandConnections } = await import("../components/connections");
  const { stackConnectivityPage } = await import("../plan/connectivity");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-bench-pictures-"));
  try {
    let result;
    if (stack === "homelab") result = await renderStack("homelab");
    else {
      // The generated stack has kube-system, istio-system and monitoring besides its apps.
      fs.writeFileSync(path.join(dir, "Pulumi.synthetic.yaml"), syntheticStackYaml(stack - 3));
      result = await renderStack("synthetic", dir);
    }
    const connections = expandConnections(result.config);
    const flows = connections.filter((c) => c.kind === "flow").length;
    let namespaces = 0;
    const measured = await timed(async () => {
      const page = await stackConnectivityPage(result.config, result.manifests, connections);
      namespaces = page.model.namespaces.size;
      const widest = Math.max(0, ...page.pictures.map((p) => p.laid.width));
      const undrawn = page.html.split('class="too-dense"').length - 1;
      return {
        exitCode: 0,
        note: `${page.pictures.length} pictures drawn (widest ${widest} px), ${undrawn} left to tables`,
      };
    });
    return {
      what: "pictures",
      input: `${stack === "homelab" ? "homelab" : "generated stack"}, ${namespaces} namespaces, ${flows} flows`,
      ...measured,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function childScale(flag: string, size: number | "homelab"): ScaleMeasurement {
  const resultFile = path.join(os.tmpdir(), `zt-bench-${process.pid}-${flag}.json`);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, path.resolve(__filename), flag, String(size), "--result", resultFile],
    // The CLIs print their own reports; only the measurement (in the result file) is kept.
    { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] },
  );
  try {
    if (child.status !== 0 || !fs.existsSync(resultFile)) {
      process.stderr.write(child.stderr ?? "");
      throw new Error(
        `the ${flag.replace(/^--|-child$/g, "")} measurement failed (exit ${child.status})`,
      );
    }
    return JSON.parse(fs.readFileSync(resultFile, "utf8")) as ScaleMeasurement;
  } finally {
    fs.rmSync(resultFile, { force: true });
  }
}

/** The scale table: plan at 2,000 namespaces, check on 20 MB, and the engine rows given. */
function scaleTable(engineRows: readonly Measurement[]): string {
  const rows: ScaleMeasurement[] = [
    childScale("--plan-child", PLAN_NAMESPACES),
    childScale("--check-child", CHECK_NAMESPACES),
    ...pictureRows(),
    ...engineRows
      .filter((r) => r.size === 10000)
      .map((r) => ({
        what: "engine matrix",
        input: `${r.size} namespaces, ${r.pods} pods, ${r.policies} policies`,
        wallMs: r.buildMs + r.matrixMs,
        cpuMs: r.cpuMs,
        peakRssMiB: r.peakRssMiB,
        exitCode: 0,
        note: "build + full matrix",
      })),
  ];
  return scaleRows(rows);
}

/** The connectivity page of the homelab (18 namespaces) and of a generated 200-namespace stack. */
function pictureRows(): ScaleMeasurement[] {
  return [
    childScale("--pictures-child", "homelab"),
    childScale("--pictures-child", PICTURE_NAMESPACES),
  ];
}

function scaleRows(rows: readonly ScaleMeasurement[]): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(", ");
  const target: Record<string, string> = {
    plan: "< 10 s, < 1 GiB",
    check: "< 5 s",
    "engine matrix": "< 15 s",
  };
  return [
    "",
    `Scale (load average ${load} when the table was printed; ${os.cpus().length} CPUs):`,
    "",
    "| what | input | wall s | CPU s | peak RSS MiB | exit | target | note |",
    "|---|---|---:|---:|---:|---:|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.input} | ${(r.wallMs / 1000).toFixed(1)} | ${(r.cpuMs / 1000).toFixed(1)} | ${r.peakRssMiB} | ${r.exitCode} | ${target[r.what] ?? ""} | ${r.note} |`,
    ),
  ].join("\n");
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
    examples: [
      "npm run bench",
      "npm run bench -- 100 1000",
      "npm run bench -- 10000 --scale",
      "npm run bench -- --pictures",
    ],
  })
    .usage("[SIZE…] [--scale]")
    .argument("[sizes...]", "namespace counts to measure (default: 100 1000 5000 10000)")
    .addOption(
      new Option(
        "--scale",
        "with SIZE…: also the scale table (plan at 2,000 namespaces, check on 20 MB)",
      ),
    )
    .addOption(new Option("--child <size>", "measure one size in this process").hideHelp())
    .addOption(new Option("--plan-child <size>", "measure plan in this process").hideHelp())
    .addOption(
      new Option(
        "--pictures",
        "only the connectivity page rows: the homelab (18 namespaces) and a generated 200-namespace stack",
      ),
    )
    .addOption(new Option("--check-child <size>", "measure check in this process").hideHelp())
    .addOption(
      new Option("--pictures-child <stack>", "measure the pictures in this process").hideHelp(),
    )
    .addOption(new Option("--result <file>", "where a child writes its measurement").hideHelp())
    .addOption(new Option("--homelab", "measure the homelab explain in this process").hideHelp());
  return runProgram(command, argv, async (c) => {
    const flags = c.opts<{
      child?: string;
      planChild?: string;
      checkChild?: string;
      picturesChild?: string;
      pictures?: boolean;
      result?: string;
      scale?: boolean;
      homelab?: boolean;
    }>();
    if (flags.child !== undefined) {
      process.stdout.write(JSON.stringify(measure(namespaceCount(flags.child))) + "\n");
      return EXIT_OK;
    }
    if (
      flags.planChild !== undefined ||
      flags.checkChild !== undefined ||
      flags.picturesChild !== undefined
    ) {
      if (!flags.result)
        throw new UsageError("--plan-child, --check-child and --pictures-child need --result FILE");
      const measurement =
        flags.planChild !== undefined
          ? await measurePlan(namespaceCount(flags.planChild))
          : flags.checkChild !== undefined
            ? await measureCheck(namespaceCount(flags.checkChild))
            : await measurePictures(
                flags.picturesChild === "homelab"
                  ? "homelab"
                  : namespaceCount(flags.picturesChild!),
              );
      fs.writeFileSync(flags.result, JSON.stringify(measurement));
      return EXIT_OK;
    }
    if (flags.homelab) {
      process.stdout.write((await benchHomelab()) + "\n");
      return EXIT_OK;
    }
    if (flags.pictures) {
      process.stdout.write(scaleRows(pictureRows()) + "\n");
      return EXIT_OK;
    }
    const given = (c.processedArgs[0] as string[]).map(namespaceCount);
    const all = given.length === 0;
    return bench(all ? [100, 1000, 5000, 10000] : given, all, all || flags.scale === true);
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
