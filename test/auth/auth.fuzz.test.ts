import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { hasUnstorableCharacter, UNSTORABLE_CHARACTERS, unicodeText } from '../support/unicode.js';

/** FUZZ_RUNS=5000 fuzzes deeper on demand; the default keeps the suite fast. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? n) });

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000000' } });
});
afterAll(() => t.close());

const anyJson = fc.jsonValue({ maxDepth: 3 });
const wrongOr = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: anyJson });

const text = fc.oneof(fc.string({ maxLength: 30 }), unicodeText({ maxLength: 30 }), fc.constantFrom('', '   ', 'a'.repeat(256), '😀'.repeat(256), '\u0000', ...UNSTORABLE_CHARACTERS));
const email = fc.oneof(
  fc.emailAddress(),
  fc.constantFrom('not-an-email', '@', 'a@b', `${'a'.repeat(250)}@example.test`, 'a\ud800@example.test'),
  fc.string({ maxLength: 20 }),
  fc.emailAddress().map((address) => `\udc00${address}`),
);
// Mostly too short or mismatched, so that few bodies reach argon2 (slow by design).
const password = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 7 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 8, maxLength: 20 }) },
  { weight: 1, arbitrary: unicodeText({ minLength: 8, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(256)) },
);
const nearValidRegistration = fc
  .tuple(
    fc.record({ name: wrongOr(text), email: wrongOr(email), password: wrongOr(password), password_confirmation: wrongOr(password), extra: anyJson }, { requiredKeys: [] }),
    fc.boolean(),
  )
  // Half the time the confirmation matches, so that registrations also get past it.
  .map(([body, confirmed]) => (confirmed ? { ...body, password_confirmation: body.password } : body));

function expectClientError(res: LightMyRequestResponse, allowed: number[]): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  expect(allowed, `${res.statusCode}: ${res.body}`).toContain(res.statusCode);
  const body = res.json<Record<string, unknown>>();
  // Never an unpaired surrogate echoed back, never one stored as U+FFFD.
  expect(hasUnstorableCharacter(body), res.body).toBe(false);
  expect(res.body).not.toContain('\ufffd');
  if (res.statusCode === 422) {
    expect(typeof body.message).toBe('string');
    expect(body.errors).toBeTypeOf('object');
  }
}

const post = (url: string, payload: string) => t.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

describe('auth routes under fuzzing', () => {
  it('POST /api/register never answers 5xx to an arbitrary JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => expectClientError(await post('/api/register', JSON.stringify(body)), [400, 422])),
      runs(200),
    );
  });

  it('POST /api/register never answers 5xx to near-valid registrations with wrong types and values', async () => {
    await fc.assert(
      fc.asyncProperty(nearValidRegistration, async (body) => expectClientError(await post('/api/register', JSON.stringify(body)), [201, 400, 422])),
      runs(200),
    );
  });

  it('POST /api/register stores a valid registration, and refuses it again with 422', async () => {
    await fc.assert(
      fc.asyncProperty(fc.emailAddress(), fc.string({ minLength: 8, maxLength: 30 }), fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), unicodeText({ minLength: 1, maxLength: 30 })), async (address, secret, name) => {
        fc.pre(name.trim().length > 0 && address.length <= 255);
        const body = JSON.stringify({ name, email: address, password: secret, password_confirmation: secret });
        const first = await post('/api/register', body);
        // fast-check's addresses follow RFC 5322 loosely; a few are not valid for ajv's email format.
        expectClientError(first, [201, 422]);
        // A name with half a surrogate pair is refused, never stored as U+FFFD.
        if (hasUnstorableCharacter(name)) expect(first.json<{ errors?: Record<string, unknown> }>().errors).toHaveProperty('name');
        if (first.statusCode === 201) expectClientError(await post('/api/register', body), [422]);
      }),
      runs(8),
    );
  });

  it('POST /api/login never answers 5xx to an arbitrary JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyJson, fc.record({ email: wrongOr(email), password: wrongOr(fc.string({ maxLength: 10 })) }, { requiredKeys: [] })),
        async (body) => expectClientError(await post('/api/login', JSON.stringify(body)), [400, 422]),
      ),
      runs(60),
    );
  });

  it('never answers 5xx to an arbitrary bearer token', async () => {
    const token = fc.oneof(fc.string({ unit: fc.constantFrom('a', '1', '|', ' ', '-', '9'), maxLength: 60 }), fc.constantFrom('|', '0|', '1|x', `${'9'.repeat(20)}|x`));
    await fc.assert(
      fc.asyncProperty(token, async (value) => {
        const res = await t.inject({ method: 'GET', url: '/api/user', headers: { authorization: `Bearer ${value}` } });
        expect(res.statusCode).toBe(401);
      }),
      runs(150),
    );
  });
});
