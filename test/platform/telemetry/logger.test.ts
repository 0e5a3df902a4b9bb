import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/telemetry/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('redacts the authorization header, passwords and tokens', async () => {
    const { lines, destination } = capture();
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

    const text = lines.join('\n');
    expect(text).toContain('handled');
    expect(text).not.toContain('supersecrettoken');
    expect(text).not.toContain('hunter2hunter2');
    expect(text).not.toContain('Bearer abc');
    expect(text).toContain('[redacted]');
  });

  it('writes JSON lines with the role', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'info', role: 'worker', destination }).info('hello');
    expect(JSON.parse(lines[0]!)).toMatchObject({ role: 'worker', msg: 'hello', level: 30 });
  });
});
