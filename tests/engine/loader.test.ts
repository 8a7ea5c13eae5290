/**
 * The one reader of manifest inputs (engine/load): inputs as users have them, every file judged
 * or named, and objects the API server would reject refused with their location.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildModel, explainFlow, InputError, loadInputs, ManifestError } from "../../engine";
import { engineOptionsFrom } from "../../cli/lib/engine-options";

type Obj = Record<string, unknown>;

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "zt-load-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const netpol = (namespace: string | undefined, name: string, spec: Obj): Obj => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: namespace === undefined ? { name } : { name, namespace },
  spec,
});

const denyAll = (namespace?: string) =>
  netpol(namespace, "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError || error instanceof ManifestError) return error.message;
    throw error;
  }
  assert.fail("expected the input to be refused");
}

const kinds = (objects: readonly { object: Obj }[]) => objects.map((o) => o.object.kind);

describe("engine loader: inputs as users have them", () => {
  it("reads directories recursively, .json included, and names every file it does not read", () => {
    const root = tree({
      "a/allow.json": JSON.stringify(netpol("a", "allow-all", { podSelector: {}, ingress: [{}] })),
      "a/deny.yaml": JSON.stringify(denyAll("a")),
      "b/nested/deny.yml": JSON.stringify(denyAll("b")),
      "README.md": "# notes",
      ".git/config": "[core]",
    });
    const input = loadInputs([root]);
    assert.deepEqual(
      input.objects.map(
        (o) => `${(o.object.metadata as Obj).namespace}/${(o.object.metadata as Obj).name}`,
      ),
      ["a/allow-all", "a/deny", "b/deny"],
    );
    assert.deepEqual(
      input.skipped.map((s) => [path.relative(root, s.path), s.reason]),
      [
        [".git", "hidden"],
        ["README.md", "not a .yaml, .yml or .json file"],
      ],
    );
    assert.equal(input.objects[0].location?.file, path.join(root, "a/allow.json"));
  });

  it("reads standard input for -", () => {
    const input = loadInputs(["-"], { readStdin: () => JSON.stringify(denyAll("a")) });
    assert.deepEqual(kinds(input.objects), ["NetworkPolicy"]);
    assert.equal(input.objects[0].source, "-");
  });

  it("reads List and NetworkPolicyList items without a kind, keeping each item's location", () => {
    const list = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicyList",
      items: [{ metadata: { name: "x", namespace: "a" }, spec: { podSelector: {} } }],
    };
    const input = loadInputs(["-"], {
      readStdin: () =>
        `${JSON.stringify(list)}\n---\n${JSON.stringify({ apiVersion: "v1", kind: "List", items: [denyAll("b")] })}`,
    });
    assert.deepEqual(kinds(input.objects), ["NetworkPolicy", "NetworkPolicy"]);
    assert.equal(input.objects[0].object.apiVersion, "networking.k8s.io/v1");
    assert.deepEqual(input.objects[1].location, { file: "-", document: 1, path: "items[0]" });
    assert.equal(input.objects[1].source, "-#1.items[0]");
  });

  it("makes a namespace labelled istio.io/dataplane-mode=ambient meshed without flags", () => {
    const input = loadInputs(["-"], {
      readStdin: () =>
        [
          {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "a", labels: { "istio.io/dataplane-mode": "ambient" } },
          },
          { apiVersion: "v1", kind: "Namespace", metadata: { name: "b" } },
          denyAll("a"),
        ]
          .map((o) => JSON.stringify(o))
          .join("\n---\n"),
    });
    const { options, notes } = engineOptionsFrom({}, input.objects);
    const model = buildModel(input.objects, options);
    assert.equal(model.namespaces.get("a")?.meshed, true);
    assert.equal(model.namespaces.get("b")?.meshed, false);
    assert.match(notes.join("\n"), /meshed \(labelled istio\.io\/dataplane-mode=ambient\): a;/);
  });
});

describe("CLI engine options: the mesh from flags, then cluster facts, then labels", () => {
  const labelled = [
    {
      object: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "a", labels: { "istio.io/dataplane-mode": "ambient" } },
      },
      source: "x",
    },
  ];
  const mesh = {
    namespace: "mesh",
    hbonePort: 15009,
    istiodPorts: [15012],
    probeSource: "169.254.7.1/32",
  };

  it("takes the mesh and the meshed namespaces from --stack/--facts", () => {
    const { options } = engineOptionsFrom(
      {},
      labelled,
      { mesh, meshedNamespaces: ["b"] },
      "stack s",
    );
    assert.deepEqual(options.mesh, {
      namespace: "mesh",
      hbonePort: 15009,
      probeSource: "169.254.7.1",
      meshedNamespaces: ["b"],
    });
  });

  it("models no mesh when the facts say there is none, and says the label is not modelled", () => {
    const { options, notes } = engineOptionsFrom({}, labelled, { mesh: null }, "stack s");
    assert.equal(options.mesh, undefined);
    assert.match(notes.join(""), /stack s says the cluster has no mesh: .* of a is not modelled/);
  });

  it("lets the flags win over the facts", () => {
    const { options } = engineOptionsFrom({ meshNamespace: "istio" }, labelled, { mesh });
    assert.equal(options.mesh?.namespace, "istio");
  });
});

describe("engine loader: kustomizations", () => {
  const kustomization = (body: string) =>
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`;
  const web = netpol(undefined, "web", {
    podSelector: { matchLabels: { app: "web" } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: "lb" } } }, { podSelector: {} }] }],
  });

  it("follows resources (files and directories), applies namespace and commonLabels like kustomize", () => {
    const root = tree({
      "kustomization.yaml": kustomization(
        "namespace: shop\ncommonLabels: {team: a}\nresources: [base, extra.yaml]\n",
      ),
      "base/kustomization.yaml": kustomization("namespace: inner\nresources: [policies.yaml]\n"),
      "base/policies.yaml": [JSON.stringify(web), JSON.stringify(denyAll())].join("\n---\n"),
      "extra.yaml": JSON.stringify({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "shop" },
      }),
      "unused.yaml": JSON.stringify(denyAll("z")),
    });
    const input = loadInputs([root]);
    const [webPolicy, deny, namespace] = input.objects.map((o) => o.object);
    // The outer namespace wins over the inner one; a Namespace object is cluster-scoped.
    assert.equal((webPolicy.metadata as Obj).namespace, "shop");
    assert.equal((deny.metadata as Obj).namespace, "shop");
    assert.equal((namespace.metadata as Obj).namespace, undefined);
    assert.deepEqual((namespace.metadata as Obj).labels, { team: "a" });
    // commonLabels reach existing matchLabels only (kustomize's create: false for NetworkPolicy).
    const spec = webPolicy.spec as { podSelector: Obj; ingress: { from: Obj[] }[] };
    assert.deepEqual(spec.podSelector, { matchLabels: { app: "web", team: "a" } });
    assert.deepEqual(spec.ingress[0].from[0], {
      podSelector: { matchLabels: { app: "lb", team: "a" } },
    });
    assert.deepEqual(spec.ingress[0].from[1], { podSelector: {} });
    assert.deepEqual((deny.spec as Obj).podSelector, {});
    assert.deepEqual(
      input.skipped.map((s) => [path.relative(root, s.path), s.reason]),
      [["unused.yaml", "not listed in any kustomization's resources"]],
    );
  });

  it("builds one base under two overlays twice, each with its own namespace", () => {
    const root = tree({
      "kustomization.yaml": kustomization("resources: [overlays/a, overlays/b]\n"),
      "overlays/a/kustomization.yaml": kustomization("namespace: a\nresources: [../../base]\n"),
      "overlays/b/kustomization.yaml": kustomization("namespace: b\nresources: [../../base]\n"),
      "base/kustomization.yaml": kustomization("resources: [deny.yaml]\n"),
      "base/deny.yaml": JSON.stringify(denyAll()),
    });
    const input = loadInputs([root]);
    assert.deepEqual(
      input.objects.map((o) => (o.object.metadata as Obj).namespace),
      ["a", "b"],
    );
    assert.equal(input.files.filter((f) => f.endsWith("deny.yaml")).length, 1);
    assert.deepEqual(input.skipped, []);
    const model = buildModel(input.objects);
    assert.deepEqual(model.policies.map((p) => p.namespace).sort(), ["a", "b"]);
  });

  it("refuses transformers it does not reproduce, pointing to kubectl kustomize", () => {
    const root = tree({
      "kustomization.yaml": kustomization("resources: [p.yaml]\nnamePrefix: x-\npatches: []\n"),
      "p.yaml": JSON.stringify(denyAll("a")),
    });
    const message = problemsOf(() => loadInputs([root]));
    assert.match(message, /kustomization\.yaml: namePrefix, patches: not reproduced here/);
    assert.match(message, /kubectl kustomize .* \| npm run check -- -/);
  });

  it("refuses a missing resource and a directory resource without a kustomization, by field", () => {
    const root = tree({
      "kustomization.yaml": kustomization("resources: [gone.yaml, plain]\n"),
      "plain/p.yaml": JSON.stringify(denyAll("a")),
    });
    const message = problemsOf(() => loadInputs([path.join(root, "kustomization.yaml")]));
    assert.match(message, /kustomization\.yaml: resources\[0\]: gone\.yaml: no such file/);
    assert.match(
      message,
      /kustomization\.yaml: resources\[1\]: plain is a directory without a kustomization\.yaml/,
    );
  });
});

describe("engine loader: fail closed", () => {
  it("refuses two objects of one kind, namespace and name, naming both files", () => {
    const gnp = (rules: Obj) => ({
      apiVersion: "projectcalico.org/v3",
      kind: "GlobalNetworkPolicy",
      metadata: { name: "default-deny" },
      spec: { selector: "all()", types: ["Ingress"], ...rules },
    });
    const root = tree({
      "base/deny.yaml": JSON.stringify(gnp({})),
      "team/deny.yaml": JSON.stringify({
        ...gnp({ ingress: [] }),
        apiVersion: "crd.projectcalico.org/v1",
      }),
      "team/policies.yaml": `${JSON.stringify(denyAll("a"))}\n---\n${JSON.stringify(denyAll("a"))}`,
    });
    const message = problemsOf(() => loadInputs([root]));
    assert.match(
      message,
      /team\/deny\.yaml metadata\.name: duplicate object: .*base\/deny\.yaml defines GlobalNetworkPolicy default-deny too/,
    );
    assert.match(
      message,
      /team\/policies\.yaml#1 metadata\.name: duplicate object: .*team\/policies\.yaml#0 defines NetworkPolicy a\/deny too/,
    );
    // One name in two namespaces, or for two kinds, is two objects; --namespace fills in first.
    loadInputs(["-"], {
      readStdin: () =>
        `${JSON.stringify(denyAll("a"))}\n---\n${JSON.stringify(denyAll("b"))}\n---\n${JSON.stringify({ ...denyAll("a"), apiVersion: "projectcalico.org/v3", spec: {} })}`,
    });
    assert.match(
      problemsOf(() =>
        loadInputs(["-"], {
          namespace: "a",
          readStdin: () => `${JSON.stringify(denyAll("a"))}\n---\n${JSON.stringify(denyAll())}`,
        }),
      ),
      /-#1 metadata\.name: duplicate object: -#0 defines NetworkPolicy a\/deny too/,
    );
  });

  it("refuses a kind that does not exist in a policy API group, with a did-you-mean", () => {
    for (const apiVersion of [
      "networking.k8s.io/v1",
      "projectcalico.org/v3",
      "security.istio.io/v1",
    ]) {
      const message = problemsOf(() =>
        loadInputs(["-"], {
          readStdin: () =>
            `${JSON.stringify(denyAll("a"))}\n---\n${JSON.stringify({ apiVersion, kind: "NetworkPolicyy", metadata: { name: "x", namespace: "a" }, spec: {} })}`,
        }),
      );
      assert.match(message, /^-#1: kind "NetworkPolicyy" does not exist in [a-z.]+/);
    }
    assert.match(
      problemsOf(() =>
        loadInputs(["-"], {
          readStdin: () => JSON.stringify({ ...denyAll("a"), kind: "NetworkPolicyy" }),
        }),
      ),
      /did you mean "NetworkPolicy"\?/,
    );
  });

  it("refuses a namespaced policy object without a namespace unless --namespace says which", () => {
    const text = JSON.stringify(denyAll());
    assert.match(
      problemsOf(() => loadInputs(["-"], { readStdin: () => text })),
      /^- metadata\.namespace: NetworkPolicy deny names no namespace: kubectl would apply it to the current context's namespace/,
    );
    const input = loadInputs(["-"], { readStdin: () => text, namespace: "shop" });
    assert.equal((input.objects[0].object.metadata as Obj).namespace, "shop");
    assert.match(
      problemsOf(() =>
        loadInputs(["-"], { readStdin: () => JSON.stringify(denyAll("a")), namespace: "b" }),
      ),
      /metadata\.namespace: is a, but --namespace says b/,
    );
  });

  it("names the file and document of a syntax error, and a path that does not exist", () => {
    const root = tree({ "bad.yaml": `${JSON.stringify(denyAll("a"))}\n---\nkind: [unclosed\n` });
    assert.match(
      problemsOf(() => loadInputs([root])),
      /bad\.yaml#1: /,
    );
    assert.match(
      problemsOf(() => loadInputs([path.join(root, "nope")])),
      /nope: no such file or directory/,
    );
  });

  it("reads an empty directory as nothing, for the CLIs to refuse", () => {
    const input = loadInputs([tree({})]);
    assert.equal(input.objects.length, 0);
  });
});

describe("engine normaliser: what the API server rejects is rejected", () => {
  const withEgress = (rule: Obj) =>
    netpol("a", "p", { podSelector: {}, policyTypes: ["Egress"], egress: [rule] });
  const cases: [string, Obj, RegExp][] = [
    [
      "a cidr without prefix length",
      withEgress({ to: [{ ipBlock: { cidr: "10.0.0.1" } }] }),
      /ipBlock\.cidr: "10\.0\.0\.1" has no prefix length, which the API server rejects: write 10\.0\.0\.1\/32/,
    ],
    [
      "an except without prefix length",
      withEgress({ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.1.1"] } }] }),
      /except\[0\]: "10\.1\.1\.1" has no prefix length/,
    ],
    [
      "a lowercase protocol, with the fix",
      withEgress({ ports: [{ protocol: "tcp", port: 443 }] }),
      /ports\[0\]\.protocol: "tcp" is rejected by the API server \(protocols are case-sensitive\): use TCP/,
    ],
    [
      "a port number written as a string",
      withEgress({ ports: [{ port: "8085" }] }),
      /ports\[0\]\.port: "8085" is a string.*port: 8085/,
    ],
    [
      "an except outside its cidr",
      withEgress({ to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["192.168.0.0/16"] } }] }),
      /except\[0\]: 192\.168\.0\.0\/16 must be strictly inside 10\.0\.0\.0\/8/,
    ],
  ];
  for (const [what, object, expected] of cases)
    it(`refuses ${what}`, () => {
      assert.match(
        problemsOf(() => buildModel([object])),
        expected,
      );
    });

  it("still accepts the valid forms (a /32, TCP, a numeric port, an except inside)", () => {
    const model = buildModel([
      withEgress({
        to: [
          { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } },
          { ipBlock: { cidr: "10.0.0.1/32" } },
        ],
        ports: [{ protocol: "TCP", port: 8085 }],
      }),
    ]);
    const verdict = explainFlow(model, {
      from: { namespace: "a" },
      to: { ip: "10.2.0.1" },
      port: 8085,
    });
    assert.equal(verdict.verdict, "allowed");
  });
});
