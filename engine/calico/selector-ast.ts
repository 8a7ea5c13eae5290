/**
 * Calico label-selector language: tokenizer, recursive-descent parser and evaluator.
 *
 * Grammar and matching rules follow Calico's selector reference
 * (https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors) and the
 * behaviour of projectcalico/calico `libcalico-go/lib/selector` (read for semantics only):
 *
 *   or    := and ( "||" and )*
 *   and   := unary ( "&&" unary )*
 *   unary := "!"* primary
 *   primary := "(" or ")" | "all()" | "global()" | "has(" label ")"
 *            | label ( "==" | "!=" | "contains" | "starts with" | "ends with" ) string
 *            | label ( "in" | "not in" ) "{" [ string ( "," string )* [","] ] "}"
 *
 * Tokens follow Calico 3.31's tokenizer (libcalico-go/lib/selector/tokenizer, since
 * projectcalico/calico#9564): only space and tab are blanks; a label has 1-512 characters of
 * `A-Za-z0-9_./-`; `not in`, `starts with` and `ends with` may be written without the blank
 * (`notin`), and every word operator must end at a word boundary (not before a label character).
 * The Go module proxy serves only an older snapshot (the release-v3.28 branch, whose tokenizer is
 * regular-expression based); the two agree except for other whitespace (newline, form feed)
 * inside `has( )`, `all( )`, `global( )` and between the words of an operator, and labels over 512
 * characters, which 3.28 accepts in places and 3.31 refuses. The e2e selector differential
 * (scripts/e2e/selector-oracle.ts) checks this parser against that snapshot outside those cases.
 *
 * Matching details that differ from intuition, all taken from Calico's evaluator:
 * - `k != 'v'` and `k not in {…}` are true when the label `k` is absent.
 * - `==`, `in`, `contains`, `starts with`, `ends with` are false when the label is absent.
 * - An empty (or blank) selector means `all()`.
 * - `global()` is accepted only where Calico gives it a meaning: in a rule entity's
 *   `namespaceSelector` (parse option `allowGlobal`), which libcalico-go rewrites to
 *   `!has(projectcalico.org/namespace)`, i.e. "non-namespaced endpoints": GlobalNetworkSets here
 *   (host endpoints are not modelled). Anywhere else it is rejected, as the CRD's validation
 *   ("global() can only be used in an EntityRule namespaceSelector") does.
 */

export type SelectorNode =
  | { readonly op: "all" }
  /** `global()` in a namespaceSelector: true only for non-namespaced entities (evaluateScope). */
  | { readonly op: "global" }
  | { readonly op: "has"; readonly key: string }
  | {
      readonly op: "eq" | "ne" | "contains" | "startsWith" | "endsWith";
      readonly key: string;
      readonly value: string;
    }
  | { readonly op: "in" | "notIn"; readonly key: string; readonly values: ReadonlySet<string> }
  | { readonly op: "not"; readonly operand: SelectorNode }
  | { readonly op: "and" | "or"; readonly operands: readonly SelectorNode[] };

export class CalicoSelectorError extends Error {
  readonly position: number;
  readonly selector: string;

  constructor(message: string, selector: string, position: number) {
    super(
      `invalid Calico selector ${JSON.stringify(selector)} at position ${position}: ${message}`,
    );
    this.name = "CalicoSelectorError";
    this.position = position;
    this.selector = selector;
  }
}

type TokenKind =
  | "label"
  | "string"
  | "lbrace"
  | "rbrace"
  | "comma"
  | "eq"
  | "ne"
  | "in"
  | "notIn"
  | "contains"
  | "startsWith"
  | "endsWith"
  | "not"
  | "and"
  | "or"
  | "lparen"
  | "rparen"
  | "all"
  | "global"
  | "has"
  | "eof";

interface Token {
  readonly kind: TokenKind;
  readonly value: string;
  /** Index of the token's first character in the selector text. */
  readonly position: number;
}

/** Characters Calico accepts in a label key (letters, digits, `_ . / -`). */
function isLabelChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_./-]/.test(ch);
}

/** Calico's tokenizer skips spaces and tabs only; a newline is an unexpected character. */
function isBlank(ch: string | undefined): boolean {
  return ch === " " || ch === "\t";
}

/** Calico's limit on a label name (tokenizer.MaxLabelLength). */
export const MAX_LABEL_LENGTH = 512;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string, at: number): never => {
    throw new CalicoSelectorError(message, text, at);
  };
  const skipBlanks = (): void => {
    while (isBlank(text[i])) i++;
  };
  /** True when `word` starts at i and is not the prefix of a longer identifier. */
  const wordAt = (word: string, at: number): boolean =>
    text.startsWith(word, at) && !isLabelChar(text[at + word.length]);

  for (;;) {
    skipBlanks();
    if (i >= text.length) {
      tokens.push({ kind: "eof", value: "", position: i });
      return tokens;
    }
    const start = i;
    const ch = text[i];
    const previous = tokens.length > 0 ? tokens[tokens.length - 1].kind : undefined;
    const push = (kind: TokenKind, length: number, value = ""): void => {
      tokens.push({ kind, value, position: start });
      i = start + length;
    };
    switch (ch) {
      case "(":
        push("lparen", 1);
        continue;
      case ")":
        push("rparen", 1);
        continue;
      case "{":
        push("lbrace", 1);
        continue;
      case "}":
        push("rbrace", 1);
        continue;
      case ",":
        push("comma", 1);
        continue;
      case '"':
      case "'": {
        const end = text.indexOf(ch, i + 1);
        if (end < 0) fail("unterminated string literal", start);
        push("string", end - start + 1, text.slice(start + 1, end));
        continue;
      }
      case "=":
        if (text[i + 1] !== "=") fail("expected '=='", start);
        push("eq", 2);
        continue;
      case "!":
        if (text[i + 1] === "=") push("ne", 2);
        else push("not", 1);
        continue;
      case "&":
        if (text[i + 1] !== "&") fail("expected '&&'", start);
        push("and", 2);
        continue;
      case "|":
        if (text[i + 1] !== "|") fail("expected '||'", start);
        push("or", 2);
        continue;
      default:
        break;
    }
    if (previous === "label") {
      // After a label only a word operator can follow (symbol operators were handled above).
      if (wordAt("contains", i)) {
        push("contains", "contains".length);
        continue;
      }
      // Two-word operators: the blank between the words is optional (`notin`), and only the
      // second word must end at a word boundary, as in Calico.
      let twoWord = false;
      for (const [first, second, kind] of [
        ["starts", "with", "startsWith"],
        ["ends", "with", "endsWith"],
        ["not", "in", "notIn"],
      ] as const) {
        if (!text.startsWith(first, i)) continue;
        let after = i + first.length;
        while (isBlank(text[after])) after++;
        if (!wordAt(second, after)) continue;
        tokens.push({ kind, value: "", position: start });
        i = after + second.length;
        twoWord = true;
        break;
      }
      if (twoWord) continue;
      if (wordAt("in", i)) {
        push("in", 2);
        continue;
      }
      fail("expected an operator after the label", start);
    }
    // Like Calico, the function name must touch its parenthesis: `has (k)` is a label `has`.
    const call = /^(has|all|global)\(/.exec(text.slice(i));
    if (call !== null) {
      const name = call[1] as "has" | "all" | "global";
      i += call[0].length;
      skipBlanks();
      let argument = "";
      if (name === "has") {
        const argStart = i;
        while (isLabelChar(text[i])) i++;
        argument = text.slice(argStart, i);
        if (argument === "") fail("expected a label name inside has()", argStart);
        if (argument.length > MAX_LABEL_LENGTH)
          fail(`label longer than ${MAX_LABEL_LENGTH} characters`, argStart);
        skipBlanks();
      }
      if (text[i] !== ")") fail(`expected ')' to close ${name}(`, i);
      i++;
      tokens.push({ kind: name, value: argument, position: start });
      continue;
    }
    if (isLabelChar(ch)) {
      let end = i;
      while (isLabelChar(text[end])) end++;
      if (end - start > MAX_LABEL_LENGTH)
        fail(`label longer than ${MAX_LABEL_LENGTH} characters`, start);
      push("label", end - start, text.slice(start, end));
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`, start);
  }
}

class Parser {
  private index = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    private readonly allowGlobal = false,
  ) {}

  parse(): SelectorNode {
    if (this.peek().kind === "eof") return { op: "all" };
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== "eof") this.fail(`unexpected ${describe(rest)} after expression`, rest);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index];
    if (token.kind !== "eof") this.index++;
    return token;
  }

  private fail(message: string, token: Token): never {
    throw new CalicoSelectorError(message, this.text, token.position);
  }

  private parseOr(): SelectorNode {
    const operands = [this.parseAnd()];
    while (this.peek().kind === "or") {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0] : { op: "or", operands };
  }

  private parseAnd(): SelectorNode {
    const operands = [this.parseUnary()];
    while (this.peek().kind === "and") {
      this.next();
      operands.push(this.parseUnary());
    }
    return operands.length === 1 ? operands[0] : { op: "and", operands };
  }

  private parseUnary(): SelectorNode {
    let negations = 0;
    while (this.peek().kind === "not") {
      this.next();
      negations++;
    }
    const operand = this.parsePrimary();
    return negations % 2 === 1 ? { op: "not", operand } : operand;
  }

  private parsePrimary(): SelectorNode {
    const token = this.next();
    switch (token.kind) {
      case "all":
        return { op: "all" };
      case "global":
        if (this.allowGlobal) return { op: "global" };
        return this.fail("global() can only be used in a rule's namespaceSelector", token);
      case "has":
        return { op: "has", key: token.value };
      case "lparen": {
        const inner = this.parseOr();
        const close = this.next();
        if (close.kind !== "rparen") this.fail(`expected ')' but found ${describe(close)}`, close);
        return inner;
      }
      case "label":
        return this.parseComparison(token.value);
      default:
        return this.fail(`expected an expression but found ${describe(token)}`, token);
    }
  }

  private parseComparison(key: string): SelectorNode {
    const operator = this.next();
    switch (operator.kind) {
      case "eq":
      case "ne":
      case "contains":
      case "startsWith":
      case "endsWith": {
        const literal = this.next();
        if (literal.kind !== "string")
          this.fail(`expected a quoted string but found ${describe(literal)}`, literal);
        return { op: operator.kind, key, value: literal.value };
      }
      case "in":
      case "notIn": {
        const open = this.next();
        if (open.kind !== "lbrace") this.fail(`expected '{' but found ${describe(open)}`, open);
        const values = new Set<string>();
        // Calico accepts an empty set and a trailing comma, so do we.
        while (this.peek().kind === "string") {
          values.add(this.next().value);
          if (this.peek().kind !== "comma") break;
          this.next();
        }
        const close = this.next();
        if (close.kind !== "rbrace") this.fail(`expected '}' but found ${describe(close)}`, close);
        return { op: operator.kind, key, values };
      }
      default:
        return this.fail(`expected an operator but found ${describe(operator)}`, operator);
    }
  }
}

function describe(token: Token): string {
  if (token.kind === "eof") return "end of selector";
  if (token.kind === "label") return `label ${JSON.stringify(token.value)}`;
  if (token.kind === "string") return `string ${JSON.stringify(token.value)}`;
  return `'${token.kind}'`;
}

export function parseSelectorAst(
  text: string,
  options: { readonly allowGlobal?: boolean } = {},
): SelectorNode {
  return new Parser(text, tokenize(text), options.allowGlobal).parse();
}

/**
 * A rule entity's namespaceSelector against one entity, as Felix evaluates the rewritten form
 * (libcalico-go updateprocessors/rules.go getEndpointSelector: keys prefixed `pcns.`, `all()` →
 * `has(projectcalico.org/namespace)`, `global()` → `!has(projectcalico.org/namespace)`).
 * `namespaceLabels` are the labels of the entity's namespace, or `undefined` for a
 * non-namespaced entity (a GlobalNetworkSet), which carries no `pcns.` label at all: there
 * `all()` is false, `global()` true and every comparison sees no label.
 */
export function evaluateScope(
  node: SelectorNode,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  switch (node.op) {
    case "all":
      return namespaceLabels !== undefined;
    case "global":
      return namespaceLabels === undefined;
    case "not":
      return !evaluateScope(node.operand, namespaceLabels);
    case "and":
      return node.operands.every((operand) => evaluateScope(operand, namespaceLabels));
    case "or":
      return node.operands.some((operand) => evaluateScope(operand, namespaceLabels));
    default:
      return evaluateSelector(node, namespaceLabels ?? {});
  }
}

export function evaluateSelector(
  node: SelectorNode,
  labels: Readonly<Record<string, string>>,
): boolean {
  switch (node.op) {
    case "all":
      return true;
    case "global":
      // Labels passed here belong to a namespaced endpoint (see evaluateScope).
      return false;
    case "has":
      return Object.prototype.hasOwnProperty.call(labels, node.key);
    case "not":
      return !evaluateSelector(node.operand, labels);
    case "and":
      return node.operands.every((operand) => evaluateSelector(operand, labels));
    case "or":
      return node.operands.some((operand) => evaluateSelector(operand, labels));
    default:
      break;
  }
  const value = Object.prototype.hasOwnProperty.call(labels, node.key)
    ? labels[node.key]
    : undefined;
  switch (node.op) {
    case "eq":
      return value === node.value;
    case "ne":
      return value !== node.value;
    case "contains":
      return value !== undefined && value.includes(node.value);
    case "startsWith":
      return value !== undefined && value.startsWith(node.value);
    case "endsWith":
      return value !== undefined && value.endsWith(node.value);
    case "in":
      return value !== undefined && node.values.has(value);
    case "notIn":
      return value === undefined || !node.values.has(value);
  }
}

/** Every label key the selector looks at; used to group endpoints it cannot tell apart. */
export function selectorLabelKeys(node: SelectorNode, into: Set<string> = new Set()): Set<string> {
  switch (node.op) {
    case "all":
    case "global":
      break;
    case "not":
      selectorLabelKeys(node.operand, into);
      break;
    case "and":
    case "or":
      for (const operand of node.operands) selectorLabelKeys(operand, into);
      break;
    default:
      into.add(node.key);
  }
  return into;
}

/** Go's string order (bytes of the UTF-8 encoding), which Calico uses to sort set literals. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function quoted(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * The selector in Calico's normalised form (what `Selector.String()` returns): `&&` and `||` groups
 * in parentheses, double quotes unless the value holds one, set literals sorted and deduplicated.
 * Two selectors with equal normal forms are the same selector to Calico.
 */
export function selectorToString(node: SelectorNode): string {
  switch (node.op) {
    case "all":
      return "all()";
    case "global":
      return "global()";
    case "has":
      return `has(${node.key})`;
    case "not":
      return `!${selectorToString(node.operand)}`;
    case "and":
    case "or":
      return `(${node.operands.map(selectorToString).join(node.op === "and" ? " && " : " || ")})`;
    case "eq":
      return `${node.key} == ${quoted(node.value)}`;
    case "ne":
      return `${node.key} != ${quoted(node.value)}`;
    case "contains":
      return `${node.key} contains ${quoted(node.value)}`;
    case "startsWith":
      return `${node.key} starts with ${quoted(node.value)}`;
    case "endsWith":
      return `${node.key} ends with ${quoted(node.value)}`;
    case "in":
    case "notIn": {
      const values = [...node.values].sort(compareUtf8).map(quoted).join(", ");
      return `${node.key} ${node.op === "in" ? "in" : "not in"} {${values}}`;
    }
  }
}

/**
 * The same selector with every label name prefixed, as libcalico-go's PrefixVisitor does when it
 * turns a service-account selector into one over the `pcsa.`-prefixed labels that endpoints
 * inherit from their ServiceAccount.
 */
export function prefixSelectorKeys(node: SelectorNode, prefix: string): SelectorNode {
  switch (node.op) {
    case "all":
    case "global":
      return node;
    case "not":
      return { op: "not", operand: prefixSelectorKeys(node.operand, prefix) };
    case "and":
    case "or":
      return { op: node.op, operands: node.operands.map((o) => prefixSelectorKeys(o, prefix)) };
    default:
      return { ...node, key: prefix + node.key };
  }
}
