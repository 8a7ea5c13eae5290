/**
 * The two ways a policy can be unable to decide, and how each is told apart.
 *
 * Both must end in a violation at the policy's own enforcement level ("fail closed"): a policy
 * that cannot read the object has not shown the object to be safe.
 */

/** The object does not have the shape the Kubernetes/Calico API gives it; `path` says where. */
export class MalformedError extends Error {
  constructor(
    readonly path: string,
    readonly expectation: string,
  ) {
    super(`${path}: ${expectation}`);
    this.name = "MalformedError";
  }
}

/**
 * True for @pulumi/policy's `UnknownValueError`, thrown by its unknown-checking proxy when a
 * policy reads a value that is still unknown during preview (node_modules/@pulumi/policy/proxy.js).
 *
 * The class is internal to the package and the pack may load a second copy of it
 * (policypack/node_modules vs the root), so `instanceof` is unreliable: match on the name and the
 * `props` path the class carries.
 */
export function isUnknownValueError(error: unknown): error is Error & { props: PropertyKey[] } {
  return (
    error instanceof Error &&
    error.constructor.name === "UnknownValueError" &&
    Array.isArray((error as { props?: unknown }).props)
  );
}

/** The property path of an unknown value, as `spec.ingress.0.from` → `spec.ingress[0].from`. */
export function unknownPath(error: Error & { props: PropertyKey[] }): string {
  let out = "";
  for (const key of error.props) {
    const text = String(key);
    out += /^\d+$/.test(text) ? `[${text}]` : out === "" ? text : `.${text}`;
  }
  return out === "" ? "(the whole object)" : out;
}
