import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { RetryableError } from '../../src/platform/queue/queue.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';
import { parsePrometheus } from '../support/prometheus.js';

const QUEUE = orderIntegrationJob.queue;

describe('operator API: queue history', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: Record<string, string>;

  beforeAll(async () => {
    t = await createTestApp();
    admin = { authorization: `Bearer ${await t.container.auth.createToken((await t.user('operator')).id, 'ops', ['admin'])}` };
    customer = (await t.user('customer')).auth;
    // Three jobs: one completes, one is retried once then completes, one is parked.
    await t.container.queue.enqueueMany(QUEUE, [{ payload: { itemId: 1 } }, { payload: { itemId: 2 } }, { payload: { itemId: 3 }, options: { maxAttempts: 1 } }]);
    const worker = t.container.queue.work(
      QUEUE,
      async (payload, job) => {
        const { itemId } = payload as { itemId: number };
        if (itemId === 2 && job.attempt === 1) throw new RetryableError('503 from the third party', 1);
        if (itemId === 3) throw new RetryableError('503 from the third party');
      },
      { concurrency: 2, backoff: { baseMs: 1, maxMs: 5 } },
    );
    await waitFor(async () => {
      const { counts } = await t.container.queue.stats(QUEUE);
      t.clock.advance(10); // the retry's backoff, on the app's manual clock
      return counts.parked === 1 && counts.ready + counts.delayed + counts.active === 0;
    }, 5_000, 'the jobs to finish');
    await worker.stop();
    await t.container.history.flush();
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });

  it('needs a token with the admin ability, and a known queue', async () => {
    expect((await get(`/api/admin/queues/${QUEUE}/history`, {})).statusCode).toBe(401);
    expect((await get(`/api/admin/queues/${QUEUE}/history.svg`, customer)).statusCode).toBe(403);
    expect((await get('/api/admin/queues/nope/history')).statusCode).toBe(404);
    expect((await get('/api/admin/queues/nope/history.svg')).statusCode).toBe(404);
  });

  it('reports every minute of the last hour, with what finished and how long it waited', async () => {
    const response = await get(`/api/admin/queues/${QUEUE}/history`);
    expect(response.statusCode).toBe(200);
    type Bucket = { start: number; completed: number; retried: number; failed: number; parked: number; started: number; waitAvgMs: number | null; waitMaxMs: number | null };
    const body = response.json<{ range: string; bucketMs: number; waitWarnS: number; buckets: Bucket[] }>();
    expect(body).toMatchObject({ range: '1h', bucketMs: 60_000, waitWarnS: t.container.config.queueWaitWarnMs / 1000 });
    expect(body.buckets).toHaveLength(60);
    const sum = (key: 'completed' | 'retried' | 'failed' | 'parked' | 'started') => body.buckets.reduce((total, b) => total + b[key], 0);
    expect({ completed: sum('completed'), retried: sum('retried'), failed: sum('failed'), parked: sum('parked'), started: sum('started') }).toEqual({ completed: 2, retried: 1, failed: 1, parked: 1, started: 4 });
    expect(body.buckets.some((b) => b.waitMaxMs !== null && b.waitAvgMs !== null && b.waitMaxMs >= b.waitAvgMs)).toBe(true);
    const week = (await get(`/api/admin/queues/${QUEUE}/history?range=7d`)).json<{ bucketMs: number; buckets: Bucket[] }>();
    expect(week.bucketMs).toBe(300_000);
    expect(week.buckets.reduce((total, b) => total + b.completed, 0)).toBe(2);
  });

  it('draws the history as an SVG chart that carries its totals, and the wait chart with the QUEUE_WAIT_WARN_S line', async () => {
    const throughput = await get(`/api/admin/queues/${QUEUE}/history.svg?range=24h`);
    expect(throughput.statusCode).toBe(200);
    expect(throughput.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(throughput.headers['cache-control']).toBe('no-store');
    expect(throughput.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    for (const [name, value] of Object.entries({ chart: 'throughput', range: '24h', completed: '2', retried: '1', failed: '1', parked: '1', started: '4' })) {
      expect(throughput.body).toContain(`data-${name}="${value}"`);
    }
    expect(throughput.body.match(/<path class="series"/g)).toHaveLength(4);
    const wait = await get(`/api/admin/queues/${QUEUE}/history.svg?chart=wait&range=14d`);
    expect(wait.body).toContain('data-chart="wait"');
    expect(wait.body).toContain(`QUEUE_WAIT_WARN_S ${t.container.config.queueWaitWarnMs / 1000} s`);
  });

  it('exports the waits as the job_wait_seconds histogram', async () => {
    const metrics = parsePrometheus(await t.container.metrics.text());
    expect(metrics.get(`job_wait_seconds_count{queue=${QUEUE},role=api}`)).toBe(4);
  });

  it('answers any range or chart with the history or a 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 12 }), fc.constantFrom('range', 'chart'), fc.boolean(), async (value, key, svg) => {
        const response = await get(`/api/admin/queues/${QUEUE}/history${svg ? '.svg' : ''}?${key}=${encodeURIComponent(value)}`);
        expect([200, 400, 422]).toContain(response.statusCode);
      }),
      { numRuns: 60 },
    );
  });
});
