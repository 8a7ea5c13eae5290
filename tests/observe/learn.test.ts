/**
 * observe and learn against the homelab: judging, pending agreement, learning into the stack file
 * with comments kept, and properties: after learn every observed flow is allowed and nothing
 * else new is; learn twice = learn once.
 */
import { strict as assert } from "assert";
import fc from "fast-check";
import { diffModels } from "../../engine";
import { contextFromManifests } from "../../observe/context";
import * as fs from "fs";
import { readFlowFile, readFlowText, type ObservedFlow } from "../../observe/flows";
import { FIXTURE, generate } from "../../scripts/flows/generate-goldmane";
import { judgeFlows } from "../../observe/judge";
import { planLearning } from "../../observe/learn";
import { renderStack } from "../../plan/render";
import {
  applyFlows,
  configFromText,
  contextFromText,
  HOMELAB_TEXT,
  pureManifests,
} from "./helpers";

const CSV_HEADER = "src_ns,src_labels,dst_ns|cidr,dst_labels,protocol,port,count";

describe("observe and learn on the homelab", function () {
  this.timeout(60_000);

  it("the pure builders render exactly what the program registers (so the properties test the plan)", async () => {
    const rendered = await renderStack("homelab");
    const key = (m: Record<string, unknown>) => {
      const meta = m.metadata as { name: string; namespace: string };
      return `${String(m.apiVersion)}|${meta.namespace}|${meta.name}`;
    };
    const sort = (list: Record<string, unknown>[]) =>
      [...list].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    assert.deepEqual(
      sort(pureManifests(rendered.config)).map((m) => JSON.parse(JSON.stringify(m))),
      sort(rendered.manifests).map((m) => JSON.parse(JSON.stringify(m))),
    );
  });

  it("judges each distinct flow: by which flow or pattern, or at which corner and rule", () => {
    const context = contextFromText(HOMELAB_TEXT);
    const csv = `${CSV_HEADER}
loki,app.kubernetes.io/name=promtail,loki,app.kubernetes.io/name=loki,TCP,3100,5
loki,app.kubernetes.io/name=promtail,loki,app.kubernetes.io/name=loki,TCP,3100,7
velero,app.kubernetes.io/name=velero,kube-system,k8s-app=kube-dns,UDP,53,3
falco,app.kubernetes.io/name=falco,loki,app.kubernetes.io/name=loki,TCP,3100,2
`;
    const result = judgeFlows(readFlowText(csv, "t.csv").flows, context);
    assert.equal(result.judgements.length, 3, "the two promtail rows are one distinct flow");
    const [falco, promtail, dns] = result.judgements;
    assert.equal(promtail.verdict, "allowed");
    assert.equal(promtail.group.count, 12);
    assert.equal(promtail.because[0].name, "promtail-to-loki");
    assert.equal(dns.verdict, "allowed");
    assert.equal(dns.because[0].kind, "dns");
    assert.equal(falco.verdict, "denied");
    assert.match(
      falco.gate ?? "",
      /^egress at falco\/.*NetworkPolicy\/falco\/falco-network-policy/,
    );
    assert.ok(result.neverObserved.some((c) => c.name === "velero-to-localstack"));
    assert.ok(!result.neverObserved.some((c) => c.name === "promtail-to-loki"));
  });

  it("compares a logged pending verdict with the engine's (staged namespace)", () => {
    const staged = HOMELAB_TEXT.replace(
      "zt-netpol:namespaces:",
      "zt-netpol:rollout: staged\n  zt-netpol:namespaces:",
    );
    const context = contextFromText(staged);
    assert.ok(context.config.namespaces.every((n) => n.rollout === "staged"));
    const record = (pendingAction: string) =>
      JSON.stringify({
        source_name: "falco-*",
        source_namespace: "falco",
        source_labels: "app.kubernetes.io/name=falco",
        dest_name: "loki-0",
        dest_namespace: "loki",
        dest_labels: "app.kubernetes.io/name=loki",
        protocol: "TCP",
        dest_port: 3100,
        reporter: "Src",
        action: "Allow",
        policies: {
          enforced: [],
          pending: [
            {
              kind: "StagedKubernetesNetworkPolicy",
              name: "falco-network-policy",
              namespace: "falco",
              tier: "default",
              action: pendingAction,
              policy_index: 0,
              rule_index: -1,
            },
          ],
        },
      });
    const agree = judgeFlows(readFlowText(record("Deny"), "g.json").flows, context).judgements[0];
    assert.equal(agree.verdict, "denied", "judged as promoted");
    assert.deepEqual(
      agree.pending.map((p) => [p.log, p.engine, p.agrees]),
      [["Deny", "Deny", true]],
    );
    const disagree = judgeFlows(readFlowText(record("Allow"), "g.json").flows, context)
      .judgements[0];
    assert.equal(disagree.pending[0].agrees, false);
  });

  it("learns folded flows with their reason, keeps comments, leaves DNS/API to the patterns, and is idempotent", () => {
    const csv = `${CSV_HEADER}
falco,app.kubernetes.io/name=falco;pod-template-hash=abc12,loki,app.kubernetes.io/name=loki;statefulset.kubernetes.io/pod-name=loki-0,TCP,3100,96
falco,app.kubernetes.io/name=falco;pod-template-hash=def34,loki,app.kubernetes.io/name=loki,TCP,3101,4
unipoller,app=unpoller,10.0.1.1,,UDP,161,2880
unipoller,app=unpoller,10.96.0.1,,TCP,443,9
newns,app=x,kube-system,k8s-app=kube-dns,UDP,53,1
newns,app=x,velero,app.kubernetes.io/name=velero,TCP,8085,2
`;
    const flows = readFlowText(csv, "observed.csv").flows;
    const context = contextFromText(HOMELAB_TEXT);
    const plan = planLearning(
      judgeFlows(flows, context).judgements,
      context.config,
      "observed.csv",
    );
    const falco = plan.flows.find((f) => f.name === "learned-falco-falco-to-loki-loki");
    assert.ok(falco, JSON.stringify(plan.flows));
    assert.deepEqual(falco.from, {
      namespace: "falco",
      podLabels: { "app.kubernetes.io/name": "falco" },
    });
    assert.deepEqual(falco.ports, ["3100", "3101"]);
    assert.equal(falco.reason, "observed 100 times, no timestamps, from observed.csv");
    const snmp = plan.flows.find((f) => JSON.stringify(f.to) === '{"host":"gateway"}');
    assert.ok(snmp, "LAN address written as its host name");
    assert.ok(!plan.flows.some((f) => JSON.stringify(f).includes("kube-dns")), "no DNS flow");
    assert.ok(!plan.flows.some((f) => JSON.stringify(f).includes("10.96.0.1")), "no API flow");
    assert.ok(plan.advice.some((a) => /declare namespace newns/.test(a.advice)));
    assert.ok(
      plan.advice.some((a) =>
        /newns.*-> velero.*declare namespace newns/.test(`${a.flow} ${a.advice}`),
      ),
      "a flow to or from an undeclared namespace is advice, not an invalid flow",
    );
    assert.ok(plan.advice.some((a) => /kubeApi: true on namespace unipoller/.test(a.advice)));

    const learned = applyFlows(HOMELAB_TEXT, plan.flows);
    // Every original line (comments included) survives as written, in order: lines were only added.
    const out = learned.split("\n");
    let at = 0;
    for (const line of HOMELAB_TEXT.trimEnd().split("\n")) {
      while (at < out.length && out[at] !== line) at++;
      assert.ok(at < out.length, `line kept as written: ${JSON.stringify(line)}`);
      at++;
    }
    assert.ok(learned.length > HOMELAB_TEXT.length);
    const after = contextFromText(learned);
    const again = planLearning(judgeFlows(flows, after).judgements, after.config, "observed.csv");
    assert.deepEqual(again.flows, [], "learn twice = learn once");
    assert.equal(applyFlows(learned, again.flows), learned);
  });
});

describe("observe: what cannot be judged, and scrape advice", () => {
  it("a Goldmane private-network record cannot be judged, and says why", () => {
    const context = contextFromText(HOMELAB_TEXT);
    const record = JSON.stringify({
      source_name: "unpoller-*",
      source_namespace: "unipoller",
      source_labels: "app=unpoller",
      dest_name: "pvt",
      dest_namespace: "",
      dest_labels: "",
      protocol: "UDP",
      dest_port: 161,
      reporter: "Src",
      action: "Deny",
      policies: { enforced: [], pending: [] },
    });
    const [j] = judgeFlows(readFlowText(record, "p.json").flows, context).judgements;
    assert.equal(j.verdict, "unjudgeable");
    assert.match(j.reason ?? "", /private network \(no address recorded\) cannot be placed/);
  });

  it("a denied scrape from the monitoring namespace becomes metricsPorts advice, not a flow", () => {
    const context = contextFromText(HOMELAB_TEXT);
    const csv = `${CSV_HEADER}\ndefault,app.kubernetes.io/name=prometheus,velero,app.kubernetes.io/name=velero,TCP,9090,10\n`;
    const judged = judgeFlows(readFlowText(csv, "s.csv").flows, context).judgements;
    assert.equal(judged[0].verdict, "denied");
    const plan = planLearning(judged, context.config, "s.csv");
    assert.deepEqual(plan.flows, []);
    assert.match(plan.advice[0].advice, /add 9090 to metricsPorts of namespace velero/);
  });
});

// ---------- properties ----------
/** Namespaces outside the mesh: no HBONE, so ports stay visible to L4 policy. */
const PLAIN = [
  "velero",
  "falco",
  "cert-manager",
  "external-dns",
  "metallb-system",
  "argocd",
  "synology-csi",
];
const APPS = ["api", "worker", "db"];
const arbFlow = fc.record({
  src: fc.constantFrom(...PLAIN),
  srcApp: fc.option(fc.constantFrom(...APPS), { nil: undefined }),
  dst: fc.constantFrom(...PLAIN),
  dstApp: fc.option(fc.constantFrom(...APPS), { nil: undefined }),
  protocol: fc.constantFrom("TCP", "UDP"),
  port: fc.constantFrom(8080, 9000, 5432, 7000),
  count: fc.integer({ min: 1, max: 50 }),
});
type Row = typeof arbFlow extends fc.Arbitrary<infer T> ? T : never;

function csvOf(rows: readonly Row[]): string {
  const labels = (app: string | undefined) =>
    app ? `app=${app};pod-template-hash=h${app.length}` : "";
  const lines = rows.map(
    (r) =>
      `${r.src},${labels(r.srcApp)},${r.dst},${labels(r.dstApp)},${r.protocol},${r.port},${r.count}`,
  );
  return `${CSV_HEADER}\n${lines.join("\n")}\n`;
}

function covers(intervals: readonly number[], port: number): boolean {
  for (let k = 0; k < intervals.length; k += 2)
    if (port >= intervals[k] && port <= intervals[k + 1]) return true;
  return false;
}

describe("learn: properties", function () {
  this.timeout(300_000);
  const base = configFromText(HOMELAB_TEXT);
  const baseContext = contextFromManifests(base, pureManifests(base));

  it("after learn the observed flows are a subset of the allowed ones, nothing else new is, and learn twice = once", () => {
    fc.assert(
      fc.property(fc.array(arbFlow, { minLength: 1, maxLength: 6 }), (rows) => {
        const flows: readonly ObservedFlow[] = readFlowText(csvOf(rows), "p.csv").flows;
        const plan = planLearning(judgeFlows(flows, baseContext).judgements, base, "p.csv");
        const learned = contextFromText(applyFlows(HOMELAB_TEXT, plan.flows));
        const judged = judgeFlows(flows, learned).judgements;
        const notAllowed = judged.filter((j) => j.verdict !== "allowed").map((j) => j.group.key);
        assert.deepEqual(notAllowed, []);
        // Nothing else new: a namespace pair gains only the observed protocol/ports.
        const observed = new Set(rows.map((r) => `${r.src}>${r.dst}>${r.protocol}>${r.port}`));
        for (const change of diffModels(baseContext.model, learned.model)) {
          assert.notEqual(change.type, "removed");
          for (const protocol of ["TCP", "UDP", "SCTP", "ICMP"] as const) {
            const after = change.after[protocol];
            for (let i = 0; i < after.length; i += 2)
              for (let port = after[i]; port <= after[i + 1]; port++)
                if (!covers(change.before[protocol], port))
                  assert.ok(
                    observed.has(`${change.from}>${change.to}>${protocol}>${port}`),
                    `new and unobserved: ${change.from} -> ${change.to} ${protocol} ${port}`,
                  );
          }
        }
        const again = planLearning(judged, learned.config, "p.csv");
        assert.deepEqual(again.flows, [], "learn twice = learn once");
      }),
      { numRuns: 25 },
    );
  });
});

describe("observe on the 1,200-record Goldmane fixture", function () {
  this.timeout(120_000);

  it("is exactly what its generator writes", () => {
    assert.equal(fs.readFileSync(FIXTURE, "utf8"), generate(1200));
  });

  it("folds 1,200 records into distinct flows; the denied ones are the outages the issue names; learn closes them", () => {
    const log = readFlowFile(FIXTURE);
    assert.equal(log.flows.length, 1200);
    const context = contextFromText(HOMELAB_TEXT);
    const result = judgeFlows(log.flows, context);
    assert.equal(
      result.judgements.reduce((n, j) => n + j.group.count, 0),
      1200,
    );
    const denied = result.judgements.filter((j) => j.verdict === "denied").map((j) => j.group.key);
    assert.deepEqual(denied, [
      "falco[app.kubernetes.io/name=falco] -> loki[app.kubernetes.io/name=loki] TCP 3100",
      "ingress-nginx[app.kubernetes.io/name=ingress-nginx] -> default[app.kubernetes.io/name=grafana] TCP 3000",
      "velero[app.kubernetes.io/name=velero] -> public network TCP 587",
    ]);
    const plan = planLearning(result.judgements, context.config, "fixture");
    const after = contextFromText(applyFlows(HOMELAB_TEXT, plan.flows));
    assert.ok(judgeFlows(log.flows, after).judgements.every((j) => j.verdict === "allowed"));
  });
});
