import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_EVENT_TYPES } from '../../src/webhooks/event-types.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { mutate } from '../support/mutate.js';
import { hasUnstorableCharacter, UNSTORABLE_CHARACTERS, unicodeText } from '../support/unicode.js';
import { createEndpoint, endpointRoutes, fakeDns } from './webhooks-support.js';

let t: TestApp;
let u: TestUser;
/** Owns no endpoint: fuzzed path ids never delete or change anything. */
let stranger: TestUser;
let endpointId: number;

beforeAll(async () => {
  t = await createTestApp({ resolve: fakeDns, env: { WEBHOOK_MAX_ENDPOINTS: '1000' } });
  u = await t.user('fuzz');
  stranger = await t.user('stranger');
  endpointId = (await createEndpoint(t, u)).webhook.id;
  await t.container.database.transaction((trx) => t.container.webhookEvents.publish(trx, [{ userId: u.id, type: 'order.completed', data: {} }]));
});
afterAll(() => t.close());

/** FUZZ_RUNS=5000 fuzzes deeper on demand; the default keeps the suite fast. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? n) });

const anyJson = fc.jsonValue({ maxDepth: 3 });
const URLS = ['https://hooks.example.com/in', 'https://other.example.com/', 'https://internal.example/', 'https://127.0.0.1/', 'http://hooks.example.com/', 'https://[::1]/', 'https://u:p@hooks.example.com/', 'https://nowhere.invalid/'];
const validUrl = fc.constantFrom(...URLS.slice(0, 2));
const validEvents = fc.uniqueArray(fc.constantFrom(...WEBHOOK_EVENT_TYPES), { minLength: 1, maxLength: 3 });
const validBody = fc.record(
  { url: validUrl, events: validEvents, description: fc.oneof(fc.constant(null), fc.string({ maxLength: 40 })), enabled: fc.boolean() },
  { requiredKeys: ['url', 'events'] },
);

const wrongValue = fc.oneof(
  anyJson,
  fc.constantFrom(...URLS),
  fc.constantFrom('', '   ', 'a'.repeat(256), 'https://hooks.example.com/' + 'a'.repeat(2048), '\u0000', 'a\ud800b', 'order.shipped', 'ORDER.COMPLETED', ...UNSTORABLE_CHARACTERS),
  unicodeText({ minLength: 1 }),
  fc.constantFrom(true, false, null, 0, -1, 1e308, [], {}, ['order.completed', 'order.completed'], [...WEBHOOK_EVENT_TYPES, 'x']),
  fc.array(fc.oneof(fc.constantFrom(...WEBHOOK_EVENT_TYPES), fc.string({ maxLength: 8 })), { maxLength: 5 }),
);
const PATHS = ['', 'url', 'events', 'events.#', 'description', 'enabled', 'extra', '__proto__'];
const mutation = fc.record({ path: fc.constantFrom(...PATHS), index: fc.nat(3), value: wrongValue, remove: fc.boolean() });
const nearValidBody = fc
  .tuple(validBody, fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }))
  .map(([body, mutations]) => mutations.reduce<unknown>(mutate, body));

function expectWellFormed(res: LightMyRequestResponse, allowed: number[]): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  expect(allowed, `${res.statusCode}: ${res.body}`).toContain(res.statusCode);
  if (res.statusCode === 204) return;
  const body = res.json<Record<string, unknown>>();
  expect(hasUnstorableCharacter(body), res.body).toBe(false);
  expect(res.body).not.toContain('\ufffd');
  if (res.statusCode >= 400) expect(typeof body.message).toBe('string');
  if (res.statusCode === 422 && 'errors' in body) {
    for (const messages of Object.values(body.errors as Record<string, unknown>)) expect(Array.isArray(messages)).toBe(true);
  }
}

const send = (method: 'POST' | 'PATCH', url: string, payload: string) =>
  t.inject({ method, url, headers: { ...u.auth, 'content-type': 'application/json' }, payload });

describe('POST /api/webhooks under fuzzing', () => {
  it('never answers 5xx to arbitrary JSON, near-valid bodies or arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, nearValidBody), async (body) => {
        const res = await send('POST', '/api/webhooks', JSON.stringify(body));
        expectWellFormed(res, [201, 400, 422]);
        if (res.statusCode === 201) {
          const { webhook } = res.json<{ webhook: { id: number } }>();
          expectWellFormed(await t.inject({ method: 'DELETE', url: `/api/webhooks/${webhook.id}`, headers: u.auth }), [204]);
        }
      }),
      runs(250),
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (payload) => {
        expect((await send('POST', '/api/webhooks', payload)).statusCode).toBeLessThan(500);
      }),
      runs(100),
    );
  });
});

describe('PATCH /api/webhooks/{id} under fuzzing', () => {
  it('never answers 5xx to arbitrary JSON or near-valid bodies', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, nearValidBody), async (body) => {
        expectWellFormed(await send('PATCH', `/api/webhooks/${endpointId}`, JSON.stringify(body)), [200, 400, 422]);
      }),
      runs(200),
    );
  });
});

// Not empty: `/api/webhooks/` is the listing (trailing slashes are ignored).
const pathValue = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.integer().map(String), fc.constantFrom('1e3', '-0', '0', '9'.repeat(40), '0x10', '1.5', '%00', '..', '%2F'));
const queryValue = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('pending', 'failed', 'succeeded', '1e3', '9'.repeat(40), '', 'evt_0', ...WEBHOOK_EVENT_TYPES, WEBHOOK_EVENT_TYPES.join(',')));

describe('the other webhooks routes under fuzzing', () => {
  it('never answers 5xx to arbitrary ids on every route', async () => {
    await fc.assert(
      fc.asyncProperty(pathValue, pathValue, async (a, b) => {
        const [id, deliveryId] = [encodeURIComponent(a), encodeURIComponent(b)];
        const as = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string) => t.inject({ method, url, headers: stranger.auth, ...(method === 'PATCH' ? { payload: {} } : {}) });
        for (const [method, url] of endpointRoutes(id, deliveryId)) {
          const res = await as(method, url);
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
          expect([400, 404, 405, 422], `${method} ${url}: ${res.body}`).toContain(res.statusCode);
        }
      }),
      runs(100),
    );
  });

  it('never answers 5xx to arbitrary query strings of the listings, the delivery log and the events', async () => {
    await fc.assert(
      fc.asyncProperty(queryValue, queryValue, queryValue, async (x, y, z) => {
        const list = await t.inject({ method: 'GET', url: `/api/webhooks?${new URLSearchParams({ page: x, per_page: y })}`, headers: u.auth });
        expectWellFormed(list, [200, 422]);
        const log = await t.inject({ method: 'GET', url: `/api/webhooks/${endpointId}/deliveries?${new URLSearchParams({ status: x, page: y, per_page: z })}`, headers: u.auth });
        expectWellFormed(log, [200, 422]);
        const events = await t.inject({ method: 'GET', url: `/api/events?${new URLSearchParams({ since: x, types: y, limit: z })}`, headers: u.auth });
        expectWellFormed(events, [200, 422]);
      }),
      runs(150),
    );
  });
});
