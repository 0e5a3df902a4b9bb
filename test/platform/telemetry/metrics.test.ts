import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry } from '../../../src/app/container.js';
import type { Worker } from '../../../src/platform/queue/queue.js';
import { startFakeThirdParty, type FakeThirdParty } from '../../orders/fake-third-party.js';
import { createTestApp, item, orderWith, type TestApp } from '../../support/app.js';
import { waitFor } from '../../support/driver-wait.js';
import { parsePrometheus, type Samples } from '../../support/prometheus.js';

describe('GET /metrics after a scripted workload', () => {
  let t: TestApp;
  let thirdParty: FakeThirdParty;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestApp({ env: { DUPLICATE_WINDOW_SECONDS: '30' } });
    thirdParty = await startFakeThirdParty();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(0)));
    await closeJobs?.();
    await t.close();
    await thirdParty.close();
  });

  const scrape = async () => {
    const response = await t.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    return parsePrometheus(response.body);
  };
  const value = (samples: Samples, key: string) => samples.get(key) ?? 0;

  it('counts what the workload did, with route patterns for labels', async () => {
    const user = await t.user();
    const recurring = (label: string) => orderWith(item({ kind: 'recurring', label, meta: { priority: 'high' } }));
    for (const n of [1, 2, 3]) expect((await t.postOrder(user, recurring(`plan ${n}`), { 'idempotency-key': `key-${n}` })).statusCode).toBe(201);
    expect((await t.postOrder(user, recurring('plan 1'), { 'idempotency-key': 'key-1' })).headers['idempotent-replayed']).toBe('true');
    expect((await t.postOrder(user, recurring('guarded'))).statusCode).toBe(201);
    expect((await t.postOrder(user, recurring('guarded'))).statusCode).toBe(409);
    expect((await t.inject({ method: 'GET', url: '/api/orders/987654', headers: user.auth })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/no/such/path/42' })).statusCode).toBe(404);

    const before = await scrape();
    expect(value(before, 'orders_created_total{role=api}')).toBe(4);
    expect(value(before, 'idempotency_replays_total{role=api}')).toBe(1);
    expect(value(before, 'duplicate_orders_total{role=api}')).toBe(1);
    expect(value(before, 'jobs_enqueued_total{priority=3,queue=orders.integration,role=api}')).toBe(4);
    expect(value(before, 'queue_depth{priority=3,queue=orders.integration,role=api,state=ready}')).toBe(4);
    expect(value(before, 'http_request_duration_seconds_count{method=POST,role=api,route=/api/orders,status_code=201}')).toBe(5);
    expect(value(before, 'http_request_duration_seconds_count{method=POST,role=api,route=/api/orders,status_code=409}')).toBe(1);
    expect(value(before, 'http_request_duration_seconds_count{method=GET,role=api,route=/api/orders/:id,status_code=404}')).toBe(1);
    expect(value(before, 'http_request_duration_seconds_count{method=GET,role=api,route=unmatched,status_code=404}')).toBe(1);
    expect([...before.keys()].some((key) => key.includes('987654') || key.includes('/no/such'))).toBe(false);
    expect(value(before, 'process_resident_memory_bytes{role=api}')).toBeGreaterThan(0);

    const jobs = createJobRegistry(t.container, thirdParty.url);
    closeJobs = jobs.close;
    workers = jobs.registry.start(t.container.queue, { concurrency: 2 });
    await waitFor(() => thirdParty.received.length === 4, 10_000, 'four third-party calls');
    await waitFor(async () => value(await scrape(), 'jobs_finished_total{outcome=completed,queue=orders.integration,role=api}') === 4, 10_000, 'four completed jobs');

    const after = await scrape();
    expect(value(after, 'third_party_requests_total{role=api,status_class=2xx}')).toBe(4);
    expect(value(after, 'third_party_duration_seconds_count{role=api}')).toBe(4);
    expect(value(after, 'job_duration_seconds_count{queue=orders.integration,role=api}')).toBe(4);
    expect(value(after, 'jobs_finished_total{outcome=retried,queue=orders.integration,role=api}')).toBe(0);
  });

  it('counts a job enqueued in a transaction only once it commits', async () => {
    const key = 'jobs_enqueued_total{priority=2,queue=orders.integration,role=api}';
    const { database, queue } = t.container;
    const before = value(await scrape(), key);
    await expect(
      database.transaction(async (trx) => {
        await queue.enqueue('orders.integration', { itemId: 0 }, {}, trx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(value(await scrape(), key)).toBe(before);
    await database.transaction((trx) => queue.enqueue('orders.integration', { itemId: 0 }, {}, trx));
    expect(value(await scrape(), key)).toBe(before + 1);
  });
});
