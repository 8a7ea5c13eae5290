/** Errors that name the offending object and field, so a bad manifest never fails silently. */

export interface ObjectRef {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export function formatRef(ref: ObjectRef): string {
  return ref.namespace === undefined
    ? `${ref.kind}/${ref.name}`
    : `${ref.kind}/${ref.namespace}/${ref.name}`;
}

export interface Problem {
  readonly object: ObjectRef;
  /** Dotted path inside the object, e.g. `spec.ingress[0].from[1].ipBlock.cidr`. */
  readonly path: string;
  readonly message: string;
  /** File the object came from, when known. */
  readonly source?: string;
}

export function formatProblem(p: Problem): string {
  const where = p.source === undefined ? "" : ` (${p.source})`;
  return `${formatRef(p.object)}${where} ${p.path}: ${p.message}`;
}

/** Thrown when any object could not be understood. Lists every problem found, not just the first. */
export class ManifestError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    super(
      `${problems.length} problem(s) in the manifests:\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ManifestError";
    this.problems = problems;
  }
}

/** Collects problems for one object; the `at` helpers throw nothing so parsing can continue. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  readonly warnings: string[] = [];

  report(object: ObjectRef, path: string, message: string, source?: string): void {
    this.problems.push({ object, path, message, source });
  }

  warn(object: ObjectRef, path: string, message: string): void {
    this.warnings.push(`${formatRef(object)} ${path}: ${message}`);
  }
}
