/**
 * Repair of the real feed's known defects in JSON text.
 *
 * - `\xNN` escapes inside strings are not JSON. They are UTF-8 bytes: a run of them is decoded
 *   as UTF-8 and written back as proper JSON string characters; a byte sequence that is not
 *   valid UTF-8 (or a `\x` without two hex digits) becomes U+FFFD.
 * - `]` directly followed by `[` inside an array is a missing comma between two arrays.
 * - A raw control character inside a string is escaped.
 *
 * The repairer is a streaming state machine, so that the same code serves one item's line and a
 * whole feed written chunk by chunk. Text outside the defects is passed through untouched.
 */

import { BACKSLASH, isJsonWhitespace, L_BRACE, L_BRACKET, QUOTE, R_BRACE, R_BRACKET } from './json-chars.js';

export const REPAIR_KINDS = ['hexEscape', 'invalidUtf8', 'missingComma', 'controlChar'] as const;
/**
 * - `hexEscape`: one `\xNN` escape decoded (or a broken `\x` replaced)
 * - `invalidUtf8`: one U+FFFD written for bytes that were not valid UTF-8
 * - `missingComma`: one comma inserted between `]` and `[`
 * - `controlChar`: one raw control character escaped inside a string
 */
export type RepairKind = (typeof REPAIR_KINDS)[number];
export type RepairCounts = Record<RepairKind, number>;

export interface Repair {
  kind: RepairKind;
  count: number;
}

export interface SanitizeResult {
  text: string;
  /** The repairs applied, by kind; empty when the text was left as it was. */
  repairs: Repair[];
}

/** Receives the repaired text piece by piece; a piece that is a repair names its kind. */
export type RepairSink = (text: string, repair?: RepairKind, count?: number) => void;

export function emptyRepairCounts(): RepairCounts {
  return { hexEscape: 0, invalidUtf8: 0, missingComma: 0, controlChar: 0 };
}

const LOWER_X = 0x78;
/** Stands for a broken `\x` escape: never valid UTF-8, so it decodes to U+FFFD. */
const BROKEN_BYTE = 0xff;

const enum Mode {
  Outside,
  InString,
  /** After a `\` in a string. */
  Escape,
  /** After `\x`, collecting two hex digits. */
  Hex,
  /** After a complete `\xNN`: the run of bytes may go on. */
  Run,
  /** After `\` that follows a run: another `\xNN`, or an ordinary escape. */
  RunBackslash,
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

export class JsonTextRepairer {
  private mode = Mode.Outside;
  /** Where the pending `\` sits in the current chunk, or -1 when it came with an earlier chunk. */
  private escapeAt = -1;
  private hex = '';
  private bytes: number[] = [];
  /** Open containers: `{` or `[`. */
  private readonly stack: number[] = [];
  /** The last significant character closed an array that sits inside an array. */
  private afterInnerArray = false;

  constructor(private readonly sink: RepairSink) {}

  write(chunk: string): void {
    let clean = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      switch (this.mode) {
        case Mode.Outside:
          if (c === QUOTE) {
            this.mode = Mode.InString;
            this.afterInnerArray = false;
          } else if (c === L_BRACE || c === L_BRACKET) {
            if (c === L_BRACKET && this.afterInnerArray) {
              this.pass(chunk, clean, i);
              this.sink(',', 'missingComma');
              clean = i;
            }
            this.afterInnerArray = false;
            this.stack.push(c);
          } else if (c === R_BRACE || c === R_BRACKET) {
            this.stack.pop();
            this.afterInnerArray = c === R_BRACKET && this.stack[this.stack.length - 1] === L_BRACKET;
          } else if (!isJsonWhitespace(c)) {
            this.afterInnerArray = false;
          }
          break;
        case Mode.InString:
          if (c === QUOTE) this.mode = Mode.Outside;
          else if (c === BACKSLASH) {
            this.mode = Mode.Escape;
            this.escapeAt = i;
          } else if (c < 0x20) {
            this.pass(chunk, clean, i);
            this.sink(escapeControl(c), 'controlChar');
            clean = i + 1;
          }
          break;
        case Mode.Escape:
          if (c === LOWER_X) {
            this.pass(chunk, clean, this.escapeAt < 0 ? i : this.escapeAt);
            this.startHex();
            clean = i + 1;
          } else {
            if (this.escapeAt < 0) this.sink('\\');
            this.mode = Mode.InString;
          }
          break;
        case Mode.Hex:
          if (isHexDigit(c)) {
            this.hex += chunk[i];
            if (this.hex.length === 2) {
              this.bytes.push(parseInt(this.hex, 16));
              this.mode = Mode.Run;
            }
            clean = i + 1;
          } else {
            this.bytes.push(BROKEN_BYTE);
            this.mode = Mode.Run;
            i--; // this character was not part of the escape
          }
          break;
        case Mode.Run:
          if (c === BACKSLASH) this.mode = Mode.RunBackslash;
          else {
            this.finishRun();
            this.mode = Mode.InString;
            i--;
          }
          clean = i + 1;
          break;
        case Mode.RunBackslash:
          if (c === LOWER_X) {
            this.startHex();
            clean = i + 1;
          } else {
            // An ordinary escape after the run: its backslash is held, this character is clean.
            this.finishRun();
            this.mode = Mode.Escape;
            this.escapeAt = -1;
            clean = i;
            i--;
          }
          break;
      }
    }
    if (this.mode === Mode.Escape && this.escapeAt >= 0) {
      // Hold a trailing backslash until the next chunk tells whether it starts `\x`.
      this.pass(chunk, clean, this.escapeAt);
      this.escapeAt = -1;
    } else {
      this.pass(chunk, clean, n);
    }
  }

  /** Flushes what is held: a run of bytes, a broken escape, a trailing backslash. */
  end(): void {
    if (this.mode === Mode.Hex) this.bytes.push(BROKEN_BYTE);
    if (this.bytes.length > 0) this.finishRun();
    if (this.mode === Mode.RunBackslash || (this.mode === Mode.Escape && this.escapeAt < 0)) this.sink('\\');
    this.mode = Mode.Outside;
  }

  private pass(chunk: string, from: number, to: number): void {
    if (to > from) this.sink(chunk.slice(from, to));
  }

  private startHex(): void {
    this.mode = Mode.Hex;
    this.hex = '';
  }

  private finishRun(): void {
    const bytes = this.bytes;
    this.bytes = [];
    const text = utf8.decode(Uint8Array.from(bytes));
    let replaced = 0;
    for (let i = text.indexOf('\uFFFD'); i !== -1; i = text.indexOf('\uFFFD', i + 1)) replaced++;
    this.sink(escapeStringContent(text), 'hexEscape', bytes.length);
    if (replaced > 0) this.sink('', 'invalidUtf8', replaced);
  }
}

/**
 * Repairs one item's text. Meant for text that `JSON.parse` refused: text without the known
 * defects comes back unchanged with no repairs.
 */
export function sanitizeItemText(text: string): SanitizeResult {
  const pieces: string[] = [];
  const counts = emptyRepairCounts();
  let repaired = false;
  const repairer = new JsonTextRepairer((piece, kind, count = 1) => {
    pieces.push(piece);
    if (kind) {
      counts[kind] += count;
      repaired = true;
    }
  });
  repairer.write(text);
  repairer.end();
  if (!repaired) return { text, repairs: [] };
  const repairs = REPAIR_KINDS.filter((kind) => counts[kind] > 0).map((kind) => ({ kind, count: counts[kind] }));
  return { text: pieces.join(''), repairs };
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function escapeControl(c: number): string {
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

/** Decoded characters as they must appear between the quotes of a JSON string. */
function escapeStringContent(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c === QUOTE) out += '\\"';
    else if (c === BACKSLASH) out += '\\\\';
    else if (c < 0x20) out += escapeControl(c);
    else out += ch;
  }
  return out;
}
