import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../src/platform/http/app.js';
import { FrontRoutes, type FrontRoute } from '../../../src/platform/http/front-routes.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { Metrics } from '../../../src/platform/telemetry/metrics.js';
import { captureLogs, type CapturedLogs } from '../../support/log-capture.js';

const TIMEOUTS = { headersTimeoutMs: 7_000, requestTimeoutMs: 9_000, keepAliveTimeoutMs: 4_000, connectionTimeoutMs: 11_000 };

/** Answers `/memo/<word>` from memory when the word is known; Fastify's `/memo/:word` answers the rest, and counts what reaches it. */
function memoApp(level: 'info' | 'warn' = 'info') {
  const logs = captureLogs();
  const metrics = new Metrics();
  const known = new Map([['hello', Buffer.from('hello from memory')]]);
  const reachedFastify: string[] = [];
  const front: FrontRoute = {
    prefix: '/memo/',
    route: '/memo/:word',
    answer(path, query, headers) {
      if (path === '/memo/broken') throw new Error('a bug in the front route');
      const body = known.get(path.slice('/memo/'.length));
      if (!body || query.includes('skip')) return undefined;
      return { statusCode: 200, headers: { 'content-type': 'text/plain', 'x-asked-for': String(headers['x-ask'] ?? '') }, body };
    },
  };
  const built = buildApp({
    logger: createLogger({ level, role: 'api', destination: logs.destination }),
    bodyLimitBytes: 1024,
    timeouts: TIMEOUTS,
    version: 'test',
    readiness: [],
    metrics,
    docs: false,
    plugins: [
      async (scope) => {
        scope.frontRoutes?.add(front);
        // Asked only when the first declines.
        scope.frontRoutes?.add({ prefix: '/memo/', route: '/memo/:word', answer: (path) => (path === '/memo/second' ? { statusCode: 200, headers: {}, body: Buffer.from('the second route') } : undefined) });
        scope.addHook('onRequest', (request, _reply, done) => {
          reachedFastify.push(`${request.method} ${request.url}`);
          done();
        });
        scope.get('/memo/:word', async (request) => `fastify: ${(request.params as { word: string }).word}`);
        scope.post('/memo/:word', async () => 'posted');
      },
    ],
  });
  return { built, logs, metrics, reachedFastify };
}

describe('front routes: answers from memory before Fastify routes the request', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function listening(level?: 'info' | 'warn') {
    const made = memoApp(level);
    app = await made.built;
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    return { ...made, app, base };
  }

  it('answers a GET it knows without Fastify, with a request id, a length, a metric and a request line', async () => {
    const { base, reachedFastify, metrics, logs } = await listening();
    const from = logs.lines.length;
    const response = await fetch(`${base}/memo/hello?x=1`, { headers: { 'x-ask': 'me' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from memory');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('content-length')).toBe(String('hello from memory'.length));
    expect(response.headers.get('x-asked-for')).toBe('me');
    const reqId = response.headers.get('x-request-id');
    expect(reqId).toMatch(/^[0-9a-f]{12}-[0-9a-z]+$/);
    expect(reachedFastify).toEqual([]);

    const observed = (await metrics.httpDuration.get()).values.find((v) => v.metricName === 'http_request_duration_seconds_count' && v.labels.route === '/memo/:word');
    expect(observed).toMatchObject({ value: 1, labels: { method: 'GET', status_code: '200' } });
    const lines = logs.records().slice(from);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, reqId, req: { method: 'GET', url: '/memo/hello?x=1' }, res: { statusCode: 200 }, msg: expect.stringMatching(/^GET \/memo\/hello\?x=1 200 [\d.]+ ms$/) });
  });

  it('asks the next route with the prefix when one declines', async () => {
    const { base, reachedFastify } = await listening();
    expect(await (await fetch(`${base}/memo/second`)).text()).toBe('the second route');
    expect(reachedFastify).toEqual([]);
  });

  it('keeps the request id a client sends, as Fastify does', async () => {
    const { base } = await listening();
    const response = await fetch(`${base}/memo/hello`, { headers: { 'x-request-id': 'from-the-client' } });
    expect(response.headers.get('x-request-id')).toBe('from-the-client');
  });

  it('leaves to Fastify what it declines, other methods, and every request once the app is closing', async () => {
    const { app, base, reachedFastify } = await listening();
    expect(await (await fetch(`${base}/memo/unknown`)).text()).toBe('fastify: unknown');
    expect(await (await fetch(`${base}/memo/hello?skip`)).text()).toBe('fastify: hello');
    expect(await (await fetch(`${base}/memo/hello`, { method: 'POST' })).text()).toBe('posted');
    const head = await fetch(`${base}/memo/hello`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(reachedFastify).toEqual(['GET /memo/unknown', 'GET /memo/hello?skip', 'POST /memo/hello', 'HEAD /memo/hello']);

    app.frontRoutes!.close();
    expect(await (await fetch(`${base}/memo/hello`)).text()).toBe('fastify: hello');
  });

  it('stops answering in front as soon as the app starts closing', async () => {
    const { app } = await listening();
    const close = vi.spyOn(app.frontRoutes!, 'close');
    await app.close();
    expect(close).toHaveBeenCalledOnce();
  });

  it('leaves a request to Fastify when the front route throws, and logs the error', async () => {
    const { base, logs, reachedFastify } = await listening();
    const from = logs.lines.length;
    const response = await fetch(`${base}/memo/broken`);
    expect(await response.text()).toBe('fastify: broken');
    expect(reachedFastify).toEqual(['GET /memo/broken']);
    expect(logs.records().slice(from)).toEqual(expect.arrayContaining([expect.objectContaining({ level: 50, msg: 'front route failed', route: '/memo/:word', err: expect.objectContaining({ message: 'a bug in the front route' }) })]));
  });

  it('writes no request line above info, and counts the request all the same', async () => {
    const { base, logs, metrics } = await listening('warn');
    const from = logs.lines.length;
    expect((await fetch(`${base}/memo/hello`)).status).toBe(200);
    expect(logs.records().slice(from)).toEqual([]);
    const observed = (await metrics.httpDuration.get()).values.find((v) => v.metricName === 'http_request_duration_seconds_count' && v.labels.route === '/memo/:word');
    expect(observed?.value).toBe(1);
  });

  it('gives its server the timeouts Fastify would', async () => {
    const { app } = await listening();
    expect(app.server.headersTimeout).toBe(TIMEOUTS.headersTimeoutMs);
    expect(app.server.requestTimeout).toBe(TIMEOUTS.requestTimeoutMs);
    expect(app.server.keepAliveTimeout).toBe(TIMEOUTS.keepAliveTimeoutMs);
    expect(app.server.timeout).toBe(TIMEOUTS.connectionTimeoutMs);
  });

  it('takes no route when switched off (tracing is on)', () => {
    const logs: CapturedLogs = captureLogs();
    const routes = new FrontRoutes({ logger: createLogger({ level: 'silent', role: 'api', destination: logs.destination }), nextRequestId: () => 'id' }, false);
    routes.add({ prefix: '/', route: '/', answer: () => ({ statusCode: 200, headers: {} }) });
    expect(routes.enabled).toBe(false);
    expect(routes.size).toBe(0);
  });
});
