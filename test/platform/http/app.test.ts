import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, orderBody, type TestApp, type TestUser } from '../../support/app.js';

const BODY_LIMIT = 2048;

describe('HTTP edge of the API app', () => {
  let t: TestApp;
  let u: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), DUPLICATE_WINDOW_SECONDS: '0' } });
    u = await t.user();
  });
  afterAll(() => t.close());

  const raw = (payload: string, contentType: string) =>
    t.inject({ method: 'POST', url: '/api/orders', headers: { ...u.auth, 'content-type': contentType }, payload });

  it('answers 413 to a body over BODY_LIMIT_BYTES', async () => {
    const big = JSON.stringify(orderBody({ padding: 'x'.repeat(BODY_LIMIT) }));
    const res = await raw(big, 'application/json');
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ message: 'The request body is too large.' });
  });

  it('accepts a body just under the limit', async () => {
    const body = JSON.stringify(orderBody());
    expect(Buffer.byteLength(body)).toBeLessThan(BODY_LIMIT);
    expect((await raw(body, 'application/json')).statusCode).toBe(201);
  });

  it.each(['application/xml', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x'])(
    'answers 415 to a %s body',
    async (contentType) => {
      const res = await raw('client=acme', contentType);
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({ message: 'The request body must be application/json.' });
    },
  );

  it('accepts application/json with a charset', async () => {
    expect((await raw(JSON.stringify(orderBody()), 'application/json; charset=utf-8')).statusCode).toBe(201);
  });

  it.each(['{"client":', '{bad json}', "{'a':1}", '[1,2,'])('answers 400 to malformed JSON %s', async (payload) => {
    const res = await raw(payload, 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ message: 'The request body is not valid JSON.' });
  });

  it('answers 400 to an empty JSON body', async () => {
    const res = await raw('', 'application/json');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ message: 'The request body is empty.' });
  });

  it.each(['/nope', '/api/nope', '/api/orders/1/items'])('answers 404 "Route not found." to %s', async (url) => {
    const res = await t.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ message: 'Route not found.' });
  });

  it('answers 405 with Allow to a wrong method on a known path', async () => {
    const res = await t.inject({ method: 'DELETE', url: '/api/orders' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toEqual({ message: 'Method not allowed.' });
    expect(String(res.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });

  it('answers 405 for a parametric path and a trailing slash too', async () => {
    const put = await t.inject({ method: 'PUT', url: '/api/orders/12' });
    expect(put.statusCode).toBe(405);
    expect(String(put.headers.allow).split(', ').sort()).toEqual(['GET', 'HEAD']);
    const get = await t.inject({ method: 'GET', url: '/api/register/' });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('tags every response with an x-request-id, echoing the client’s', async () => {
    const mine = await t.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'trace-me-123' } });
    expect(mine.headers['x-request-id']).toBe('trace-me-123');
    const generated = await t.inject({ method: 'GET', url: '/nope' });
    const next = await t.inject({ method: 'GET', url: '/nope' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(next.headers['x-request-id']).not.toBe(generated.headers['x-request-id']);
  });

  it('answers GET /health with ok', async () => {
    const res = await t.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers GET /ready with every check up', async () => {
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'up', store: 'up', queue: 'up' } });
  });

  it('serves an OpenAPI document that lists the routes', async () => {
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, unknown>>; components: Record<string, unknown> }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/register', '/api/login', '/api/logout', '/api/user', '/api/orders', '/api/orders/{id}', '/health', '/ready']),
    );
    expect(Object.keys(doc.paths['/api/orders']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/openapi.json']).toBeUndefined();
    expect(doc.components).toHaveProperty('securitySchemes.bearer');
  });

  it('documents every route with a summary, tags and a schema for each response', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
    }>();
    const gaps: string[] = [];
    for (const [route, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${route}`;
        if (!operation.summary) gaps.push(`${where}: no summary`);
        if (!operation.tags?.length) gaps.push(`${where}: no tags`);
        const responses = Object.entries(operation.responses ?? {});
        if (responses.length === 0) gaps.push(`${where}: no responses`);
        for (const [status, response] of responses) {
          if (status === '204' || status === '304') continue;
          if (!Object.values(response.content ?? {}).some((media) => media.schema)) gaps.push(`${where}: ${status} has no schema`);
        }
      }
    }
    expect(gaps).toEqual([]);
  });
});

describe('server errors', () => {
  let t: TestApp;
  let u: TestUser;

  beforeEach(async () => {
    t = await createTestApp();
    u = await t.user();
  });
  afterEach(() => t.close());

  /** A bug rather than an outage (a closed database answers 503): the table the orders live in is gone. */
  const breakSchema = () => sql`alter table orders rename to orders_gone`.execute(t.container.database.db);

  it('answers 500 with only a generic message and the request id, never a stack trace', async () => {
    await breakSchema();
    const res = await t.inject({ method: 'GET', url: '/api/orders', headers: { ...u.auth, 'x-request-id': 'req-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ message: 'Server Error', request_id: 'req-500' });
    expect(res.body).not.toMatch(/at .*\.(ts|js)|sqlite|database|Error:/i);
  });

  it('answers 500 the same way to a failing write', async () => {
    await breakSchema();
    const res = await t.postOrder(u, orderBody());
    expect(res.statusCode).toBe(500);
    expect(Object.keys(res.json()).sort()).toEqual(['message', 'request_id']);
    expect(res.json<{ request_id: string }>().request_id).toBe(res.headers['x-request-id']);
  });

  it('answers /ready with 503 and names the failing checks when the database is closed', async () => {
    await t.container.database.close();
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'down', store: 'down', queue: 'down' } });
    expect((await t.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
