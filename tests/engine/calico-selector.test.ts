import assert from "node:assert/strict";
import { CalicoSelectorError, parseCalicoSelector } from "../../engine";

const web = { app: "web", tier: "frontend", "kubernetes.io/metadata.name": "shop" };
const db = { app: "db", tier: "backend" };
const bare: Record<string, string> = {};

function matches(selector: string, labels: Record<string, string>): boolean {
  return parseCalicoSelector(selector).matches(labels);
}

function errorOf(selector: string): CalicoSelectorError {
  try {
    parseCalicoSelector(selector);
  } catch (error) {
    assert.ok(
      error instanceof CalicoSelectorError,
      `expected CalicoSelectorError, got ${String(error)}`,
    );
    return error;
  }
  assert.fail(`selector ${JSON.stringify(selector)} should not parse`);
}

describe("Calico selector parser", () => {
  it("keeps the source text", () => {
    assert.equal(parseCalicoSelector("app == 'web'").source, "app == 'web'");
  });

  it("treats an empty or blank selector as all()", () => {
    for (const text of ["", "   ", "all()", "all( )"]) {
      assert.equal(matches(text, bare), true, text);
      assert.equal(matches(text, db), true, text);
    }
  });

  it("compares with == and != (!= also matches when the label is absent)", () => {
    assert.equal(matches("app == 'web'", web), true);
    assert.equal(matches("app == 'web'", db), false);
    assert.equal(matches("app == 'web'", bare), false);
    assert.equal(matches("app != 'web'", web), false);
    assert.equal(matches("app != 'web'", db), true);
    assert.equal(matches("app != 'web'", bare), true);
  });

  it("accepts single and double quotes, and quotes of the other kind inside", () => {
    assert.equal(matches('app == "web"', web), true);
    assert.equal(matches(`note == "it's"`, { note: "it's" }), true);
    assert.equal(matches(`note == 'say "hi"'`, { note: 'say "hi"' }), true);
  });

  it("supports in and not in sets (not in matches an absent label)", () => {
    assert.equal(matches("app in {'web', 'api'}", web), true);
    assert.equal(matches("app in {'web', 'api'}", db), false);
    assert.equal(matches("app in {'web'}", bare), false);
    assert.equal(matches("app not in {'web', 'api'}", web), false);
    assert.equal(matches("app not in {'web', 'api'}", db), true);
    assert.equal(matches("app not  in {'web'}", bare), true);
    assert.equal(matches("app in {}", web), false);
    assert.equal(matches("app in {'db',}", db), true);
  });

  it("tokenizes as Calico 3.31: notin/startswith/endswith, blanks are space and tab only", () => {
    assert.equal(matches("app notin {'web'}", db), true);
    assert.equal(matches("tier startswith 'front'", web), true);
    assert.equal(matches("tier endswith 'end'", db), true);
    assert.equal(matches("\tapp == 'web'\t", web), true);
    for (const text of ["app == 'web'\n", "\napp == 'web'", "app ==\r\n'web'"])
      assert.throws(() => parseCalicoSelector(text), CalicoSelectorError, JSON.stringify(text));
    // A label has at most 512 characters.
    assert.equal(matches(`has(${"k".repeat(512)})`, { ["k".repeat(512)]: "" }), true);
    assert.throws(() => parseCalicoSelector(`${"k".repeat(513)} == 'v'`), /longer than 512/);
    // A word operator ends at a word boundary: `in-x` is not `in`.
    assert.throws(() => parseCalicoSelector("app in-x {'a'}"), CalicoSelectorError);
  });

  it("gives Calico's normalised form (Selector.String())", () => {
    const cases: [string, string][] = [
      ["", "all()"],
      ["app=='web'", 'app == "web"'],
      [`note == "it's"`, `note == "it's"`],
      [`note == 'say "hi"'`, `note == 'say "hi"'`],
      ["a == 'x' && b != 'y' || !has(c)", '((a == "x" && b != "y") || !has(c))'],
      ["!!(a in {'z', 'b', 'z',})", 'a in {"b", "z"}'],
      ["a notin {}", "a not in {}"],
      [
        "x startswith 'p' && y endswith 's' && z contains 'c'",
        '(x starts with "p" && y ends with "s" && z contains "c")',
      ],
    ];
    for (const [text, normal] of cases)
      assert.equal(parseCalicoSelector(text).normalised, normal, text);
  });

  it("supports has(), !has() and repeated negation", () => {
    assert.equal(matches("has(tier)", web), true);
    assert.equal(matches("has(tier)", bare), false);
    assert.equal(matches("!has(tier)", bare), true);
    assert.equal(matches("!has(tier)", web), false);
    assert.equal(matches("!!has(tier)", web), true);
    assert.equal(matches("has( kubernetes.io/metadata.name )", web), true);
  });

  it("supports contains, starts with and ends with (false when the label is absent)", () => {
    assert.equal(matches("tier contains 'ont'", web), true);
    assert.equal(matches("tier starts with 'front'", web), true);
    assert.equal(matches("tier starts   with 'back'", web), false);
    assert.equal(matches("tier ends with 'end'", db), true);
    assert.equal(matches("tier ends with 'front'", web), false);
    assert.equal(matches("tier contains ''", bare), false);
  });

  it("gives && precedence over || and honours parentheses", () => {
    // a || b && c  ==  a || (b && c)
    assert.equal(matches("app == 'db' || app == 'web' && tier == 'backend'", db), true);
    assert.equal(matches("app == 'db' || app == 'web' && tier == 'backend'", web), false);
    assert.equal(matches("(app == 'db' || app == 'web') && tier == 'backend'", web), false);
    assert.equal(matches("(app == 'db' || app == 'web') && tier == 'frontend'", web), true);
    assert.equal(matches("!(app == 'web' && tier == 'frontend')", web), false);
    assert.equal(matches("!(app == 'web' && tier == 'frontend')", db), true);
  });

  it("accepts label keys with prefixes, dots, dashes and slashes", () => {
    assert.equal(matches("kubernetes.io/metadata.name == 'shop'", web), true);
    assert.equal(matches("projectcalico.org/name == 'shop'", web), false);
  });

  it("rejects malformed selectors with the position of the problem", () => {
    const cases: [string, number][] = [
      ["app = 'web'", 4],
      ["app == web", 7],
      ["app == 'web", 7],
      ["app 'web'", 4],
      ["(app == 'web'", 13],
      ["app == 'web')", 12],
      ["app == 'web' &", 13],
      ["app == 'web' |", 13],
      ["has()", 4],
      ["has(app", 7],
      ["app in 'web'", 7],
      ["app in {'web'", 13],
      ["app starts 'w'", 4],
      ["app == 'web' &&", 15],
      ["app == 'x' app == 'y'", 11],
      ["#", 0],
      ["global()", 0],
    ];
    for (const [text, position] of cases) {
      const error = errorOf(text);
      assert.equal(error.position, position, `${text}: ${error.message}`);
      assert.equal(error.selector, text);
      assert.match(error.message, /position/);
    }
  });
});
