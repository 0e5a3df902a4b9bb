/** The longest search key kept: a name of 255 characters folds to more only in contrived cases. */
export const SEARCH_KEY_MAX_LENGTH = 1020;

/** Letters that carry no combining mark to strip, spelled as a reader searching in ASCII would. */
const LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ς: 'σ' };
const LETTER = new RegExp(`[${Object.keys(LETTERS).join('')}]`, 'g');

/**
 * Accents on Latin, Greek and Cyrillic letters. Elsewhere a mark often makes another letter (the
 * dakuten of Japanese kana, Indic vowel signs): those are kept.
 */
const ACCENTS = /([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu;

/**
 * Text folded for search, the same on every engine: lower case (Unicode's default, not a locale's),
 * compatibility forms decomposed (NFKD: "ﬁ" is "fi", "Ｅ" is "E") and accents removed, so that
 * "Émilie", "ÉMILIE", "e\u0301milie" and "emilie" all read "emilie"; "Søren" reads "soren",
 * "Straße" "strasse", "Οδυσσεύς" "οδυσσευσ". The key is recomposed (NFC). Search compares these
 * keys with a plain substring match.
 */
export function searchKey(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(ACCENTS, '$1')
    .replace(LETTER, (letter) => LETTERS[letter]!)
    .normalize('NFC')
    .slice(0, SEARCH_KEY_MAX_LENGTH);
}
