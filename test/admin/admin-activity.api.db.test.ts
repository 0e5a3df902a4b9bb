import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertFeedRun } from '../../src/catalog/feed/feed-runs.repository.js';
import { feedIngestHandler, feedIngestJob, feedIngestWorkOptions } from '../../src/catalog/feed/feed.jobs.js';
import { createTestApp, item, orderWith, type TestApp, type TestUser } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';
import { FEED100_FIXTURE } from '../support/fixtures.js';

const FEED = FEED100_FIXTURE;

describe('operator API: orders, feed runs and the image cache', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { FEED_URL: FEED } });
    const operator = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = await t.user('customer');
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const post = (url: string, headers = admin) => t.inject({ method: 'POST', url, headers });

  it('lists the orders of every user, newest first, with the owner’s name and email, a page at a time, to operators only', async () => {
    const other = await t.user('other');
    await t.postOrder(customer, orderWith(item({ label: 'one-off' })));
    await t.postOrder(customer, orderWith(item({ label: 'monthly', kind: 'recurring' })));
    await t.postOrder(other, orderWith(item({ label: 'theirs' })));
    expect((await get('/api/admin/orders', customer.auth)).statusCode).toBe(403);

    type Order = { id: number; user_id: number; user: { id: number; name: string; email: string }; contents: Array<{ id: number; label: string; status: string }> };
    type Page = { data: Order[]; links: Record<string, string | null>; meta: Record<string, unknown> };
    const response = await get('/api/admin/orders');
    expect(response.statusCode).toBe(200);
    const all = response.json<Page>();
    expect(all.data.map((o) => o.contents[0])).toEqual([
      expect.objectContaining({ label: 'theirs', status: 'completed' }),
      expect.objectContaining({ label: 'monthly', status: 'received' }),
      expect.objectContaining({ label: 'one-off', status: 'completed' }),
    ]);
    expect(all.data.map((o) => o.user)).toEqual([
      { id: other.id, name: 'other', email: other.email },
      { id: customer.id, name: 'customer', email: customer.email },
      { id: customer.id, name: 'customer', email: customer.email },
    ]);
    expect(all.data.every((o) => o.user_id === o.user.id)).toBe(true);
    expect(all.meta).toMatchObject({ current_page: 1, from: 1, to: 3, total: 3, per_page: 50, last_page: 1 });

    const second = (await get('/api/admin/orders?page=2&per_page=2')).json<Page>();
    expect(second.data.map((o) => o.contents[0]!.label)).toEqual(['one-off']);
    expect(second.meta).toMatchObject({ current_page: 2, from: 3, to: 3, total: 3, last_page: 2 });
    expect(second.links).toMatchObject({ prev: '/api/admin/orders?page=1&per_page=2', next: null });
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'item_id=0', 'item_id=x']) expect((await get(`/api/admin/orders?${query}`)).statusCode, query).toBe(422);

    // The order that holds an item: where a job of orders.integration (payload itemId) leads.
    const monthly = all.data.find((o) => o.contents[0]!.label === 'monthly')!;
    const itemId = monthly.contents[0]!.id;
    const holding = (await get(`/api/admin/orders?item_id=${itemId}`)).json<Page>();
    expect(holding.data.map((o) => o.id)).toEqual([monthly.id]);
    expect(holding.meta.total).toBe(1);
    expect(holding.links.first).toContain(`item_id=${itemId}`);
    expect((await get('/api/admin/orders?item_id=999999')).json<Page>()).toMatchObject({ data: [], meta: { total: 0 } });
  });

  it('queues a feed ingestion for a worker, lists its run, and refuses another while one runs', async () => {
    const started = await post('/api/admin/feed/runs');
    expect(started.statusCode).toBe(202);
    expect(started.json()).toEqual({ message: 'Feed ingestion queued: a worker runs it.' });
    expect((await t.container.queue.stats(feedIngestJob.queue)).counts.ready).toBe(1);
    expect((await get('/api/admin/feed/runs')).json<{ data: unknown[] }>().data).toEqual([]);

    const worker = t.container.queue.work(feedIngestJob.queue, feedIngestHandler(t.container.feed, 100), feedIngestWorkOptions(100));
    await waitFor(async () => (await get('/api/admin/feed/runs')).json<{ data: Array<{ status: string }> }>().data[0]?.status === 'succeeded', 15_000, 'the run to succeed');
    await worker.stop();
    const runs = (await get('/api/admin/feed/runs')).json<{ data: Array<{ trigger: string; created_count: number }> }>().data;
    expect(runs[0]).toMatchObject({ trigger: 'api', created_count: 100 });

    const since = Date.now();
    await t.container.store.setIfAbsent('lock:feed-ingest', JSON.stringify({ token: 't', holder: 'other-host:42', since }), 60_000);
    try {
      const refused = await post('/api/admin/feed/runs');
      expect(refused.statusCode).toBe(409);
      expect(refused.json<{ message: string }>().message).toContain(`held by other-host:42 since ${new Date(since).toISOString()}`);
      expect((await get('/api/admin/feed/runs')).json<{ lock: unknown }>().lock).toEqual({ holder: 'other-host:42', since });
      // A job queued before the other ingestion began waits for it, then runs: it is never dropped.
      await t.container.queue.enqueue(feedIngestJob.queue, {}, feedIngestJob.defaults);
      const late = t.container.queue.work(feedIngestJob.queue, feedIngestHandler(t.container.feed, 100), feedIngestWorkOptions(100));
      try {
        await waitFor(async () => (await t.container.queue.stats(feedIngestJob.queue)).counts.delayed === 1, 5_000, 'the queued job to wait for the lock');
        expect((await get('/api/admin/feed/runs')).json<{ data: unknown[] }>().data).toHaveLength(1);
        await t.container.store.delete('lock:feed-ingest');
        // The store's lock and the queue's delay both run on the test's clock.
        t.clock.advance(1_000);
        await waitFor(async () => (await get('/api/admin/feed/runs')).json<{ data: unknown[] }>().data.length === 2, 15_000, 'the waiting job to run');
        await waitFor(async () => (await t.container.queue.stats(feedIngestJob.queue)).counts.delayed === 0, 5_000, 'the job to finish');
      } finally {
        await late.stop();
      }
      expect((await get('/api/admin/feed/runs')).json<{ data: Array<{ status: string }>; lock: unknown }>()).toMatchObject({ data: [{ status: 'not_modified' }, { status: 'succeeded' }], lock: null });
      expect((await t.container.queue.stats(feedIngestJob.queue)).counts).toMatchObject({ active: 0, parked: 0, ready: 0 });
    } finally {
      await t.container.store.delete('lock:feed-ingest');
    }
  });

  it('pages through the feed runs, newest first, with the paginator keys and the lock', async () => {
    const before = (await get('/api/admin/feed/runs?per_page=100')).json<{ meta: { total: number } }>().meta.total;
    for (let i = 0; i < 23; i++) await insertFeedRun(t.container.database.db, { status: 'succeeded', trigger: 'schedule', source: FEED, started_at: t.clock.now() + i });
    type Runs = { data: Array<{ id: number }>; links: Record<string, string | null>; meta: { total: number; last_page: number; per_page: number; current_page: number }; lock: unknown };
    const first = (await get('/api/admin/feed/runs')).json<Runs>();
    expect(first.meta).toMatchObject({ total: before + 23, per_page: 20, current_page: 1 });
    expect(first.data).toHaveLength(20);
    expect(first.data.map((run) => run.id)).toEqual([...first.data.map((run) => run.id)].sort((a, b) => b - a));
    expect(first.lock).toBeNull();
    const second = (await get('/api/admin/feed/runs?page=2&per_page=20')).json<Runs>();
    expect(second.data[0]!.id).toBeLessThan(first.data.at(-1)!.id);
    expect(second.links.prev).toBe('/api/admin/feed/runs?page=1&per_page=20');
    expect((await get('/api/admin/feed/runs?limit=5')).json<Runs>().data).toHaveLength(5);
    expect((await get('/api/admin/feed/runs?per_page=101')).statusCode).toBe(422);
  });

  it('shows the image cache and re-drives failed downloads', async () => {
    const stats = (await get('/api/admin/images')).json<{ total: number; byStatus: Record<string, number>; jobs: Record<string, number> }>();
    expect(stats.total).toBeGreaterThan(0);
    expect(stats.byStatus.pending).toBe(stats.total);
    expect(stats.jobs.ready).toBe(stats.total);
    expect((await post('/api/admin/images/retry-failed')).json()).toEqual({ images: 0, parkedJobs: 0 });
  });
});
