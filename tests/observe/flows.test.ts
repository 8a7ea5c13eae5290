/** The three flow-log readers, on fixtures written from the published schemas. */
import { strict as assert } from "assert";
import * as path from "path";
import { FlowLogError, readFlowFile, readFlowText } from "../../observe/flows";

const FIXTURES = path.join(__dirname, "..", "fixtures", "flows");

function problemsOf(text: string, file: string): string {
  try {
    readFlowText(text, file);
  } catch (error) {
    if (error instanceof FlowLogError) return error.message;
    throw error;
  }
  return "";
}

describe("flow log readers", () => {
  it("Goldmane/Whisker FlowResponse: ends, labels, reporter, pending trace", () => {
    const log = readFlowFile(path.join(FIXTURES, "goldmane.json"));
    assert.equal(log.format, "goldmane");
    assert.equal(log.flows.length, 4);
    const grafana = log.flows[1];
    assert.deepEqual(grafana.destination, {
      kind: "workload",
      namespace: "default",
      labels: { "app.kubernetes.io/name": "grafana", "pod-template-hash": "6c4b9" },
    });
    assert.equal(grafana.reporter, "Dst");
    assert.equal(grafana.port, 3000);
    assert.equal(grafana.pending?.[0].action, "Deny");
    assert.equal(grafana.first, "2026-11-30T10:00:00Z");
  });

  it("Goldmane: public/private networks, one object per line, and errors with the record", () => {
    const record = (over: Record<string, unknown>) =>
      JSON.stringify({
        source_name: "a-*",
        source_namespace: "a",
        source_labels: "app=a",
        dest_name: "pub",
        dest_namespace: "",
        dest_labels: "",
        protocol: "TCP",
        dest_port: 443,
        reporter: "Src",
        action: "Allow",
        policies: { enforced: [], pending: [] },
        ...over,
      });
    const log = readFlowText(`${record({})}\n${record({ dest_name: "pvt" })}\n`, "f.json");
    const listed = readFlowText(`{"total":{"totalPages":1},"items":[${record({})}]}`, "l.json");
    assert.equal(listed.flows[0].where, "l.json#0", "Whisker's list response");
    assert.match(
      problemsOf(`${record({})}\n${record({ reporter: "Both" })}\n`, "n.json"),
      /n\.json:2\.reporter: must be Src or Dst/,
      "one record per line: located by line",
    );
    assert.deepEqual(log.flows[0].destination, { kind: "public" });
    assert.equal(log.flows[1].destination.kind, "unplaceable");
    assert.match(
      problemsOf(record({ dest_port: 0 }), "f.json"),
      /f\.json#0\.dest_port: must be 1-65535/,
    );
    assert.match(
      problemsOf(record({ protocol: "GRE" }), "f.json"),
      /f\.json#0\.protocol: unsupported "GRE"/,
    );
    assert.match(problemsOf(record({ reporter: "x" }), "f.json"), /reporter: must be Src or Dst/);
    assert.match(
      problemsOf(`[${record({ source_labels: "noequals" })}]`, "f.json"),
      /f\.json#0\.source_labels: label "noequals"/,
    );
  });

  it("Hubble: pod labels without Cilium's own, replies and L7 events skipped, world by IP", () => {
    const log = readFlowFile(path.join(FIXTURES, "hubble.jsonl"));
    assert.equal(log.format, "hubble");
    assert.equal(log.flows.length, 3);
    assert.equal(log.skipped, 2);
    assert.deepEqual(log.flows[0].source, {
      kind: "workload",
      namespace: "loki",
      labels: { "app.kubernetes.io/name": "promtail", "controller-revision-hash": "7c9d5" },
    });
    assert.deepEqual(log.flows[1].destination, { kind: "external", cidr: "10.0.1.1/32" });
    assert.equal(log.flows[1].protocol, "UDP");
    assert.equal(log.flows[1].port, 161);
  });

  it("Hubble: a flow without is_reply that is not a bare SYN is refused with its line", () => {
    const line = JSON.stringify({
      flow: {
        Type: "L3_L4",
        l4: { UDP: { destination_port: 53 } },
        IP: { source: "10.244.0.1", destination: "10.244.0.2" },
        source: { namespace: "a", labels: [] },
        destination: { namespace: "b", labels: [] },
      },
    });
    assert.match(problemsOf(line, "h.json"), /h\.json:1\.flow\.is_reply: missing/);
  });

  it("CSV: header, labels, CIDR ends, counts; bad rows named by line and field", () => {
    const log = readFlowFile(path.join(FIXTURES, "flows.csv"));
    assert.equal(log.format, "csv");
    assert.equal(log.flows.length, 6);
    assert.equal(log.flows[4].count, 2880);
    assert.deepEqual(log.flows[3].destination, { kind: "external", cidr: "142.250.1.27/32" });
    const header = "src_ns,src_labels,dst_ns|cidr,dst_labels,protocol,port,count";
    assert.match(
      problemsOf(`${header}\na,,b,,TCP,99999,1\n`, "x.csv"),
      /x\.csv:2\.port: must be 1-65535/,
    );
    assert.match(
      problemsOf(`${header}\na,,b,,TCP,80,0\n`, "x.csv"),
      /x\.csv:2\.count: must be a positive integer/,
    );
    assert.match(
      problemsOf(`${header}\nA_B,,b,,TCP,80,1\n`, "x.csv"),
      /x\.csv:2\.src: "A_B" is neither/,
    );
    assert.match(problemsOf(`src,dst\n`, "x.csv"), /x\.csv:1: header must be exactly/);
    assert.match(problemsOf(`${header}\n`, "x.csv"), /no flows in it/);
  });
});
