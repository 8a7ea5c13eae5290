/** `npm run check -- PATH`: exit codes and output, run as a child process like CI does. */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FIXTURES, homelabFacts } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");

function check(args: string[], input?: string): { status: number | null; out: string } {
  const result = spawnSync(
    process.execPath,
    [require.resolve("tsx/cli"), "cli/check.ts", ...args],
    { cwd: ROOT, encoding: "utf8", input },
  );
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

const homelab = (...args: string[]) => check([...args, "--stack", "homelab"]);

function tempDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "check-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const NO_TRACE = /\n\s+at [^\n]*\(/;

describe("npm run check", function () {
  this.timeout(60_000);

  it("exits 1 on a mandatory violation and prints the policy, the object and the fix", () => {
    const { status, out } = homelab(
      path.join(FIXTURES, "dns-and-semantics/fail-or-form.yaml"),
      "--partial",
    );
    assert.equal(status, 1, out);
    assert.match(
      out,
      /\[mandatory\] {2}zt-netpol-guard v\d+\.\d+\.\d+ {2}dns-and-semantics \(velero\/velero-network-policy @ /,
    );
    assert.match(out, /Fix: use one item/);
  });

  it("follows a kustomization and names the files it did not read", () => {
    const dir = tempDir({
      "localstack.yaml": fs.readFileSync(
        path.join(FIXTURES, "mesh-hbone-required/pass-meshed-localstack.yaml"),
        "utf8",
      ),
      // A meshed namespace also needs its ztunnel authorization (meshed-namespace-authorization).
      "localstack-istio.yaml": fs.readFileSync(
        path.join(FIXTURES, "meshed-namespace-authorization/pass-localstack-rendered.yaml"),
        "utf8",
      ),
      "kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [localstack.yaml, localstack-istio.yaml]\n",
      "notes.txt": "not a manifest",
    });
    const { status, out } = homelab(dir, "--partial");
    assert.equal(status, 0, out);
    assert.match(out, /skipped .*notes\.txt: not listed in any kustomization's resources/);
    assert.match(out, /Checked \d+ objects in 3 file\(s\).*; skipped 1 file\(s\): 0 mandatory/);
  });

  it("judges a .json file in a directory: an allow-all policy in JSON does not pass", () => {
    const allowAll = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "velero-network-policy", namespace: "velero" },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] },
    };
    const { status, out } = homelab(
      tempDir({ "allow.json": JSON.stringify(allowAll) }),
      "--partial",
    );
    assert.equal(status, 1, out);
    assert.match(out, /velero\/velero-network-policy @ .*allow\.json/);
  });

  it("reads standard input for - (kubectl kustomize DIR | npm run check -- -)", () => {
    const text = fs.readFileSync(
      path.join(FIXTURES, "dns-and-semantics/fail-or-form.yaml"),
      "utf8",
    );
    const { status, out } = check(["-", "--stack", "homelab", "--partial"], text);
    assert.equal(status, 1, out);
    assert.match(out, /dns-and-semantics \(velero\/velero-network-policy @ -/);
  });

  it("judges whole-cluster completeness without --partial", () => {
    const { status, out } = homelab(
      path.join(FIXTURES, "mesh-hbone-required/pass-meshed-localstack.yaml"),
    );
    assert.equal(status, 1, out);
    assert.match(out, /protected namespace velero has no baseline/);
  });

  it("takes cluster facts from a JSON file", () => {
    const facts = path.join(tempDir({}), "facts.json");
    fs.writeFileSync(
      facts,
      JSON.stringify({ ...homelabFacts(), edge: { namespaces: ["argocd"], ports: [443] } }),
    );
    const file = path.join(FIXTURES, "ingress-from-anywhere-edge-only/fail-not-edge.yaml");
    const reported = /\] {2}zt-netpol-guard v[\d.]+ {2}ingress-from-anywhere-edge-only/;
    assert.match(homelab(file, "--partial").out, reported);
    const withFile = check([file, "--partial", "--facts", facts]);
    assert.doesNotMatch(withFile.out, reported);
    assert.doesNotMatch(withFile.out, /cannot verify/);
    assert.match(withFile.out, /with cluster facts from .*facts\.json/);
  });

  it("judges plain YAML without facts: nothing assumed but definitions, a note for each gap; a broken stack file is one message", () => {
    const file = path.join(FIXTURES, "dns-and-semantics/fail-or-form.yaml");
    const none = check([file, "--partial"]);
    assert.equal(none.status, 1, none.out);
    assert.match(none.out, /dns-and-semantics .*velero\/velero-network-policy/);
    assert.doesNotMatch(none.out, /cannot verify/);
    assert.match(none.out, /as plain YAML without cluster facts/);
    assert.match(none.out, /note: private ranges: RFC 1918/);
    assert.match(
      none.out,
      /note: kube-api-egress-paired without apiServer, controlPlane: not judged/,
    );
    assert.match(none.out, /note: ingress-from-anywhere-edge-only without edge/);
    const dir = tempDir({ "Pulumi.broken.yaml": "config:\n  zt-netpol:cluster: [unclosed\n" });
    const broken = check([file, "--stack", "broken", "--stack-dir", dir]);
    assert.equal(broken.status, 2, broken.out);
    assert.match(broken.out, /Pulumi\.broken\.yaml: not valid YAML/);
    assert.doesNotMatch(broken.out, NO_TRACE);
    assert.equal(broken.out.match(/not valid YAML/g)?.length, 1, "printed once");
  });

  it("exits 2 with one located message on input the API server or the loader refuses", () => {
    const policy = (namespace: string | undefined, kind: string, rule: object) =>
      JSON.stringify({
        apiVersion: "networking.k8s.io/v1",
        kind,
        metadata: namespace ? { name: "p", namespace } : { name: "p" },
        spec: { podSelector: {}, policyTypes: ["Egress"], egress: [rule] },
      });
    const cases: [string, RegExp][] = [
      [
        policy("a", "NetworkPolicyy", {}),
        /kind "NetworkPolicyy" does not exist in networking\.k8s\.io \(did you mean "NetworkPolicy"\?\)/,
      ],
      [policy(undefined, "NetworkPolicy", {}), /names no namespace.*--namespace NS/],
      [
        policy("a", "NetworkPolicy", { to: [{ ipBlock: { cidr: "10.0.0.1" } }] }),
        /has no prefix length/,
      ],
      [policy("a", "NetworkPolicy", { ports: [{ protocol: "tcp", port: 80 }] }), /use TCP/],
      [policy("a", "NetworkPolicy", { ports: [{ port: "8085" }] }), /write the number unquoted/],
    ];
    for (const [text, expected] of cases) {
      const { status, out } = homelab(tempDir({ "p.json": text }), "--partial");
      assert.equal(status, 2, out);
      assert.match(out, expected);
      assert.doesNotMatch(out, NO_TRACE);
    }
  });

  it("takes --namespace for policy objects that name none", () => {
    const text = fs
      .readFileSync(path.join(FIXTURES, "dns-and-semantics/fail-or-form.yaml"), "utf8")
      .replace(", namespace: velero}", "}");
    assert.doesNotMatch(text, /namespace: velero/);
    const { status, out } = check(["-", "--stack", "homelab", "--partial", "-n", "velero"], text);
    assert.equal(status, 1, out);
    assert.match(out, /dns-and-semantics \(velero\/velero-network-policy @ -/);
  });

  it("refuses empty input: nothing checked, with --partial too", () => {
    for (const args of [[], ["--partial"]]) {
      const dir = tempDir({ "README.md": "# no manifests here" });
      const { status, out } = homelab(dir, ...args);
      assert.equal(status, 2, out);
      assert.match(out, /skipped .*README\.md: not a \.yaml, \.yml or \.json file/);
      assert.match(out, /nothing checked: .* holds no NetworkPolicy or Calico policy/);
    }
  });

  it("exits 2 on unreadable input", () => {
    const { status, out } = homelab(path.join(FIXTURES, "does-not-exist.yaml"));
    assert.equal(status, 2);
    assert.match(out, /does-not-exist\.yaml: no such file or directory/);
  });
});
