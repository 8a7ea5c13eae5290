/**
 * Writes tests/fixtures/flows/goldmane-homelab-1200.jsonl: 1,200 Goldmane/Whisker flow records
 * (whisker-backend `FlowResponse`, one JSON object per line) for the homelab, deterministic.
 * Field names and enum spellings follow projectcalico/calico `whisker-backend/pkg/apis/v1/flows.go`
 * and `goldmane/proto/api.proto`. The traffic mixes the homelab's declared flows and universal
 * patterns with the connections the issue found broken on a real cluster: dashboard ingress,
 * log shipping, SMTP alerts and SNMP to the LAN (the last two as Goldmane reports them: the
 * public network, and a LAN host outside any namespace is a private network it cannot place,
 * so SNMP is left out here and covered by the Hubble and CSV fixtures).
 *   npx tsx scripts/flows/generate-goldmane.ts
 */
import * as fs from "fs";
import * as path from "path";

interface End {
  namespace: string;
  name: string;
  labels: string[];
}
interface Pattern {
  from: End;
  to: End | "pub";
  protocol: "TCP" | "UDP";
  port: number;
  weight: number;
}

const pods = (namespace: string, app: string, key = "app.kubernetes.io/name"): End => ({
  namespace,
  name: `${app}-*`,
  labels: [`${key}=${app}`],
});
const NAMESPACES = [
  "ingress-nginx",
  "localstack",
  "unipoller",
  "loki",
  "trivy-system",
  "velero",
  "argo-workflows",
  "cert-manager",
  "external-dns",
  "metallb-system",
  "falco",
  "default",
  "argocd",
  "synology-csi",
];
const dns = pods("kube-system", "kube-dns", "k8s-app");
const PATTERNS: Pattern[] = [
  ...NAMESPACES.map((ns) => ({
    from: pods(ns, ns),
    to: dns,
    protocol: "UDP" as const,
    port: 53,
    weight: 30,
  })),
  {
    from: pods("loki", "promtail"),
    to: pods("loki", "loki"),
    protocol: "TCP",
    port: 3100,
    weight: 60,
  },
  {
    from: pods("default", "grafana"),
    to: pods("loki", "loki"),
    protocol: "TCP",
    port: 3100,
    weight: 40,
  },
  {
    from: pods("loki", "loki"),
    to: pods("default", "alertmanager"),
    protocol: "TCP",
    port: 9093,
    weight: 10,
  },
  {
    from: pods("velero", "velero"),
    to: pods("localstack", "localstack"),
    protocol: "TCP",
    port: 4566,
    weight: 30,
  },
  {
    from: pods("argo-workflows", "argo-server"),
    to: "pub",
    protocol: "TCP",
    port: 443,
    weight: 20,
  },
  {
    from: pods("ingress-nginx", "ingress-nginx"),
    to: pods("argocd", "argocd-server"),
    protocol: "TCP",
    port: 8080,
    weight: 25,
  },
  // Found broken on the real cluster (issue 11): dashboard ingress, log shipping, SMTP alerts.
  {
    from: pods("ingress-nginx", "ingress-nginx"),
    to: pods("default", "grafana"),
    protocol: "TCP",
    port: 3000,
    weight: 40,
  },
  {
    from: pods("falco", "falco"),
    to: pods("loki", "loki"),
    protocol: "TCP",
    port: 3100,
    weight: 40,
  },
  { from: pods("velero", "velero"), to: "pub", protocol: "TCP", port: 587, weight: 5 },
];

/** A small deterministic generator (mulberry32), so the fixture is reproducible. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generate(count: number): string {
  const next = random(11);
  const total = PATTERNS.reduce((n, p) => n + p.weight, 0);
  const start = Date.UTC(2026, 10, 30, 8, 0, 0);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let pick = next() * total;
    const pattern = PATTERNS.find((p) => (pick -= p.weight) < 0) ?? PATTERNS[0];
    const hash = (next() * 0xfffff).toString(16).padStart(5, "0").slice(0, 5);
    const begin = new Date(start + i * 15_000).toISOString().replace(".000", "");
    const end = new Date(start + i * 15_000 + 15_000).toISOString().replace(".000", "");
    const reporter = pattern.to === "pub" || next() < 0.5 ? "Src" : "Dst";
    const to = pattern.to;
    lines.push(
      JSON.stringify({
        start_time: begin,
        end_time: end,
        action: "Allow",
        source_name: pattern.from.name,
        source_namespace: pattern.from.namespace,
        source_labels: [...pattern.from.labels, `pod-template-hash=${hash}`].join(" | "),
        dest_name: to === "pub" ? "PUBLIC NETWORK" : to.name,
        dest_namespace: to === "pub" ? "" : to.namespace,
        dest_labels: to === "pub" ? "" : to.labels.join(" | "),
        protocol: pattern.protocol,
        dest_port: pattern.port,
        reporter,
        policies: { enforced: [], pending: [] },
        packets_in: Math.floor(next() * 100),
        packets_out: Math.floor(next() * 100),
        bytes_in: Math.floor(next() * 10000),
        bytes_out: Math.floor(next() * 10000),
      }),
    );
  }
  return `${lines.join("\n")}\n`;
}

export const FIXTURE = path.join(
  __dirname,
  "..",
  "..",
  "tests",
  "fixtures",
  "flows",
  "goldmane-homelab-1200.jsonl",
);

if (require.main === module) fs.writeFileSync(FIXTURE, generate(1200));
