/** Reads manifests from files and directories (recursively, *.yaml / *.yml / *.json). */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SourcedObject } from "./parse";
import { parseManifestText } from "./parse";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export function listManifestFiles(target: string): string[] {
  const stat = fs.statSync(target);
  if (stat.isFile()) return [target];
  const out: string[] = [];
  for (const entry of fs
    .readdirSync(target, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) out.push(...listManifestFiles(full));
    else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) out.push(full);
  }
  return out;
}

export function loadManifestPaths(targets: readonly string[]): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const target of targets) {
    for (const file of listManifestFiles(target)) {
      out.push(...parseManifestText(fs.readFileSync(file, "utf8"), file));
    }
  }
  return out;
}
