/** Reading manifest inputs in a CLI: the engine's loader, with what it skipped printed. */
import { loadInputs, type LoadedInput, type SkippedInput } from "../../engine";

export function skippedLines(skipped: readonly SkippedInput[], label = ""): string {
  const prefix = label ? `${label}: ` : "";
  return skipped.map((s) => `${prefix}skipped ${s.path}: ${s.reason}\n`).join("");
}

/** Loads the paths and names every skipped file on stderr, so nothing passes unseen. */
export function readInputs(
  paths: readonly string[],
  namespace: string | undefined,
  label = "",
): LoadedInput {
  const input = loadInputs(paths, { namespace });
  process.stderr.write(skippedLines(input.skipped, label));
  return input;
}
