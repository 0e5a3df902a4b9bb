import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { createTestApp, item, orderBody, orderWith, type TestApp } from '../support/app.js';
import { deferred } from '../support/driver-wait.js';

let t: TestApp;
let keySeq = 0;

beforeAll(async () => {
  t = await createTestApp({ env: { IDEMPOTENCY_TTL_SECONDS: '86400' } });
});
afterAll(() => t.close());

const freshKey = () => `key-${++keySeq}-${'x'.repeat(8)}`;
const countOrders = async (userId: number) =>
  Number((await t.container.database.db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);

describe('Idempotency-Key on POST /api/orders', () => {
  it('replays a finished request byte for byte, with Idempotent-Replayed: true', async () => {
    const u = await t.user();
    const key = freshKey();
    const body = orderWith(item({ kind: 'recurring' }));
    const first = await t.postOrder(u, body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    t.clock.advance(60_000);
    const replay = await t.postOrder(u, body, { 'idempotency-key': key });
    expect(replay.statusCode).toBe(201);
    expect(replay.rawPayload.equals(first.rawPayload)).toBe(true);
    expect(replay.headers.location).toBe(first.headers.location);
    expect(replay.headers['content-type']).toBe(first.headers['content-type']);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(await countOrders(u.id)).toBe(1);
  });

  it('enqueues the recurring items once, however often the request is replayed', async () => {
    const before = (await t.container.queue.stats(orderIntegrationJob.queue)).counts.ready;
    const u = await t.user();
    const key = freshKey();
    const body = orderWith(item({ kind: 'recurring' }), item({ kind: 'recurring', label: 'other' }));
    for (let i = 0; i < 3; i++) expect((await t.postOrder(u, body, { 'idempotency-key': key })).statusCode).toBe(201);
    expect((await t.container.queue.stats(orderIntegrationJob.queue)).counts.ready - before).toBe(2);
  });

  it('replays a body whose JSON keys are in another order', async () => {
    const u = await t.user();
    const key = freshKey();
    const first = await t.postOrder(u, { client: { identity: 'A', contact_point: 'B' }, contents: [{ label: 'x', kind: 'single', cost: 1, meta: { a: 1, b: 2 } }] }, { 'idempotency-key': key });
    const reordered = JSON.stringify({ contents: [{ meta: { b: 2, a: 1 }, cost: 1, kind: 'single', label: 'x' }], client: { contact_point: 'B', identity: 'A' } });
    const replay = await t.inject({ method: 'POST', url: '/api/orders', headers: { ...u.auth, 'idempotency-key': key, 'content-type': 'application/json' }, payload: reordered });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(first.body);
  });

  it('refuses the same key with a different body with 422', async () => {
    const u = await t.user();
    const key = freshKey();
    expect((await t.postOrder(u, orderBody(), { 'idempotency-key': key })).statusCode).toBe(201);
    const res = await t.postOrder(u, orderWith(item({ cost: 99 })), { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ message: 'The Idempotency-Key has already been used with a different request payload.' });
    expect(await countOrders(u.id)).toBe(1);
  });

  it('replays a request repeated while the first one\'s in-flight lock still holds the key', async () => {
    const u = await t.user();
    const key = freshKey();
    const body = orderWith(item({ label: 'repeated at once' }));
    const first = await t.postOrder(u, body, { 'idempotency-key': key });
    const replay = await t.postOrder(u, body, { 'idempotency-key': key });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.rawPayload.equals(first.rawPayload)).toBe(true);
    expect(await countOrders(u.id)).toBe(1);
  });

  it('refuses a different body with 422 once the lock has expired, the insert finding the key taken, and stores nothing', async () => {
    const u = await t.user();
    const key = freshKey();
    expect((await t.postOrder(u, orderBody(), { 'idempotency-key': key })).statusCode).toBe(201);
    t.clock.advance(60_000);
    const res = await t.postOrder(u, orderWith(item({ kind: 'recurring', cost: 98 })), { 'idempotency-key': key });
    expect(res.statusCode).toBe(422);
    expect(await countOrders(u.id)).toBe(1);
    // The key's lock was released with the rolled-back write: a replay of the first body still answers.
    expect((await t.postOrder(u, orderBody(), { 'idempotency-key': key })).headers['idempotent-replayed']).toBe('true');
  });

  it('scopes keys per user: another user with the same key gets their own order', async () => {
    const a = await t.user();
    const b = await t.user();
    const key = freshKey();
    const ra = await t.postOrder(a, orderBody(), { 'idempotency-key': key });
    const rb = await t.postOrder(b, orderBody(), { 'idempotency-key': key });
    expect([ra.statusCode, rb.statusCode]).toEqual([201, 201]);
    expect(rb.headers['idempotent-replayed']).toBeUndefined();
    expect(rb.headers.location).not.toBe(ra.headers.location);
  });

  it('does not apply the duplicate guard to requests with a key', async () => {
    const u = await t.user();
    const body = orderWith(item({ label: 'keyed twice' }));
    const first = await t.postOrder(u, body, { 'idempotency-key': freshKey() });
    const second = await t.postOrder(u, body, { 'idempotency-key': freshKey() });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(await countOrders(u.id)).toBe(2);
  });

  it('processes the request again once the key has expired', async () => {
    const u = await t.user();
    const key = freshKey();
    const first = await t.postOrder(u, orderBody(), { 'idempotency-key': key });
    t.clock.advance(86_400_000);
    const again = await t.postOrder(u, orderWith(item({ label: 'a different body after expiry' })), { 'idempotency-key': key });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers.location).not.toBe(first.headers.location);
  });

  it('does not record a failed validation: the key stays free for a corrected body', async () => {
    const u = await t.user();
    const key = freshKey();
    expect((await t.postOrder(u, orderWith(item({ cost: -1 })), { 'idempotency-key': key })).statusCode).toBe(422);
    const ok = await t.postOrder(u, orderBody(), { 'idempotency-key': key });
    expect(ok.statusCode).toBe(201);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
  });

  it('releases the key when the transaction fails, so that a retry succeeds', async () => {
    const u = await t.user();
    const key = freshKey();
    const body = orderWith(item({ kind: 'recurring', label: 'failing enqueue' }));
    const queue = t.container.queue;
    const original = queue.enqueueMany.bind(queue);
    queue.enqueueMany = async () => {
      throw new Error('queue unavailable');
    };
    try {
      expect((await t.postOrder(u, body, { 'idempotency-key': key })).statusCode).toBe(500);
    } finally {
      queue.enqueueMany = original;
    }
    expect(await countOrders(u.id)).toBe(0);
    const retry = await t.postOrder(u, body, { 'idempotency-key': key });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['256 characters long', 'k'.repeat(256)],
    ['not ASCII', 'clé-1'],
    ['holding a control character', 'key\u0001'],
  ])('refuses a key that is %s with 400', async (_what, key) => {
    const u = await t.user();
    const res = await t.postOrder(u, orderBody(), { 'idempotency-key': key });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ message: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.' });
    expect(await countOrders(u.id)).toBe(0);
  });

  it('accepts a key of exactly 255 printable characters', async () => {
    const u = await t.user();
    const key = ' !~'.repeat(85);
    expect(key).toHaveLength(255);
    expect((await t.postOrder(u, orderBody(), { 'idempotency-key': key })).statusCode).toBe(201);
    expect((await t.postOrder(u, orderBody(), { 'idempotency-key': key })).headers['idempotent-replayed']).toBe('true');
  });

  it('answers exactly one 201 and one 409 with Retry-After to two concurrent requests with one key', async () => {
    const u = await t.user();
    const key = freshKey();
    const body = orderWith(item({ kind: 'recurring', label: 'concurrent' }));
    // The first holds the key (and has not committed) until the second has been answered.
    const idempotency = t.container.idempotency;
    const original = idempotency.begin.bind(idempotency);
    const held = deferred();
    const entered = deferred();
    let calls = 0;
    idempotency.begin = async (...args) => {
      const decision = await original(...args);
      if (++calls === 1) {
        entered.resolve();
        await held.promise;
      }
      return decision;
    };
    let responses: Awaited<ReturnType<typeof t.postOrder>>[];
    try {
      const first = t.postOrder(u, body, { 'idempotency-key': key });
      await entered.promise;
      const second = await t.postOrder(u, body, { 'idempotency-key': key });
      held.resolve();
      responses = [await first, second];
    } finally {
      idempotency.begin = original;
    }
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([201, 409]);
    const conflict = responses.find((r) => r.statusCode === 409)!;
    expect(conflict.headers['retry-after']).toBe('1');
    expect(conflict.json()).toEqual({ message: 'A request with this Idempotency-Key is still being processed.' });
    expect(await countOrders(u.id)).toBe(1);
    const later = await t.postOrder(u, body, { 'idempotency-key': key });
    expect(later.statusCode).toBe(201);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.body).toBe(responses.find((r) => r.statusCode === 201)!.body);
  });

  it('creates one order for many concurrent requests with one key', async () => {
    const u = await t.user();
    const key = freshKey();
    const responses = await Promise.all(Array.from({ length: 8 }, () => t.postOrder(u, orderBody(), { 'idempotency-key': key })));
    const created = responses.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(created).toHaveLength(1);
    for (const r of responses) expect([201, 409]).toContain(r.statusCode);
    expect(await countOrders(u.id)).toBe(1);
  });
});
