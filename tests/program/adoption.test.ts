/** `zt-netpol:adoption`: the takeover annotation on every object, and its validation. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { PATCH_FORCE_ANNOTATION } from "../../components/adoption";
import { ConfigError, validateStackConfig } from "../../config/validate";
import { renderStack } from "../../plan/render";

const ROOT = path.resolve(__dirname, "../..");
const homelab = parse(fs.readFileSync(path.join(ROOT, "Pulumi.homelab.yaml"), "utf8")) as {
  config: Record<string, unknown>;
};
const raw = (): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(homelab.config)
      .filter(([k]) => k.startsWith("zt-netpol:"))
      .map(([k, v]) => [k.slice("zt-netpol:".length), v]),
  );

describe("adoption.patchForce (components/adoption.ts)", function () {
  this.timeout(120000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-adoption-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("annotates every object of the plan, and none without it", async () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.adopting.yaml"),
      stringify({ config: { ...homelab.config, "zt-netpol:adoption": { patchForce: true } } }),
    );
    const adopting = await renderStack("adopting", dir);
    const plain = await renderStack("homelab");
    assert.strictEqual(adopting.manifests.length, plain.manifests.length);
    assert.ok(adopting.manifests.length > 0);
    for (const m of adopting.manifests) {
      const annotations = (m.metadata as { annotations?: Record<string, string> }).annotations;
      assert.strictEqual(annotations?.[PATCH_FORCE_ANNOTATION], "true", JSON.stringify(m.metadata));
    }
    for (const m of plain.manifests) {
      const annotations = (m.metadata as { annotations?: Record<string, string> }).annotations;
      assert.strictEqual(annotations?.[PATCH_FORCE_ANNOTATION], undefined);
    }
    // The rest of each object is the same: the annotation is all adoption adds.
    const strip = (m: Record<string, unknown>) => {
      const metadata = { ...(m.metadata as Record<string, unknown>) };
      const annotations = { ...(metadata.annotations as Record<string, string> | undefined) };
      delete annotations[PATCH_FORCE_ANNOTATION];
      metadata.annotations = Object.keys(annotations).length > 0 ? annotations : undefined;
      return JSON.stringify({ ...m, metadata });
    };
    const withoutAnnotation = (ms: readonly Record<string, unknown>[]) =>
      ms.map((m) => strip(m)).sort();
    assert.deepStrictEqual(
      withoutAnnotation(adopting.manifests as Record<string, unknown>[]),
      withoutAnnotation(plain.manifests as Record<string, unknown>[]),
    );
  });

  it("is validated with its config key", () => {
    assert.deepStrictEqual(
      validateStackConfig({ ...raw(), adoption: { patchForce: true } }).adoption,
      {
        patchForce: true,
      },
    );
    assert.strictEqual(validateStackConfig(raw()).adoption, undefined);
    assert.throws(
      () => validateStackConfig({ ...raw(), adoption: { patchForce: "yes" } }),
      (e: unknown) => e instanceof ConfigError && /adoption\.patchForce/.test(e.message),
    );
    assert.throws(
      () => validateStackConfig({ ...raw(), adoption: { force: true } }),
      (e: unknown) => e instanceof ConfigError && /adoption\.force.*unknown key/.test(e.message),
    );
    assert.throws(
      () => validateStackConfig({ ...raw(), adoption: true }),
      (e: unknown) => e instanceof ConfigError && /adoption.*must be a mapping/.test(e.message),
    );
  });
});
