import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { mutate } from '../support/mutate.js';
import { hasUnstorableCharacter, UNSTORABLE_CHARACTERS, unicodeText } from '../support/unicode.js';

let t: TestApp;
let u: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  u = await t.user('fuzz');
});
afterAll(() => t.close());

/** FUZZ_RUNS=5000 fuzzes deeper on demand; the default keeps the suite fast. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? n) });

const anyJson = fc.jsonValue({ maxDepth: 3 });
const validText = fc.string({ minLength: 1, maxLength: 40 }).filter((v) => v.trim().length > 0);
const validCost = fc.integer({ min: 0, max: 9_999_999_999 }).map((cents) => cents / 100);
const PRIORITIES = ['low', 'normal', 'high', 'critical', 'max'];
const validMeta = fc.oneof(
  fc.constant([]),
  fc.record({ priority: fc.constantFrom(...PRIORITIES), frequency: fc.string({ maxLength: 10 }) }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== 'priority'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);
const validItem = fc.record(
  { label: validText, kind: fc.constantFrom('single', 'recurring'), cost: validCost, meta: validMeta },
  { requiredKeys: ['label', 'kind', 'cost'] },
);
const validOrder = fc.record({ client: fc.record({ identity: validText, contact_point: validText }), contents: fc.array(validItem, { minLength: 1, maxLength: 4 }) });

/** Values that break one field: wrong types, out-of-range numbers, bad strings, oversized meta. */
const wrongValue = fc.oneof(
  anyJson,
  fc.constantFrom('', '   ', '\u00a0', 'a'.repeat(256), '😀'.repeat(256), '\u0000', 'weekly', 'MAX', 'urgent', ...UNSTORABLE_CHARACTERS, 'a\ud800b', '😀\udc00'),
  unicodeText({ minLength: 1 }),
  fc.dictionary(unicodeText(), unicodeText(), { maxKeys: 2 }),
  fc.constantFrom(-0.01, 100_000_000, 1.005, 1e-7, 1e308, -0, '12.50', true, null, [], [1], {}),
  fc.double(),
  fc.integer({ min: 4000, max: 4200 }).map((n) => ({ note: 'x'.repeat(n) })),
  fc.constantFrom(100, 101).map((n) => Array.from({ length: n }, (_, i) => ({ label: `i${i}`, kind: 'single', cost: 1 }))),
);
const PATHS = ['', 'client', 'client.identity', 'client.contact_point', 'contents', 'contents.#', 'contents.#.label', 'contents.#.kind', 'contents.#.cost', 'contents.#.meta', 'contents.#.meta.priority', 'extra'];
const mutation = fc.record({ path: fc.constantFrom(...PATHS), index: fc.nat(5), value: wrongValue, remove: fc.boolean() });


const nearValidOrder = fc
  .tuple(validOrder, fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }))
  .map(([order, mutations]) => mutations.reduce<unknown>(mutate, order));

const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom('k', 'k'.repeat(255), 'same-key')) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: fc.constantFrom('a', 'Z', '-', ' ', '~', 'é', '\t'), maxLength: 300 }), fc.constantFrom('', 'k'.repeat(256))) },
);

const ALLOWED = new Set([201, 400, 409, 413, 422]);

function expectWellFormed(res: LightMyRequestResponse): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  expect(ALLOWED.has(res.statusCode), `${res.statusCode}: ${res.body}`).toBe(true);
  const body = res.json<Record<string, unknown>>();
  // Never an unpaired surrogate echoed back (strict JSON parsers refuse it), never one stored as U+FFFD.
  expect(hasUnstorableCharacter(body), res.body).toBe(false);
  expect(res.body).not.toContain('\ufffd');
  if (res.statusCode === 201) expect(body).toHaveProperty('order.id');
  else expect(typeof body.message).toBe('string');
  if (res.statusCode === 422 && 'errors' in body) {
    for (const messages of Object.values(body.errors as Record<string, unknown>)) expect(Array.isArray(messages)).toBe(true);
  }
}

const post = (payload: string, key?: string) =>
  t.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { ...u.auth, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload,
  });

describe('POST /api/orders under fuzzing', () => {
  it('never answers 5xx to an arbitrary JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => expectWellFormed(await post(JSON.stringify(body)))),
      runs(200),
    );
  });

  it('never answers 5xx to near-valid orders with wrong types and values, and replays or refuses a stored one sent again', async () => {
    await fc.assert(
      fc.asyncProperty(nearValidOrder, idempotencyKey, async (body, key) => {
        const first = await post(JSON.stringify(body), key);
        expectWellFormed(first);
        if (first.statusCode !== 201) return;
        // A stored order sent again is a replay with a key, and a duplicate without one.
        const again = await post(JSON.stringify(body), key);
        expectWellFormed(again);
        expect(again.statusCode).toBe(key === undefined ? 409 : 201);
        if (key !== undefined) expect(again.body).toBe(first.body);
      }),
      runs(300),
    );
  });

  it('never answers 5xx to arbitrary text sent as JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (payload) => {
        const res = await post(payload);
        expect(res.statusCode, res.body).toBeLessThan(500);
      }),
      runs(150),
    );
  });
});

describe('GET /api/orders under fuzzing', () => {
  it('never answers 5xx to arbitrary query strings and order ids', async () => {
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('1e3', '-0', '9'.repeat(40), '0x10'));
    await fc.assert(
      fc.asyncProperty(value, value, value, async (page, perPage, id) => {
        const query = new URLSearchParams({ page, per_page: perPage }).toString();
        const list = await t.inject({ method: 'GET', url: `/api/orders?${query}`, headers: u.auth });
        expect([200, 422]).toContain(list.statusCode);
        const one = await t.inject({ method: 'GET', url: `/api/orders/${encodeURIComponent(id)}`, headers: u.auth });
        expect([200, 404]).toContain(one.statusCode);
      }),
      runs(150),
    );
  });
});
