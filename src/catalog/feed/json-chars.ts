/** The character codes of JSON's structure, for the scanners that read it one character at a time. */
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const L_BRACE = 0x7b;
export const R_BRACE = 0x7d;
export const L_BRACKET = 0x5b;
export const R_BRACKET = 0x5d;
export const COMMA = 0x2c;
export const COLON = 0x3a;

export function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
