import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';
import { createEndpoint, ENDPOINT_KEYS, endpointBody, endpointRoutes, fakeDns, postEndpoint, type EndpointView } from './webhooks-support.js';

const MAX_ENDPOINTS = 3;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ env: { WEBHOOK_MAX_ENDPOINTS: String(MAX_ENDPOINTS) }, resolve: fakeDns });
});
afterAll(() => t.close());

const db = () => t.container.database.db;
const endpointRow = (id: number) => db().selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const call = (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  t.inject({ method, url, headers: user.auth, ...(payload === undefined ? {} : { payload: payload as string }) });

describe('POST /api/webhooks', () => {
  it('registers an endpoint: 201 with the endpoint, its secret and a Location header', async () => {
    const u = await t.user();
    const res = await postEndpoint(t, u, endpointBody({ events: ['order.item.completed', 'order.completed'], description: '  Production receiver ' }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json<{ webhook: EndpointView; secret: string }>();
    expect(Object.keys(body).sort()).toEqual(['secret', 'webhook']);
    expect(Object.keys(body.webhook).sort()).toEqual(ENDPOINT_KEYS);
    expect(res.headers.location).toBe(`/api/webhooks/${body.webhook.id}`);
    const now = new Date(t.clock.now()).toISOString();
    expect(body.webhook).toEqual({
      id: body.webhook.id,
      url: 'https://hooks.example.com/intake',
      events: ['order.item.completed', 'order.completed'],
      description: 'Production receiver',
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    });
  });

  it('answers a Standard Webhooks secret: whsec_ and the base64 of at least 24 random bytes, different every time', async () => {
    const u = await t.user();
    const secrets = [(await createEndpoint(t, u)).secret, (await createEndpoint(t, u)).secret];
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
    }
    expect(secrets[0]).not.toBe(secrets[1]);
  });

  it('stores the URL normalized and a blank description as null', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u, endpointBody({ url: 'HTTPS://Hooks.Example.COM:443/a/../in', description: '   ' }));
    expect(webhook.url).toBe('https://hooks.example.com/in');
    expect(webhook.description).toBeNull();
  });

  it('refuses bad fields with 422 in the Laravel shape, naming every field', async () => {
    const u = await t.user();
    const cases: Array<[unknown, string[]]> = [
      [{}, ['events', 'url']],
      [{ url: 'https://hooks.example.com/' }, ['events']],
      [endpointBody({ events: [] }), ['events']],
      [endpointBody({ events: 'order.completed' }), ['events']],
      [endpointBody({ events: ['order.shipped'] }), ['events.0']],
      [endpointBody({ events: ['order.completed', 'order.item.failed', 'order.completed'] }), ['events.2']],
      [endpointBody({ url: 42 }), ['url']],
      [endpointBody({ url: 'x'.repeat(2049) }), ['url']],
      [endpointBody({ description: 'd'.repeat(256) }), ['description']],
      [endpointBody({ description: 7 }), ['description']],
      [endpointBody({ url: 'ftp://x', events: ['nope'], description: [] }), ['description', 'events.0', 'url']],
      [[], ['(body)']],
    ];
    for (const [body, fields] of cases) {
      const res = await postEndpoint(t, u, body);
      expect(res.statusCode, `${JSON.stringify(body).slice(0, 80)}: ${res.body}`).toBe(422);
      const answer = res.json<{ message: string; errors: Record<string, string[]> }>();
      expect(typeof answer.message).toBe('string');
      expect(Object.keys(answer.errors).sort(), res.body).toEqual(fields);
      for (const messages of Object.values(answer.errors)) expect(messages.every((m) => typeof m === 'string' && m.length > 0)).toBe(true);
    }
    expect(await db().selectFrom('webhook_endpoints').select('id').where('user_id', '=', u.id).execute()).toEqual([]);
  });

  it('refuses http, credentials and targets that are loopback, private or link-local (as literals or by name)', async () => {
    const u = await t.user();
    const refused: Array<[string, RegExp]> = [
      ['http://hooks.example.com/', /https URL/],
      ['https://user:secret@hooks.example.com/', /credentials/],
      ['https://127.0.0.1/hook', /loopback, private or link-local/],
      ['https://10.20.30.40/hook', /loopback, private or link-local/],
      ['https://169.254.169.254/latest/meta-data/', /loopback, private or link-local/],
      ['https://[::1]/hook', /loopback, private or link-local/],
      ['https://internal.example/hook', /loopback, private or link-local/],
      ['https://mixed.example/hook', /loopback, private or link-local/],
      ['https://nowhere.invalid/hook', /does not resolve/],
    ];
    for (const [url, reason] of refused) {
      const res = await postEndpoint(t, u, endpointBody({ url }));
      expect(res.statusCode, `${url}: ${res.body}`).toBe(422);
      expect(res.json<{ errors: Record<string, string[]> }>().errors.url?.[0], url).toMatch(reason);
    }
    expect((await postEndpoint(t, u, endpointBody({ url: 'https://other.example.com/' }))).statusCode).toBe(201);
  });

  it(`refuses a user's endpoint beyond WEBHOOK_MAX_ENDPOINTS (${MAX_ENDPOINTS}) with a clear 422, counting each user apart`, async () => {
    const [u, other] = [await t.user(), await t.user()];
    for (let i = 0; i < MAX_ENDPOINTS; i++) await createEndpoint(t, u);
    const res = await postEndpoint(t, u);
    expect(res.statusCode).toBe(422);
    expect(res.json<{ message: string }>().message).toMatch(new RegExp(`at most ${MAX_ENDPOINTS} webhook endpoints`));
    expect((await postEndpoint(t, other)).statusCode).toBe(201);
    const newest = (await call(u, 'GET', '/api/webhooks')).json<{ data: EndpointView[] }>().data[0]!;
    expect((await call(u, 'DELETE', `/api/webhooks/${newest.id}`)).statusCode).toBe(204);
    expect((await postEndpoint(t, u)).statusCode).toBe(201);
  });

  it('holds the limit under concurrent creations', async () => {
    const u = await t.user();
    const answers = await Promise.all(Array.from({ length: MAX_ENDPOINTS + 3 }, () => postEndpoint(t, u)));
    expect(answers.filter((res) => res.statusCode === 201)).toHaveLength(MAX_ENDPOINTS);
    expect(answers.filter((res) => res.statusCode === 422)).toHaveLength(3);
  });

  it('needs a token with the orders ability', async () => {
    expect((await t.inject({ method: 'POST', url: '/api/webhooks', payload: endpointBody() })).statusCode).toBe(401);
    const u = await t.user();
    const token = await t.container.auth.createToken(u.id, 'catalog', ['catalog:write']);
    const res = await t.inject({ method: 'GET', url: '/api/webhooks', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /api/webhooks', () => {
  it("lists the caller's endpoints only, newest first, paginated like GET /api/orders, never with a secret", async () => {
    const [u, other] = [await t.user(), await t.user()];
    const created = [await createEndpoint(t, u), await createEndpoint(t, u), await createEndpoint(t, u)];
    await createEndpoint(t, other);
    const res = await call(u, 'GET', '/api/webhooks?per_page=2');
    expect(res.statusCode).toBe(200);
    const page = res.json<{ data: EndpointView[]; links: Record<string, string | null>; meta: Record<string, unknown> }>();
    expect(page.data.map((w) => w.id)).toEqual([created[2]!.webhook.id, created[1]!.webhook.id]);
    expect(Object.keys(page.data[0]!).sort()).toEqual(ENDPOINT_KEYS);
    expect(page.meta).toMatchObject({ current_page: 1, from: 1, to: 2, last_page: 2, per_page: 2, total: 3 });
    expect(page.links.next).toMatch(/\/api\/webhooks\?page=2&per_page=2$/);
    const second = (await call(u, 'GET', page.links.next!.replace(/^https?:\/\/[^/]+/, ''))).json<{ data: EndpointView[] }>();
    expect(second.data.map((w) => w.id)).toEqual([created[0]!.webhook.id]);
    for (const { secret } of created) expect(res.body).not.toContain(secret);
    expect(res.body).not.toContain('whsec_');
  });

  it('refuses page and per_page out of range with 422', async () => {
    const u = await t.user();
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'page=-1', 'page=abc', 'per_page=1.5']) {
      const res = await call(u, 'GET', `/api/webhooks?${query}`);
      expect(res.statusCode, query).toBe(422);
      expect(res.json<{ errors: Record<string, string[]> }>().errors).toBeDefined();
    }
  });
});

describe('GET /api/webhooks/{id}', () => {
  it('shows one endpoint without its secret', async () => {
    const u = await t.user();
    const { webhook, secret } = await createEndpoint(t, u);
    const res = await call(u, 'GET', `/api/webhooks/${webhook.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ webhook });
    expect(res.body).not.toContain(secret);
  });

  it("answers 404 for another user's endpoint on every route", async () => {
    const [owner, intruder] = [await t.user(), await t.user()];
    const { webhook } = await createEndpoint(t, owner);
    const base = `/api/webhooks/${webhook.id}`;
    for (const [method, url, payload] of [
      ['GET', base],
      ['PATCH', base, { enabled: false }],
      ['DELETE', base],
      ['POST', `${base}/rotate-secret`],
      ['GET', `${base}/deliveries`],
      ['POST', `${base}/deliveries/1/retry`],
    ] as const) {
      const res = await call(intruder, method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json<{ message: string }>().message).toBe('Webhook endpoint not found.');
    }
    expect(await call(owner, 'GET', base).then((res) => res.json())).toEqual({ webhook });
  });

  it('answers 404 to ids that are not positive integers', async () => {
    const u = await t.user();
    for (const id of ['abc', '0', '-1', '1e3', '1.0', '0x10', '99999999999999999999', '%20']) {
      for (const [method, url] of [...endpointRoutes(id, '1'), ['POST', `/api/webhooks/1/deliveries/${id}/retry`] as const]) {
        const res = await call(u, method, url, method === 'PATCH' ? {} : undefined);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
    }
  });
});

describe('PATCH /api/webhooks/{id}', () => {
  it('changes the URL, events and description, with the same rules as creation', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u, endpointBody({ description: 'old' }));
    t.clock.advance(1000);
    const res = await call(u, 'PATCH', `/api/webhooks/${webhook.id}`, { url: 'https://other.example.com/v2', events: ['order.item.failed'], description: null });
    expect(res.statusCode, res.body).toBe(200);
    const changed = res.json<{ webhook: EndpointView }>().webhook;
    expect(changed).toEqual({ ...webhook, url: 'https://other.example.com/v2', events: ['order.item.failed'], description: null, updated_at: new Date(t.clock.now()).toISOString() });

    for (const body of [{ url: 'https://127.0.0.1/' }, { url: 'http://hooks.example.com/' }, { events: [] }, { events: ['x'] }, { enabled: 'yes' }, { description: 'd'.repeat(256) }]) {
      const refused = await call(u, 'PATCH', `/api/webhooks/${webhook.id}`, body);
      expect(refused.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await call(u, 'GET', `/api/webhooks/${webhook.id}`)).json<{ webhook: EndpointView }>().webhook).toEqual(changed);
  });

  it('disables an endpoint with a reason, and re-enabling clears the reason, the time and the failing run', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    const url = `/api/webhooks/${webhook.id}`;
    const disabled = (await call(u, 'PATCH', url, { enabled: false })).json<{ webhook: EndpointView }>().webhook;
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/owner/), disabled_at: new Date(t.clock.now()).toISOString() });

    // As the delivery side leaves an endpoint it disabled after failing too long.
    await db().updateTable('webhook_endpoints').set({ enabled: 0, disabled_reason: 'Deliveries failed for 72 hours.', disabled_at: 5, failing_since: 1 }).where('id', '=', webhook.id).execute();
    const again = await call(u, 'PATCH', url, { enabled: false });
    expect(again.json<{ webhook: EndpointView }>().webhook.disabled_reason).toBe('Deliveries failed for 72 hours.');

    const enabled = (await call(u, 'PATCH', url, { enabled: true })).json<{ webhook: EndpointView }>().webhook;
    expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });
    expect(await endpointRow(webhook.id)).toMatchObject({ enabled: 1, disabled_reason: null, disabled_at: null, failing_since: null });
  });

  it('keeps everything as it was for an empty body', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    const res = await call(u, 'PATCH', `/api/webhooks/${webhook.id}`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json<{ webhook: EndpointView }>().webhook).toMatchObject({ url: webhook.url, events: webhook.events, enabled: true });
  });
});

describe('DELETE /api/webhooks/{id}', () => {
  it('deletes the endpoint and its deliveries', async () => {
    const u = await t.user();
    const { webhook } = await createEndpoint(t, u);
    await t.container.database.transaction((trx) => t.container.webhookEvents.publish(trx, [{ userId: u.id, type: 'order.completed', data: { id: 1 } }]));
    const deliveries = () => db().selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', webhook.id).execute();
    expect(await deliveries()).toHaveLength(1);
    const res = await call(u, 'DELETE', `/api/webhooks/${webhook.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await deliveries()).toHaveLength(0);
    expect((await call(u, 'GET', `/api/webhooks/${webhook.id}`)).statusCode).toBe(404);
    expect((await call(u, 'DELETE', `/api/webhooks/${webhook.id}`)).statusCode).toBe(404);
  });
});

describe('POST /api/webhooks/{id}/rotate-secret', () => {
  it('answers a new secret and keeps the old one signing until now + WEBHOOK_SECRET_OVERLAP_HOURS', async () => {
    const u = await t.user();
    const { webhook, secret } = await createEndpoint(t, u);
    const res = await call(u, 'POST', `/api/webhooks/${webhook.id}/rotate-secret`);
    expect(res.statusCode).toBe(200);
    const rotated = res.json<{ secret: string }>();
    expect(Object.keys(rotated)).toEqual(['secret']);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);
    const row = await endpointRow(webhook.id);
    expect(row.secret).toBe(rotated.secret);
    expect(row.previous_secret).toBe(secret);
    expect(Number(row.previous_secret_until)).toBe(t.clock.now() + t.config.webhooks.secretOverlapHours * 3_600_000);
    expect((await call(u, 'GET', `/api/webhooks/${webhook.id}`)).body).not.toContain('whsec_');
  });
});

describe('with WEBHOOK_ALLOW_HTTP and WEBHOOK_ALLOW_PRIVATE_HOSTS', () => {
  let open: TestApp;
  beforeAll(async () => {
    open = await createTestApp({ env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true' }, resolve: fakeDns });
  });
  afterAll(() => open.close());

  it('accepts http and loopback, private and link-local targets, but still no credentials or unresolvable names', async () => {
    const u = await open.user();
    for (const url of ['http://127.0.0.1:8080/hook', 'https://10.20.30.40/', 'https://169.254.169.254/', 'https://[::1]/', 'http://internal.example/hook']) {
      const res = await postEndpoint(open, u, endpointBody({ url }));
      expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
      await open.inject({ method: 'DELETE', url: `/api/webhooks/${res.json<{ webhook: EndpointView }>().webhook.id}`, headers: u.auth });
    }
    expect((await postEndpoint(open, u, endpointBody({ url: 'http://a:b@127.0.0.1/' }))).statusCode).toBe(422);
    expect((await postEndpoint(open, u, endpointBody({ url: 'https://nowhere.invalid/' }))).statusCode).toBe(422);
    expect((await postEndpoint(open, u, endpointBody({ url: 'ftp://127.0.0.1/' }))).statusCode).toBe(422);
  });
});

describe('the OpenAPI document', () => {
  it('documents every webhooks route under the webhooks tag, with schemas, the event body and the signature scheme', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { summary?: string; description?: string; tags?: string[]; responses?: Record<string, unknown>; requestBody?: unknown }>>;
    }>();
    const routes: Array<[string, string, string]> = [
      ['/api/webhooks', 'post', '201'],
      ['/api/webhooks', 'get', '200'],
      ['/api/webhooks/{id}', 'get', '200'],
      ['/api/webhooks/{id}', 'patch', '200'],
      ['/api/webhooks/{id}', 'delete', '204'],
      ['/api/webhooks/{id}/rotate-secret', 'post', '200'],
      ['/api/webhooks/{id}/deliveries', 'get', '200'],
      ['/api/webhooks/{id}/deliveries/{delivery_id}/retry', 'post', '202'],
      ['/api/events', 'get', '200'],
    ];
    for (const [path, method, success] of routes) {
      const operation = doc.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation!.tags).toEqual(['webhooks']);
      expect(operation!.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(operation!.responses ?? {}), `${method} ${path}`).toContain(success);
      expect(Object.keys(operation!.responses ?? {}), `${method} ${path}`).toContain('401');
    }
    expect(doc.paths['/api/webhooks']!.post!.requestBody).toBeDefined();
    expect(doc.paths['/api/webhooks/{id}']!.patch!.requestBody).toBeDefined();
    const signing = doc.paths['/api/webhooks']!.post!.description!;
    for (const needle of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'v1,', 'HMAC-SHA256', 'whsec_', 'space-separated', '"type"', '"timestamp"', '"data"']) {
      expect(signing).toContain(needle);
    }
    expect(doc.paths['/api/webhooks/{id}/rotate-secret']!.post!.description).toMatch(/two signatures/);
    expect(doc.paths['/api/events']!.get!.description).toMatch(/2 seconds/);
  });
});
