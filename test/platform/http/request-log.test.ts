import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorFor } from '../../../src/app/api-app.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { LogSampler } from '../../../src/platform/telemetry/log-sampler.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { createTestApp, type TestApp } from '../../support/app.js';
import { captureLogs, type CapturedLogs } from '../../support/log-capture.js';

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD) \S+ \d{3} [\d.]+ ms$/;

/** The lines written after `from`, parsed. */
const since = (logs: CapturedLogs, from: number) => logs.records().slice(from);
const requestLines = (records: Array<Record<string, unknown>>) => records.filter((r) => REQUEST_LINE.test(String(r.msg)));

describe('request log of the API app', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function apiApp(level: 'info' | 'debug', env: Record<string, string> = {}) {
    const logs = captureLogs();
    t = await createTestApp({ env, logger: createLogger({ level, role: 'api', destination: logs.destination }), simulator: simulatorFor });
    return { t, logs };
  }

  it('writes exactly one line per request: method, URL, status, duration and the request id, and none of Fastify’s own', async () => {
    const { t, logs } = await apiApp('info');
    const u = await t.user();
    const from = logs.lines.length;
    const responses: LightMyRequestResponse[] = [];
    for (let i = 0; i < 4; i++) {
      responses.push(await t.inject({ method: 'GET', url: '/api/orders', headers: u.auth }));
      responses.push(await t.inject({ method: 'GET', url: `/api/nope?i=${i}` }));
      responses.push(await t.postOrder(u, {}));
    }
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 404, 404, 404, 404, 422, 422, 422, 422]);

    const written = since(logs, from);
    expect(written).toHaveLength(12);
    expect(requestLines(written)).toHaveLength(12);
    expect(written.map((r) => r.msg)).not.toContain('incoming request');
    expect(written.map((r) => r.msg)).not.toContain('request completed');
    written.forEach((line, i) => {
      const response = responses[i]!;
      expect(line).toMatchObject({ level: 30, reqId: response.headers['x-request-id'], res: { statusCode: response.statusCode } });
      expect(typeof line.responseTime).toBe('number');
    });
    expect(written[1]).toMatchObject({ req: { method: 'GET', url: '/api/nope?i=0' }, msg: expect.stringMatching(/^GET \/api\/nope\?i=0 404 [\d.]+ ms$/) });
  });

  it('writes the lines of probes, scrapes and the simulator at debug only', async () => {
    const instant = { SIMULATOR_DELAY_MS: '0', SIMULATOR_FAILURE_RATE: '0' };
    const quiet = await apiApp('info', instant);
    let from = quiet.logs.lines.length;
    for (const url of ['/health', '/ready', '/metrics']) expect((await quiet.t.inject({ method: 'GET', url })).statusCode).toBe(200);
    const order = { ProductName: 'Plan', Price: 10, Timestamp: new Date(0).toISOString() };
    expect((await quiet.t.simulator!.inject({ method: 'POST', url: '/simulator/orders', payload: order })).statusCode).toBe(201);
    expect(since(quiet.logs, from)).toEqual([]);
    await quiet.t.close();

    const verbose = await apiApp('debug', instant);
    from = verbose.logs.lines.length;
    await verbose.t.simulator!.inject({ method: 'POST', url: '/simulator/orders', payload: order });
    await verbose.t.inject({ method: 'GET', url: '/health' });
    const lines = requestLines(since(verbose.logs, from));
    expect(lines.map((l) => [l.level, String(l.msg).split(' ').slice(0, 3).join(' ')])).toEqual([
      [20, 'POST /simulator/orders 201'],
      [20, 'GET /health 200'],
    ]);
  });

  it('LOG_REQUEST_SAMPLE=0 leaves out the 2xx and 4xx lines, never a 500’s', async () => {
    const { t, logs } = await apiApp('info', { LOG_REQUEST_SAMPLE: '0' });
    const u = await t.user();
    const from = logs.lines.length;
    for (let i = 0; i < 5; i++) {
      expect((await t.inject({ method: 'GET', url: '/api/orders', headers: u.auth })).statusCode).toBe(200);
      expect((await t.inject({ method: 'GET', url: '/api/nope' })).statusCode).toBe(404);
    }
    expect(requestLines(since(logs, from))).toEqual([]);

    await sql`alter table orders rename to orders_gone`.execute(t.container.database.db);
    const failed = await t.inject({ method: 'GET', url: '/api/orders', headers: u.auth });
    expect(failed.statusCode).toBe(500);
    const lines = requestLines(since(logs, from));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, reqId: failed.headers['x-request-id'], res: { statusCode: 500 } });
    // The metrics still count every request, sampled or not.
    const metrics = (await t.inject({ method: 'GET', url: '/metrics' })).body;
    const count = (status: string) => Number(new RegExp(`http_request_duration_seconds_count\\{[^}]*route="/api/orders"[^}]*status_code="${status}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('200')).toBe(5);
    expect(count('500')).toBe(1);
  });
});

describe('request log sampling', () => {
  async function app(sampler: LogSampler, slowMs: number) {
    const logs = captureLogs();
    const built = await buildApp({
      logger: createLogger({ level: 'info', role: 'api', destination: logs.destination }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [],
      docs: false,
      requestLog: { sampler, slowMs },
      plugins: [
        async (scope) => {
          scope.get('/fast', async () => ({ ok: true }));
          scope.get('/slow', async () => {
            await sleep(60);
            return { ok: true };
          });
        },
      ],
    });
    return { app: built, logs };
  }

  it('always writes a response slower than the threshold, marked slow', async () => {
    const { app: built, logs } = await app(new LogSampler(0), 40);
    try {
      for (let i = 0; i < 3; i++) await built.inject({ method: 'GET', url: '/fast' });
      await built.inject({ method: 'GET', url: '/slow' });
    } finally {
      await built.close();
    }
    expect(requestLines(logs.records())).toEqual([expect.objectContaining({ req: { method: 'GET', url: '/slow' }, slow: true })]);
  });

  it('keeps the share of routine lines the rate asks for', async () => {
    let n = 0;
    // 0, 0.25, 0.5, 0.75, 0, …: a rate of 0.5 keeps every other line.
    const { app: built, logs } = await app(new LogSampler(0.5, () => (n++ % 4) / 4), 0);
    try {
      for (let i = 0; i < 20; i++) await built.inject({ method: 'GET', url: '/fast' });
    } finally {
      await built.close();
    }
    expect(requestLines(logs.records())).toHaveLength(10);
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => new LogSampler(1.5)).toThrow(RangeError);
    expect(() => new LogSampler(Number.NaN)).toThrow(RangeError);
  });
});
