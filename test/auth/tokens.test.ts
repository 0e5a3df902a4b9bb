import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatToken, generateSecret, hashesMatch, hashSecret, parseToken } from '../../src/auth/tokens.js';

describe('token format', () => {
  it('generates 40-character alphanumeric secrets, different each time', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('formats a token as "<id>|<secret>"', () => {
    expect(formatToken(42, 'abc')).toBe('42|abc');
  });

  it('stores only the sha256 hex of the secret', () => {
    expect(hashSecret('secret')).toBe('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
  });

  it('parses a token with its id', () => {
    expect(parseToken('42|abcdef')).toEqual({ id: 42, secret: 'abcdef' });
  });

  it('parses a bare secret without the id part', () => {
    expect(parseToken('abcdef')).toEqual({ id: null, secret: 'abcdef' });
  });

  it('splits at the first bar only', () => {
    expect(parseToken('7|a|b')).toEqual({ id: 7, secret: 'a|b' });
  });

  it.each([
    ['an empty token', ''],
    ['an empty secret', '42|'],
    ['an empty id', '|secret'],
    ['a non-numeric id', 'x1|secret'],
    ['a negative id', '-1|secret'],
    ['an id too long to be exact', '1234567890123456|secret'],
    ['an id with a leading zero (never issued)', '01|secret'],
    ['the id zero (never issued)', '0|secret'],
  ])('refuses %s', (_what, bearer) => {
    expect(parseToken(bearer)).toBeNull();
  });

  it('round-trips every formatted token (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).filter((n) => String(n).length <= 15), fc.string({ minLength: 1 }), (id, secret) => {
        expect(parseToken(formatToken(id, secret))).toEqual({ id, secret });
      }),
      { numRuns: 200 },
    );
  });

  it('compares hashes in constant time and refuses different lengths', () => {
    expect(hashesMatch(hashSecret('a'), hashSecret('a'))).toBe(true);
    expect(hashesMatch(hashSecret('a'), hashSecret('b'))).toBe(false);
    expect(hashesMatch('abc', 'abcd')).toBe(false);
  });
});
