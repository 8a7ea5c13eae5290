/**
 * Public face of the Calico selector parser: parse once, match many label sets.
 * The grammar and its sources are documented in ./selector-ast.ts.
 */
import {
  CalicoSelectorError,
  evaluateSelector,
  parseSelectorAst,
  selectorToString,
  type SelectorNode,
} from "./selector-ast";

export { CalicoSelectorError };

export interface CalicoSelector {
  /** The selector text exactly as given. */
  readonly source: string;
  /** Calico's normalised form (`Selector.String()` in libcalico-go): equal forms, equal selectors. */
  readonly normalised: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

class ParsedCalicoSelector implements CalicoSelector {
  constructor(
    readonly source: string,
    readonly ast: SelectorNode,
  ) {}

  get normalised(): string {
    return selectorToString(this.ast);
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    return evaluateSelector(this.ast, labels);
  }
}

/**
 * Parses a Calico selector expression. An empty or blank text means `all()`.
 * @throws CalicoSelectorError carrying the character position of the first problem.
 */
export function parseCalicoSelector(text: string): CalicoSelector {
  return new ParsedCalicoSelector(text, parseSelectorAst(text));
}
