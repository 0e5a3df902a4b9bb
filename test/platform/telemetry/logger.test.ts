import Fastify, { type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { prettyFactory } from 'pino-pretty';
import { createLogger, PRETTY } from '../../../src/platform/telemetry/logger.js';
import { createTestApp } from '../../support/app.js';
import { captureLogs, searchableText } from '../../support/log-capture.js';

describe('logger', () => {
  it('keeps passwords and bearer tokens out of the logs of the real API, even at trace level', async () => {
    const { lines, destination } = captureLogs();
    const t = await createTestApp({ logger: createLogger({ level: 'trace', role: 'api', destination }) });
    let secret = '';
    try {
      const password = 'correct-horse-battery-9';
      const registered = await t.inject({ method: 'POST', url: '/api/register', payload: { name: 'Log', email: 'log@example.test', password, password_confirmation: password } });
      expect(registered.statusCode).toBe(201);
      const token = (registered.json() as { token: string }).token;
      secret = token.split('|')[1]!;
      expect((await t.inject({ method: 'GET', url: '/api/user', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
      expect((await t.inject({ method: 'POST', url: '/api/login', payload: { email: 'log@example.test', password: 'wrong-password-1' } })).statusCode).toBe(422);
      // A failing request logs its error: still no secret.
      expect((await t.inject({ method: 'POST', url: '/api/orders', headers: { authorization: `Bearer ${token}x` }, payload: {} })).statusCode).toBe(401);
    } finally {
      await t.close();
    }
    // Byte arrays and buffers decoded: a raw request logged as bytes hides its secrets from a plain search.
    const text = searchableText(lines);
    expect(lines.length).toBeGreaterThan(5);
    expect(text).not.toContain('correct-horse-battery-9');
    expect(text).not.toContain('wrong-password-1');
    expect(text).not.toContain(secret);
  });

  it('redacts the authorization header, passwords and tokens', async () => {
    const { lines, destination } = captureLogs();
    const logger = createLogger({ level: 'debug', role: 'api', destination });
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    app.post('/login', async (request) => {
      request.log.info({ body: request.body, token: '1|supersecrettoken' }, 'handled');
      return { ok: true };
    });
    await app.inject({
      method: 'POST',
      url: '/login',
      headers: { authorization: 'Bearer 1|supersecrettoken' },
      payload: { email: 'a@b.c', password: 'hunter2hunter2', password_confirmation: 'hunter2hunter2' },
    });
    logger.info({ req: { headers: { authorization: 'Bearer abc' } } }, 'request');
    await app.close();

    const text = searchableText(lines);
    expect(text).toContain('handled');
    expect(text).not.toContain('supersecrettoken');
    expect(text).not.toContain('hunter2hunter2');
    expect(text).not.toContain('Bearer abc');
    expect(text).toContain('[redacted]');
  });

  it('never logs the raw bytes that an error carries, at any level', () => {
    const { lines, destination } = captureLogs();
    const logger = createLogger({ level: 'trace', role: 'api', destination });
    const raw = Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer 1|rawpacketsecret\r\n\r\n');
    const parserError = Object.assign(new Error('Parse Error: Invalid header value char'), { code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: raw });
    logger.trace({ err: parserError }, 'client error');
    logger.error({ err: new Error('wrapped', { cause: parserError }) }, 'wrapped');
    logger.info({ err: Object.assign(new Error('bytes'), { payload: raw, nested: { data: raw } }) }, 'bytes');
    expect(lines).toHaveLength(3);
    expect(searchableText(lines)).not.toContain('rawpacketsecret');
    expect(lines[0]).toContain('HPE_INVALID_HEADER_TOKEN');
  });

  it('finds secrets hidden in byte arrays, serialized buffers and base64', () => {
    const lines = [JSON.stringify({ a: [...Buffer.from('s3cret-1')], b: { type: 'Buffer', data: [...Buffer.from('s3cret-2')] }, c: Buffer.from('s3cret-3-long-enough').toString('base64') })];
    const text = searchableText(lines);
    for (const secret of ['s3cret-1', 's3cret-2', 's3cret-3']) expect(text).toContain(secret);
  });

  it('writes JSON lines with the role', () => {
    const { lines, destination } = captureLogs();
    createLogger({ level: 'info', role: 'worker', destination }).info('hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ role: 'worker', msg: 'hello', level: 30 });
  });

  it('prints a request line on a terminal as one line, its fields in the message', () => {
    const { lines, destination } = captureLogs();
    const logger = createLogger({ level: 'info', role: 'api', destination });
    logger.child({ reqId: 'req-1' }).info({ req: { method: 'GET', url: '/api/orders' }, res: { statusCode: 200 }, responseTime: 3.2 }, 'GET /api/orders 200 3.2 ms');
    const printed = prettyFactory({ ...PRETTY, colorize: false })(lines[0]!);
    expect(printed.trimEnd().split('\n')).toHaveLength(1);
    expect(printed).toContain('INFO: GET /api/orders 200 3.2 ms');
    expect(printed).toContain('"reqId":"req-1"');
    expect(printed).not.toMatch(/statusCode|responseTime|"req"/);
  });
});
