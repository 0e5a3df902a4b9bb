import fc from 'fast-check';

/** Halves of surrogate pairs, alone: JSON can carry them (`"\ud800"`), UTF-8 and databases cannot. */
export const UNSTORABLE_CHARACTERS = ['\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00'] as const;

/** One unit of a fuzzed string: mostly plain characters, sometimes a surrogate pair, sometimes half of one. */
export const unicodeUnit = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'Z', '9', ' ', '-', '@', '.', 'é', '\u0000') },
  { weight: 1, arbitrary: fc.constantFrom('😀', '🚀') },
  { weight: 2, arbitrary: fc.constantFrom(...UNSTORABLE_CHARACTERS) },
);

/** Strings over `unicodeUnit`. */
export const unicodeText = (constraints: { minLength?: number; maxLength?: number } = {}) => fc.string({ unit: unicodeUnit, maxLength: 12, ...constraints });

const UNSTORABLE_CHARACTER = /[\uD800-\uDFFF]/u;

/** Whether any string (or key) in a JSON-like value holds a lone surrogate; a plain recursive walk, for small values. */
export function hasUnstorableCharacter(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE_CHARACTER.test(value);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, child]) => UNSTORABLE_CHARACTER.test(key) || hasUnstorableCharacter(child));
}
