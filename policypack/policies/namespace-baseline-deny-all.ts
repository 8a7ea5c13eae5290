/**
 * Policy 1: every protected namespace denies by default in both directions.
 *
 * - A stack (preview, `npm run plan`, `npm run check --stack`): each protected namespace has a
 *   baseline NetworkPolicy that selects every pod (`podSelector: {}`) and governs both
 *   directions (`policyTypes: [Ingress, Egress]`), which makes everything not allowed by some
 *   policy denied (Kubernetes NetworkPolicy reference, "Default policies"). Protected namespaces
 *   come from the stack (ClusterProtection, NamespaceProtection), or from the
 *   `protectedNamespaces` fact.
 * - Plain YAML (`npm run check` without `--stack`): hand-written trees deny each direction with
 *   whatever objects they like (an ingress-only and an egress-only deny, a Calico NetworkPolicy or
 *   GlobalNetworkPolicy whose selector covers the namespace, which denies what its tier leaves
 *   undecided). The question is the engine's: is every pod of the namespace (the representative
 *   inventory of engine/model/representative.ts, one pod per label set the selectors tell apart,
 *   plus "any other pod") isolated for ingress and for egress? Judged are the namespaces the
 *   input has policies in, the Namespaces it declares, and the `protectedNamespaces` fact.
 */
import { buildModel, type Direction, type Endpoint, Evaluator, ManifestError } from "../../engine";
import { DNS_PORT } from "../lib/exposure";
import type { ClusterFacts } from "../lib/facts";
import { factIfGiven } from "../lib/facts";
import { type Finding, rejectedObject, stackPolicy } from "../lib/policy";
import {
  baselineDefects,
  isBaseline,
  netpolsIn,
  readStack,
  selectsEveryPod,
  type StackView,
} from "../lib/stack";
import { inScope, PARTIAL_INPUT_SCHEMA } from "./partial-input";

const NAME = "namespace-baseline-deny-all";
/** The remote end of the isolation question: isolation does not depend on it. */
const ANY_ADDRESS: Endpoint = { kind: "external", range: { lo: 0x08080808, hi: 0x08080808 } };

/** What must come with an egress default deny: the DNS allow, or every lookup fails. */
function egressAllowsAdvice(facts: ClusterFacts): string {
  const dns = factIfGiven(facts, "dns");
  const port = dns?.port ?? DNS_PORT;
  const labels = Object.entries(dns?.podLabels ?? { "k8s-app": "kube-dns" })
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return [
    "together with the egress its pods need in the same change, DNS at least:",
    "  egress:",
    "    - to:",
    `        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${dns?.namespace ?? "kube-system"}}}`,
    `          podSelector: {matchLabels: {${labels}}}`,
    `      ports: [{protocol: UDP, port: ${port}}, {protocol: TCP, port: ${port}}]`,
    "(Egress in policyTypes without egress allows denies all egress, DNS included)",
  ].join("\n    ");
}

function stackFindings(view: StackView, config: Readonly<Record<string, unknown>>): Finding[] {
  const findings: Finding[] = [];
  for (const ns of [...view.protectedNamespaces].sort()) {
    if (!inScope(view, config, ns)) continue;
    const entries = netpolsIn(view, ns);
    if (entries.some((e) => isBaseline(e.policy))) continue;
    const expected = `${ns}-network-policy`;
    const candidate =
      entries.find((e) => e.policy.ref.name === expected) ??
      entries.find((e) => selectsEveryPod(e.policy));
    const why = candidate
      ? `; ${candidate.policy.namespace}/${candidate.policy.ref.name}: ${baselineDefects(candidate.policy).join("; ")}`
      : entries.length === 0
        ? "; it has no NetworkPolicy at all"
        : "";
    const lacksEgress = candidate !== undefined && !candidate.policy.appliesTo.egress;
    findings.push({
      message: `protected namespace ${ns} has no baseline NetworkPolicy selecting every pod and denying both directions${why}`,
      fix:
        `give ${candidate?.policy.ref.name ?? expected} spec.podSelector: {} and spec.policyTypes: [Ingress, Egress]` +
        (lacksEgress || candidate === undefined ? `, ${egressAllowsAdvice(view.facts)}` : ""),
      namespace: ns,
      objectName: candidate?.policy.ref.name,
      urn: candidate?.urn ?? view.declaredNamespaces.get(ns),
    });
  }
  return findings;
}

function plainYamlFindings(
  view: StackView,
  resources: Parameters<Parameters<typeof stackPolicy>[0]["check"]>[0],
  config: Readonly<Record<string, unknown>>,
): Finding[] {
  const given = factIfGiven(view.facts, "protectedNamespaces") ?? [];
  let model;
  try {
    model = buildModel(view.manifests, { ipBlockMatchesPods: false, extraNamespaces: given });
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    return [rejectedObject(NAME, "the input", error)];
  }
  const evaluator = new Evaluator(model);
  // Cluster-wide Calico policies that isolate what they select: the other way to cover a namespace.
  const globalDenies = model.policies
    .filter((p) => p.namespace === undefined && p.appliesTo.ingress && p.appliesTo.egress)
    .map((p) => `Calico GlobalNetworkPolicy ${p.ref.name}`);
  const withPolicies = new Set(
    [...model.policies, ...(model.stagedPolicies ?? [])].flatMap((p) =>
      p.namespace === undefined ? [] : [p.namespace],
    ),
  );
  const judged = new Set<string>(withPolicies);
  if (config.partialInput !== true) {
    view.declaredNamespaces.forEach((_, ns) => judged.add(ns));
    given.forEach((ns) => judged.add(ns));
  }
  const urnOfPolicyIn = (ns: string): string | undefined =>
    resources.find(
      (r) =>
        (r.props.metadata as { namespace?: unknown } | undefined)?.namespace === ns &&
        r.type !== "kubernetes:core/v1:Namespace",
    )?.urn;
  const findings: Finding[] = [];
  for (const ns of [...judged].sort()) {
    const pods = model.pods.filter((p) => p.namespace === ns);
    const open = (direction: Direction): string[] =>
      pods
        .filter((pod) => {
          const local: Endpoint = { kind: "pod", pod };
          const [source, destination] =
            direction === "ingress" ? [ANY_ADDRESS, local] : [local, ANY_ADDRESS];
          return !evaluator.cornerDecision(direction, source, destination, "TCP", 1).isolated;
        })
        .map((p) => p.name);
    const ingress = open("ingress");
    const egress = open("egress");
    if (ingress.length === 0 && egress.length === 0) continue;
    const directions = [
      ...(ingress.length > 0 ? ["ingress"] : []),
      ...(egress.length > 0 ? ["egress"] : []),
    ];
    const who = (names: string[]): string =>
      names.length === pods.length ? "every pod" : `pods ${names.join("; ")}`;
    const detail = [
      ...(ingress.length > 0 ? [`ingress of ${who(ingress)}`] : []),
      ...(egress.length > 0 ? [`egress of ${who(egress)}`] : []),
    ].join(" and ");
    const types = directions.map((d) => (d === "ingress" ? "Ingress" : "Egress")).join(", ");
    const wider =
      globalDenies.length > 0
        ? `, or widen the selector of ${globalDenies.join(", ")} to cover ${ns}`
        : "";
    const fix =
      `add a NetworkPolicy to ${ns} with podSelector: {} and policyTypes: [${types}]${wider}` +
      (egress.length > 0
        ? `, ${egressAllowsAdvice(view.facts)}`
        : ", with ingress allows for what must reach its pods");
    findings.push({
      message: `namespace ${ns} is open for ${directions.join(" and ")}: no policy isolates ${detail}, so what no rule names is allowed${withPolicies.has(ns) ? "" : "; it has no policy at all"}`,
      fix,
      namespace: ns,
      urn: urnOfPolicyIn(ns) ?? view.declaredNamespaces.get(ns),
    });
  }
  return findings;
}

export const namespaceBaselineDenyAll = stackPolicy({
  name: NAME,
  description:
    "Each protected namespace denies by default in both directions: a stack has a baseline NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress]; plain YAML isolates every pod both ways, with any combination of objects.",
  enforcementLevel: "mandatory",
  prevents:
    "Pods that are open in one direction because nothing selects them: without a deny-all baseline a new pod, or egress of an existing one, is allowed everything.",
  facts: ["protectedNamespaces"],
  properties: { partialInput: PARTIAL_INPUT_SCHEMA },
  check(resources, { facts, config, plainYaml }) {
    const view = readStack(resources, facts, NAME);
    return [
      ...view.problems,
      ...(plainYaml ? plainYamlFindings(view, resources, config) : stackFindings(view, config)),
    ];
  },
});
