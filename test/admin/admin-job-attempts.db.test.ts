import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJobAttempts, listAttemptsOfJob, type JobAttemptInsert } from '../../src/platform/queue/job-attempts.repository.js';
import type { AttemptOutcome } from '../../src/platform/queue/job-attempts.table.js';
import { PermanentError } from '../../src/platform/queue/queue.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { sleep, waitFor } from '../support/driver-wait.js';
import { unicodeText } from '../support/unicode.js';

const QUEUE = 'images.download';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

describe('operator API: recent jobs and a job with its attempts', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: TestUser;
  let parkedId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const operator = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = await t.user('customer');
    const now = t.clock.now();
    const row = (jobId: string, attempt: number, outcome: AttemptOutcome, at: number): JobAttemptInsert => ({
      queue: QUEUE,
      job_id: jobId,
      attempt,
      priority: 2,
      outcome,
      started_at: at,
      duration_ms: outcome === 'parked' ? null : 40,
      error: outcome === 'completed' ? null : 'host answered 503',
      process: 'worker-1:7',
      payload: JSON.stringify({ url: `https://cdn.example/${jobId}.jpg`, padding: 'x'.repeat(300) }),
      headers: JSON.stringify({ traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` }),
      enqueued_at: now - 60_000,
    });
    // Seven completed jobs (one after a retry), two that failed and were parked, one whose retry is due.
    const rows = Array.from({ length: 7 }, (_, i) => row(`done-${i}`, 1, 'completed', now - 10_000 + i * 1_000));
    rows.push(row('flaky', 1, 'retried', now - 5_000), row('flaky', 2, 'completed', now - 4_000));
    rows.push(row('gone-1', 1, 'failed', now - 3_000), row('gone-1', 1, 'parked', now - 3_000), row('gone-2', 1, 'failed', now - 2_000), row('gone-2', 1, 'parked', now - 2_000));
    rows.push(row('waiting', 1, 'retried', now - 1_000));
    await insertJobAttempts(t.container.database.db, rows);

    // A job the queue still holds, parked, run through the app's own queue.
    const { queue } = t.container;
    await queue.enqueue('orders.integration', { itemId: 42 }, { maxAttempts: 3, priority: 4, headers: { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` } });
    let id: string | undefined;
    const worker = queue.work('orders.integration', async (_payload, job) => {
      id = job.id;
      throw new PermanentError('third party answered 422');
    }, { concurrency: 1 });
    await waitFor(async () => id !== undefined && (await listAttemptsOfJob(t.container.database.db, 'orders.integration', id)).length === 2, 10_000, 'the attempt and the parking recorded');
    await worker.stop(1_000);
    parkedId = id!;
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const ids = (body: { data: Array<{ id: string }> }) => body.data.map((job) => job.id);

  it('is for operators only, about the queues it knows', async () => {
    expect((await get(`/api/admin/queues/${QUEUE}/recent`, {})).statusCode).toBe(401);
    expect((await get(`/api/admin/queues/${QUEUE}/recent`, customer.auth)).statusCode).toBe(403);
    expect((await get(`/api/admin/queues/${QUEUE}/jobs/done-1`, customer.auth)).statusCode).toBe(403);
    expect((await get('/api/admin/queues/nope/recent')).statusCode).toBe(404);
    expect((await get('/api/admin/queues/nope/jobs/1')).statusCode).toBe(404);
    expect((await get(`/api/admin/queues/${QUEUE}/recent?outcome=deferred`)).statusCode).toBe(422);
    expect((await get(`/api/admin/queues/${QUEUE}/recent?per_page=101`)).statusCode).toBe(422);
  });

  it('pages through the recently completed jobs, newest first, each as its latest attempt shows it', async () => {
    const first = await get(`/api/admin/queues/${QUEUE}/recent?outcome=completed&per_page=3`);
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.meta).toMatchObject({ total: 8, per_page: 3, last_page: 3, current_page: 1 });
    expect(body.totalCapped).toBe(false);
    expect(body.links.next).toBe(`/api/admin/queues/${QUEUE}/recent?outcome=completed&page=2&per_page=3`);
    expect(ids(body)).toEqual(['flaky', 'done-6', 'done-5']);
    expect(body.data[0]).toMatchObject({ queue: QUEUE, attempt: 2, outcome: 'completed', durationMs: 40, error: null, priority: 2, at: t.clock.now() - 4_000 });
    expect(body.data[0].payloadSummary).toHaveLength(200);
    expect(body.data[0].payloadSummary).toMatch(/^\{"url":"https:\/\/cdn\.example\/flaky\.jpg".*…$/);
    expect(ids((await get(`/api/admin/queues/${QUEUE}/recent?outcome=completed&per_page=3&page=3`)).json())).toEqual(['done-1', 'done-0']);
  });

  it('lists the jobs that failed or were parked by default, and those whose retry is due', async () => {
    const failed = (await get(`/api/admin/queues/${QUEUE}/recent`)).json();
    expect(failed.data.map((job: { id: string; outcome: string }) => [job.id, job.outcome])).toEqual([
      ['gone-2', 'parked'],
      ['gone-1', 'parked'],
    ]);
    expect(failed.data[0]).toMatchObject({ durationMs: null, error: 'host answered 503' });
    expect(ids((await get(`/api/admin/queues/${QUEUE}/recent?outcome=retried`)).json())).toEqual(['waiting']);
  });

  it('shows a finished job with its payload, headers, trace id and every attempt', async () => {
    const response = await get(`/api/admin/queues/${QUEUE}/jobs/flaky`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: 'flaky',
      queue: QUEUE,
      state: null,
      searched: 'all',
      payload: { url: 'https://cdn.example/flaky.jpg', padding: 'x'.repeat(300) },
      headers: { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
      traceId: TRACE_ID,
      priority: 2,
      enqueuedAt: t.clock.now() - 60_000,
      attemptsMade: null,
      maxAttempts: null,
      lastError: null,
      attempts: [
        { attempt: 1, outcome: 'retried', startedAt: t.clock.now() - 5_000, durationMs: 40, error: 'host answered 503', process: 'worker-1:7' },
        { attempt: 2, outcome: 'completed', startedAt: t.clock.now() - 4_000, durationMs: 40, error: null, process: 'worker-1:7' },
      ],
    });
  });

  it('shows a job the queue still holds with its state, and its recorded attempts', async () => {
    const body = (await get(`/api/admin/queues/orders.integration/jobs/${parkedId}`)).json();
    expect(body).toMatchObject({ id: parkedId, state: 'parked', searched: 'all', payload: { itemId: 42 }, priority: 4, traceId: TRACE_ID, attemptsMade: 1, maxAttempts: 3, lastError: 'third party answered 422' });
    expect(body.attempts.map((a: { outcome: string; error: string }) => [a.outcome, a.error])).toEqual([
      ['failed', 'third party answered 422'],
      ['parked', 'third party answered 422'],
    ]);
    expect(body.attempts[0].process).toMatch(/:\d+$/);
  });

  it('answers 404 for a job neither held nor recorded, whatever its id looks like', async () => {
    for (const id of ['999999', 'not-a-number', '6d2f7c1e-0c4b-4b5e-9a55-2f1f6f0f4a11']) {
      const response = await get(`/api/admin/queues/orders.integration/jobs/${id}`);
      expect(response.statusCode).toBe(404);
      expect(response.json().message).toContain(`No job ${id} in orders.integration`);
    }
  });

  it('never answers 5xx to arbitrary queue names, job ids and query strings', async () => {
    // Path segments: any text as its UTF-8 bytes (a lone surrogate becomes U+FFFD), or raw escapes that decode to nothing valid.
    const segment = (known: string[]) =>
      fc.oneof(
        fc.constantFrom(...known, '%00', '%ff', '%C0%AF', '..%2F..', '%20', 'a%2Fb'),
        unicodeText({ minLength: 1, maxLength: 30 }).map((text) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')),
      );
    const texts = fc.oneof(fc.constantFrom('', '0', '-1', '1e3', '101', 'completed', 'failed', 'retried', 'parked', '\u0000'), unicodeText({ maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(segment([QUEUE, 'orders.integration']), segment(['flaky', parkedId, '1']), texts, texts, texts, async (queue, id, outcome, page, perPage) => {
        const recent = await get(`/api/admin/queues/${queue}/recent?${new URLSearchParams({ outcome, page, per_page: perPage })}`);
        expect([200, 400, 404, 422], recent.body).toContain(recent.statusCode);
        const detail = await get(`/api/admin/queues/${queue}/jobs/${id}`);
        expect([200, 400, 404, 422], detail.body).toContain(detail.statusCode);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 60) },
    );
  });
});

describe('operator API with JOB_ATTEMPT_LOG=false', () => {
  let t: TestApp;
  afterAll(() => t?.close());

  it('records no attempt, and still shows a job the queue holds', async () => {
    t = await createTestApp({ env: { JOB_ATTEMPT_LOG: 'false' } });
    const operator = await t.user('operator');
    const admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    const { queue } = t.container;
    await queue.enqueue('orders.integration', { itemId: 1 }, { maxAttempts: 1 });
    const worker = queue.work('orders.integration', async () => Promise.reject(new PermanentError('refused')), { concurrency: 1 });
    await waitFor(async () => (await queue.stats('orders.integration')).counts.parked === 1, 10_000, 'the job parked');
    await worker.stop(1_000);
    const [parked] = await queue.parked('orders.integration');
    const detail = await t.inject({ method: 'GET', url: `/api/admin/queues/orders.integration/jobs/${parked!.id}`, headers: admin });
    expect(detail.json()).toMatchObject({ state: 'parked', payload: { itemId: 1 }, lastError: 'refused', attempts: [] });
    // Longer than the log's flush interval, had it been on.
    await sleep(400);
    expect(await t.container.database.db.selectFrom('job_attempts').selectAll().execute()).toEqual([]);
    expect((await t.inject({ method: 'GET', url: '/api/admin/queues/orders.integration/recent', headers: admin })).json().meta.total).toBe(0);
  });
});
