import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { createTestApp, item, orderBody, orderWith, type TestApp } from '../support/app.js';

interface ItemView {
  id: number;
  label: string;
  kind: string;
  cost: number;
  meta: Record<string, unknown>;
  priority: string;
  status: string;
  details: unknown;
}
interface OrderView {
  id: number;
  client: { identity: string; contact_point: string };
  contents: ItemView[];
  created_at: string;
  updated_at: string;
}

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const stats = () => t.container.queue.stats(orderIntegrationJob.queue);

describe('POST /api/orders', () => {
  it('stores the order and answers 201 with the order and a Location header', async () => {
    const u = await t.user();
    const res = await t.postOrder(u, orderBody({ client: { identity: 'ACME', contact_point: 'ops@acme.test' }, contents: [item({ label: 'Widget', cost: 12.5 })] }));
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ message: string; order: OrderView }>();
    expect(Object.keys(body).sort()).toEqual(['message', 'order']);
    expect(body.message).toBe('Order stored successfully');
    const { order } = body;
    expect(res.headers.location).toBe(`/api/orders/${order.id}`);
    expect(Object.keys(order).sort()).toEqual(['client', 'contents', 'created_at', 'id', 'updated_at']);
    expect(order.client).toEqual({ identity: 'ACME', contact_point: 'ops@acme.test' });
    expect(order.created_at).toBe(new Date(t.clock.now()).toISOString());
    expect(order.updated_at).toBe(order.created_at);
    expect(order.contents).toHaveLength(1);
    expect(Object.keys(order.contents[0]!).sort()).toEqual(['cost', 'details', 'id', 'kind', 'label', 'meta', 'priority', 'status']);
  });

  it('writes cost as a JSON number, never a string', async () => {
    const u = await t.user();
    const res = await t.postOrder(u, orderWith(item({ cost: 19.99 }), item({ label: 'free', cost: 0 })));
    expect(res.body).toContain('"cost":19.99');
    expect(res.body).toContain('"cost":0');
    expect(res.json<{ order: OrderView }>().order.contents.map((c) => c.cost)).toEqual([19.99, 0]);
  });

  it('completes a single item at once and leaves a recurring item received', async () => {
    const u = await t.user();
    const res = await t.postOrder(u, orderWith(item({ label: 'once', kind: 'single' }), item({ label: 'monthly', kind: 'recurring' })));
    const [single, recurring] = res.json<{ order: OrderView }>().order.contents;
    expect(single).toMatchObject({ label: 'once', kind: 'single', status: 'completed', details: null, priority: 'normal' });
    expect(recurring).toMatchObject({ label: 'monthly', kind: 'recurring', status: 'received', details: null, priority: 'normal' });
  });

  it('enqueues exactly one job per recurring item, at the item priority', async () => {
    const before = await stats();
    const u = await t.user();
    const res = await t.postOrder(
      u,
      orderWith(
        item({ kind: 'recurring', label: 'a', meta: { priority: 'max' } }),
        item({ kind: 'recurring', label: 'b', meta: { priority: 'low' } }),
        item({ kind: 'recurring', label: 'c' }),
        item({ kind: 'recurring', label: 'd', meta: { priority: 'max' } }),
        item({ kind: 'single', label: 'e', meta: { priority: 'critical' } }),
      ),
    );
    expect(res.statusCode).toBe(201);
    expect(res.json<{ order: OrderView }>().order.contents.map((c) => c.priority)).toEqual(['max', 'low', 'normal', 'max', 'critical']);
    const after = await stats();
    expect(after.counts.ready - before.counts.ready).toBe(4);
    const added = (p: 1 | 2 | 3 | 4 | 5) => after.byPriority.ready[p] - before.byPriority.ready[p];
    expect([added(1), added(2), added(3), added(4), added(5)]).toEqual([1, 1, 0, 0, 2]);
  });

  it('carries each recurring item id in its job payload', async () => {
    const u = await t.user();
    const res = await t.postOrder(u, orderWith(item({ kind: 'recurring', label: 'payload check' })));
    const itemId = res.json<{ order: OrderView }>().order.contents[0]!.id;
    const rows = await t.container.database.db.selectFrom('jobs').select(['payload', 'priority']).where('queue', '=', orderIntegrationJob.queue).execute();
    expect(rows.filter((r) => JSON.parse(r.payload as string).itemId === itemId)).toEqual([{ payload: JSON.stringify({ itemId }), priority: 2 }]);
  });

  it('enqueues nothing for an order of single items', async () => {
    const before = await stats();
    const u = await t.user();
    expect((await t.postOrder(u, orderWith(item({ label: 'just once' })))).statusCode).toBe(201);
    expect((await stats()).counts.ready).toBe(before.counts.ready);
  });

  it('answers 401 without a token', async () => {
    const res = await t.inject({ method: 'POST', url: '/api/orders', payload: orderBody() });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ message: 'Unauthenticated.' });
  });

  it('answers 403 for a token without the orders ability', async () => {
    const u = await t.user();
    const token = await t.container.auth.createToken(u.id, 'catalog only', ['catalog:write']);
    const res = await t.inject({ method: 'POST', url: '/api/orders', payload: orderBody(), headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /api/orders', () => {
  it('lists only the caller’s orders, newest first, paginated', async () => {
    const me = await t.user();
    const other = await t.user();
    for (let i = 1; i <= 3; i++) await t.postOrder(me, orderWith(item({ label: `mine ${i}` })));
    await t.postOrder(other, orderWith(item({ label: 'theirs' })));

    const res = await t.inject({ method: 'GET', url: '/api/orders?per_page=2', headers: me.auth });
    expect(res.statusCode).toBe(200);
    const page = res.json<{ data: OrderView[]; links: Record<string, string | null>; meta: Record<string, unknown> }>();
    expect(page.data.map((o) => o.contents[0]!.label)).toEqual(['mine 3', 'mine 2']);
    expect(page.meta).toMatchObject({ current_page: 1, per_page: 2, total: 3, last_page: 2, from: 1, to: 2 });
    expect(page.links.next).toMatch(/\/api\/orders\?page=2&per_page=2$/);
    expect(page.links.prev).toBeNull();

    const second = await t.inject({ method: 'GET', url: '/api/orders?page=2&per_page=2', headers: me.auth });
    const page2 = second.json<{ data: OrderView[]; meta: Record<string, unknown> }>();
    expect(page2.data.map((o) => o.contents[0]!.label)).toEqual(['mine 1']);
    expect(page2.meta).toMatchObject({ current_page: 2, from: 3, to: 3 });
  });

  it('answers an empty page for a user without orders', async () => {
    const u = await t.user();
    const page = (await t.inject({ method: 'GET', url: '/api/orders', headers: u.auth })).json<{ data: unknown[]; meta: Record<string, unknown> }>();
    expect(page.data).toEqual([]);
    expect(page.meta).toMatchObject({ total: 0, per_page: 15, from: null, to: null, last_page: 1 });
  });

  it.each(['per_page=101', 'per_page=0', 'page=0', 'page=abc', 'page=1000000001', 'page=9999999999999999999999999999'])('refuses %s with 422, never 500', async (query) => {
    const u = await t.user();
    const res = await t.inject({ method: 'GET', url: `/api/orders?${query}`, headers: u.auth });
    expect(res.statusCode).toBe(422);
  });

  it('answers 401 without a token', async () => {
    expect((await t.inject({ method: 'GET', url: '/api/orders' })).statusCode).toBe(401);
  });
});

describe('GET /api/orders/{id}', () => {
  it('shows the caller’s order as it was created', async () => {
    const u = await t.user();
    const created = await t.postOrder(u, orderWith(item({ kind: 'recurring', meta: { priority: 'high', frequency: 'monthly' } })));
    const { order } = created.json<{ order: OrderView }>();
    const res = await t.inject({ method: 'GET', url: created.headers.location as string, headers: u.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ order });
  });

  it('answers 404 for another user’s order, as if it did not exist', async () => {
    const a = await t.user('alice');
    const b = await t.user('bob');
    const { order } = (await t.postOrder(b, orderWith(item({ label: 'bob’s secret' })))).json<{ order: OrderView }>();
    const res = await t.inject({ method: 'GET', url: `/api/orders/${order.id}`, headers: a.auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ message: 'Order not found.' });
    expect(res.body).not.toContain('secret');
    const missing = await t.inject({ method: 'GET', url: '/api/orders/999999', headers: a.auth });
    expect(missing.json()).toEqual(res.json());
  });

  it.each(['0', 'abc', '-1', '1.5', '9'.repeat(30)])('answers 404 for the id %s', async (id) => {
    const u = await t.user();
    const res = await t.inject({ method: 'GET', url: `/api/orders/${id}`, headers: u.auth });
    expect(res.statusCode).toBe(404);
  });
});

describe('characters no database stores: lone surrogates and NUL', () => {
  // Escaped as JSON sends them: a lone surrogate cannot be written as UTF-8. NUL is refused by PostgreSQL's text.
  const LONE = ['\ud800', 'a\udfff', 'x\ud83d', '\ude00b', 'nul\u0000byte'];
  const unpaired = (field: string) => `The ${field} field must not contain NUL characters or unpaired surrogates.`;

  it.each(LONE.map((text) => [JSON.stringify(text), text]))('refuses %s in every string of an order with 422, naming each field, and stores nothing', async (_shown, text) => {
    const u = await t.user();
    const res = await t.postOrder(u, {
      client: { identity: text, contact_point: `ops ${text}` },
      contents: [item({ label: text }), item({ label: 'fine', meta: { note: text, [`key${text}`]: 1 } }), item({ label: 'nested', meta: { a: { b: ['ok', text] } } })],
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json<{ errors: Record<string, string[]> }>().errors).toEqual({
      'client.identity': [unpaired('client.identity')],
      'client.contact_point': [unpaired('client.contact_point')],
      'contents.0.label': [unpaired('contents.0.label')],
      'contents.1.meta': [unpaired('contents.1.meta')],
      'contents.1.meta.note': [unpaired('contents.1.meta.note')],
      'contents.2.meta.a.b.1': [unpaired('contents.2.meta.a.b.1')],
    });
    expect((await t.inject({ method: 'GET', url: '/api/orders', headers: u.auth })).json<{ meta: { total: number } }>().meta.total).toBe(0);
  });

  it('stores and echoes surrogate pairs (emoji) exactly', async () => {
    const u = await t.user();
    const res = await t.postOrder(u, orderBody({ client: { identity: '😀 ACME', contact_point: 'ops 🚀' }, contents: [item({ label: '📦', meta: { note: '🎉', '🔑': 'ok' } })] }));
    expect(res.statusCode, res.body).toBe(201);
    const { order } = res.json<{ order: OrderView }>();
    expect(order.client).toEqual({ identity: '😀 ACME', contact_point: 'ops 🚀' });
    expect(order.contents[0]).toMatchObject({ label: '📦', meta: { note: '🎉', '🔑': 'ok' } });
    expect(res.body).not.toContain('\ufffd');
  });
});
