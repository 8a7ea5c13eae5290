/**
 * npm run explain -- --stack NAME | --manifests PATH [--manifests PATH…] --from NS[/k=v,…]|IP|kubelet
 *                    --to NS[/k=v,…]|IP --port N [--protocol P] [--ipblock-matches-pods=false]
 *                    [--mesh-namespace NS --hbone-port N --probe-source IP [--meshed-namespaces a,b]]
 * Prints the explanation; exit code 0 when allowed, 2 when denied, 1 on bad input.
 * parseExplainArgs is separate so other front ends (e.g. --stack) can extend it.
 */
import type {
  ClusterModel,
  EngineOptions,
  FlowQuery,
  ModelProtocol,
  QueryEndpoint,
} from "../engine";
import { buildModel, explainWithPromotion, loadManifestPaths } from "../engine";
import { modelNotes, requirePolicies } from "./model-notes";

export interface ExplainArgs {
  readonly manifests: string[];
  readonly query: FlowQuery;
  readonly options: EngineOptions;
  /** Flags this parser did not recognise, left for an extending front end. */
  readonly rest: string[];
}

export function parseEndpoint(text: string): QueryEndpoint {
  if (text === "kubelet") return { kubelet: true };
  if (/^\d+\.\d+\.\d+\.\d+(\/32)?$/.test(text)) return { ip: text };
  // Only the first "/" separates the namespace: label keys may carry a prefix (app.kubernetes.io/name).
  const slash = text.indexOf("/");
  const namespace = slash < 0 ? text : text.slice(0, slash);
  const labelText = slash < 0 ? undefined : text.slice(slash + 1);
  if (!namespace)
    throw new Error(`bad endpoint ${JSON.stringify(text)} (NS[/k=v,…] or an IPv4 address)`);
  if (labelText === undefined || labelText === "") return { namespace };
  const podLabels: Record<string, string> = {};
  for (const pair of labelText.split(",")) {
    const equals = pair.indexOf("=");
    const [key, value] =
      equals < 0 ? [pair, undefined] : [pair.slice(0, equals), pair.slice(equals + 1)];
    if (!key || value === undefined)
      throw new Error(`bad label ${JSON.stringify(pair)} in ${text} (k=v)`);
    podLabels[key] = value;
  }
  return { namespace, podLabels };
}

export function parseExplainArgs(argv: readonly string[]): ExplainArgs {
  const values = new Map<string, string[]>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) {
      rest.push(arg);
      continue;
    }
    const [, name, inline] = match;
    const value = inline ?? argv[++i];
    // `--from --to b` is a missing value, not a namespace called "--to".
    if (value === undefined || (inline === undefined && value.startsWith("--")))
      throw new Error(`--${name} needs a value`);
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const one = (name: string): string | undefined => values.get(name)?.at(-1);
  const required = (name: string): string => {
    const v = one(name);
    if (v === undefined) throw new Error(`missing --${name}`);
    return v;
  };
  const from = parseEndpoint(required("from"));
  const to = parseEndpoint(required("to"));
  const protocol = (one("protocol") ?? "TCP").toUpperCase();
  if (!["TCP", "UDP", "SCTP", "ICMP"].includes(protocol))
    throw new Error(`unknown protocol ${protocol}`);
  const port = protocol === "ICMP" ? Number(one("port") ?? 0) : Number(required("port"));
  if (!Number.isInteger(port)) throw new Error(`bad --port ${one("port")}`);
  const switchValue = one("ipblock-matches-pods");
  if (switchValue !== undefined && switchValue !== "true" && switchValue !== "false")
    throw new Error("--ipblock-matches-pods must be true or false");
  const meshNamespace = one("mesh-namespace");
  const options: EngineOptions = {
    ipBlockMatchesPods: switchValue === undefined ? undefined : switchValue === "true",
    mesh: meshNamespace
      ? {
          namespace: meshNamespace,
          hbonePort: Number(one("hbone-port") ?? 15008),
          probeSource: one("probe-source") ?? "169.254.7.127",
          meshedNamespaces: one("meshed-namespaces")?.split(",").filter(Boolean),
        }
      : undefined,
  };
  const known = new Set([
    "manifests",
    "from",
    "to",
    "port",
    "protocol",
    "ipblock-matches-pods",
    "mesh-namespace",
    "hbone-port",
    "probe-source",
    "meshed-namespaces",
  ]);
  for (const name of values.keys()) if (!known.has(name)) rest.push(`--${name}=${one(name)}`);
  return {
    manifests: values.get("manifests") ?? [],
    query: { from, to, port, protocol: protocol as ModelProtocol },
    options,
    rest,
  };
}

/** The model for `--stack NAME` (rendered offline) or `--manifests PATH…`. */
async function modelFor(args: ExplainArgs): Promise<ClusterModel> {
  const stack = args.rest.find((a) => a.startsWith("--stack="))?.slice("--stack=".length);
  if (stack === undefined) {
    const model = buildModel(loadManifestPaths(args.manifests), args.options);
    requirePolicies(model, args.manifests.join(", "));
    return model;
  }
  // Loaded lazily: rendering a stack pulls in the Pulumi SDK, which --manifests does not need.
  const { renderStack } = await import("../plan/render");
  const { expandConnections } = await import("../components/connections");
  const { stackInventory } = await import("../plan/inventory");
  const { stackEngineOptions } = await import("../plan/connectivity");
  const result = await renderStack(stack);
  const connections = expandConnections(result.config);
  const options = { ...stackEngineOptions(result.config), ...definedOptions(args.options) };
  return buildModel([...stackInventory(result.config, connections), ...result.manifests], options);
}

/** Only the switches the user actually set, so they override the stack's defaults. */
function definedOptions(options: EngineOptions): EngineOptions {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as EngineOptions;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: ExplainArgs;
  try {
    args = parseExplainArgs(argv);
    const unknown = args.rest.filter((a) => !a.startsWith("--stack="));
    const hasStack = unknown.length < args.rest.length;
    if (args.manifests.length === 0 && !hasStack)
      throw new Error("missing --stack NAME or --manifests PATH");
    if (args.manifests.length > 0 && hasStack)
      throw new Error("give --stack or --manifests, not both");
    if (unknown.length > 0) throw new Error(`unknown arguments: ${unknown.join(" ")}`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  try {
    const model = await modelFor(args);
    // With staged policies the text shows both verdicts; the exit code stays the enforced one.
    const result = explainWithPromotion(model, args.query);
    process.stderr.write(modelNotes(model));
    process.stdout.write(result.text);
    return result.now.verdict === "allowed" ? 0 : 2;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
