import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_MINUTES } from '../../src/admin/admin-webhooks.routes.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { seedDeliveries, seedEndpoint, seedUser } from '../webhooks/operator-fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Endpoint = { id: number; user: { id: number; name: string; email: string }; url: string; events: string[]; enabled: boolean; state: string; disabled_reason: string | null; failing_since: number | null; last_success_at: number | null; deliveries: { pending: number; failed: number } };
type Minute = { minute: number; succeeded: number; retrying: number; failed: number };
type Overview = { data: Endpoint[]; links: Record<string, string | null>; meta: Record<string, unknown>; deliveries_per_minute: Minute[] };

describe('operator API: webhooks', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let customer: Record<string, string>;
  let owners: { erin: { id: number; name: string; email: string }; frank: { id: number; name: string; email: string } };
  let ids: { healthy: number; failingOld: number; failingNew: number; disabled: number; quiet: number };
  let now: number;

  beforeAll(async () => {
    t = await createTestApp();
    const operator = await t.user('operator');
    admin = { authorization: `Bearer ${await t.container.auth.createToken(operator.id, 'ops', ['admin'])}` };
    customer = (await t.user('customer')).auth;
    const db = t.container.database.db;
    now = t.clock.now();
    owners = { erin: await seedUser(db, 'Erin', now), frank: await seedUser(db, 'Frank', now) };
    ids = {
      healthy: await seedEndpoint(db, owners.erin.id, now, { url: 'https://erin.example.test/hooks', last_success_at: now - MINUTE }),
      failingNew: await seedEndpoint(db, owners.erin.id, now, { url: 'https://erin.example.test/new', failing_since: now - HOUR }),
      failingOld: await seedEndpoint(db, owners.frank.id, now, { url: 'https://frank.example.test/old', failing_since: now - 48 * HOUR }),
      disabled: await seedEndpoint(db, owners.frank.id, now, { url: 'https://frank.example.test/gone', enabled: 0, disabled_reason: 'answered 410 Gone', disabled_at: now - HOUR }),
      quiet: await seedEndpoint(db, owners.frank.id, now),
    };
    // Deliveries over the last hour, and one before it.
    await seedDeliveries(db, ids.healthy, owners.erin.id, 3, { status: 'succeeded', createdAt: now - 5 * MINUTE });
    await seedDeliveries(db, ids.healthy, owners.erin.id, 1, { status: 'succeeded', createdAt: now - 2 * HOUR });
    await seedDeliveries(db, ids.healthy, owners.erin.id, 2, { status: 'pending', createdAt: now });
    await seedDeliveries(db, ids.failingOld, owners.frank.id, 1, { status: 'failed', createdAt: now - 3 * HOUR, updatedAt: now - 5 * MINUTE });
    await seedDeliveries(db, ids.failingOld, owners.frank.id, 2, { status: 'pending', attempts: 2, createdAt: now - 3 * HOUR, updatedAt: now - 2 * MINUTE });
    await seedDeliveries(db, ids.failingNew, owners.erin.id, 4, { status: 'failed', createdAt: now - 2 * HOUR });
  });
  afterAll(() => t.close());

  const get = (url: string, headers = admin) => t.inject({ method: 'GET', url, headers });
  const overview = async (query = '') => {
    const response = await get(`/api/admin/webhooks${query}`);
    expect(response.statusCode, query).toBe(200);
    return response.json<Overview>();
  };

  it('needs a token with the admin ability', async () => {
    expect((await get('/api/admin/webhooks', {})).statusCode).toBe(401);
    expect((await get('/api/admin/webhooks', customer)).statusCode).toBe(403);
  });

  it('lists every user’s endpoints: disabled, then failing from the oldest failure, then healthy, with owner and open deliveries', async () => {
    const { data, meta } = await overview();
    expect(data.map((e) => e.id)).toEqual([ids.disabled, ids.failingOld, ids.failingNew, ids.healthy, ids.quiet]);
    expect(data.map((e) => e.state)).toEqual(['disabled', 'failing', 'failing', 'enabled', 'enabled']);
    expect(data[0]).toMatchObject({ enabled: false, disabled_reason: 'answered 410 Gone', user: owners.frank, url: 'https://frank.example.test/gone' });
    expect(data[1]).toMatchObject({ enabled: true, failing_since: now - 48 * HOUR, deliveries: { pending: 2, failed: 1 }, events: ['order.completed'] });
    expect(data[2]).toMatchObject({ user: owners.erin, deliveries: { pending: 0, failed: 4 } });
    expect(data[3]).toMatchObject({ last_success_at: now - MINUTE, failing_since: null, deliveries: { pending: 2, failed: 0 } });
    expect(meta).toMatchObject({ current_page: 1, from: 1, to: 5, total: 5, per_page: 50, last_page: 1, path: '/api/admin/webhooks' });
    // Never the signing secrets.
    expect(JSON.stringify(data)).not.toContain('whsec_');
  });

  it('pages with Laravel’s keys, and keeps the filters in the links', async () => {
    const first = await overview('?per_page=2&state=failing');
    expect(first.data.map((e) => e.id)).toEqual([ids.failingOld, ids.failingNew]);
    expect(first.meta).toMatchObject({ total: 2, last_page: 1 });

    const page = await overview('?per_page=2&page=2');
    expect(page.data.map((e) => e.id)).toEqual([ids.failingNew, ids.healthy]);
    expect(page.links).toEqual({
      first: '/api/admin/webhooks?page=1&per_page=2',
      last: '/api/admin/webhooks?page=3&per_page=2',
      prev: '/api/admin/webhooks?page=1&per_page=2',
      next: '/api/admin/webhooks?page=3&per_page=2',
    });
    const frank = await overview(`?user_id=${owners.frank.id}&per_page=1`);
    expect(frank.data.map((e) => e.id)).toEqual([ids.disabled]);
    expect(frank.links.next).toBe(`/api/admin/webhooks?user_id=${owners.frank.id}&page=2&per_page=1`);
    expect((await overview('?state=enabled')).data.map((e) => e.id)).toEqual([ids.healthy, ids.quiet]);
    expect((await overview('?state=disabled')).data.map((e) => e.id)).toEqual([ids.disabled]);
    const past = await overview('?page=9');
    expect(past.data).toEqual([]);
    expect(past.meta).toMatchObject({ current_page: 9, from: null, to: null, total: 5 });
  });

  it('counts deliveries per minute by outcome over the last hour, by the minute of their last attempt', async () => {
    const { deliveries_per_minute: minutes } = await overview();
    expect(minutes).toHaveLength(DELIVERY_MINUTES);
    const current = now - (now % MINUTE);
    expect(minutes.map((m) => m.minute)).toEqual(Array.from({ length: DELIVERY_MINUTES }, (_, i) => current - (DELIVERY_MINUTES - 1 - i) * MINUTE));
    const busy = minutes.filter((m) => m.succeeded + m.retrying + m.failed > 0);
    expect(busy).toEqual([
      { minute: current - 5 * MINUTE, succeeded: 3, retrying: 0, failed: 1 },
      { minute: current - 2 * MINUTE, succeeded: 0, retrying: 2, failed: 0 },
    ]);
  });

  it('refuses bad paging and filters with a 422, never a 500', async () => {
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'page=x', 'state=broken', 'user_id=0', 'user_id=abc', 'user_id=1.5', 'state=']) {
      const response = await get(`/api/admin/webhooks?${query}`);
      expect(response.statusCode, query).toBe(422);
      expect(response.json<{ message: string }>().message, query).toEqual(expect.any(String));
    }
  });
});
