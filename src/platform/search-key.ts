/** The longest search key kept: a name of 255 characters folds to more only in contrived cases. */
export const SEARCH_KEY_MAX_LENGTH = 1020;
/**
 * The longest word of a search key, in characters: longer ones are cut. Every engine's full-text
 * index has a limit (MySQL's tokens 84 characters, PostgreSQL's lexemes 2,047 bytes).
 */
export const SEARCH_WORD_MAX_LENGTH = 64;

/** Letters that carry no combining mark to strip, spelled as a reader searching in ASCII would. */
const LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ς: 'σ' };
const LETTER = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'g');

/**
 * Accents on Latin, Greek and Cyrillic letters. Elsewhere a mark often makes another letter (the
 * dakuten of Japanese kana, Indic vowel signs): those are kept.
 */
const ACCENTS = /([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu;
/** A word: letters, digits and the marks that belong to them. Everything else separates words. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * Text folded for search, the same on every engine: lower case (Unicode's default, not a locale's),
 * compatibility forms decomposed (NFKD: "ﬁ" is "fi", "Ｅ" is "E") and accents removed, so that
 * "Émilie", "ÉMILIE", "e\u0301milie" and "emilie" all read "emilie"; "Søren" reads "soren",
 * "Straße" "strasse", "Οδυσσεύς" "οδυσσευσ". The key is recomposed (NFC) and made of its words
 * only, joined by one space: "Anne-Marie O'Neil" reads "anne marie o neil". Search matches the
 * start of these words (`searchWords`), and `sort=name` orders by the key.
 */
export function searchKey(text: string): string {
  const folded = text
    .toLowerCase()
    .normalize('NFKD')
    // Again: some compatibility forms decompose to capitals ("𝐀" is "A").
    .toLowerCase()
    .replace(ACCENTS, '$1')
    .replace(LETTER, (letter) => LETTERS[letter]!)
    .normalize('NFC');
  let key = '';
  for (const [word] of folded.matchAll(WORD)) {
    const next = `${key}${key ? ' ' : ''}${cut(word, SEARCH_WORD_MAX_LENGTH)}`;
    if (next.length > SEARCH_KEY_MAX_LENGTH) return cut(next, SEARCH_KEY_MAX_LENGTH).trimEnd();
    key = next;
  }
  return key;
}

/** The words of a search key. */
export function searchWords(key: string): string[] {
  return key === '' ? [] : key.split(' ');
}

/** The first `max` UTF-16 units of `text`, never half of a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}
