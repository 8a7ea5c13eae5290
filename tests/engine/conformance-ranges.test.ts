import assert from "node:assert/strict";
import { renderConformance } from "../../engine/conformance/netpol-analyzer";
import {
  canonicaliseRows,
  compareRows,
  parseExternalEndpoint,
} from "../../engine/conformance/ranges";

const ext = (range: string): string => `${range}[External]`;
const diffRow = (
  type: string,
  source: string,
  destination: string,
  ref1: string,
  ref2: string,
  info = "",
): string =>
  `diff-type: ${type}, source: ${source}, destination: ${destination}, ref1: ${ref1}, ref2: ${ref2}` +
  (info ? `, workloads-diff-info: ${info}` : "");
const A = "default/a[Deployment]";
const B = "default/b[Deployment]";

describe("conformance: external range canonicalisation", () => {
  it("parses range, CIDR and bare CIDR endpoints, nothing else", () => {
    assert.deepEqual(parseExternalEndpoint(ext("10.0.0.0-10.10.255.255")), {
      lo: 0x0a000000,
      hi: 0x0a0affff,
    });
    assert.deepEqual(parseExternalEndpoint(ext("10.0.0.0/8")), { lo: 0x0a000000, hi: 0x0affffff });
    assert.deepEqual(parseExternalEndpoint("0.0.0.0/0"), { lo: 0, hi: 0xffffffff });
    assert.equal(parseExternalEndpoint(A), undefined);
    assert.equal(parseExternalEndpoint("10.0.0.9-10.0.0.1[External]"), undefined);
    assert.equal(parseExternalEndpoint("10.0.0.0-10.0.0.1"), undefined);
  });

  it("merges adjacent and overlapping intervals with the same key", () => {
    const rows = [
      `${ext("0.0.0.0-9.255.255.255")} => ${A} : All Connections`,
      `${ext("10.0.0.0-10.9.255.255")} => ${A} : All Connections`,
      `${ext("10.5.0.0-255.255.255.255")} => ${A} : All Connections`,
      `${A} => ${B} : TCP 80`,
    ];
    assert.deepEqual(canonicaliseRows(rows), [
      `${ext("0.0.0.0-255.255.255.255")} => ${A} : All Connections`,
      `${A} => ${B} : TCP 80`,
    ]);
  });

  it("a merged block equals the same addresses cut into pieces (diff rows)", () => {
    const whole = [
      diffRow("changed", ext("10.0.0.0-10.10.255.255"), A, "All Connections", "UDP 53"),
      diffRow(
        "added",
        B,
        ext("0.0.0.0-255.255.255.255"),
        "No Connections",
        "All Connections",
        "workload x added",
      ),
    ];
    const pieces = [
      diffRow("changed", ext("10.0.0.0-10.9.255.255"), A, "All Connections", "UDP 53"),
      diffRow("changed", ext("10.10.0.0/16"), A, "All Connections", "UDP 53"),
      diffRow(
        "added",
        B,
        ext("0.0.0.0-9.255.255.255"),
        "No Connections",
        "All Connections",
        "workload x added",
      ),
      diffRow(
        "added",
        B,
        ext("10.0.0.0-255.255.255.255"),
        "No Connections",
        "All Connections",
        "workload x added",
      ),
    ];
    const result = compareRows(whole, pieces);
    assert.equal(result.equal, true);
    assert.equal(result.byRanges, true);
    assert.equal(result.expectedCount, 2);
    assert.equal(result.actualCount, 4);
  });

  it("keeps non-adjacent intervals apart and reports a gap", () => {
    const expected = [`${ext("0.0.0.0-255.255.255.255")} => ${A} : All Connections`];
    const actual = [
      `${ext("0.0.0.0-9.255.255.255")} => ${A} : All Connections`,
      `${ext("11.0.0.0-255.255.255.255")} => ${A} : All Connections`,
    ];
    assert.deepEqual(canonicaliseRows(actual), actual);
    const result = compareRows(expected, actual);
    assert.equal(result.equal, false);
    assert.deepEqual(result.missing, expected);
    assert.deepEqual(result.extra, actual);
  });

  it("does not merge rows whose keys differ", () => {
    const lo = "0.0.0.0-9.255.255.255";
    const hi = "10.0.0.0-255.255.255.255";
    const pairs: [string, string][] = [
      // connection set differs
      [`${ext(lo)} => ${A} : All Connections`, `${ext(hi)} => ${A} : TCP 80`],
      // other endpoint differs
      [`${ext(lo)} => ${A} : TCP 80`, `${ext(hi)} => ${B} : TCP 80`],
      // external on the source side vs the destination side
      [`${ext(lo)} => ${A} : TCP 80`, `${A} => ${ext(hi)} : TCP 80`],
      // diff-type differs
      [
        diffRow("added", ext(lo), A, "No Connections", "TCP 80"),
        diffRow("changed", ext(hi), A, "No Connections", "TCP 80"),
      ],
      // ref1 differs
      [
        diffRow("changed", ext(lo), A, "UDP 53", "TCP 80"),
        diffRow("changed", ext(hi), A, "UDP 54", "TCP 80"),
      ],
      // ref2 differs
      [
        diffRow("changed", ext(lo), A, "UDP 53", "TCP 80"),
        diffRow("changed", ext(hi), A, "UDP 53", "TCP 81"),
      ],
      // workloads-diff-info differs
      [
        diffRow("added", ext(lo), A, "No Connections", "TCP 80", `workload ${A} added`),
        diffRow("added", ext(hi), A, "No Connections", "TCP 80"),
      ],
    ];
    for (const [first, second] of pairs)
      assert.deepEqual(canonicaliseRows([second, first]), [first, second].sort(), first);
  });

  it("a real difference on some addresses still fails", () => {
    const expected = [
      diffRow("changed", ext("10.0.0.0-10.10.255.255"), A, "All Connections", "UDP 53"),
      diffRow("removed", ext("10.11.0.0-10.11.255.255"), A, "All Connections", "No Connections"),
    ];
    const actual = [
      diffRow("changed", ext("10.0.0.0-10.11.255.255"), A, "All Connections", "UDP 53"),
    ];
    const result = compareRows(expected, actual);
    assert.equal(result.equal, false);
    assert.equal(result.byRanges, false);
    assert.deepEqual(result.extra, actual);
    assert.deepEqual(result.missing, expected);
  });

  it("keeps rows with no or two external endpoints verbatim; textual equality is not byRanges", () => {
    const rows = [
      `  ${A} => ${B} : TCP 80  `,
      "",
      `${ext("1.0.0.0-1.0.0.255")} => ${ext("1.0.1.0-1.0.1.255")} : TCP 80`,
      `${ext("1.0.0.0-1.0.0.255")} => ${ext("1.0.2.0-1.0.2.255")} : TCP 80`,
    ];
    assert.deepEqual(canonicaliseRows(rows), [rows[2], rows[3], rows[0].trim()]);
    const result = compareRows(rows, [...rows].reverse());
    assert.equal(result.equal, true);
    assert.equal(result.byRanges, false);
  });

  it("the runner notes range-canonicalised passes and still ends with the counts", () => {
    const text = renderConformance([
      { name: "x", kind: "diff", status: "PASS", detail: "matched after …", byRanges: true },
      { name: "y", kind: "connlist", status: "PASS", detail: "3 lines match" },
      { name: "z", kind: "connlist", status: "FAIL", detail: "1 missing" },
    ]);
    assert.match(text, /1 of the passes matched after range canonicalisation/);
    assert.match(text, /\n2 passed, 1 failed\n$/);
  });
});
