/** A copy of the homelab stack file with a rollout setting, in a temporary stack directory. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseDocument } from "yaml";
import { PROJECT_ROOT } from "../../config/load";

/**
 * Writes Pulumi.<stack>.yaml into a fresh temporary directory: the homelab's config with
 * `rollout` set stack-wide and/or on the named namespaces. Returns the directory.
 */
export function homelabWithRollout(
  stack: string,
  settings: { stack?: "staged" | "enforced"; namespaces?: Record<string, "staged" | "enforced"> },
): string {
  const doc = parseDocument(
    fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.homelab.yaml"), "utf8"),
  );
  if (settings.stack) doc.setIn(["config", "zt-netpol:rollout"], settings.stack);
  const namespaces = doc.getIn(["config", "zt-netpol:namespaces"]) as {
    items: { get(key: string): unknown; set(key: string, value: unknown): void }[];
  };
  for (const [name, rollout] of Object.entries(settings.namespaces ?? {})) {
    const item = namespaces.items.find((n) => n.get("name") === name);
    if (!item) throw new Error(`homelab has no namespace ${name}`);
    item.set("rollout", rollout);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-rollout-"));
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), doc.toString());
  return dir;
}
