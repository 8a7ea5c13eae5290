/**
 * Runs the real Pulumi program against Pulumi's in-memory mock engine and captures every resource
 * it registers (the awsx test pattern), including parent and dependency URNs, which the stock
 * mock API does not expose. Used by `npm run plan` and by the tests; no CLI, plugin or cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";

/**
 * Resolves once every registration the program started has reached the (mock) monitor.
 * `waitForRPCs` is what `pulumi.runtime.disconnect` awaits; it is marked internal in the typings.
 */
export function waitForRegistrations(): Promise<void> {
  return (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

export interface CapturedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly custom: boolean;
  /** Inputs as registered; for a component, the args it passed to `super`. */
  readonly props: Record<string, unknown>;
  /**
   * What the component passed to `registerOutputs`. Under the real engine this, not the args, is
   * what a stack policy sees as a component's props.
   */
  outputs?: Record<string, unknown>;
  readonly parent?: string;
  readonly dependencies: readonly string[];
}

/** Mocks that echo inputs back as outputs and refuse every invoke: the program must need none. */
export const echoMocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, unknown>;
  } {
    return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    throw new Error(
      `unexpected invoke ${args.token}: the program must not call providers at plan time`,
    );
  },
};

type RegisterRequest = {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getObject(): unknown;
};
type Callback = (err: unknown, response: { getUrn(): string } | undefined) => void;
type OutputsRequest = { getUrn(): string; getOutputs(): unknown };

class CapturingMonitor extends MockMonitor {
  readonly captured: CapturedResource[] = [];
  /** The captured resources by URN: a component's outputs find their entry without a scan. */
  private readonly byUrn = new Map<string, CapturedResource>();

  override registerResourceOutputs(
    req: OutputsRequest,
    callback: (err: unknown, response: unknown) => void,
  ): void {
    const entry = this.byUrn.get(req.getUrn());
    if (entry && req.getOutputs())
      entry.outputs = deserializeProperties(req.getOutputs() as never) as Record<string, unknown>;
    super.registerResourceOutputs(req, callback);
  }

  override async registerResource(req: RegisterRequest, callback: Callback): Promise<void> {
    const props = deserializeProperties(req.getObject() as never) as Record<string, unknown>;
    const capture = (urn: string): void => {
      const entry: CapturedResource = {
        type: req.getType(),
        name: req.getName(),
        urn,
        custom: req.getCustom(),
        props,
        ...(req.getParent() ? { parent: req.getParent() } : {}),
        dependencies: req.getDependenciesList(),
      };
      this.captured.push(entry);
      if (!this.byUrn.has(entry.urn)) this.byUrn.set(entry.urn, entry);
    };
    if (this.mocks !== echoMocks)
      return super.registerResource(
        req,
        (err: unknown, response: { getUrn(): string } | undefined) => {
          if (!err && response) capture(response.getUrn());
          callback(err, response);
        },
      );
    // The echo mocks answer with the inputs as state: the request's own Struct is that answer, so
    // the inputs are read once here instead of being deserialised again by MockMonitor and
    // serialised back (the protobuf round trips were the bulk of a large plan's time).
    try {
      const result = await echoMocks.newResource({
        type: req.getType(),
        name: req.getName(),
        inputs: props,
        custom: req.getCustom(),
      } as pulumi.runtime.MockResourceArgs);
      const urn = (this as unknown as MonitorInternals).newUrn(
        req.getParent(),
        req.getType(),
        req.getName(),
      );
      this.resources.set(urn, { urn, id: result.id ?? null, state: props });
      const response = new resproto.RegisterResourceResponse();
      response.setUrn(urn);
      response.setId(result.id ?? "");
      response.setObject(req.getObject() as never);
      capture(urn);
      callback(null, response);
    } catch (error) {
      callback(error, undefined);
    }
  }
}

/** MockMonitor's URN scheme, private in its typings. */
interface MonitorInternals {
  newUrn(parent: string, type: string, name: string): string;
}

export interface MockRunOptions {
  readonly project: string;
  readonly stack: string;
  /** Flat engine config, `project:key` to string (objects JSON-encoded). */
  readonly config: Readonly<Record<string, string>>;
  readonly mocks?: pulumi.runtime.Mocks;
  readonly preview?: boolean;
}

/**
 * Installs the capturing mock engine and sets config. Call before the program (or any resource)
 * is constructed: resources created earlier bypass the mocks.
 */
export async function installMockEngine(options: MockRunOptions): Promise<CapturingMonitor> {
  const mocks = options.mocks ?? echoMocks;
  await pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview ?? false);
  const monitor = new CapturingMonitor(mocks);
  settings.setMockOptions(monitor, options.project, options.stack, options.preview ?? false);
  pulumi.runtime.setAllConfig({ ...options.config });
  return monitor;
}

/** Runs `programPath` (a fresh copy each time) under the mock engine and returns what it registered. */
export async function runProgram(
  programPath: string,
  options: MockRunOptions,
): Promise<CapturedResource[]> {
  const monitor = await installMockEngine(options);
  const resolved = require.resolve(programPath);
  delete require.cache[resolved];
  // The SDK takes a stack trace (`new Error().stack`) for every resource and promise it creates;
  // formatting them (and, with tsx's source maps on, mapping each frame back to TypeScript) was
  // the largest cost of a large plan after the protobuf round trips. The mock engine never reads
  // those traces, so for the duration of the run they are taken unmapped, and the SDK's own
  // message-less bookkeeping errors get an empty trace. Any other error keeps its frames.
  const sourceMaps = process.sourceMapsEnabled;
  const prepare = Error.prepareStackTrace;
  process.setSourceMapsEnabled(false);
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]): string =>
    error.constructor === Error && error.message === ""
      ? ""
      : `${String(error)}\n${frames.map((f) => `    at ${f.toString()}`).join("\n")}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- each run needs a fresh program
    require(resolved);
    await waitForRegistrations();
  } finally {
    Error.prepareStackTrace = prepare;
    process.setSourceMapsEnabled(sourceMaps);
  }
  return monitor.captured;
}
