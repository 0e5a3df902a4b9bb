import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, createCatalogTestApp, createPornstar, pornstarBody, type CatalogTestApp } from './catalog-app.js';
import { mutate } from '../../support/mutate.js';
import { hasUnstorableCharacter, UNSTORABLE_CHARACTERS, unicodeText } from '../../support/unicode.js';

let t: CatalogTestApp;
let pornstarId: number;
let thumbnailId: number;

beforeAll(async () => {
  t = await createCatalogTestApp();
  const p = await createPornstar(t);
  pornstarId = p.id;
  thumbnailId = p.thumbnails[0]!.id;
});
afterAll(() => t.close());

/** FUZZ_RUNS=5000 fuzzes deeper on demand; the default keeps the suite fast. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? n) });

/** Never a 5xx, only the statuses `allowed`, and always the envelope. */
function expectEnvelope(res: LightMyRequestResponse, allowed: number[]): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  // A body with a "__proto__" key is refused by the JSON parser (prototype poisoning) with 400.
  expect([...allowed, 400], `${res.statusCode}: ${res.body}`).toContain(res.statusCode);
  const env = body(res);
  // Never an unpaired surrogate echoed back, never one stored as U+FFFD.
  expect(hasUnstorableCharacter(env), res.body).toBe(false);
  expect(res.body).not.toContain('\ufffd');
  expect(typeof env.success).toBe('boolean');
  expect(typeof env.message).toBe('string');
  expect(env).toHaveProperty('data');
  expect(env).toHaveProperty('errors');
  if (res.statusCode === 422) {
    expect(env.message).toBe('Validation failed.');
    expect(Object.keys(env.errors ?? {}).length).toBeGreaterThan(0);
  }
}

const queryText = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('', ' ', '-1', '0', '1', '100', '101', '1000000000', '1000000001', '1e308', 'NaN', 'Infinity', '9007199254740993', '0x10', '1.0'),
  fc.constantFrom('%', '_', '!', '|', '||', '%|_', "'; drop table pornstars; --", 'true', 'FALSE', 'yes', 'null', '[]', '\u0000', '😀', 'x'.repeat(300)),
  fc.constantFrom('name', '-name', 'rank', '-rank', 'views', '-views', 'subscriptions', 'age', '-age', '--age', 'id'),
);
const queryValue = fc.oneof({ weight: 5, arbitrary: queryText }, { weight: 1, arbitrary: fc.array(queryText, { minLength: 2, maxLength: 3 }) });

const PORNSTAR_KEYS = ['page', 'per_page', 'include_removed', 'q', 'gender', 'orientation', 'license', 'hair_color', 'ethnicity', 'has_tattoos', 'has_piercings', 'min_age', 'max_age', 'sort', 'other'];
const queryFor = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), queryValue, { maxKeys: 5 });

describe('fuzzed query strings', () => {
  it.each([
    ['/pornstars', PORNSTAR_KEYS],
    ['/pornstar-aliases', ['page', 'per_page', 'include_removed', 'pornstar_id']],
    ['/pornstar-thumbnails', ['page', 'per_page', 'include_removed', 'pornstar_id', 'type', 'source']],
    ['/pornstar-thumbnail-urls', ['page', 'per_page', 'include_removed', 'thumbnail_id']],
  ])('GET %s answers 200 or 422 in the envelope', async (path, keys) => {
    await fc.assert(
      fc.asyncProperty(queryFor(keys), async (query) => {
        const res = await t.inject({ method: 'GET', url: `/api/v1${path}`, query });
        expectEnvelope(res, [200, 422]);
      }),
      runs(120),
    );
  });

  it('GET /pornstars/:id answers 200 or 404 to any id', async () => {
    const id = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String), fc.constantFrom('1', '01', '1.0', '%00', '..', '1;2'));
    await fc.assert(
      fc.asyncProperty(id, async (raw) => {
        const res = await t.inject({ method: 'GET', url: `/api/v1/pornstars/${encodeURIComponent(raw)}` });
        expectEnvelope(res, [200, 404]);
      }),
      runs(120),
    );
  });
});

const anyJson = fc.jsonValue({ maxDepth: 3 });
const wrongValue = fc.oneof(
  anyJson,
  fc.constantFrom('', '   ', '\u00a0', 'a'.repeat(256), '😀'.repeat(65), '\u0000', '1', '0', 'true', 'http://', 'https://cdn.test/ok.jpg', 'ftp://x', ...UNSTORABLE_CHARACTERS),
  unicodeText({ minLength: 1 }),
  fc.webUrl().map((url) => `${url}\ud800`),
  fc.constantFrom(-1, 0, 1, 1.5, 2 ** 53, 1e308, -0, true, false, null, [], [1], {}),
  fc.double(),
);
const PORNSTAR_PATHS = [
  '',
  'external_id',
  'name',
  'link',
  'license',
  'wl_status',
  'has_tattoos',
  'breast_size',
  'age',
  'views',
  'rank',
  'gender',
  'aliases',
  'aliases.#',
  'aliases.#.alias',
  'thumbnails',
  'thumbnails.#',
  'thumbnails.#.type',
  'thumbnails.#.width',
  'thumbnails.#.urls',
  'thumbnails.#.urls.#',
  'thumbnails.#.urls.#.url',
  'thumbnails.#.urls.#.local_path',
  'extra',
];
const mutation = (paths: string[]) => fc.record({ path: fc.constantFrom(...paths), index: fc.nat(3), value: wrongValue, remove: fc.boolean() });


const text = fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, { weight: 1, arbitrary: unicodeText({ minLength: 1, maxLength: 20 }) });
const validPornstar = fc
  .record({
    external_id: text,
    name: text,
    wl_status: fc.constantFrom(true, false, 1, 0, '1', '0'),
    age: fc.option(fc.integer({ min: 0, max: 200 })),
    views: fc.option(fc.nat()),
    aliases: fc.array(fc.record({ alias: fc.string({ maxLength: 12 }) }), { maxLength: 4 }),
    thumbnails: fc.uniqueArray(
      fc.record({
        type: fc.constantFrom('pc', 'mobile', 'tablet', 'PC'),
        width: fc.option(fc.nat(5000)),
        urls: fc.array(fc.record({ url: fc.webUrl(), local_path: fc.option(fc.string({ maxLength: 10 })) }), { maxLength: 2 }),
      }),
      { selector: (thumb) => thumb.type, maxLength: 3 },
    ),
  })
  .map((fields) => pornstarBody(fields));

const nearValid = (valid: fc.Arbitrary<unknown>, paths: string[]) =>
  fc
    .tuple(valid, fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutation(paths), { minLength: 1, maxLength: 3 }) }))
    .map(([value, mutations]) => mutations.reduce<unknown>(mutate, value));

describe('fuzzed write bodies', () => {
  it('POST /pornstars answers 201 or 422 in the envelope', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(nearValid(validPornstar, PORNSTAR_PATHS), async (payload) => {
        const res = await t.send('POST', '/pornstars', payload);
        expectEnvelope(res, [201, 422]);
        seen.add(res.statusCode);
      }),
      runs(120),
    );
    // The generator reaches both the success path and the validation path.
    expect([...seen].sort()).toEqual([201, 422]);
  });

  it('PUT and PATCH /pornstars/:id answer 200 or 422 in the envelope', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('PUT' as const, 'PATCH' as const), nearValid(validPornstar, PORNSTAR_PATHS), async (method, payload) => {
        expectEnvelope(await t.send(method, `/pornstars/${pornstarId}`, payload), [200, 422]);
      }),
      runs(120),
    );
  });

  it('writes of aliases, thumbnails and thumbnail URLs answer 2xx, 404 or 422 in the envelope', async () => {
    const alias = fc.record({ pornstar_id: fc.constant(pornstarId), alias: text });
    const thumbnail = fc.record({ pornstar_id: fc.constant(pornstarId), type: text, width: fc.option(fc.nat(5000)), urls: fc.array(fc.record({ url: fc.webUrl() }), { maxLength: 2 }) });
    const url = fc.record({ thumbnail_id: fc.constant(thumbnailId), url: fc.webUrl(), local_path: fc.option(text) });
    const cases = fc.oneof(
      fc.tuple(fc.constant('/pornstar-aliases'), nearValid(alias, ['', 'pornstar_id', 'alias', 'extra'])),
      fc.tuple(fc.constant('/pornstar-thumbnails'), nearValid(thumbnail, ['', 'pornstar_id', 'type', 'width', 'height', 'urls', 'urls.#', 'urls.#.url', 'urls.#.local_path'])),
      fc.tuple(fc.constant('/pornstar-thumbnail-urls'), nearValid(url, ['', 'thumbnail_id', 'url', 'local_path'])),
    );
    await fc.assert(
      fc.asyncProperty(cases, fc.constantFrom('POST' as const, 'PUT' as const, 'PATCH' as const), fc.nat(5), async ([path, payload], method, id) => {
        const res = await t.send(method, method === 'POST' ? path : `${path}/${id + 1}`, payload);
        expectEnvelope(res, method === 'POST' ? [201, 422] : [200, 404, 422]);
      }),
      runs(150),
    );
  });
});
