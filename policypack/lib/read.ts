/**
 * The one shape test the pack needs before handing an object to the engine (which reads and
 * validates everything else, see reading.ts).
 */
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
