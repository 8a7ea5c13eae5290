/**
 * npm run explain -- (--stack NAME | --manifests PATH…) --from NS[/k=v,…]|IP|kubelet
 *                    --to NS[/k=v,…]|IP --port N [--protocol P] [--hypothetical] [engine flags]
 * Prints the explanation: the verdict, both corners and, when denied, the flow that would allow it.
 *
 * A namespace the stack or the input does not have is an error with a did-you-mean: a typo
 * (`argo-workflow`) must not be answered about a namespace that does not exist. `--hypothetical`
 * asks about such a namespace on purpose.
 */
import { Option } from "commander";
import type { ClusterModel, FlowQuery, ModelProtocol, QueryEndpoint } from "../engine";
import { buildModel, didYouMean, explainWithPromotion, parseIpv4 } from "../engine";
import { addEngineOptions, type EngineFlags, engineOptionsFrom } from "./lib/engine-options";
import { addFactsOptions, type FactsOptions, givenFacts } from "./lib/facts";
import { readInputs } from "./lib/inputs";
import { renderedStackModel } from "./lib/stack-model";
import {
  EXIT_NEGATIVE,
  EXIT_OK,
  integerArgument,
  main,
  namespaceOption,
  program,
  runProgram,
  UsageError,
} from "./lib/program";
import { modelNotes, requirePolicies } from "./model-notes";

export function parseEndpoint(text: string): QueryEndpoint {
  if (text === "kubelet") return { kubelet: true };
  if (/^\d+\.\d+\.\d+\.\d+(\/32)?$/.test(text)) {
    if (parseIpv4(text.replace(/\/32$/, "")) === undefined)
      throw new UsageError(`bad endpoint ${JSON.stringify(text)}: not an IPv4 address`);
    return { ip: text };
  }
  // Only the first "/" separates the namespace: label keys may carry a prefix (app.kubernetes.io/name).
  const slash = text.indexOf("/");
  const namespace = slash < 0 ? text : text.slice(0, slash);
  const labelText = slash < 0 ? undefined : text.slice(slash + 1);
  if (!namespace || namespace.startsWith("-"))
    throw new UsageError(`bad endpoint ${JSON.stringify(text)} (NS[/k=v,…] or an IPv4 address)`);
  if (labelText === undefined || labelText === "") return { namespace };
  const podLabels: Record<string, string> = {};
  for (const pair of labelText.split(",")) {
    const equals = pair.indexOf("=");
    const [key, value] =
      equals < 0 ? [pair, undefined] : [pair.slice(0, equals), pair.slice(equals + 1)];
    if (!key || value === undefined)
      throw new UsageError(`bad label ${JSON.stringify(pair)} in ${text} (k=v)`);
    podLabels[key] = value;
  }
  return { namespace, podLabels };
}

export interface ExplainFlags extends EngineFlags, FactsOptions {
  readonly manifests?: string[];
  readonly namespace?: string;
  readonly from: string;
  readonly to: string;
  readonly port?: number;
  readonly protocol: string;
  readonly hypothetical?: boolean;
}

const PROTOCOLS = ["TCP", "UDP", "SCTP", "ICMP"];

/** The flow the flags ask about. */
export function explainQuery(
  flags: Pick<ExplainFlags, "from" | "to" | "port" | "protocol">,
): FlowQuery {
  const protocol = flags.protocol.toUpperCase();
  if (!PROTOCOLS.includes(protocol))
    throw new UsageError(`--protocol ${flags.protocol}: not one of ${PROTOCOLS.join(", ")}`);
  if (protocol !== "ICMP" && flags.port === undefined)
    throw new UsageError(`--port is required for ${protocol}`);
  if (flags.port !== undefined && (flags.port < 1 || flags.port > 65535) && protocol !== "ICMP")
    throw new UsageError(`--port ${flags.port}: not a port (1-65535)`);
  const to = parseEndpoint(flags.to);
  if ("kubelet" in to) throw new UsageError("--to kubelet: kubelet can only be a source");
  return {
    from: parseEndpoint(flags.from),
    to,
    port: flags.port ?? 0,
    protocol: protocol as ModelProtocol,
  };
}

/** Refuses a namespace the model does not have, unless a hypothetical one is asked for. */
export function requireKnownNamespaces(
  model: ClusterModel,
  query: FlowQuery,
  where: string,
  hypothetical: boolean,
): void {
  if (hypothetical) return;
  for (const [flag, endpoint] of [
    ["--from", query.from],
    ["--to", query.to],
  ] as const) {
    if (!("namespace" in endpoint) || model.namespaces.has(endpoint.namespace)) continue;
    throw new UsageError(
      `${flag} ${endpoint.namespace}: ${where} has no namespace ${endpoint.namespace}` +
        `${didYouMean(endpoint.namespace, model.namespaces.keys())}; ` +
        "pass --hypothetical to evaluate a namespace that does not exist",
    );
  }
}

/** The model for `--stack NAME` (rendered offline) or `--manifests PATH…`, and where it came from. */
async function modelFor(flags: ExplainFlags): Promise<{ model: ClusterModel; where: string }> {
  const paths = flags.manifests ?? [];
  if (paths.length > 0) {
    // With --manifests, --stack or --facts only give the cluster facts (the mesh).
    const input = readInputs(paths, flags.namespace);
    const given = givenFacts(flags);
    const { options, notes } = engineOptionsFrom(flags, input.objects, given?.facts, given?.from);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    const model = buildModel(input.objects, options);
    requirePolicies(model, paths.join(", "));
    return { model, where: paths.join(", ") };
  }
  if (flags.stack === undefined) throw new UsageError("missing --stack NAME or --manifests PATH");
  const model = await renderedStackModel(flags.stack, flags.stackDir, flags);
  return { model, where: `stack ${flags.stack}` };
}

async function explain(flags: ExplainFlags): Promise<number> {
  const hasManifests = (flags.manifests ?? []).length > 0;
  if (!hasManifests && flags.stack === undefined)
    throw new UsageError("missing --stack NAME or --manifests PATH");
  if (!hasManifests && flags.facts !== undefined)
    throw new UsageError("--facts applies to --manifests (a stack brings its own facts)");
  if (!hasManifests && flags.namespace !== undefined)
    throw new UsageError("--namespace applies to --manifests only");
  const query = explainQuery(flags);
  const { model, where } = await modelFor(flags);
  requireKnownNamespaces(model, query, where, flags.hypothetical === true);
  // With staged policies the text shows both verdicts; the exit code answers for the enforced one.
  const result = explainWithPromotion(model, query);
  process.stderr.write(modelNotes(model));
  process.stdout.write(result.text);
  return result.now.verdict === "allowed" ? EXIT_OK : EXIT_NEGATIVE;
}

export function run(argv: readonly string[]): Promise<number> {
  const command = program({
    name: "explain",
    description:
      "Explain whether one flow is allowed: the verdict, the policy and rule deciding each corner, and the config change that would allow it.",
    exitCodes: [
      { code: EXIT_OK, meaning: "allowed" },
      { code: EXIT_NEGATIVE, meaning: "denied" },
    ],
    examples: [
      "npm run explain -- --stack homelab --from velero --to loki/app.kubernetes.io/name=loki --port 3100",
      "npm run explain -- --manifests policies/ --from shop/app=web --to 10.0.1.1 --port 443",
    ],
  });
  addFactsOptions(
    command,
    "render Pulumi.NAME.yaml offline and ask it; with --manifests, only its cluster facts (mesh)",
  );
  command
    .addOption(
      new Option(
        "--manifests <path...>",
        "files, directories, kustomizations or - (standard input) to ask instead",
      ),
    )
    .addOption(namespaceOption())
    .addOption(
      new Option(
        "--from <endpoint>",
        "source: NS[/k=v,…], an IPv4 address or kubelet",
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option(
        "--to <endpoint>",
        "destination: NS[/k=v,…] or an IPv4 address",
      ).makeOptionMandatory(),
    )
    .addOption(
      new Option("--port <n>", "destination port (not needed for ICMP)").argParser(
        integerArgument("--port"),
      ),
    )
    .addOption(new Option("--protocol <p>", "TCP, UDP, SCTP or ICMP").default("TCP"))
    .addOption(
      new Option(
        "--hypothetical",
        "evaluate a namespace the stack or input does not have, as if it existed without labels",
      ),
    );
  addEngineOptions(command);
  return runProgram(command, argv, (c) => explain(c.opts<ExplainFlags>()));
}

main(module, run);
