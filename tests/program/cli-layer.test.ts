/**
 * The command-line layer every CLI shares (cli/lib/program.ts), spawned as a user runs it:
 * `--help` documents the exit codes, a user error is one located line and exit 2, never a
 * stack trace; explain refuses a namespace that does not exist; a failed plan leaves no stale
 * output behind.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { exitCodesHelp } from "../../cli/lib/program";

const ROOT = path.join(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const CLIS = [
  "plan",
  "check",
  "explain",
  "diff",
  "conformance",
  "bench",
  "matrix",
  "observe",
  "learn",
];
const STACK_TRACE = /\n\s+at [^\n]*[(:]\d+/;

function cli(name: string, args: string[]) {
  const run = spawnSync(TSX, [`cli/${name}.ts`, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Exit 2, one line on stderr naming the command, no trace. */
function assertUserError(run: ReturnType<typeof cli>, name: string, expected: RegExp): void {
  assert.equal(run.status, 2, run.stdout + run.stderr);
  assert.doesNotMatch(run.stderr, STACK_TRACE);
  assert.match(run.stderr, new RegExp(`^${name}: `, "m"));
  assert.match(run.stderr, expected);
}

describe("the command-line layer (every CLI)", function () {
  this.timeout(180_000);

  it("documents the exit codes every CLI shares", () => {
    const text = exitCodesHelp([{ code: 0, meaning: "fine" }]);
    assert.match(text, /Exit codes:\n {2}0 {2}fine\n {2}2 {2}user error/);
    assert.match(text, /70 internal error \(a bug in zt-netpol/);
  });

  for (const name of CLIS)
    it(`${name} --help prints usage and the exit codes, exit 0`, () => {
      const run = cli(name, ["--help"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^Usage: ${name} `));
      assert.match(run.stdout, /\nExit codes:\n {2}0 /);
      assert.match(run.stdout, /\n {2}2 {2}user error/);
      assert.equal(run.stderr, "");
    });

  it("an unknown flag is one line and exit 2, for every CLI", () => {
    for (const name of ["plan", "check", "diff", "bench"])
      assertUserError(cli(name, ["--stak", "homelab"]), name, /unknown option '--stak'/);
  });

  it("observe and learn: an unreadable flow log is a located user error; diff --promote needs an input", () => {
    for (const name of ["observe", "learn"])
      assertUserError(
        cli(name, ["/nonexistent/flows.csv", "--stack", "homelab"]),
        name,
        /\/nonexistent\/flows\.csv: cannot read \(ENOENT\)/,
      );
    assertUserError(cli("diff", ["--promote"]), "diff", /--promote needs a PATH or --stack NAME/);
  });

  it("conformance without its sample, and bench abc, are user errors, not traces or null rows", () => {
    assertUserError(cli("conformance", [os.tmpdir()]), "conformance", /has no INDEX\.tsv/);
    const bench = cli("bench", ["abc"]);
    assertUserError(
      bench,
      "bench",
      /SIZE must be a positive whole number of namespaces, not "abc"/,
    );
    assert.doesNotMatch(bench.stdout, /null/);
  });

  it("explain refuses a namespace the stack does not declare, with a did-you-mean", () => {
    const args = [
      "--stack",
      "homelab",
      "--from",
      "argo-workflow",
      "--to",
      "localstack",
      "--port",
      "4566",
    ];
    assertUserError(
      cli("explain", args),
      "explain",
      /--from argo-workflow: stack homelab has no namespace argo-workflow \(did you mean "argo-workflows"\?\); pass --hypothetical/,
    );
    const hypothetical = cli("explain", [...args, "--hypothetical"]);
    assert.match(hypothetical.stdout, /^Verdict: (allowed|denied)/);
    assert.match(hypothetical.stdout, /hypothetical pod/);
  });

  it("diff reads standard input and a kustomization, and meshes ambient-labelled namespaces", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-diff-"));
    const objects = [
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "a", labels: { "istio.io/dataplane-mode": "ambient" } },
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace: "a" },
        spec: { containers: [{ name: "c" }] },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "deny" },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
      },
    ];
    fs.writeFileSync(
      path.join(dir, "all.json"),
      JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    );
    fs.writeFileSync(path.join(dir, "kustomization.yaml"), "namespace: a\nresources: [all.json]\n");
    const run = spawnSync(TSX, ["cli/diff.ts", "-", dir], {
      cwd: ROOT,
      encoding: "utf8",
      input: JSON.stringify(objects.slice(0, 2)),
      timeout: 90_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /note: meshed \(labelled istio\.io\/dataplane-mode=ambient\): a;/);
    // The explained diff: by namespace pair, each closed line with the rule that allowed it.
    assert.match(
      run.stdout,
      /^Closed:\n {2}a -> internet\n {4}- All Connections +was allowed by egress: a\/web is not isolated$/m,
    );
    // --html draws the same changes; a path that cannot be written is an error at the flag.
    const html = path.join(dir, "diff.html");
    const drawn = spawnSync(TSX, ["cli/diff.ts", "-", dir, "--html", html], {
      cwd: ROOT,
      encoding: "utf8",
      input: JSON.stringify(objects.slice(0, 2)),
      timeout: 90_000,
    });
    assert.equal(drawn.status, 0, drawn.stderr);
    // The same text on stdout (the picture draws the namespace-level changes).
    assert.equal(drawn.stdout, run.stdout);
    assert.match(fs.readFileSync(html, "utf8"), /<svg [^>]*class="picture-svg"/);
    assertUserError(
      cli("diff", [dir, dir, "--html", path.join(dir, "missing", "diff.html")]),
      "diff",
      /--html [^\n]*missing\/diff\.html: ENOENT/,
    );
  });

  it("a failed plan removes the outputs an older plan left in --out, and keeps other files", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-plan-"));
    const out = path.join(dir, "out");
    fs.mkdirSync(out);
    for (const file of ["manifests.yaml", "policy-pack-config.json", "matrix.md", "notes.txt"])
      fs.writeFileSync(path.join(out, file), "from an older plan");
    const document = parse(
      fs.readFileSync(path.join(ROOT, "tests/fixtures/Pulumi.minilab.yaml"), "utf8"),
    );
    document.config["zt-netpol:flows"][0].ports = [65536];
    fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), stringify(document));
    const run = cli("plan", ["--stack", "bad", "--stack-dir", dir, "--out", out]);
    assertUserError(run, "plan", /zt-netpol:flows\[0\]\.ports\[0\]/);
    assert.match(
      run.stderr,
      /removed the older matrix\.md, manifests\.yaml, policy-pack-config\.json/,
    );
    assert.deepEqual(fs.readdirSync(out), ["notes.txt"]);
  });
});
