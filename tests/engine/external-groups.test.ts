import { strict as assert } from "assert";
import { buildModel, namespaceConnectivity } from "../../engine";
import {
  describeRanges,
  groupExternalPeers,
  mergeRanges,
  rangeToCidrs,
} from "../../engine/report/external-groups";
import { parseCidr } from "../../engine/model/ipv4";

const range = (cidr: string) => {
  const r = parseCidr(cidr);
  assert.ok(r, cidr);
  return r;
};

describe("external peer grouping for reports", () => {
  it("decomposes a range into the fewest CIDRs", () => {
    assert.deepEqual(rangeToCidrs({ lo: range("10.0.0.0/8").lo, hi: range("10.0.0.0/8").hi }), [
      "10.0.0.0/8",
    ]);
    assert.deepEqual(rangeToCidrs({ lo: range("10.0.0.1/32").lo, hi: range("10.0.0.6/32").lo }), [
      "10.0.0.1/32",
      "10.0.0.2/31",
      "10.0.0.4/31",
      "10.0.0.6/32",
    ]);
    assert.deepEqual(rangeToCidrs({ lo: 0, hi: 0xffffffff }), ["0.0.0.0/0"]);
  });

  it("merges touching ranges and labels the internet minus private ranges as an except list", () => {
    assert.deepEqual(mergeRanges([range("10.0.0.0/9"), range("10.128.0.0/9")]), [
      range("10.0.0.0/8"),
    ]);
    const internet = [
      { lo: 0, hi: range("10.0.0.0/8").lo - 1 },
      { lo: range("10.0.0.0/8").hi + 1, hi: range("172.16.0.0/12").lo - 1 },
      { lo: range("172.16.0.0/12").hi + 1, hi: range("192.168.0.0/16").lo - 1 },
      { lo: range("192.168.0.0/16").hi + 1, hi: 0xffffffff },
    ];
    assert.equal(
      describeRanges(internet),
      "0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16",
    );
    assert.equal(
      describeRanges([range("10.0.1.1/32"), range("10.0.1.204/32")]),
      "10.0.1.1/32, 10.0.1.204/32",
    );
  });

  it("merges only blocks every namespace treats alike", () => {
    const policy = (ns: string, cidr: string, except: string[], port: number) => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "p", namespace: ns },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr, except } }], ports: [{ port }] }],
      },
    });
    const model = buildModel([
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "a", namespace: "a" },
        spec: { containers: [{ name: "c" }] },
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "b", namespace: "b" },
        spec: { containers: [{ name: "c" }] },
      },
      policy("a", "0.0.0.0/0", ["10.0.0.0/8"], 443),
      policy("b", "8.8.8.8/32", [], 53),
    ]);
    const grouped = groupExternalPeers(namespaceConnectivity(model)).filter(
      (c) => c.from.kind === "namespace" && c.to.kind === "external",
    );
    const labels = grouped
      .map(
        (c) =>
          `${c.from.kind === "namespace" ? c.from.name : ""} -> ${c.to.kind === "external" ? c.to.cidr : ""}`,
      )
      .sort();
    assert.deepEqual(labels, [
      "a -> 0.0.0.0/0 except 8.8.8.8/32, 10.0.0.0/8",
      "a -> 8.8.8.8/32",
      "b -> 8.8.8.8/32",
    ]);
  });
});
