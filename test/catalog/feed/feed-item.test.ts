import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { aliasKey, contentHash, firstNumber, validateFeedItem, type NormalizedItem } from '../../../src/catalog/feed/feed-item.js';
import { FEED100_FIXTURE } from '../../support/fixtures.js';

const FIXTURE = FEED100_FIXTURE;
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { items: Array<Record<string, unknown>> };
const first = fixture.items[0]!;

type Raw = Record<string, unknown>;
const attributes = (item: Raw) => item.attributes as Raw;

/** The fixture's first item with some fields replaced (`undefined` removes a field). */
function itemWith(changes: Raw = {}, attributeChanges: Raw = {}, statsChanges: Raw = {}): Raw {
  const copy = structuredClone(first);
  const attrs = attributes(copy);
  attrs.stats = { ...(attrs.stats as Raw), ...statsChanges };
  Object.assign(attrs, attributeChanges);
  Object.assign(copy, changes);
  return JSON.parse(JSON.stringify(copy)) as Raw;
}

function valid(value: unknown): NormalizedItem {
  const result = validateFeedItem(value);
  if (!result.ok) throw new Error(`expected a valid item: ${result.errors.join('; ')}`);
  return result.item;
}

function errorsOf(value: unknown): string[] {
  const result = validateFeedItem(value);
  if (result.ok) throw new Error('expected an invalid item');
  return result.errors;
}

describe('validateFeedItem: the real feed', () => {
  it('accepts every item of the fixture', () => {
    const results = fixture.items.map(validateFeedItem);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  });

  it('normalizes an item into the stored shape', () => {
    expect(valid(first)).toEqual({
      externalId: '2',
      name: 'Aaliyah Jolie',
      link: 'https://www.pornhub.com/pornstar/aaliyah-jolie',
      license: 'REGULAR',
      wlStatus: true,
      hairColor: 'Blonde',
      ethnicity: 'White',
      hasTattoos: true,
      hasPiercings: true,
      breastSize: '34',
      breastType: 'A',
      gender: 'female',
      orientation: 'straight',
      age: 42,
      stats: {
        subscriptions: 5588,
        monthlySearches: 1298200,
        views: 449745,
        videosCount: 56,
        premiumVideosCount: 33,
        whiteLabelVideoCount: 48,
        rank: 3417,
        rankPremium: 3490,
        rankWl: 3287,
      },
      aliases: ['Aliyah Julie', 'Aliyah Jolie', 'Aaliyah', 'Macy'],
      thumbnails: ['pc', 'mobile', 'tablet'].map((type) => ({
        type,
        width: 234,
        height: 344,
        urls: ['https://ei.phncdn.com/pics/pornstars/000/000/002/(m=lciuhScOb_c)(mh=5Lb6oqzf58Pdh9Wc)thumb_22561.jpg'],
      })),
    });
  });

  it('accepts a minimal item: only id and name', () => {
    const item = valid({ id: 7, name: 'Solo' });
    expect(item).toMatchObject({ externalId: '7', name: 'Solo', link: null, license: null, wlStatus: false, hairColor: null, age: null, aliases: [], thumbnails: [] });
    expect(Object.values(item.stats).every((v) => v === null)).toBe(true);
  });
});

describe('validateFeedItem: field rules', () => {
  it('requires id to be a positive integer', () => {
    expect(errorsOf(itemWith({ id: undefined }))).toEqual(['The id field is required.']);
    expect(errorsOf(itemWith({ id: 0 }))).toEqual(['The id field must be greater than 0.']);
    expect(errorsOf(itemWith({ id: -3 }))).toEqual(['The id field must be greater than 0.']);
    expect(errorsOf(itemWith({ id: 1.5 }))).toEqual(['The id field must be an integer.']);
    expect(errorsOf(itemWith({ id: '2' }))).toEqual(['The id field must be an integer.']);
  });

  it('requires a non-empty name', () => {
    expect(errorsOf(itemWith({ name: undefined }))).toEqual(['The name field is required.']);
    expect(errorsOf(itemWith({ name: '' }))[0]).toMatch(/name field must be at least 1 characters/);
    expect(errorsOf(itemWith({ name: '   ' }))).toEqual(['The name field format is invalid.']);
    expect(errorsOf(itemWith({ name: 42 }))).toEqual(['The name field must be a string.']);
    expect(errorsOf(itemWith({ name: 'n'.repeat(256) }))).toEqual(['The name field must not be greater than 255 characters.']);
    expect(valid(itemWith({ name: '  Padded  ' })).name).toBe('Padded');
  });

  it('reads wlStatus from "1"/"0", booleans and 0/1', () => {
    for (const [raw, expected] of [['1', true], ['0', false], [true, true], [false, false], [1, true], [0, false], [undefined, false]] as const) {
      expect(valid(itemWith({ wlStatus: raw })).wlStatus, String(raw)).toBe(expected);
    }
    expect(errorsOf(itemWith({ wlStatus: 'yes' }))).toEqual(['The selected wlStatus is invalid.']);
    expect(errorsOf(itemWith({ wlStatus: 2 }))).toEqual(['The selected wlStatus is invalid.']);
  });

  it('checks the types of license, link and the text attributes', () => {
    expect(errorsOf(itemWith({ license: 5 }))).toEqual(['The license field must be a string or null.']);
    expect(errorsOf(itemWith({ link: ['x'] }))).toEqual(['The link field must be a string or null.']);
    expect(errorsOf(itemWith({}, { hairColor: 3, gender: {} }))).toEqual(['The attributes.hairColor field must be a string or null.', 'The attributes.gender field must be a string or null.']);
    expect(errorsOf(itemWith({}, { breastType: 'x'.repeat(65) }))).toEqual(['The attributes.breastType field must not be greater than 64 characters.']);
    expect(errorsOf(itemWith({ attributes: 'none' }))).toEqual(['The attributes field must be an object.']);
  });

  it('keeps |-joined attributes, tidied, and reads missing or empty ones as null', () => {
    const item = valid(itemWith({}, { hairColor: ' Blonde | |Red|Blonde ', ethnicity: undefined, breastType: 'DD|E', gender: '  ', orientation: null }));
    expect(item).toMatchObject({ hairColor: 'Blonde|Red', ethnicity: null, breastType: 'DD|E', gender: null, orientation: null });
  });

  it('requires tattoos and piercings to be booleans', () => {
    expect(valid(itemWith({}, { tattoos: false, piercings: null }))).toMatchObject({ hasTattoos: false, hasPiercings: null });
    expect(valid(itemWith({}, { tattoos: undefined })).hasTattoos).toBeNull();
    expect(errorsOf(itemWith({}, { tattoos: 'yes', piercings: 1 }))).toEqual(['The attributes.tattoos field must be true or false or null.', 'The attributes.piercings field must be true or false or null.']);
  });

  it('takes the first number of breastSize and age, and reads anything else as null without an error', () => {
    const read = (breastSize: unknown, age: unknown) => {
      const item = valid(itemWith({}, { breastSize, age }));
      return [item.breastSize, item.age];
    };
    expect(read(34, 42)).toEqual(['34', 42]);
    expect(read('36', '38')).toEqual(['36', 38]);
    expect(read('34|36', '42|43')).toEqual(['34', 42]);
    expect(read(' 32 | 34', ' 30 ')).toEqual(['32', 30]);
    expect(read('DD', 'forty')).toEqual([null, null]);
    expect(read('', '')).toEqual([null, null]);
    expect(read({}, [42])).toEqual([null, null]);
    expect(read(true, false)).toEqual([null, null]);
    expect(read(undefined, undefined)).toEqual([null, null]);
    expect(read(-2, -1)).toEqual([null, null]);
    expect(read(34.5, 42.5)).toEqual(['34.5', null]);
    expect(read(null, 900)).toEqual([null, null]);
  });

  it('requires stats to be integers of at least 0, and reads missing ones as null', () => {
    const item = valid(itemWith({}, {}, { views: undefined, rank: null }));
    expect(item.stats).toMatchObject({ views: null, rank: null, subscriptions: 5588 });
    expect(valid(itemWith({}, { stats: undefined })).stats.views).toBeNull();
    expect(errorsOf(itemWith({}, {}, { views: '5', rank: -1, rankWl: 1.5 }))).toEqual([
      'The attributes.stats.views field must be an integer or null.',
      'The attributes.stats.rank field must be at least 0.',
      'The attributes.stats.rankWl field must be an integer or null.',
    ]);
    expect(errorsOf(itemWith({}, {}, { videosCount: 2 ** 31 }))).toEqual(['The attributes.stats.videosCount field must not be greater than 2147483647.']);
  });

  it('reports the first few errors, with the field path and the id', () => {
    const result = validateFeedItem(itemWith({ name: 1, license: 1, link: 1, aliases: 'a' }, { gender: 1, orientation: 1 }, { views: 'x' }));
    expect(result).toMatchObject({ ok: false, id: 2 });
    expect(!result.ok && result.errors).toHaveLength(5);
    expect(validateFeedItem({ name: 'x' })).toEqual({ ok: false, errors: ['The id field is required.'] });
  });

  it('refuses a value that is not an object', () => {
    for (const value of [null, 42, 'item', [first]]) expect(validateFeedItem(value)).toEqual({ ok: false, errors: ['The item must be a JSON object.'] });
  });
});

describe('validateFeedItem: aliases', () => {
  it('trims them, drops empty ones and repeats regardless of case, keeping the first spelling', () => {
    const item = valid(itemWith({ aliases: ['', ' Macy ', 'macy', 'MACY', 'Jo', '  ', 'jo ', 'Élodie', 'élodie', 'Aaliyah Jolie'] }));
    expect(item.aliases).toEqual(['Macy', 'Jo', 'Élodie', 'Aaliyah Jolie']);
  });

  it('drops an alias too long for its column', () => {
    expect(valid(itemWith({ aliases: ['a'.repeat(256), 'ok'] })).aliases).toEqual(['ok']);
  });

  it('requires an array of strings', () => {
    expect(errorsOf(itemWith({ aliases: ['a', null, 3] }))).toEqual(['The aliases.1 field must be a string.', 'The aliases.2 field must be a string.']);
    expect(errorsOf(itemWith({ aliases: 'a' }))).toEqual(['The aliases field must be an array.']);
    expect(valid(itemWith({ aliases: undefined })).aliases).toEqual([]);
    expect(aliasKey('  Élodie ')).toBe('élodie');
  });
});

describe('validateFeedItem: thumbnails', () => {
  const thumb = (type: string, urls: unknown[], size: Raw = { width: 234, height: 344 }) => ({ ...size, type, urls });

  it('keeps one thumbnail per type, the first, with its http(s) URLs de-duplicated', () => {
    const item = valid(
      itemWith({
        thumbnails: [
          thumb('pc', ['https://img.test/a.jpg', ' https://img.test/a.jpg ', 'http://img.test/b.jpg', 'ftp://img.test/c.jpg', 'javascript:alert(1)', '/relative.jpg', 'https://', '']),
          thumb('PC', ['https://img.test/other.jpg']),
          thumb('mobile', ['https://img.test/a.jpg'], { width: 100 }),
        ],
      }),
    );
    expect(item.thumbnails).toEqual([
      { type: 'pc', width: 234, height: 344, urls: ['https://img.test/a.jpg', 'http://img.test/b.jpg'] },
      { type: 'mobile', width: 100, height: null, urls: ['https://img.test/a.jpg'] },
    ]);
  });

  it('checks each thumbnail field', () => {
    expect(errorsOf(itemWith({ thumbnails: [{ type: 'pc', height: '344', width: -1, urls: 'x' }] }))).toEqual([
      'The thumbnails.0.height field must be an integer or null.',
      'The thumbnails.0.width field must be at least 0.',
      'The thumbnails.0.urls field must be an array.',
    ]);
    expect(errorsOf(itemWith({ thumbnails: [{ urls: [1] }] }))).toEqual(['The thumbnails.0.type field is required.', 'The thumbnails.0.urls.0 field must be a string.']);
    expect(errorsOf(itemWith({ thumbnails: {} }))).toEqual(['The thumbnails field must be an array.']);
  });
});

describe('contentHash', () => {
  const reversed = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reversed);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  };

  it('is a sha256 hex that does not depend on the key order of the feed item', () => {
    const hash = contentHash(valid(first));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash(valid(reversed(first)))).toBe(hash);
  });

  it('does not change for differences that normalization removes', () => {
    const hash = contentHash(valid(first));
    expect(contentHash(valid(itemWith({ name: ' Aaliyah Jolie ', aliases: ['Aliyah Julie', 'aliyah julie', 'Aliyah Jolie', '', 'Aaliyah', 'Macy'], wlStatus: 1 })))).toBe(hash);
  });

  it('changes when a field changes', () => {
    const hash = contentHash(valid(first));
    const changed = [itemWith({}, {}, { views: 449746 }), itemWith({ name: 'Other' }), itemWith({}, { hairColor: 'Red' }), itemWith({ aliases: ['Macy'] }), itemWith({ wlStatus: '0' })];
    for (const item of changed) expect(contentHash(valid(item))).not.toBe(hash);
  });

  it('exposes the number reading it uses', () => {
    expect([firstNumber(34), firstNumber('34|36'), firstNumber('x'), firstNumber(Number.NaN)]).toEqual([34, 34, null, null]);
  });
});
