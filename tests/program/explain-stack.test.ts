import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

function explain(args: string[]) {
  return spawnSync(TSX, ["cli/explain.ts", "--stack", "homelab", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("npm run explain -- --stack homelab", function () {
  this.timeout(120_000);

  it("explains an allowed meshed flow corner by corner, judged on HBONE", () => {
    const run = explain(["--from", "argo-workflows", "--to", "localstack", "--port", "4566"]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Verdict: allowed/);
    assert.match(run.stdout, /15008/);
    assert.match(run.stdout, /Egress at the source .*argo-workflows-network-policy/);
    assert.match(run.stdout, /Ingress at the destination .*localstack-network-policy/);
  });

  it("explains a denied flow and proposes the config change", () => {
    const run = explain(["--from", "velero", "--to", "falco", "--port", "2801"]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /^Verdict: denied/);
    assert.match(run.stdout, /zt-netpol:flows/);
    assert.match(run.stdout, /from: \{namespace: velero\}\n {2}to: \{namespace: falco\}/);
  });

  it("honours pod labels: only promtail may push to Loki", () => {
    const promtail = explain([
      "--from",
      "loki/app.kubernetes.io/name=promtail",
      "--to",
      "loki/app.kubernetes.io/name=loki",
      "--port",
      "3100",
    ]);
    assert.equal(promtail.status, 0, promtail.stdout);
    const velero = explain([
      "--from",
      "velero",
      "--to",
      "loki/app.kubernetes.io/name=loki",
      "--port",
      "3100",
    ]);
    assert.equal(velero.status, 1, velero.stdout);
  });
});
