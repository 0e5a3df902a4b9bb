import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/platform/queue/queue.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';

const QUEUE = 'orders.integration';

describe('operator API: job search, and acting on its result', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    const operator = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = await t.user('customer');
    const { queue } = t.container;
    for (let itemId = 1; itemId <= 8; itemId++) await queue.enqueue(QUEUE, { itemId }, { maxAttempts: 1, priority: itemId <= 2 ? 5 : 2 });
    const worker = queue.work(QUEUE, async (payload) => Promise.reject(new PermanentError(((payload as { itemId: number }).itemId % 2 === 0 ? 'third party answered 503' : 'third party answered 422'))), { concurrency: 4 });
    await waitFor(async () => (await queue.stats(QUEUE)).counts.parked === 8, 10_000, 'eight parked jobs');
    await worker.stop(1_000);
  });
  afterAll(() => t.close());

  const search = (query: string, headers = admin) => t.inject({ method: 'GET', url: `/api/admin/queues/${QUEUE}/jobs?${query}`, headers });
  const act = (action: string, payload: Record<string, unknown>, headers = admin) => t.inject({ method: 'POST', url: `/api/admin/queues/${QUEUE}/jobs/${action}`, headers, payload });
  const itemIds = (body: { data: Array<{ payload: { itemId: number } }> }) => body.data.map((job) => job.payload.itemId).sort((a, b) => a - b);

  it('finds jobs by error text, priority and payload field, a page at a time, to operators only', async () => {
    expect((await search('q=503', customer.auth)).statusCode).toBe(403);
    const byError = await search('state=parked&q=answered%20503&per_page=3');
    expect(byError.statusCode).toBe(200);
    const body = byError.json();
    expect(body).toMatchObject({ scope: 'all', meta: { total: 4, per_page: 3, last_page: 2 } });
    expect(body.links.next).toContain('q=answered+503');
    expect(body.data[0]).toMatchObject({ queue: QUEUE, state: 'parked', attempts: 1, lastError: 'third party answered 503' });
    expect(itemIds((await search('q=503&page=2&per_page=3')).json())).toHaveLength(1);
    expect(itemIds((await search('priority=5')).json())).toEqual([1, 2]);
    expect(itemIds((await search('payload_field=itemId&payload_value=7')).json())).toEqual([7]);
    expect(itemIds((await search('state=ready')).json())).toEqual([]);
  });

  it('refuses bad filters with 422, and an unknown queue with 404', async () => {
    expect((await search('payload_field=itemId')).statusCode).toBe(422);
    expect((await search('state=sleeping')).statusCode).toBe(422);
    expect((await search('priority=9')).statusCode).toBe(422);
    expect((await t.inject({ method: 'GET', url: '/api/admin/queues/nope/jobs', headers: admin })).statusCode).toBe(404);
    expect((await act('retry', { q: '503' })).statusCode).toBe(422);
    expect((await act('retry', { state: 'ready', q: '503', confirm: true })).statusCode).toBe(422);
  });

  it('retries exactly the parked jobs the search found, then purges another search result', async () => {
    const retried = await act('retry', { state: 'parked', q: '503', confirm: true });
    expect(retried.json()).toEqual({ retried: 4 });
    expect(itemIds((await search('state=ready')).json())).toEqual([2, 4, 6, 8]);
    expect(itemIds((await search('state=parked')).json())).toEqual([1, 3, 5, 7]);
    expect((await act('purge', { payload_field: 'itemId', payload_value: '5', confirm: true })).json()).toEqual({ purged: 1 });
    expect(itemIds((await search('state=parked')).json())).toEqual([1, 3, 7]);
  });
});
