/**
 * Selector differential for scripts/e2e/run: the engine's Calico selector parser
 * (engine/calico/selector-ast.ts) against Calico's own (libcalico-go/lib/selector, built by the
 * calicoselector recipe as calico-selector-oracle).
 *
 *   tsx scripts/e2e/selector-oracle.ts generate [--count N] [--seed S] > cases.jsonl
 *   calico-selector-oracle < cases.jsonl > answers.jsonl
 *   tsx scripts/e2e/selector-oracle.ts compare cases.jsonl answers.jsonl
 *
 * A case is `{id, selector, labels: [label sets]}`. `compare` requires, per case, the same parse
 * result (both accept or both refuse), the same normalised form, and the same verdict on every
 * label set. The one allowed difference is `global()`, which Calico parses and this engine refuses
 * on purpose outside a rule's namespaceSelector (the only place it means something, "non-namespaced
 * entities"; the oracle parses plain selectors): such cases are counted apart, and only when the
 * engine's error names global().
 *
 * Generated selectors avoid the two places where the served Calico snapshot (release-v3.28) and
 * Calico 3.31 differ (see selector-ast.ts): newlines only stand at the very start or end or
 * inside string literals, and labels over 512 characters are followed by a non-operator.
 */
import { readFileSync } from "node:fs";
import { CalicoSelectorError, parseCalicoSelector } from "../../engine";

type Labels = Record<string, string>;

interface Case {
  readonly id: number;
  readonly selector: string;
  readonly labels: Labels[];
}

interface Answer {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly canonical?: string;
  readonly verdicts?: boolean[];
}

/** Small deterministic PRNG (mulberry32), so a seed names a case set. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LONGEST_LABEL = "k".repeat(512);
const TOO_LONG_LABEL = "k".repeat(513);
const KEYS = [
  "app",
  "tier",
  "x",
  "a.b/c-d_e",
  "kubernetes.io/metadata.name",
  "projectcalico.org/namespace",
  // Words of the grammar used as label names.
  "in",
  "not",
  "has",
  "all",
  "global",
  "contains",
  "starts",
  "with",
  "notin",
  LONGEST_LABEL,
];
const VALUES = [
  "",
  "web",
  "w",
  "eb",
  "web-1",
  "db",
  "a b",
  "it's",
  'say "hi"',
  "()",
  "all()",
  "é",
  "z",
];

class Generator {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = random(seed);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  blank(): string {
    return this.pick(["", " ", " ", "  ", "\t"]);
  }

  /** A blank where one is required (between a label and a word operator). */
  someBlank(): string {
    return this.pick([" ", " ", "  ", "\t", " \t "]);
  }

  quote(value: string): string {
    if (value.includes("'")) return `"${value}"`;
    if (value.includes('"')) return `'${value}'`;
    return this.chance(0.5) ? `'${value}'` : `"${value}"`;
  }

  term(depth: number, keys: Set<string>): string {
    const kind = this.int(depth > 2 ? 9 : 12);
    const key = this.pick(KEYS);
    const b = (): string => this.blank();
    const word = (w: string): string => this.someBlank() + w + this.someBlank();
    const track = (): string => {
      keys.add(key);
      return key;
    };
    switch (kind) {
      case 0:
        return `${track()}${b()}==${b()}${this.quote(this.pick(VALUES))}`;
      case 1:
        return `${track()}${b()}!=${b()}${this.quote(this.pick(VALUES))}`;
      case 2:
      case 3: {
        const count = this.int(4);
        const values = Array.from({ length: count }, () => this.quote(this.pick(VALUES)));
        const operator = kind === 2 ? "in" : this.pick(["not in", "notin", "not  in", "not\tin"]);
        const trailing = count > 0 && this.chance(0.2) ? "," : "";
        return `${track()}${word(operator)}{${b()}${values.join(`${b()},${b()}`)}${trailing}${b()}}`;
      }
      case 4:
        return `has(${b()}${track()}${b()})`;
      case 5:
        return `${track()}${word("contains")}${this.quote(this.pick(VALUES))}`;
      case 6:
        return `${track()}${word(this.pick(["starts with", "startswith", "starts  with"]))}${this.quote(this.pick(VALUES))}`;
      case 7:
        return `${track()}${word(this.pick(["ends with", "endswith"]))}${this.quote(this.pick(VALUES))}`;
      case 8:
        return this.chance(0.97) ? `all(${b()})` : `global(${b()})`;
      case 9:
        return `!${b()}${this.term(depth + 1, keys)}`;
      default:
        return `(${b()}${this.expression(depth + 1, keys)}${b()})`;
    }
  }

  expression(depth: number, keys: Set<string>): string {
    const parts = [this.term(depth, keys)];
    const more = depth > 2 ? 0 : this.int(3);
    for (let i = 0; i < more; i++)
      parts.push(
        `${this.blank()}${this.pick(["&&", "||"])}${this.blank()}${this.term(depth, keys)}`,
      );
    return parts.join("");
  }

  /** Small damage that keeps most of the text: the parsers must refuse (or accept) alike. */
  mutate(text: string): string {
    const at = this.int(text.length + 1);
    switch (this.int(6)) {
      case 0:
        return text.slice(0, at) + text.slice(at + 1);
      case 1:
        return (
          text.slice(0, at) +
          this.pick([..."(){},'\"!&|=#x-./", "in", "&&", "==", " "]) +
          text.slice(at)
        );
      case 2:
        return text.slice(0, at);
      case 3:
        return this.pick(["\n", "\r\n"]) + text;
      case 4:
        return `${text}${this.pick(["\n", " ", "\t", ")", "&&", TOO_LONG_LABEL + " == 'x'"])}`;
      default:
        return `${TOO_LONG_LABEL}${this.someBlank()}== 'v' || ${text}`;
    }
  }

  labelSet(keys: ReadonlySet<string>): Labels {
    const labels: Labels = {};
    for (const key of keys) if (this.chance(0.7)) labels[key] = this.pick(VALUES);
    if (this.chance(0.3)) labels[this.pick(KEYS)] = this.pick(VALUES);
    return labels;
  }

  case(id: number): Case {
    const keys = new Set<string>();
    let selector = this.chance(0.03) ? this.pick(["", " ", "\t"]) : this.expression(0, keys);
    if (this.chance(0.3)) selector = this.mutate(selector);
    const labels = Array.from({ length: 6 }, () => this.labelSet(keys));
    labels.push({});
    return { id, selector, labels };
  }
}

function readLines<T>(path: string): T[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

function generate(count: number, seed: number): void {
  const generator = new Generator(seed);
  const lines: string[] = [];
  for (let id = 0; id < count; id++) lines.push(JSON.stringify(generator.case(id)));
  process.stdout.write(`${lines.join("\n")}\n`);
}

function compare(casesPath: string, answersPath: string): boolean {
  const cases = readLines<Case>(casesPath);
  const answers = new Map(readLines<Answer>(answersPath).map((a) => [a.id, a]));
  const mismatches: string[] = [];
  let accepted = 0;
  let refused = 0;
  let globalRefused = 0;
  let verdicts = 0;
  for (const c of cases) {
    const calico = answers.get(c.id);
    const show = JSON.stringify(c.selector);
    if (calico === undefined) {
      mismatches.push(`case ${c.id} ${show}: no answer from Calico`);
      continue;
    }
    let engine: ReturnType<typeof parseCalicoSelector> | undefined;
    let engineError: CalicoSelectorError | undefined;
    try {
      engine = parseCalicoSelector(c.selector);
    } catch (error) {
      if (!(error instanceof CalicoSelectorError)) throw error;
      engineError = error;
    }
    if (!calico.ok) {
      if (engine !== undefined)
        mismatches.push(
          `case ${c.id} ${show}: Calico refuses (${calico.error}), the engine accepts`,
        );
      else refused++;
      continue;
    }
    if (engine === undefined) {
      if (
        engineError &&
        /global\(\)/.test(engineError.message) &&
        /global\(\)/.test(calico.canonical ?? "")
      )
        globalRefused++;
      else
        mismatches.push(
          `case ${c.id} ${show}: Calico accepts as ${calico.canonical}, the engine refuses (${engineError?.message})`,
        );
      continue;
    }
    if (engine.normalised !== calico.canonical) {
      mismatches.push(
        `case ${c.id} ${show}: normalised forms differ: Calico ${calico.canonical}, engine ${engine.normalised}`,
      );
      continue;
    }
    accepted++;
    c.labels.forEach((labels, i) => {
      verdicts++;
      const mine = engine.matches(labels);
      if (calico.verdicts?.[i] !== mine)
        mismatches.push(
          `case ${c.id} ${show} on ${JSON.stringify(labels)}: Calico ${calico.verdicts?.[i]}, engine ${mine}`,
        );
    });
  }
  console.log(
    `selectors: ${cases.length} (accepted by both ${accepted}, refused by both ${refused}, ` +
      `global() refused by the engine by design ${globalRefused}); verdicts compared: ${verdicts}; ` +
      `mismatches: ${mismatches.length}`,
  );
  for (const line of mismatches.slice(0, 30)) console.log(`  ${line}`);
  return mismatches.length === 0 && accepted > 0 && refused > 0;
}

function main(argv: readonly string[]): number {
  const [command, ...rest] = argv;
  const option = (name: string, fallback: number): number => {
    const at = rest.indexOf(name);
    if (at < 0) return fallback;
    const value = Number(rest[at + 1]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} needs a whole number`);
    return value;
  };
  if (command === "generate") {
    generate(option("--count", 4000), option("--seed", 1));
    return 0;
  }
  if (command === "compare" && rest.length === 2) return compare(rest[0], rest[1]) ? 0 : 1;
  console.error(
    "usage: selector-oracle.ts generate [--count N] [--seed S] | compare CASES ANSWERS",
  );
  return 2;
}

process.exitCode = main(process.argv.slice(2));
