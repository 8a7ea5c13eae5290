/** Fixture loading shared by the policy pack tests. */
import * as fs from "fs";
import * as path from "path";
import { loadStackConfig } from "../../config/load";
import { parseManifestText } from "../../engine";
import { factsFromStackConfig } from "../../policypack/lib/facts";
import { resourcesFromObjects } from "../../policypack/lib/manifests";
import {
  type CapturedResource,
  evaluateResources,
  type PackConfig,
  packConfigFromFacts,
  type Violation,
} from "../../policypack/run";

export const FIXTURES = path.join(__dirname, "fixtures");

export interface Fixture {
  readonly file: string;
  readonly resources: CapturedResource[];
  /** From `# config: {json}` header lines, on top of the homelab's cluster facts. */
  readonly config: PackConfig;
  /** From `# expect: text` header lines: substrings the target policy's messages must contain. */
  readonly expects: string[];
}

export function loadFixture(file: string): Fixture {
  const text = fs.readFileSync(file, "utf8");
  const config: PackConfig = {};
  const expects: string[] = [];
  const intent: CapturedResource[] = [];
  for (const line of text.split("\n")) {
    // `# intent: STACK` adds the ClusterProtection of tests/fixtures/Pulumi.STACK.yaml: the
    // declared intent that stack policies such as declared-connectivity compare against.
    const intentMatch = /^# intent: (.*)$/.exec(line);
    if (intentMatch) intent.push(clusterProtectionOf(intentMatch[1].trim()));
    const configMatch = /^# config: (.*)$/.exec(line);
    if (configMatch) Object.assign(config, JSON.parse(configMatch[1]) as PackConfig);
    const expectMatch = /^# expect: (.*)$/.exec(line);
    if (expectMatch) expects.push(expectMatch[1]);
  }
  const objects = parseManifestText(text, path.relative(FIXTURES, file));
  return {
    file,
    resources: [...intent, ...resourcesFromObjects(objects).resources],
    config: packConfigFromFacts(homelabFacts(), config),
    expects,
  };
}

/** The facts the fixtures were written for: the homelab stack's, passed in as pack config. */
export function homelabFacts() {
  return factsFromStackConfig(loadStackConfig("homelab"));
}

function clusterProtectionOf(stack: string): CapturedResource {
  const config = loadStackConfig(stack, path.join(__dirname, "../fixtures"));
  const type = "zt-netpol:cluster:ClusterProtection";
  return {
    type,
    name: stack,
    urn: `urn:pulumi:${stack}::zt-netpol::${type}::${stack}`,
    props: config as never,
  };
}

/**
 * Violations of one policy only, judged with the homelab's cluster facts under `config` (which
 * wins). Tests of missing facts call evaluateResources directly.
 */
export function violationsOf(
  policyName: string,
  resources: CapturedResource[],
  config?: PackConfig,
): Violation[] {
  return evaluateResources(resources, packConfigFromFacts(homelabFacts(), config)).filter(
    (v) => v.policyName === policyName,
  );
}

/** A minimal Kubernetes NetworkPolicy resource as the program registers it. */
export function netpolResource(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): CapturedResource {
  return {
    type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    name,
    props: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace },
      spec,
    },
  };
}
