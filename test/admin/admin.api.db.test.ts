import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';
import { parsePrometheus } from '../support/prometheus.js';

const QUEUE = orderIntegrationJob.queue;

describe('operator API /api/admin', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp();
    const user = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(user.id, 'ops', ['admin'])}` };
    customer = (await t.user('customer')).auth;
    // Two jobs that fail on their only attempt, so that they are parked.
    for (const itemId of [101, 102]) await t.container.queue.enqueue(QUEUE, { itemId }, { maxAttempts: 1, priority: 4 });
    const worker = t.container.queue.work(QUEUE, async () => Promise.reject(new Error('third party down')), { concurrency: 2 });
    await waitFor(async () => (await t.container.queue.stats(QUEUE)).counts.parked === 2, 5_000, 'two parked jobs');
    await worker.stop();
    await t.container.history.flush();
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const post = (url: string, payload: unknown, headers = admin) => t.inject({ method: 'POST', url, headers, payload: payload as Record<string, unknown> });

  it('needs a token with the admin ability', async () => {
    expect((await get('/api/admin/queues', {})).statusCode).toBe(401);
    expect((await get('/api/admin/queues', customer)).statusCode).toBe(403);
  });

  it('shows every queue with its depth by state and priority', async () => {
    const response = await get('/api/admin/queues');
    expect(response.statusCode).toBe(200);
    type Overview = { queue: string; counts: Record<string, number>; byPriority: Record<string, Record<string, number>>; throughput: Array<Record<string, number>> };
    const { data } = response.json<{ data: Overview[] }>();
    expect(data.map((q) => q.queue)).toEqual(expect.arrayContaining([QUEUE, 'images.download']));
    const orders = data.find((q) => q.queue === QUEUE)!;
    expect(orders.counts).toMatchObject({ parked: 2, ready: 0 });
    expect(orders.byPriority.parked).toMatchObject({ 4: 2 });
    expect(orders.throughput).toHaveLength(5);
    const total = (outcome: string) => orders.throughput.reduce((sum, minute) => sum + minute[outcome]!, 0);
    expect([total('completed'), total('failed'), total('parked')]).toEqual([0, 2, 2]);
  });

  it('says since when the oldest ready job has waited, and flags a wait past QUEUE_WAIT_WARN_S in the API and the metrics', async () => {
    const queues = async () => (await get('/api/admin/queues')).json<{ data: Array<{ queue: string; oldestReadySince: number | null; longWait: boolean; waitWarnS: number }> }>().data;
    const images = async () => (await queues()).find((q) => q.queue === 'images.download')!;
    expect(await images()).toMatchObject({ oldestReadySince: null, longWait: false, waitWarnS: 300 });
    const enqueuedAt = t.clock.now();
    await t.container.queue.enqueue('images.download', { urlHash: 'x' });
    expect(await images()).toMatchObject({ oldestReadySince: enqueuedAt, longWait: false });
    t.clock.advance(301_000);
    expect(await images()).toMatchObject({ oldestReadySince: enqueuedAt, longWait: true });
    const metrics = parsePrometheus(await t.container.metrics.text());
    expect(metrics.get('queue_long_wait{queue=images.download,role=api}')).toBe(1);
    expect(metrics.get('queue_oldest_ready_age_seconds{queue=images.download,role=api}')).toBe(301);
    expect(metrics.get('queue_long_wait{queue=orders.integration,role=api}')).toBe(0);
    await t.container.queue.purgeParked('images.download');
    await t.container.database.db.deleteFrom('jobs').where('queue', '=', 'images.download').execute();
  });

  it('pages through parked jobs, with the parked total and Laravel’s paginator keys', async () => {
    type Page = { data: Array<{ id: string }>; links: Record<string, string | null>; meta: Record<string, number | string | null> };
    const page = async (query: string) => {
      const response = await get(`/api/admin/queues/${QUEUE}/parked?${query}`);
      expect(response.statusCode, query).toBe(200);
      return response.json<Page>();
    };
    const first = await page('per_page=1');
    expect(first.data).toHaveLength(1);
    expect(first.meta).toEqual({ current_page: 1, from: 1, to: 1, last_page: 2, per_page: 1, total: 2, path: `/api/admin/queues/${QUEUE}/parked` });
    expect(first.links).toEqual({
      first: `/api/admin/queues/${QUEUE}/parked?page=1&per_page=1`,
      last: `/api/admin/queues/${QUEUE}/parked?page=2&per_page=1`,
      prev: null,
      next: `/api/admin/queues/${QUEUE}/parked?page=2&per_page=1`,
    });
    const second = await page(first.links.next!.split('?')[1]!);
    expect(second.data).toHaveLength(1);
    expect(second.data[0]!.id).not.toBe(first.data[0]!.id);
    expect(second.meta).toMatchObject({ current_page: 2, from: 2, to: 2 });
    expect(second.links.next).toBeNull();
    const past = await page('page=3&per_page=1');
    expect(past.data).toEqual([]);
    expect(past.meta).toMatchObject({ current_page: 3, from: null, to: null, total: 2 });
    // 50 a page by default.
    expect((await page('')).meta).toMatchObject({ per_page: 50, from: 1, to: 2, total: 2 });
  });

  it('lists parked jobs with payload, last error and attempts, and re-drives one', async () => {
    const listed = await get(`/api/admin/queues/${QUEUE}/parked`);
    expect(listed.statusCode).toBe(200);
    const jobs = listed.json<{ data: Array<{ id: string; payload: { itemId: number }; lastError: string; attempts: number; maxAttempts: number }> }>().data;
    expect(jobs.map((j) => j.payload.itemId).sort()).toEqual([101, 102]);
    expect(jobs.every((j) => j.lastError === 'third party down' && j.attempts === 1 && j.maxAttempts === 1)).toBe(true);

    const retried = await post(`/api/admin/queues/${QUEUE}/parked/retry`, { ids: [jobs[0]!.id] });
    expect(retried.json()).toEqual({ retried: 1 });
    expect((await t.container.queue.stats(QUEUE)).counts).toMatchObject({ parked: 1, ready: 1 });
  });

  it('purges parked jobs only with an explicit confirmation', async () => {
    const refused = await post(`/api/admin/queues/${QUEUE}/parked/purge`, {});
    expect(refused.statusCode).toBe(422);
    expect((await t.container.queue.stats(QUEUE)).counts.parked).toBe(1);
    const purged = await post(`/api/admin/queues/${QUEUE}/parked/purge`, { confirm: true });
    expect(purged.json()).toEqual({ purged: 1 });
    expect((await t.container.queue.stats(QUEUE)).counts.parked).toBe(0);
  });

  it('answers 404 for a queue it does not know and 422 for a malformed request, never 500', async () => {
    expect((await get('/api/admin/queues/no-such-queue/parked')).statusCode).toBe(404);
    expect((await post(`/api/admin/queues/${QUEUE}/parked/retry`, { ids: [] })).statusCode).toBe(422);
    expect((await post(`/api/admin/queues/${QUEUE}/parked/retry`, { ids: 'some' })).statusCode).toBe(422);
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'page=100001', 'page=x']) expect((await get(`/api/admin/queues/${QUEUE}/parked?${query}`)).statusCode, query).toBe(422);
  });
});
