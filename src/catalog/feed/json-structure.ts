/**
 * Follows the structure of one JSON value as its text arrives, without building it: where it ends,
 * and where its structure breaks. Strings are skipped (escapes included, without checking them),
 * literals and numbers are taken as runs of their characters, and the grammar of commas, colons and
 * keys is checked, so that the end of a value is found exactly in valid JSON and a broken one is
 * noticed early. `JSON.parse` then parses the value's text.
 *
 * One defect of the real feed is tolerated: `[` right after `]`, a missing comma between arrays
 * (`["a"]["b"]`), which the item's repair then fixes.
 */

import { COLON, COMMA, isJsonWhitespace, L_BRACE, L_BRACKET, QUOTE, R_BRACE, R_BRACKET } from './json-chars.js';

const enum Expect {
  Value,
  Key,
  Colon,
  CommaOrClose,
}

export type ScanResult =
  /** The value goes on past this text. */
  | { kind: 'more' }
  /** The value ends just before `end`. */
  | { kind: 'done'; end: number }
  /** The text breaks the value's structure at `at`. */
  | { kind: 'broken'; at: number; reason: string };

const MORE: ScanResult = { kind: 'more' };

/** The characters of `true`, `false`, `null` and numbers (and of the invalid words around them). */
function isLiteralChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x2b || c === 0x2e;
}

/** Whether a value can start with this character. */
export function startsValue(c: number): boolean {
  return c === L_BRACE || c === L_BRACKET || c === QUOTE || isLiteralChar(c);
}

export class JsonStructure {
  private readonly stack: number[] = [];
  private expect = Expect.Value;
  private inString = false;
  private stringIsKey = false;
  private escaped = false;
  private inLiteral = false;
  private afterArray = false;

  /** Scans `text` from `from`; the value must start there or have started in an earlier text. */
  scan(text: string, from: number): ScanResult {
    const n = text.length;
    // The next quote and backslash at or after the cursor; -1 when there is none, -2 before searching.
    let quoteAt = -2;
    let backslashAt = -2;
    for (let i = from; i < n; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        // Jump to the next quote or backslash: most of a feed's text is inside strings.
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        if (quoteAt !== -1 && quoteAt < i) quoteAt = text.indexOf('"', i);
        if (backslashAt !== -1 && backslashAt < i) backslashAt = text.indexOf('\\', i);
        const quote = quoteAt;
        const backslash = backslashAt;
        if (quote === -1 && backslash === -1) return MORE;
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          i = backslash;
          this.escaped = true;
          continue;
        }
        i = quote;
        this.inString = false;
        if (this.stringIsKey) this.expect = Expect.Colon;
        else if (this.valueEnded()) return { kind: 'done', end: i + 1 };
        continue;
      }
      if (this.inLiteral) {
        if (isLiteralChar(c)) continue;
        this.inLiteral = false;
        if (this.valueEnded()) return { kind: 'done', end: i };
      }
      if (isJsonWhitespace(c)) continue;
      const afterArray = this.afterArray;
      this.afterArray = false;
      if (c === COMMA) {
        if (this.expect !== Expect.CommaOrClose || this.stack.length === 0) return this.broken(i, ',');
        this.expect = this.stack[this.stack.length - 1] === L_BRACE ? Expect.Key : Expect.Value;
      } else if (c === COLON) {
        if (this.expect !== Expect.Colon) return this.broken(i, ':');
        this.expect = Expect.Value;
      } else if (c === R_BRACE || c === R_BRACKET) {
        const open = c === R_BRACE ? L_BRACE : L_BRACKET;
        const closable = c === R_BRACE ? this.expect === Expect.Key : this.expect === Expect.Value;
        if (this.stack[this.stack.length - 1] !== open || !(closable || this.expect === Expect.CommaOrClose)) return this.broken(i, text[i]!);
        this.stack.pop();
        this.afterArray = c === R_BRACKET;
        if (this.valueEnded()) return { kind: 'done', end: i + 1 };
      } else if (c === QUOTE) {
        if (this.expect !== Expect.Value && this.expect !== Expect.Key) return this.broken(i, '"');
        this.inString = true;
        this.stringIsKey = this.expect === Expect.Key;
      } else if (this.expect === Expect.Value || (c === L_BRACKET && afterArray && this.expect === Expect.CommaOrClose)) {
        if (c === L_BRACE) {
          this.stack.push(c);
          this.expect = Expect.Key;
        } else if (c === L_BRACKET) {
          this.stack.push(c);
          this.expect = Expect.Value;
        } else if (isLiteralChar(c)) {
          this.inLiteral = true;
        } else {
          return this.broken(i, text[i]!);
        }
      } else {
        return this.broken(i, text[i]!);
      }
    }
    return MORE;
  }

  /**
   * The text's line ends here. A number or literal ends with it; a string cannot go on past it (a
   * JSON string holds no raw line break), so the value is broken.
   */
  endLine(): ScanResult {
    if (this.inString) return { kind: 'broken', at: -1, reason: 'a string runs to the end of its line' };
    if (this.inLiteral) {
      this.inLiteral = false;
      if (this.valueEnded()) return { kind: 'done', end: -1 };
    }
    return MORE;
  }

  private valueEnded(): boolean {
    if (this.stack.length === 0) return true;
    this.expect = Expect.CommaOrClose;
    return false;
  }

  private broken(at: number, char: string): ScanResult {
    return { kind: 'broken', at, reason: `unexpected ${JSON.stringify(char)}` };
  }
}
