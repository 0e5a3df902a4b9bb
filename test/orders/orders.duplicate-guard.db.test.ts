import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogFlushError } from '../../src/platform/db/group-commit.js';
import { createTestApp, item, orderBody, orderWith, type TestApp } from '../support/app.js';

const WINDOW_SECONDS = 30;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { DUPLICATE_WINDOW_SECONDS: String(WINDOW_SECONDS) } });
});
afterAll(() => t.close());

const orderIdOf = (res: { json: <T>() => T }) => res.json<{ order: { id: number } }>().order.id;
const duplicateMessage = `Duplicate order: the same order was submitted within the last ${WINDOW_SECONDS} seconds.`;

describe('duplicate guard (no Idempotency-Key)', () => {
  it('answers 409 with the first order’s id to the same body within the window', async () => {
    const u = await t.user();
    const first = await t.postOrder(u, orderBody());
    expect(first.statusCode).toBe(201);
    const again = await t.postOrder(u, orderBody());
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ message: duplicateMessage, order_id: orderIdOf(first) });
  });

  it('allows the same body again once the window has passed', async () => {
    const u = await t.user();
    const first = await t.postOrder(u, orderBody());
    t.clock.advance(WINDOW_SECONDS * 1000 - 1);
    expect((await t.postOrder(u, orderBody())).statusCode).toBe(409);
    t.clock.advance(1);
    const later = await t.postOrder(u, orderBody());
    expect(later.statusCode).toBe(201);
    expect(orderIdOf(later)).not.toBe(orderIdOf(first));
    // The window starts again from the new order.
    const third = await t.postOrder(u, orderBody());
    expect(third.statusCode).toBe(409);
    expect(third.json<{ order_id: number }>().order_id).toBe(orderIdOf(later));
  });

  it('ignores key order in the JSON', async () => {
    const u = await t.user();
    await t.postOrder(u, { client: { identity: 'A', contact_point: 'B' }, contents: [{ label: 'x', kind: 'single', cost: 1, meta: { a: 1, b: [1, 2] } }] });
    const reordered = JSON.stringify({ contents: [{ meta: { b: [1, 2], a: 1 }, cost: 1, kind: 'single', label: 'x' }], client: { contact_point: 'B', identity: 'A' } });
    const res = await t.inject({ method: 'POST', url: '/api/orders', headers: { ...u.auth, 'content-type': 'application/json' }, payload: reordered });
    expect(res.statusCode).toBe(409);
  });

  it('treats surrounding whitespace and an empty meta array as the same order', async () => {
    const u = await t.user();
    await t.postOrder(u, orderWith(item({ label: 'Widget', meta: {} })));
    expect((await t.postOrder(u, orderWith(item({ label: '  Widget ', meta: [] })))).statusCode).toBe(409);
  });

  it('lets a different body through', async () => {
    const u = await t.user();
    await t.postOrder(u, orderBody());
    expect((await t.postOrder(u, orderWith(item({ cost: 13 })))).statusCode).toBe(201);
    expect((await t.postOrder(u, orderWith(item(), item()))).statusCode).toBe(201);
  });

  it('keys the guard per user: another user may send the same body', async () => {
    const a = await t.user();
    const b = await t.user();
    expect((await t.postOrder(a, orderBody())).statusCode).toBe(201);
    expect((await t.postOrder(b, orderBody())).statusCode).toBe(201);
  });

  it('is released when validation fails: an invalid body, then the valid body, gives 201', async () => {
    const u = await t.user();
    const invalid = orderWith(item({ cost: -5 }));
    expect((await t.postOrder(u, invalid)).statusCode).toBe(422);
    expect((await t.postOrder(u, invalid)).statusCode).toBe(422);
    expect((await t.postOrder(u, orderWith(item({ cost: 5 })))).statusCode).toBe(201);
  });

  it('is released when the transaction fails, so that the client may retry at once', async () => {
    const u = await t.user();
    const body = orderWith(item({ kind: 'recurring', label: 'enqueue fails once' }));
    const queue = t.container.queue;
    const original = queue.enqueueMany.bind(queue);
    queue.enqueueMany = async () => {
      throw new Error('queue unavailable');
    };
    let failed;
    try {
      failed = await t.postOrder(u, body);
    } finally {
      queue.enqueueMany = original;
    }
    expect(failed.statusCode).toBe(500);
    expect(Object.keys(failed.json()).sort()).toEqual(['message', 'request_id']);
    const retry = await t.postOrder(u, body);
    expect(retry.statusCode).toBe(201);
  });

  it('is kept when the order committed but the flush of its log failed: 503, and the retry is a duplicate', async () => {
    const u = await t.user();
    const body = orderWith(item({ label: 'committed, flush failed' }));
    const database = t.container.database;
    const original = database.transaction.bind(database);
    let committedOrderId: number | undefined;
    database.transaction = async (work, options) => {
      const result = await original(work, options);
      committedOrderId = (result as { order?: { id: number } }).order?.id;
      throw new LogFlushError(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    };
    let failed;
    try {
      failed = await t.postOrder(u, body);
    } finally {
      database.transaction = original;
    }
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBeDefined();
    expect(committedOrderId).toBeDefined();
    const retry = await t.postOrder(u, body);
    expect(retry.statusCode).toBe(409);
    expect(retry.json()).toEqual({ message: duplicateMessage, order_id: committedOrderId });
  });

  it('lets exactly one of two concurrent identical requests through', async () => {
    const u = await t.user();
    const responses = await Promise.all([t.postOrder(u, orderBody()), t.postOrder(u, orderBody())]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([201, 409]);
  });
});

describe('duplicate guard switched off', () => {
  it('stores every submission when DUPLICATE_WINDOW_SECONDS is 0', async () => {
    const off = await createTestApp({ env: { DUPLICATE_WINDOW_SECONDS: '0' } });
    try {
      const u = await off.user();
      expect((await off.postOrder(u, orderBody())).statusCode).toBe(201);
      expect((await off.postOrder(u, orderBody())).statusCode).toBe(201);
    } finally {
      await off.close();
    }
  });
});
