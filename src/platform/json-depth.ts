/**
 * Bounds on how deeply JSON may nest. `JSON.parse` takes about 300 ms for a megabyte of nested
 * `[`, and `JSON.stringify` (and any recursive walk) overflows the stack on a few thousand
 * levels: user JSON is measured here, without recursion, before anything recursive touches it.
 */

/** The deepest JSON a request body may be: arrays and objects nested inside each other. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether JSON text nests arrays and objects deeper than `max`, in one pass over the text with
 * strings skipped. On valid JSON the count is exact; on invalid JSON `JSON.parse` stops at the
 * first error, and up to there the text was valid, so it never gets deeper than `max` either.
 */
export function textNestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i === -1) return false;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string opened at `open`, or -1 when it never ends. */
function closingQuote(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
  return end;
}

/** An odd run of backslashes before `index` escapes it. */
function isEscaped(text: string, index: number): boolean {
  let backslashes = 0;
  for (let i = index - 1; i >= 0 && text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** Whether a parsed JSON value nests arrays and objects deeper than `max` (`{}` is 1 deep), walked without recursion. */
export function valueNestingExceeds(value: unknown, max: number): boolean {
  const pending: Array<{ node: object; depth: number }> = [];
  if (isContainer(value)) pending.push({ node: value, depth: 1 });
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next.depth > max) return true;
    for (const child of Object.values(next.node)) {
      if (isContainer(child)) pending.push({ node: child, depth: next.depth + 1 });
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** A value nested deeper than a bound allows: refused rather than walked. */
export class JsonDepthError extends RangeError {
  constructor(readonly max: number) {
    super(`JSON nested deeper than ${max} levels`);
    this.name = 'JsonDepthError';
  }
}
