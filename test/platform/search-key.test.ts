import { describe, expect, it } from 'vitest';
import { searchKey, searchWords, SEARCH_KEY_MAX_LENGTH, SEARCH_WORD_MAX_LENGTH } from '../../src/platform/search-key.js';

describe('searchKey', () => {
  it.each([
    ['Émilie', 'emilie'],
    ['ÉMILIE', 'emilie'],
    ['e\u0301milie', 'emilie'],
    ['Ｅｍｉｌｉｅ', 'emilie'],
    ['ﬁona', 'fiona'],
    ['Søren Łukasz', 'soren lukasz'],
    ['Straße ẞ', 'strasse ss'],
    ['Æsa Œuvre', 'aesa oeuvre'],
    ['İstanbul', 'istanbul'],
    ['ОЛЬГА Ёлкина', 'ольга елкина'],
    ['ΟΔΥΣΣΕΥΣ', 'οδυσσευσ'],
    ['Οδυσσεύς', 'οδυσσευσ'],
  ])('folds %s to %s', (text, key) => {
    expect(searchKey(text)).toBe(key);
  });

  it('keeps the marks that make another letter outside Latin, Greek and Cyrillic, composed', () => {
    expect(searchKey('がくせい')).toBe('がくせい');
    expect(searchKey('か\u3099')).toBe('が');
    expect(searchKey('한국')).toBe('한국');
  });

  it.each([
    ["Anne-Marie O'Neil", 'anne marie o neil'],
    ['  Bobby_%  ', 'bobby'],
    ['J.Lo & Co.', 'j lo co'],
    ['%!', ''],
    ['𝐀𝐍𝐍𝐀', 'anna'],
    ['किरण राव', 'किरण राव'],
  ])('keeps the words of %s only, one space between them: %s', (text, key) => {
    expect(searchKey(text)).toBe(key);
    expect(searchWords(key)).toEqual(key === '' ? [] : key.split(' '));
  });

  it('cuts words at SEARCH_WORD_MAX_LENGTH characters, never inside a surrogate pair', () => {
    expect(searchKey(`${'a'.repeat(100)} b`)).toBe(`${'a'.repeat(SEARCH_WORD_MAX_LENGTH)} b`);
    const cut = searchKey(`${'a'.repeat(SEARCH_WORD_MAX_LENGTH - 1)}𠀀`);
    expect(cut).toBe('a'.repeat(SEARCH_WORD_MAX_LENGTH - 1));
  });

  it('is at most SEARCH_KEY_MAX_LENGTH characters', () => {
    expect(searchKey('\uFDFA'.repeat(255)).length).toBe(SEARCH_KEY_MAX_LENGTH);
  });
});
