/**
 * The rollout loop through the CLIs, offline: observe a CSV log against a stack, learn into a copy
 * of the stack file, observe again (now everything is allowed), learn again (nothing to add),
 * and `check` on staged manifests (the pack's manifest reader knows the staged kinds).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run as learn } from "../../cli/learn";
import { run as observe } from "../../cli/observe";
import { PROJECT_ROOT } from "../../config/load";
import { pulumiTypeOf } from "../../policypack/lib/manifests";

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  let out = "";
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), out };
  } finally {
    process.stdout.write = write;
    process.stderr.write = errWrite;
  }
}

describe("observe → learn → observe through the CLIs", function () {
  this.timeout(120_000);

  it("closes the observed gaps and then has nothing left to learn", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-loop-"));
    fs.copyFileSync(
      path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"),
      path.join(dir, "Pulumi.homelab.yaml"),
    );
    const log = path.join(PROJECT_ROOT, "tests", "fixtures", "flows", "flows.csv");
    const args = [log, "--stack", "homelab", "--stack-dir", dir];
    const first = await capture(() => observe(args));
    assert.equal(first.code, 1, first.out);
    assert.match(first.out, /Observed and denied: 4/);
    const learned = await capture(() => learn(args));
    assert.equal(learned.code, 0, learned.out);
    assert.match(learned.out, /added 4 flow\(s\)/);
    const text = fs.readFileSync(path.join(dir, "Pulumi.homelab.yaml"), "utf8");
    assert.match(text, /reason: observed 2880 times, no timestamps, from .*flows\.csv/);
    const second = await capture(() => observe(args));
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, /Observed and denied: 0/);
    const again = await capture(() => learn(args));
    assert.match(again.out, /nothing to learn/);
    assert.equal(fs.readFileSync(path.join(dir, "Pulumi.homelab.yaml"), "utf8"), text);
  });

  it("exits 1 (negative answer) and writes nothing when a denied flow needs a config decision (undeclared namespace)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-loop-"));
    const stackFile = path.join(dir, "Pulumi.homelab.yaml");
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), stackFile);
    const log = path.join(dir, "undeclared.csv");
    fs.writeFileSync(
      log,
      "src_ns,src_labels,dst_ns|cidr,dst_labels,protocol,port,count\nvelero,app.kubernetes.io/name=velero,newns,app=x,TCP,80,3\n",
    );
    const before = fs.readFileSync(stackFile, "utf8");
    const run = await capture(() => learn([log, "--stack", "homelab", "--stack-dir", dir]));
    assert.equal(run.code, 1, run.out);
    assert.match(run.out, /declare namespace newns under zt-netpol:namespaces/);
    assert.equal(fs.readFileSync(stackFile, "utf8"), before);
  });

  it("refuses bad input in one line with the exit code 2 (user error), never a stack trace", async () => {
    const missing = await capture(() => observe(["/nonexistent.csv", "--stack", "homelab"]));
    assert.equal(missing.code, 2);
    assert.match(missing.out, /\/nonexistent\.csv: cannot read \(ENOENT\)/);
    assert.doesNotMatch(missing.out, /\n\s+at /, "no stack trace");
    const noStack = await capture(() => learn(["x.csv"]));
    assert.equal(noStack.code, 2);
    assert.match(noStack.out, /required option '--stack <name>'/);
    const badFormat = await capture(() =>
      observe(["x.csv", "--stack", "homelab", "--format", "pcap"]),
    );
    assert.equal(badFormat.code, 2);
    assert.match(
      badFormat.out,
      /--format <format>.*pcap.*Allowed choices are goldmane, hubble, csv/,
    );
    const badLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "zt-badlog-")), "bad.csv");
    fs.writeFileSync(badLog, "not,a,flow,log\n");
    const invalid = await capture(() => learn([badLog, "--stack", "homelab", "--format", "csv"]));
    assert.equal(invalid.code, 2, invalid.out);
    assert.match(invalid.out, /^learn: /m);
    assert.doesNotMatch(invalid.out, /\n\s+at /, "no stack trace");
    const help = await capture(() => observe(["--help"]));
    assert.equal(help.code, 0);
    assert.match(help.out, /Exit codes:/);
  });

  it("npm run check reads the staged kinds as their own Pulumi types", () => {
    assert.equal(
      pulumiTypeOf("projectcalico.org/v3", "StagedKubernetesNetworkPolicy"),
      "kubernetes:projectcalico.org/v3:StagedKubernetesNetworkPolicy",
    );
    assert.equal(
      pulumiTypeOf("projectcalico.org/v3", "StagedNetworkPolicy"),
      "kubernetes:projectcalico.org/v3:StagedNetworkPolicy",
    );
    assert.equal(pulumiTypeOf("projectcalico.org/v3", "StagedThing"), undefined);
  });
});
