/**
 * Test helpers for whole stacks: the homelab's raw config to mutate, a stack file written from a
 * raw config, and that stack planned and judged by the policy pack as `npm run plan` does.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { readStackFile, rawConfigFromFlat } from "../../config/load";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { evaluateResources, packConfigFromFacts, type Violation } from "../../policypack/run";
import { asPolicyEngineSees, renderStack, type RenderResult } from "../../plan/render";

// Raw YAML is untyped by nature; the tests poke at it the way a user's edit would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawConfig = Record<string, any>;

export const HOMELAB_FILE = path.join(__dirname, "../../Pulumi.homelab.yaml");
export const MINILAB_FILE = path.join(__dirname, "../fixtures/Pulumi.minilab.yaml");

/** The `zt-netpol:` keys of a stack file, decoded, as a fresh copy. */
export function rawConfigOf(file: string): RawConfig {
  return structuredClone(rawConfigFromFlat(readStackFile(file))) as RawConfig;
}

/** Writes `Pulumi.<stack>.yaml` holding `raw` under zt-netpol: keys; returns its directory. */
export function writeStack(stack: string, raw: RawConfig): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-stack-"));
  const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`zt-netpol:${k}`, v]));
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config }));
  return dir;
}

export interface JudgedPlan {
  readonly result: RenderResult;
  readonly violations: Violation[];
  readonly mandatory: Violation[];
}

/** The stack in `dir` rendered by the real program and judged by the pack with its own facts. */
export async function planAndJudge(stack: string, dir: string): Promise<JudgedPlan> {
  const result = await renderStack(stack, dir);
  const violations = evaluateResources(
    asPolicyEngineSees(result.resources),
    packConfigFromFacts(factsFromStackConfig(result.config)),
  );
  return {
    result,
    violations,
    mandatory: violations.filter((v) => v.enforcementLevel === "mandatory"),
  };
}
