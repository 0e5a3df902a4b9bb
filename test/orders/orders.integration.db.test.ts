import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { orderIntegrationHandler } from '../../src/orders/orders.integration.js';
import { isRetryableStatus } from '../../src/platform/net/retry-after.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import type { JobContext } from '../../src/platform/queue/queue.js';
import { waitFor } from '../support/driver-wait.js';
import { closeHarness, MAX_ATTEMPTS, start, type Harness } from './integration-harness.js';

afterEach(closeHarness);

const parkedCount = async (h: Harness) => (await h.container.queue.stats(orderIntegrationJob.queue)).counts.parked;
const jobCount = async (h: Harness) => Object.values((await h.container.queue.stats(orderIntegrationJob.queue)).counts).reduce((a, b) => a + b, 0);

describe('order integration job', () => {
  it('completes the item on a 2xx, recording status code, attempts and duration', async () => {
    const h = await start(() => ({ status: 201 }));
    const [id] = await h.order({ label: 'Monthly box', cost: 19.99 });
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'completed');
    expect(details).toMatchObject({ status_code: 201, attempts: 1, last_error: null });
    expect(details!.duration_ms).toBeGreaterThanOrEqual(0);
    expect(Number.isInteger(details!.duration_ms)).toBe(true);
    expect(new Date(details!.completed_at!).toISOString()).toBe(details!.completed_at);
    await waitFor(async () => (await jobCount(h)) === 0, 5000, 'the job to be deleted');
  });

  it('sends {ProductName, Price, Timestamp} with Idempotency-Key order-item-<id>', async () => {
    const h = await start(() => ({ status: 200 }));
    const orderedAt = h.clock.now();
    const [id] = await h.order({ label: 'Monthly box', cost: 19.99 });
    h.startWorkers();
    await h.waitForStatus(id!, 'completed');
    expect(h.thirdParty.received).toHaveLength(1);
    const [request] = h.thirdParty.received;
    expect(request!.body).toEqual({ ProductName: 'Monthly box', Price: 19.99, Timestamp: expect.any(String) });
    const sentAt = Date.parse((request!.body as { Timestamp: string }).Timestamp);
    expect(Math.abs(sentAt - orderedAt)).toBeLessThan(1000);
    expect(request!.headers['idempotency-key']).toBe(`order-item-${id}`);
    expect(request!.headers['content-type']).toBe('application/json');
  });

  it('retries a 500 and completes on the following 201, with the same body and key every time', async () => {
    const h = await start((i) => (i === 0 ? { status: 500 } : { status: 201 }));
    const [id] = await h.order();
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'completed');
    expect(details).toMatchObject({ status_code: 201, attempts: 2, last_error: null });
    const [first, second] = h.thirdParty.received;
    expect(h.thirdParty.received).toHaveLength(2);
    expect(second!.body).toEqual(first!.body);
    expect(second!.headers['idempotency-key']).toBe(`order-item-${id}`);
    expect(first!.headers['idempotency-key']).toBe(`order-item-${id}`);
  });

  it.each([408, 429, 502, 503])('treats %i as retryable', async (status) => {
    const h = await start((i) => (i === 0 ? { status } : { status: 200 }));
    const [id] = await h.order();
    h.startWorkers();
    expect((await h.waitForStatus(id!, 'completed')).details!.attempts).toBe(2);
  });

  it.each([400, 404, 409, 422])('fails the item at once on %i and parks the job', async (status) => {
    const h = await start(() => ({ status }));
    const [id] = await h.order();
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'failed');
    expect(details).toMatchObject({ status_code: status, attempts: 1, last_error: `third party answered ${status}` });
    await waitFor(async () => (await parkedCount(h)) === 1, 5000, 'the job to be parked');
    const [parked] = await h.container.queue.parked(orderIntegrationJob.queue);
    expect(parked).toMatchObject({ attempts: 1, payload: { itemId: id }, lastError: `third party answered ${status}` });
    expect(h.thirdParty.received).toHaveLength(1);
  });

  it('parks the job after JOB_MAX_ATTEMPTS failures and fails the item', async () => {
    const h = await start(() => ({ status: 500 }));
    const [id] = await h.order();
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'failed');
    expect(details).toMatchObject({ status_code: 500, attempts: MAX_ATTEMPTS, last_error: 'third party answered 500' });
    await waitFor(async () => (await parkedCount(h)) === 1, 5000, 'the job to be parked');
    expect(h.thirdParty.received).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(h.thirdParty.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`order-item-${id}`]));
  });

  it('keeps the item processing, with the last error, between attempts', async () => {
    const h = await start((i) => (i === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 201 }), { JOB_BACKOFF_MAX_MS: '7200000' });
    const [id] = await h.order();
    h.startWorkers();
    await waitFor(() => h.thirdParty.received.length === 1, 5000, 'the first attempt');
    await waitFor(async () => (await h.item(id!)).details !== null, 5000, 'the first outcome');
    expect(await h.item(id!)).toEqual({ status: 'processing', details: { status_code: 503, attempts: 1, duration_ms: expect.any(Number), last_error: 'third party answered 503' } });
  });

  it('honours Retry-After: no retry before it has passed, a retry once it has', async () => {
    const h = await start((i) => (i === 0 ? { status: 503, headers: { 'retry-after': '120' } } : { status: 201 }), { JOB_BACKOFF_MAX_MS: '300000' });
    const [id] = await h.order();
    h.startWorkers();
    await waitFor(async () => (await h.container.queue.stats(orderIntegrationJob.queue)).counts.delayed === 1, 5000, 'the retry to be scheduled');
    const job = await h.container.database.db.selectFrom('jobs').select(['available_at', 'updated_at']).executeTakeFirstOrThrow();
    expect(Number(job.available_at) - Number(job.updated_at)).toBe(120_000);
    h.clock.advance(119_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.thirdParty.received).toHaveLength(1);
    h.clock.advance(1_000);
    expect((await h.waitForStatus(id!, 'completed')).details!.attempts).toBe(2);
  });

  it('retries when the third party is unreachable, and fails the item with the error after the last attempt', async () => {
    const h = await start(() => ({ status: 201 }));
    await h.thirdParty.close();
    const [id] = await h.order();
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'failed');
    expect(details).toMatchObject({ status_code: null, attempts: MAX_ATTEMPTS });
    expect(details!.last_error).toMatch(/^third party unreachable: /);
    await waitFor(async () => (await parkedCount(h)) === 1, 5000, 'the job to be parked');
  });

  it('retries a timeout like a network error', async () => {
    const h = await start((i) => (i === 0 ? 'hang' : { status: 201 }), { THIRD_PARTY_TIMEOUT_MS: '150' });
    const [id] = await h.order();
    h.startWorkers();
    const { details } = await h.waitForStatus(id!, 'completed');
    expect(details!.attempts).toBe(2);
  });

  it('serves higher priority items first', async () => {
    const h = await start(() => ({ status: 201 }));
    await h.order({ label: 'low', meta: { priority: 'low' } }, { label: 'max', meta: { priority: 'max' } }, { label: 'normal' }, { label: 'critical', meta: { priority: 'critical' } });
    h.startWorkers(1);
    await waitFor(() => h.thirdParty.received.length === 4, 5000, 'every item to be sent');
    expect(h.thirdParty.received.map((r) => (r.body as { ProductName: string }).ProductName)).toEqual(['max', 'critical', 'normal', 'low']);
  });

  it('never sends a completed item again, even when its job is delivered twice', async () => {
    const h = await start(() => ({ status: 201 }));
    const [id] = await h.order();
    h.startWorkers();
    await h.waitForStatus(id!, 'completed');
    const before = await h.item(id!);
    await h.container.queue.enqueue(orderIntegrationJob.queue, { itemId: id });
    await waitFor(async () => (await jobCount(h)) === 0, 5000, 'the duplicate delivery to be consumed');
    expect(h.thirdParty.received).toHaveLength(1);
    expect(await h.item(id!)).toEqual(before);
  });
});

describe('order integration handler', () => {
  it('is idempotent: re-running it on a completed item sends nothing and changes nothing', async () => {
    const h = await start(() => ({ status: 201 }));
    const [id] = await h.order();
    const client = new ThirdPartyClient({ url: h.thirdParty.url, timeoutMs: 2000 });
    const handler = orderIntegrationHandler({ database: h.container.database, client, clock: h.clock, logger: pino({ level: 'silent' }) });
    const job = (attempt: number): JobContext => ({ id: '1', queue: orderIntegrationJob.queue, attempt, maxAttempts: 3, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: new AbortController().signal });
    try {
      await handler({ itemId: id! }, job(1));
      const first = await h.item(id!);
      expect(first.status).toBe('completed');
      await handler({ itemId: id! }, job(2));
      await handler({ itemId: id! }, job(1));
      expect(h.thirdParty.received).toHaveLength(1);
      expect(await h.item(id!)).toEqual(first);
    } finally {
      await client.close();
    }
  });

  it('ignores an item that no longer exists', async () => {
    const h = await start(() => ({ status: 201 }));
    const client = new ThirdPartyClient({ url: h.thirdParty.url, timeoutMs: 2000 });
    const handler = orderIntegrationHandler({ database: h.container.database, client, clock: h.clock, logger: pino({ level: 'silent' }) });
    try {
      await handler({ itemId: 424242 }, { id: '1', queue: 'q', attempt: 1, maxAttempts: 1, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: new AbortController().signal });
      expect(h.thirdParty.received).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('classifies 408, 429 and 5xx as retryable and every other status as final', () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 410, 422, 499].some(isRetryableStatus)).toBe(false);
  });
});
