import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookEventType } from '../../src/webhooks/event-types.js';
import { webhookDeliveryJob } from '../../src/webhooks/webhooks.jobs.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { createEndpoint, endpointBody, fakeDns } from './webhooks-support.js';

interface DeliveryView {
  id: number;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  duration_ms: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
}
interface EventView {
  id: string;
  type: string;
  timestamp: string;
  data: unknown;
}
interface Listing<T> {
  data: T[];
  links: Record<string, string | null>;
  meta: Record<string, unknown>;
}

const ALL_TYPES: WebhookEventType[] = ['order.item.completed', 'order.item.failed', 'order.completed'];
const DELIVERY_KEYS = ['attempts', 'created_at', 'duration_ms', 'event_id', 'event_type', 'finished_at', 'id', 'last_error', 'last_status_code', 'next_attempt_at', 'status'];

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ resolve: fakeDns });
});
afterAll(() => t.close());

const db = () => t.container.database.db;
const get = (user: TestUser, url: string) => t.inject({ method: 'GET', url, headers: user.auth });
const post = (user: TestUser, url: string) => t.inject({ method: 'POST', url, headers: user.auth });
const iso = (ms: number) => new Date(ms).toISOString();

/** Records events of `user` as the orders pipeline does: in a transaction, with a delivery per subscribed endpoint. */
function publish(user: TestUser, ...types: WebhookEventType[]): Promise<void> {
  return t.container.database.transaction((trx) => t.container.webhookEvents.publish(trx, types.map((type, i) => ({ userId: user.id, type, data: { n: i, type } }))));
}

async function deliveriesOf(endpointId: number): Promise<Array<{ id: number; event_id: string }>> {
  return db().selectFrom('webhook_deliveries').select(['id', 'event_id']).where('endpoint_id', '=', endpointId).orderBy('id').execute();
}

/** What the delivery side writes when a delivery finishes. */
function finish(id: number, status: 'succeeded' | 'failed', code: number, error: string | null, attempts: number): Promise<unknown> {
  const now = t.clock.now();
  return db().updateTable('webhook_deliveries').set({ status, attempts, last_status_code: code, last_duration_ms: 42, last_error: error, finished_at: now, updated_at: now }).where('id', '=', id).execute();
}

describe('GET /api/webhooks/{id}/deliveries', () => {
  it("lists an endpoint's deliveries newest first, with their outcome, filtered by status and paginated", async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u, endpointBody({ events: ALL_TYPES }));
    const { webhook: other } = await createEndpoint(t, u, endpointBody({ events: ['order.completed'] }));
    await publish(u, 'order.item.completed', 'order.item.failed', 'order.completed', 'order.item.completed', 'order.item.completed');
    const rows = await deliveriesOf(webhook.id);
    expect(rows).toHaveLength(5);
    expect(await deliveriesOf(other.id)).toHaveLength(1);
    const [a, b, c, d, e] = rows;
    await finish(a!.id, 'succeeded', 200, null, 1);
    await finish(b!.id, 'failed', 500, 'HTTP 500', 7);
    await finish(c!.id, 'failed', 404, 'HTTP 404', 1);
    await finish(d!.id, 'succeeded', 204, null, 2);

    const base = `/api/webhooks/${webhook.id}/deliveries`;
    const all = (await get(u, base)).json<Listing<DeliveryView>>();
    expect(all.data.map((x) => x.id)).toEqual([e!.id, d!.id, c!.id, b!.id, a!.id]);
    expect(all.meta).toMatchObject({ total: 5, per_page: 15, current_page: 1 });
    for (const delivery of all.data) expect(Object.keys(delivery).sort()).toEqual(DELIVERY_KEYS);
    const now = iso(t.clock.now());
    expect(all.data.find((x) => x.id === b!.id)).toEqual({
      id: b!.id,
      event_id: b!.event_id,
      event_type: 'order.item.failed',
      status: 'failed',
      attempts: 7,
      last_status_code: 500,
      duration_ms: 42,
      last_error: 'HTTP 500',
      next_attempt_at: null,
      created_at: now,
      finished_at: now,
    });
    expect(all.data[0]).toMatchObject({ status: 'pending', attempts: 0, last_status_code: null, next_attempt_at: now, finished_at: null, event_type: 'order.item.completed' });
    expect(all.data[0]!.event_id).toMatch(/^evt_/);

    const failed = (await get(u, `${base}?status=failed`)).json<Listing<DeliveryView>>();
    expect(failed.data.map((x) => x.id)).toEqual([c!.id, b!.id]);
    expect((await get(u, `${base}?status=pending`)).json<Listing<DeliveryView>>().data.map((x) => x.id)).toEqual([e!.id]);
    expect((await get(u, `${base}?status=succeeded`)).json<Listing<DeliveryView>>().meta.total).toBe(2);

    const page = (await get(u, `${base}?status=succeeded&per_page=1&page=2`)).json<Listing<DeliveryView>>();
    expect(page.data.map((x) => x.id)).toEqual([a!.id]);
    expect(page.meta).toMatchObject({ current_page: 2, last_page: 2, total: 2, from: 2, to: 2 });
    expect(page.links.prev).toMatch(/\?status=succeeded&page=1&per_page=1$/);
    expect(page.links.next).toBeNull();
  });

  it('refuses an unknown status and page bounds with 422', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    for (const query of ['status=done', 'status=', 'status=PENDING', 'per_page=101', 'page=0']) {
      const res = await get(u, `/api/webhooks/${webhook.id}/deliveries?${query}`);
      expect(res.statusCode, query).toBe(422);
      expect(Object.keys(res.json<{ errors: Record<string, string[]> }>().errors).length).toBeGreaterThan(0);
    }
  });
});

describe('POST /api/webhooks/{id}/deliveries/{delivery_id}/retry', () => {
  it('puts a failed delivery back to pending with a fresh count of attempts and enqueues a delivery job', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    await publish(u, 'order.completed');
    const [delivery] = await deliveriesOf(webhook.id);
    await finish(delivery!.id, 'failed', 500, 'HTTP 500', 7);
    const before = await t.container.queue.stats(webhookDeliveryJob.queue);
    t.clock.advance(60_000);

    const res = await post(u, `/api/webhooks/${webhook.id}/deliveries/${delivery!.id}/retry`);
    expect(res.statusCode, res.body).toBe(202);
    const now = iso(t.clock.now());
    expect(res.json<{ delivery: DeliveryView }>().delivery).toMatchObject({ id: delivery!.id, event_id: delivery!.event_id, status: 'pending', attempts: 0, next_attempt_at: now, finished_at: null });
    const after = await t.container.queue.stats(webhookDeliveryJob.queue);
    expect(after.counts.ready).toBe(before.counts.ready + 1);
    const message = await db().selectFrom('webhook_deliveries').select('message_id').where('id', '=', delivery!.id).executeTakeFirstOrThrow();
    const jobs = await db().selectFrom('jobs').select('payload').where('queue', '=', webhookDeliveryJob.queue).execute();
    expect(jobs.filter((job) => JSON.parse(String(job.payload)).messageId === message.message_id)).toHaveLength(2);

    const again = await post(u, `/api/webhooks/${webhook.id}/deliveries/${delivery!.id}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ message: string }>().message).toMatch(/already pending/);
    expect((await t.container.queue.stats(webhookDeliveryJob.queue)).counts.ready).toBe(after.counts.ready);
  });

  it('retries a succeeded delivery too, and answers 409 for a pending one', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    await publish(u, 'order.completed', 'order.completed');
    const [done, pending] = await deliveriesOf(webhook.id);
    await finish(done!.id, 'succeeded', 200, null, 1);
    expect((await post(u, `/api/webhooks/${webhook.id}/deliveries/${done!.id}/retry`)).statusCode).toBe(202);
    expect((await post(u, `/api/webhooks/${webhook.id}/deliveries/${pending!.id}/retry`)).statusCode).toBe(409);
  });

  it("answers 404 for an unknown delivery, another endpoint's delivery and another user's", async () => {
    const [u, intruder] = [await t.user(), await t.user()];
    const { webhook } = await createEndpoint(t, u);
    const { webhook: second } = await createEndpoint(t, u);
    const { webhook: theirs } = await createEndpoint(t, intruder);
    await publish(u, 'order.completed');
    const [delivery] = await deliveriesOf(webhook.id);
    await finish(delivery!.id, 'failed', 500, 'HTTP 500', 7);
    const cases: Array<[TestUser, string, string]> = [
      [u, `/api/webhooks/${webhook.id}/deliveries/999999999/retry`, 'Delivery not found.'],
      [u, `/api/webhooks/${second.id}/deliveries/${delivery!.id}/retry`, 'Delivery not found.'],
      [intruder, `/api/webhooks/${webhook.id}/deliveries/${delivery!.id}/retry`, 'Webhook endpoint not found.'],
      [intruder, `/api/webhooks/${theirs.id}/deliveries/${delivery!.id}/retry`, 'Delivery not found.'],
    ];
    for (const [user, url, message] of cases) {
      const res = await post(user, url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json<{ message: string }>().message).toBe(message);
    }
    expect((await get(intruder, `/api/webhooks/${webhook.id}/deliveries`)).statusCode).toBe(404);
    expect(await db().selectFrom('webhook_deliveries').select('status').where('id', '=', delivery!.id).executeTakeFirstOrThrow()).toEqual({ status: 'failed' });
  });

  it('answers 409 while the endpoint is disabled', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    await publish(u, 'order.completed');
    const [delivery] = await deliveriesOf(webhook.id);
    await finish(delivery!.id, 'failed', 410, 'HTTP 410', 1);
    await t.inject({ method: 'PATCH', url: `/api/webhooks/${webhook.id}`, headers: u.auth, payload: { enabled: false } });
    const res = await post(u, `/api/webhooks/${webhook.id}/deliveries/${delivery!.id}/retry`);
    expect(res.statusCode).toBe(409);
    expect(res.json<{ message: string }>().message).toMatch(/disabled/);
  });
});

describe('GET /api/events', () => {
  const SETTLE_MS = 2000;

  it("lists the caller's settled events oldest first, as the bodies endpoints receive plus their id", async () => {
    const [u, other] = [await t.user(), await t.user()];
    await publish(u, 'order.item.completed', 'order.item.failed', 'order.completed');
    await publish(other, 'order.completed');
    const publishedAt = t.clock.now();
    expect((await get(u, '/api/events')).json()).toEqual({ data: [], has_more: false });

    t.clock.advance(SETTLE_MS);
    const res = await get(u, '/api/events');
    expect(res.statusCode).toBe(200);
    const listing = res.json<{ data: EventView[]; has_more: boolean }>();
    expect(listing.has_more).toBe(false);
    expect(listing.data.map((e) => e.type)).toEqual(['order.item.completed', 'order.item.failed', 'order.completed']);
    expect(listing.data[0]).toEqual({ id: expect.stringMatching(/^evt_/), type: 'order.item.completed', timestamp: iso(publishedAt), data: { n: 0, type: 'order.item.completed' } });
    const stored = await db().selectFrom('webhook_events').select(['id', 'body']).where('user_id', '=', u.id).orderBy('seq').execute();
    expect(listing.data.map(({ id, ...body }) => [id, JSON.stringify(body)])).toEqual(stored.map((row) => [row.id, row.body]));
  });

  it('pages on with since and limit, and filters by types', async () => {
    const u = await t.user();
    await publish(u, 'order.item.completed', 'order.item.failed', 'order.item.completed', 'order.completed', 'order.item.completed');
    t.clock.advance(SETTLE_MS);
    const all = (await get(u, '/api/events')).json<{ data: EventView[] }>().data;
    expect(all).toHaveLength(5);

    const first = (await get(u, '/api/events?limit=2')).json<{ data: EventView[]; has_more: boolean }>();
    expect(first).toEqual({ data: all.slice(0, 2), has_more: true });
    const second = (await get(u, `/api/events?limit=2&since=${first.data[1]!.id}`)).json<{ data: EventView[]; has_more: boolean }>();
    expect(second).toEqual({ data: all.slice(2, 4), has_more: true });
    const last = (await get(u, `/api/events?limit=2&since=${second.data[1]!.id}`)).json<{ data: EventView[]; has_more: boolean }>();
    expect(last).toEqual({ data: all.slice(4), has_more: false });
    expect((await get(u, `/api/events?since=${all[4]!.id}`)).json()).toEqual({ data: [], has_more: false });

    const failedOrDone = (await get(u, '/api/events?types=order.item.failed,order.completed')).json<{ data: EventView[] }>().data;
    expect(failedOrDone.map((e) => e.type)).toEqual(['order.item.failed', 'order.completed']);
    const after = (await get(u, `/api/events?types=order.item.completed&since=${all[0]!.id}`)).json<{ data: EventView[] }>().data;
    expect(after.map((e) => e.id)).toEqual([all[2]!.id, all[4]!.id]);
  });

  it('does not list an event until it is 2 seconds old, so that a late commit is never skipped', async () => {
    const u = await t.user();
    await publish(u, 'order.item.completed');
    t.clock.advance(1500);
    await publish(u, 'order.completed');
    t.clock.advance(SETTLE_MS - 1500);
    const early = (await get(u, '/api/events')).json<{ data: EventView[] }>().data;
    expect(early.map((e) => e.type)).toEqual(['order.item.completed']);
    t.clock.advance(1500);
    expect((await get(u, `/api/events?since=${early[0]!.id}`)).json<{ data: EventView[] }>().data.map((e) => e.type)).toEqual(['order.completed']);
  });

  it('lists only events within WEBHOOK_LOG_DAYS', async () => {
    const u = await t.user();
    await publish(u, 'order.item.completed');
    t.clock.advance(t.config.webhooks.logDays * 86_400_000 - 60_000);
    await publish(u, 'order.completed');
    t.clock.advance(120_000);
    expect((await get(u, '/api/events')).json<{ data: EventView[] }>().data.map((e) => e.type)).toEqual(['order.completed']);
  });

  it("refuses an unknown since, another user's since, unknown types and a limit out of 1..1000 with 422", async () => {
    const [u, other] = [await t.user(), await t.user()];
    await publish(other, 'order.completed');
    t.clock.advance(SETTLE_MS);
    const theirs = (await get(other, '/api/events')).json<{ data: EventView[] }>().data[0]!.id;
    const cases: Array<[string, string]> = [
      [`since=${theirs}`, 'since'],
      ['since=evt_00000000000000000000000000', 'since'],
      ['since=', 'since'],
      [`since=${'x'.repeat(65)}`, 'since'],
      ['types=order.shipped', 'types'],
      ['types=order.completed,nope', 'types'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=abc', 'limit'],
    ];
    for (const [query, field] of cases) {
      const res = await get(u, `/api/events?${query}`);
      expect(res.statusCode, `${query}: ${res.body}`).toBe(422);
      expect(Object.keys(res.json<{ errors: Record<string, string[]> }>().errors), query).toContain(field);
    }
    expect((await get(u, '/api/events?limit=1000&types=order.completed')).statusCode).toBe(200);
    expect((await t.inject({ method: 'GET', url: '/api/events' })).statusCode).toBe(401);
  });
});
