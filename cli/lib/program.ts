/**
 * The command-line layer every CLI of this project shares (commander 14): `--help` with an
 * "Exit codes:" section, the same exit codes and flag names everywhere, and errors printed as
 * one located message. A user error (bad arguments, unreadable or invalid input, invalid stack
 * config or pack config) never prints a stack trace; only an internal error does, and it says so.
 *
 * Exit codes, the same for every CLI:
 *   0  done, and the answer is positive (no mandatory violation, allowed, all cases passed)
 *   1  done, and the answer is negative (a mandatory violation, denied, a failed case)
 *   2  user error: bad arguments, unreadable or invalid input, invalid config
 *   70 internal error (a bug in zt-netpol; EX_SOFTWARE of sysexits.h)
 */
import * as fs from "fs";
import { Command, CommanderError, Option } from "commander";

export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** A wrong argument or flag combination, found after commander's own parsing. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Errors whose message already names the place (flag, file#document field, config key): the
 * message is all the user needs. Matched by name so that this module does not load the pack or
 * the config code into CLIs that do not use them.
 */
const USER_ERROR_NAMES = new Set([
  "UsageError",
  "InputError",
  "ManifestError",
  "ManifestParseError",
  "ConfigError",
  "PackConfigError",
  "FactsError",
  "ImportError",
  "CalicoSelectorError",
  "FlowLogError",
  "UnjudgeableError",
]);

export function isUserError(error: unknown): error is Error {
  return error instanceof Error && USER_ERROR_NAMES.has(error.name);
}

export interface ExitCodeMeaning {
  readonly code: number;
  readonly meaning: string;
}

export const USAGE_EXIT: ExitCodeMeaning = {
  code: EXIT_USAGE,
  meaning: "user error: bad arguments, unreadable or invalid input, invalid config",
};
const INTERNAL_EXIT: ExitCodeMeaning = {
  code: EXIT_INTERNAL,
  meaning: "internal error (a bug in zt-netpol; the only case that prints a stack trace)",
};

export function exitCodesHelp(codes: readonly ExitCodeMeaning[]): string {
  const all = [...codes, USAGE_EXIT, INTERNAL_EXIT];
  return `\nExit codes:\n${all.map((c) => `  ${String(c.code).padEnd(3)}${c.meaning}`).join("\n")}\n`;
}

export interface ProgramSpec {
  /** The npm script name, e.g. `check` (shown as `npm run check --`). */
  readonly name: string;
  readonly description: string;
  /** Codes other than 2 and 70 (which every CLI shares). */
  readonly exitCodes: readonly ExitCodeMeaning[];
  /** Examples, one per line, shown after the options. */
  readonly examples?: readonly string[];
}

/** A commander program with this project's help, error output and exit behaviour. */
export function program(spec: ProgramSpec): Command {
  const command = new Command(spec.name)
    .usage("[options]")
    .description(spec.description)
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One line, prefixed with the command, for every parse error commander finds.
      outputError: (text, write) => write(`${spec.name}: ${text.replace(/^error: /, "")}`),
    });
  const examples = spec.examples?.length
    ? `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join("\n")}\n`
    : "";
  command.addHelpText("after", examples + exitCodesHelp(spec.exitCodes));
  return command;
}

/** `--stack NAME` and `--stack-dir DIR`, named the same in every CLI that reads a stack. */
export function stackOptions(description: string, defaultStack?: string): Option[] {
  const stack = new Option("--stack <name>", description);
  return [
    defaultStack === undefined ? stack : stack.default(defaultStack),
    new Option(
      "--stack-dir <dir>",
      "directory of the Pulumi.<stack>.yaml files (default: the project root)",
    ),
  ];
}

/** `--namespace NS`: kubectl's default namespace, for policy objects that name none. */
export function namespaceOption(): Option {
  return new Option(
    "-n, --namespace <ns>",
    "namespace of namespaced objects that set none (without it, such a policy object is an error)",
  );
}

export function integerArgument(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value))
      throw new UsageError(`${flag} must be a whole number, not ${JSON.stringify(value)}`);
    return Number(value);
  };
}

/** Writes an output a flag names; a path that cannot be written is the user's error, at that flag. */
export function writeOutputFile(flag: string, file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch (error) {
    throw new UsageError(`${flag} ${file}: ${(error as Error).message}`);
  }
}

/** Prints an error the way every CLI does and returns its exit code. */
export function reportError(name: string, error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; its own messages are already printed.
    return error.code === "commander.helpDisplayed" || error.code === "commander.version"
      ? EXIT_OK
      : EXIT_USAGE;
  }
  if (isUserError(error)) {
    process.stderr.write(`${name}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${name}: internal error (a bug in zt-netpol, please report it with this trace):\n${detail}\n`,
  );
  return EXIT_INTERNAL;
}

/**
 * Parses `argv` (the user's arguments, without node and the script), runs the action the
 * program registered (which stores its exit code through `setExitCode`), and returns the code.
 */
export async function runProgram(
  command: Command,
  argv: readonly string[],
  action: (command: Command) => number | Promise<number>,
): Promise<number> {
  let code = EXIT_OK;
  command.action(async () => {
    code = await action(command);
  });
  try {
    await command.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    return reportError(command.name(), error);
  }
}

/** The entry point of a CLI file: runs it when executed, not when imported by a test. */
export function main(
  module: NodeJS.Module,
  run: (argv: readonly string[]) => Promise<number>,
): void {
  if (require.main !== module) return;
  void run(process.argv.slice(2)).then((code) => {
    process.exit(code);
  });
}
