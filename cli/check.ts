/**
 * `npm run check -- PATH [--facts-stack NAME | --facts FILE.json] [--config FILE.json] [--partial]`
 *
 * Judges every NetworkPolicy and Calico policy in PATH (a YAML file, or a directory searched
 * recursively for *.yaml / *.yml) with the policy pack, in-process. Prints each violation the
 * way `pulumi preview` does (policy, object, how to fix it) and exits 1 when any is mandatory.
 *
 * Cluster facts: by default those of the homelab stack (Pulumi.homelab.yaml); `--facts-stack NAME` reads Pulumi.NAME.yaml, `--facts FILE.json`
 * a JSON object of facts (see policypack/lib/facts.ts). `--config` is a `--policy-pack-config`
 * file, applied on top. `--partial` says PATH is part of a cluster: the completeness policies then
 * judge only namespaces PATH has NetworkPolicies in.
 * Exit codes: 0 clean (advisories allowed), 1 mandatory violation, 2 usage or input error.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { parseAllDocuments } from "yaml";
import { loadStackConfig } from "../config/load";
import {
  type ClusterFacts,
  factsFromStackConfig,
  FACT_SCHEMAS,
  HOMELAB_FACTS,
} from "../policypack/lib/facts";
import { type ManifestSource, resourcesFromManifests } from "../policypack/lib/manifests";
import { validateAgainstSchema } from "../policypack/lib/schema";
import {
  evaluateResources,
  formatViolations,
  hasMandatory,
  type PackConfig,
  packConfigFromFacts,
} from "../policypack/run";

const DEFAULT_FACTS_STACK = "homelab";

class UsageError extends Error {}

function yamlFiles(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`${target} does not exist`);
  if (stat.isFile()) return [target];
  return fs
    .readdirSync(target, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return entry.name === "node_modules" ? [] : yamlFiles(full);
      return /\.ya?ml$/.test(entry.name) ? [full] : [];
    });
}

function readSources(files: readonly string[]): ManifestSource[] {
  return files.flatMap((file) => {
    const docs = parseAllDocuments(fs.readFileSync(file, "utf8"));
    return docs.map((doc, index) => {
      if (doc.errors.length > 0) throw new UsageError(`${file}#${index}: ${doc.errors[0].message}`);
      return {
        file: path.relative(process.cwd(), file) || file,
        index,
        document: doc.toJSON() as unknown,
      };
    });
  });
}

/** Facts from a JSON file: every key optional, each validated against its schema. */
function factsFromFile(file: string): ClusterFacts {
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const problems: string[] = [];
  const out: Record<string, unknown> = { ...HOMELAB_FACTS };
  for (const [key, value] of Object.entries(raw)) {
    const schema = FACT_SCHEMAS[key as keyof ClusterFacts];
    if (!schema) {
      problems.push(`${key}: not a cluster fact (known: ${Object.keys(FACT_SCHEMAS).join(", ")})`);
      continue;
    }
    problems.push(...validateAgainstSchema(value, schema, key));
    out[key] = value;
  }
  if (problems.length > 0) throw new UsageError(`${file}:\n  ${problems.join("\n  ")}`);
  return out as unknown as ClusterFacts;
}

function defaultFacts(): { facts: ClusterFacts; from: string } {
  return { facts: HOMELAB_FACTS, from: `stack ${DEFAULT_FACTS_STACK}` };
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "facts-stack": { type: "string" },
      facts: { type: "string" },
      config: { type: "string" },
      partial: { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError("expected exactly one PATH (a YAML file or a directory)");
  if (values["facts-stack"] && values.facts)
    throw new UsageError("use --facts-stack or --facts, not both");
  const { facts, from } = values["facts-stack"]
    ? {
        facts: factsFromStackConfig(loadStackConfig(values["facts-stack"])),
        from: `stack ${values["facts-stack"]}`,
      }
    : values.facts
      ? { facts: factsFromFile(values.facts), from: values.facts }
      : defaultFacts();

  const files = yamlFiles(positionals[0]);
  const { resources, skipped } = resourcesFromManifests(readSources(files));
  const base: PackConfig = values.config
    ? (JSON.parse(fs.readFileSync(values.config, "utf8")) as PackConfig)
    : {};
  if (values.partial) {
    for (const name of [
      "namespace-baseline-deny-all",
      "one-baseline-per-namespace",
      "missing-corners",
    ]) {
      const existing = base[name];
      base[name] = {
        ...(typeof existing === "string" ? { enforcementLevel: existing } : existing),
        partialInput: true,
      };
    }
  }
  const violations = evaluateResources(resources, packConfigFromFacts(facts, base));
  if (violations.length > 0) console.log(formatViolations(violations));
  // Name what was not judged, so a policy of an unexpected kind cannot pass unnoticed.
  for (const item of skipped) console.log(`skipped (not a kind the pack judges): ${item}`);
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  console.log(
    `Checked ${resources.length} objects in ${files.length} file(s) with cluster facts from ${from}` +
      (skipped.length > 0 ? `; skipped ${skipped.length} of other kinds` : "") +
      `: ${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s).`,
  );
  return hasMandatory(violations) ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(`check: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
