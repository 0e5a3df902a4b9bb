import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../src/app/container.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { hasUnstorableCharacter, unicodeText } from '../support/unicode.js';

let t: TestApp;
let admin: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  const operator = await t.user('operator');
  admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
});
afterAll(() => t.close());

/** FUZZ_RUNS=5000 fuzzes deeper on demand; the default keeps the suite fast. */
const runs = (n: number) => ({ numRuns: Number(process.env.FUZZ_RUNS ?? n) });

function expectWellFormed(res: LightMyRequestResponse, allowed: number[]): void {
  expect(res.statusCode, res.body).toBeLessThan(500);
  expect(allowed, `${res.statusCode}: ${res.body}`).toContain(res.statusCode);
  const body = res.json<Record<string, unknown>>();
  expect(hasUnstorableCharacter(body), res.body).toBe(false);
  if (res.statusCode >= 400) expect(typeof body.message).toBe('string');
}

/** A path segment as sent: a known queue, any text (encoded), or bytes no text encodes to (NUL, a UTF-8 surrogate, a stray byte). */
const queueSegment = fc.oneof(
  fc.constantFrom(...QUEUE_NAMES),
  fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom('%00', '%ED%A0%80', '%FF', '..', '%2F', 'a'.repeat(200)),
);
const reason = fc.oneof(fc.string({ maxLength: 40 }), unicodeText(), fc.constant('x'.repeat(501)), fc.jsonValue({ maxDepth: 2 }));
const pauseBody = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ reason }, { requiredKeys: [] }), fc.record({ reason, extra: fc.jsonValue({ maxDepth: 1 }) }));

describe('pause and resume under fuzzing', () => {
  it('never answers 5xx to arbitrary queue names and bodies, and a resume undoes every pause', async () => {
    await fc.assert(
      fc.asyncProperty(queueSegment, pauseBody, async (queue, body) => {
        const url = `/api/admin/queues/${queue}`;
        const paused = await t.inject({ method: 'POST', url: `${url}/pause`, headers: { ...admin, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
        expectWellFormed(paused, [200, 400, 404, 414, 422]);
        const resumed = await t.inject({ method: 'POST', url: `${url}/resume`, headers: admin });
        expectWellFormed(resumed, QUEUE_NAMES.includes(queue) ? [200] : [400, 404, 414]);
        if (paused.statusCode === 200) expect(resumed.json()).toMatchObject({ changed: paused.json<{ changed: boolean }>().changed });
      }),
      runs(200),
    );
    expect((await t.container.queuePauses.all()).size).toBe(0);
  });

  it('never answers 5xx to arbitrary query strings of the worker list', async () => {
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('', '0', '-1', '1e3', '9'.repeat(40), '101', '100000', '100001'));
    await fc.assert(
      fc.asyncProperty(value, value, async (page, perPage) => {
        expectWellFormed(await t.inject({ method: 'GET', url: `/api/admin/workers?${new URLSearchParams({ page, per_page: perPage })}`, headers: admin }), [200, 422]);
      }),
      runs(100),
    );
  });
});
