/**
 * Runs the netpol-analyzer test-data sample (np-guard/netpol-analyzer, Apache-2.0) against this
 * engine in that tool's model: ipBlocks never match pods, no mesh, only TCP/UDP/SCTP, one node per
 * owning workload. Cases are compared as sets of output lines, rows with an external IP range
 * address by address (./ranges.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { computeConnectivity, remoteRanges } from "../evaluate/matrix";
import { parseManifestText } from "../load/parse";
import type { SourcedObject } from "../load/parse";
import { buildModel } from "../model/build";
import { formatConnections, PORT_PROTOCOLS } from "../model/connections";
import type { ClusterModel } from "../model/types";
import { connlist, type ConnlistFormat, renderConnlist } from "../report/connlist";
import { workloadConnections } from "../report/connectivity";
import { diffConnections } from "../report/diff";
import { compareRows } from "./ranges";

export type CaseStatus = "PASS" | "FAIL" | "KNOWN-DIFF" | "SKIP";

export interface CaseResult {
  readonly name: string;
  readonly kind: "connlist" | "format" | "error" | "diff" | "explain";
  readonly status: CaseStatus;
  readonly detail: string;
  /** Matched only after external ranges were canonicalised (the text differed). */
  readonly byRanges?: boolean;
}

/**
 * Documented modelling differences, per case. A case listed here is still counted as failed
 * (KNOWN-DIFF) unless its lines match; the reason is printed with the result. Empty today: the one
 * former entry (external blocks cut differently in the ipBlock cross-topology diff) matches address
 * by address once external ranges are canonicalised (see ./ranges.ts).
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {};

interface IndexRow {
  readonly dir: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly description: string;
}

export function readIndex(root: string): IndexRow[] {
  const text = fs.readFileSync(path.join(root, "INDEX.tsv"), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const [dir, inputs = "", outputs = "", description = ""] = line.split("\t");
      return {
        dir,
        inputs: inputs.split(",").filter(Boolean),
        outputs: outputs.split(",").filter(Boolean),
        description,
      };
    });
}

function loadFiles(files: readonly string[]): SourcedObject[] {
  return files.flatMap((f) => parseManifestText(fs.readFileSync(f, "utf8"), f));
}

const ANALYZER_OPTIONS = { ipBlockMatchesPods: false } as const;

/** The list in one of netpol-analyzer's shapes, by the code `npm run list` runs. */
function connlistText(model: ClusterModel, format: ConnlistFormat): string {
  const list = connlist(model, computeConnectivity(model), { protocols: PORT_PROTOCOLS });
  return renderConnlist(list, format);
}

function connlistLines(model: ClusterModel): string[] {
  return connlistText(model, "txt").split("\n").filter(Boolean);
}

/** The formats other than txt are compared as whole texts (their order and layout are part of them). */
const WHOLE_TEXT_FORMATS: readonly ConnlistFormat[] = ["json", "csv", "md", "dot"];

function compareText(expected: string, actual: string): Comparison {
  const want = expected.trimEnd();
  const got = actual.trimEnd();
  if (want === got) return { equal: true, detail: `${want.split("\n").length} lines identical` };
  const a = want.split("\n");
  const b = got.split("\n");
  const at = a.findIndex((line, i) => line !== b[i]);
  const line = at === -1 ? a.length : at;
  return {
    equal: false,
    detail: `first difference at line ${line + 1}: expected ${JSON.stringify(a[line] ?? "<end>")}, got ${JSON.stringify(b[line] ?? "<end>")}`,
  };
}

interface Comparison {
  readonly equal: boolean;
  readonly detail: string;
  readonly byRanges?: boolean;
}

/**
 * Compares expected and actual lines as sets, with external ranges compared address by address
 * (see ./ranges.ts). The detail says when the lines only match after that canonicalisation.
 */
function compareLines(expected: string[], actual: string[]): Comparison {
  const result = compareRows(expected, actual);
  if (result.equal)
    return {
      equal: true,
      byRanges: result.byRanges,
      detail: result.byRanges
        ? `matched after range canonicalisation: ${result.expectedCount} expected and ` +
          `${result.actualCount} actual lines cover the same rows address by address`
        : `${result.expectedCount} lines match`,
    };
  const sample = (list: readonly string[]): string =>
    list.slice(0, 3).join(" | ") + (list.length > 3 ? ` | … (${list.length})` : "");
  const { missing, extra } = result;
  return {
    equal: false,
    detail:
      `${missing.length} missing, ${extra.length} extra (after range canonicalisation)` +
      (missing.length ? `; missing: ${sample(missing)}` : "") +
      (extra.length ? `; extra: ${sample(extra)}` : ""),
  };
}

function statusFor(name: string, equal: boolean): CaseStatus {
  if (equal) return "PASS";
  return name in KNOWN_DIFFERENCES ? "KNOWN-DIFF" : "FAIL";
}

function withReason(name: string, detail: string): string {
  const reason = KNOWN_DIFFERENCES[name];
  return reason ? `${detail} [known difference: ${reason}]` : detail;
}

function modelFor(root: string, row: IndexRow): ClusterModel {
  return buildModel(
    loadFiles(row.inputs.map((f) => path.join(root, "tests", row.dir, f))),
    ANALYZER_OPTIONS,
  );
}

export function runConformance(root: string): CaseResult[] {
  const rows = readIndex(root);
  const byDir = new Map(rows.map((r) => [r.dir, r]));
  const results: CaseResult[] = [];
  const run = (name: string, kind: CaseResult["kind"], body: () => Comparison): void => {
    try {
      const { equal, detail, byRanges } = body();
      results.push({
        name,
        kind,
        status: statusFor(name, equal),
        detail: withReason(name, detail),
        ...(byRanges ? { byRanges } : {}),
      });
    } catch (error) {
      results.push({
        name,
        kind,
        status: statusFor(name, false),
        detail: withReason(
          name,
          `threw: ${(error as Error).message.split("\n").slice(0, 3).join(" ")}`,
        ),
      });
    }
  };

  for (const row of rows) {
    const connlistFile = row.outputs.find((o) => o.endsWith(`${row.dir}_connlist_output.txt`));
    if (connlistFile) {
      run(row.dir, "connlist", () => {
        const expected = fs.readFileSync(path.join(root, connlistFile), "utf8").split("\n");
        return compareLines(expected, connlistLines(modelFor(root, row)));
      });
      for (const format of WHOLE_TEXT_FORMATS) {
        const file = connlistFile.replace(/\.txt$/, `.${format}`);
        if (!row.outputs.includes(file)) continue;
        run(`${row.dir}.${format}`, "format", () =>
          compareText(
            fs.readFileSync(path.join(root, file), "utf8"),
            connlistText(modelFor(root, row), format),
          ),
        );
      }
    }
    if (/ERROR case/.test(row.description)) {
      const groups = new Map<string, string[]>();
      for (const input of row.inputs) {
        const sub = input.includes("/") ? input.split("/")[0] : "";
        groups.set(sub, [...(groups.get(sub) ?? []), input]);
      }
      for (const [sub, files] of groups) {
        const name = sub ? `${row.dir}/${sub}` : row.dir;
        // netpol-analyzer#199 turned an undefined named port into a warning (subdir5): expect success.
        const expectError = !(row.dir === "bad_netpols" && sub === "subdir5");
        run(name, "error", () => {
          try {
            const model = buildModel(
              loadFiles(files.map((f) => path.join(root, "tests", row.dir, f))),
              ANALYZER_OPTIONS,
            );
            connlistLines(model);
            return {
              equal: !expectError,
              detail: expectError
                ? "expected an error, the engine accepted the input"
                : "accepted (warning case)",
            };
          } catch (error) {
            const first =
              (error as Error).message.split("\n")[1]?.trim() ?? (error as Error).message;
            return {
              equal: expectError,
              detail: expectError ? `rejected: ${first}` : `unexpected error: ${first}`,
            };
          }
        });
      }
    }
    if (!connlistFile && row.outputs.some((o) => o.includes("_explain_output")))
      results.push({
        name: row.dir,
        kind: "explain",
        status: "SKIP",
        detail: "only an explain-format expectation exists; explanation wording is not compared",
      });
  }

  // Diff cases: diff_between_<new>_and_<old>.txt
  const diffFiles = new Set(
    rows.flatMap((r) =>
      r.outputs.filter((o) => /test_outputs\/diff\/diff_between_.*\.txt$/.test(o)),
    ),
  );
  for (const file of [...diffFiles].sort()) {
    const stem = path.basename(file, ".txt").replace(/^diff_between_/, "");
    const split = [...byDir.keys()]
      .map((dir) =>
        stem.startsWith(`${dir}_and_`) && byDir.has(stem.slice(dir.length + 5)) ? dir : undefined,
      )
      .find(Boolean);
    const name = `diff:${stem}`;
    if (!split) {
      results.push({
        name,
        kind: "diff",
        status: "FAIL",
        detail: "could not split the file name into two case directories",
      });
      continue;
    }
    const newer = byDir.get(split)!;
    const older = byDir.get(stem.slice(split.length + 5))!;
    run(name, "diff", () => {
      const oldModel = modelFor(root, older);
      const newModel = modelFor(root, newer);
      const before = workloadConnections(
        computeConnectivity(oldModel, { extraRanges: remoteRanges(newModel) }),
        PORT_PROTOCOLS,
      );
      const after = workloadConnections(
        computeConnectivity(newModel, { extraRanges: remoteRanges(oldModel) }),
        PORT_PROTOCOLS,
      );
      const workloadsOf = (m: ClusterModel): Set<string> =>
        new Set(m.pods.map((p) => `${p.namespace}/${p.owner.name}[${p.owner.kind}]`));
      const oldWorkloads = workloadsOf(oldModel);
      const newWorkloads = workloadsOf(newModel);
      const lines = diffConnections(before, after).map((c) => {
        let line = `diff-type: ${c.type}, source: ${c.from}, destination: ${c.to}, ref1: ${formatConnections(c.before, PORT_PROTOCOLS)}, ref2: ${formatConnections(c.after, PORT_PROTOCOLS)}`;
        // netpol-analyzer notes when a side of the pair is a workload that exists on one side only.
        const other =
          c.type === "added" ? oldWorkloads : c.type === "removed" ? newWorkloads : undefined;
        const lonely = other
          ? [c.from, c.to].filter((w) => !w.endsWith("[External]") && !other.has(w))
          : [];
        if (lonely.length > 0)
          line += `, workloads-diff-info: workload ${lonely.join(" and ")} ${c.type}`;
        return line;
      });
      const expected = fs
        .readFileSync(path.join(root, file), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("diff-type"));
      return compareLines(expected, lines);
    });
  }
  return results;
}

export function renderConformance(results: readonly CaseResult[]): string {
  const lines = results.map(
    (r) => `${r.status.padEnd(10)} ${r.kind.padEnd(8)} ${r.name}: ${r.detail}`,
  );
  const passed = results.filter((r) => r.status === "PASS").length;
  const skipped = results.filter((r) => r.status === "SKIP").length;
  const failed = results.length - passed - skipped;
  const byRanges = results.filter((r) => r.status === "PASS" && r.byRanges).length;
  if (byRanges > 0)
    lines.push(
      `${byRanges} of the passes matched after range canonicalisation (address by address)`,
    );
  if (skipped > 0) lines.push(`${skipped} skipped (not comparable, listed above with the reason)`);
  lines.push(`${passed} passed, ${failed} failed`);
  return lines.join("\n") + "\n";
}
