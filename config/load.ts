/**
 * Reads the `zt-netpol:*` keys of a stack, from a Pulumi.<stack>.yaml file or the engine's flat
 * config. No Pulumi SDK here: the policy pack and the CLIs load stack files too.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { editDistance } from "../engine";
import type { StackConfig } from "./types";
import {
  CONFIG_NAMESPACE,
  ConfigError,
  validateStackConfig,
  type RawStackConfig,
} from "./validate";

const PREFIX = `${CONFIG_NAMESPACE}:`;

/** The repository root: where Pulumi.yaml and the stack files live. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

export function stackFilePath(stack: string, rootDir = PROJECT_ROOT): string {
  return path.join(rootDir, `Pulumi.${stack}.yaml`);
}

/**
 * The `config:` block of a stack file, as the Pulumi engine would hand it to the program:
 * every key namespaced, object values JSON-encoded, scalars as strings.
 */
export function readStackFile(file: string): Record<string, string> {
  if (!fs.existsSync(file)) throw new ConfigError([`stack file ${file} does not exist`]);
  let document: unknown;
  try {
    document = parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError([`${file}: not valid YAML: ${(error as Error).message}`]);
  }
  const config = (document as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError([`${file}: has no "config:" mapping`]);
  }
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
    // Secure values would arrive as {secure: …}: this program keeps no secrets in config.
    encoded[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return encoded;
}

/**
 * A config namespace that is almost `zt-netpol` (`zt-netpo`, `zt_netpol`, `ZT-NETPOL`) is a typo:
 * its keys would be ignored, and a stack without its flows still plans. Other projects'
 * namespaces (`kubernetes`, `pulumi`) are far from it and stay allowed.
 */
function looksLikeOurNamespace(namespace: string): boolean {
  const squashed = namespace.toLowerCase().replace(/[^a-z0-9]/g, "");
  return (
    squashed === CONFIG_NAMESPACE.replace(/[^a-z0-9]/g, "") ||
    editDistance(namespace.toLowerCase(), CONFIG_NAMESPACE) <= 2
  );
}

/** Picks the `zt-netpol:` keys out of flat engine config and decodes their values. */
export function rawConfigFromFlat(flat: Readonly<Record<string, string>>): RawStackConfig {
  const raw: Record<string, unknown> = {};
  const misspelt: string[] = [];
  for (const [key, value] of Object.entries(flat)) {
    const colon = key.indexOf(":");
    const namespace = colon < 0 ? key : key.slice(0, colon);
    if (namespace !== CONFIG_NAMESPACE && looksLikeOurNamespace(namespace)) {
      const meant = colon < 0 ? `${PREFIX}…` : `${PREFIX}${key.slice(colon + 1)}`;
      misspelt.push(
        `${key}: config namespace "${namespace}" is not "${CONFIG_NAMESPACE}" (did you mean "${meant}"?); this program reads only ${PREFIX}* keys, so this value would be silently ignored`,
      );
      continue;
    }
    if (!key.startsWith(PREFIX)) continue;
    const name = key.slice(PREFIX.length);
    try {
      raw[name] = JSON.parse(value);
    } catch {
      raw[name] = value;
    }
  }
  if (misspelt.length > 0) throw new ConfigError(misspelt);
  return raw;
}

/** Validated config of a stack file, e.g. `loadStackConfig("homelab")`. */
export function loadStackConfig(stack: string, rootDir = PROJECT_ROOT): StackConfig {
  return validateStackConfig(rawConfigFromFlat(readStackFile(stackFilePath(stack, rootDir))));
}

/** Validated config from the engine's flat config (`pulumi.runtime.allConfig()`). */
export function stackConfigFromEngine(flat: Readonly<Record<string, string>>): StackConfig {
  return validateStackConfig(rawConfigFromFlat(flat));
}
