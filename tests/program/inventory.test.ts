/** The representative inventory names each label set's pod uniquely (components/inventory.ts). */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { expandConnections } from "../../components/connections";
import { loadStackConfig } from "../../config/load";
import { buildModel } from "../../engine";
import { podName, stackInventory } from "../../components/inventory";

const COLLIDING_BEFORE: Record<string, string>[] = [
  {},
  { app: "" },
  { app: "a-b" },
  { app: "a", tier: "b" },
  { tier: "b", app: "a" },
];

describe("representative inventory", () => {
  it("gives different label sets different pod names, and equal sets the same", () => {
    const names = COLLIDING_BEFORE.map(podName);
    assert.equal(names[0], "pod");
    assert.equal(new Set(names.slice(0, 4)).size, 4, names.join(", "));
    assert.equal(names[3], names[4], "key order is not part of a label set");
    for (const name of names) assert.match(name, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    assert.ok(podName({ app: "x".repeat(100) }).length <= 63);
  });

  it("builds a model when declared ends name such label sets in one namespace", () => {
    const config = loadStackConfig("homelab");
    const connections = expandConnections(config);
    const template = connections.find(
      (c) => c.from.kind === "workload" && c.to.kind === "workload",
    );
    assert.ok(template && template.to.kind === "workload");
    const namespace = template.to.namespace;
    const extra = COLLIDING_BEFORE.slice(1).map((podLabels) => ({
      ...template,
      to: { ...template.to, namespace, podLabels },
    }));
    const inventory = stackInventory(config, [...connections, ...extra]);
    const model = buildModel(inventory);
    const labelSets = model.pods
      .filter((p) => p.namespace === namespace)
      .map((p) => JSON.stringify(Object.entries(p.labels).sort()));
    for (const labels of COLLIDING_BEFORE)
      assert.ok(
        labelSets.includes(JSON.stringify(Object.entries(labels).sort())),
        JSON.stringify(labels),
      );
  });
});

describe("the pack and the offline runner", () => {
  it("the pack imports nothing from plan/ (the stack model lives in components/)", () => {
    const root = path.resolve(__dirname, "../../policypack");
    const files = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.name !== "node_modules")
        .flatMap((e) =>
          e.isDirectory()
            ? files(path.join(dir, e.name))
            : e.name.endsWith(".ts")
              ? [path.join(dir, e.name)]
              : [],
        );
    const offenders = files(root).filter((f) =>
      /from "(\.\.\/)+plan\/|import\("(\.\.\/)+plan\//.test(fs.readFileSync(f, "utf8")),
    );
    assert.deepEqual(offenders, []);
  });
});
