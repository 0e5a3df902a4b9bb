import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from '../../../src/platform/http/lazy-child-logger.js';

function parentWithLines(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const parent = pino({ level, redact: ['req.headers.authorization'] }, stream) as unknown as FastifyBaseLogger;
  return { parent, lines };
}

describe('lazyChildLogger', () => {
  it('makes no pino child for a request that logs nothing, and one for a request that logs', () => {
    const { parent, lines } = parentWithLines();
    const child = vi.spyOn(parent, 'child');
    const quiet = lazyChildLogger(parent, { reqId: 'r-1' }, {});
    expect(quiet.level).toBe('info');
    quiet.debug('below the level is still a call, so it makes the child');
    expect(child).toHaveBeenCalledTimes(1);

    const logging = lazyChildLogger(parent, { reqId: 'r-2' }, {});
    logging.info({ req: { headers: { authorization: 'Bearer secret' } } }, 'first');
    logging.warn('second');
    expect(child).toHaveBeenCalledTimes(2);
    expect(lines).toMatchObject([
      { reqId: 'r-2', msg: 'first', req: { headers: { authorization: '[Redacted]' } } },
      { reqId: 'r-2', msg: 'second', level: 40 },
    ]);
    lazyChildLogger(parent, { reqId: 'r-3' }, {});
    expect(child).toHaveBeenCalledTimes(2);
  });

  it("follows the parent's level until it exists, then its own", () => {
    const { parent } = parentWithLines('warn');
    const logger = lazyChildLogger(parent, { reqId: 'r' }, {});
    expect(logger.level).toBe('warn');
    logger.level = 'debug';
    expect(logger.level).toBe('debug');
    expect(parent.level).toBe('warn');
    expect(lazyChildLogger(parent, { reqId: 'r' }, { level: 'error' }).level).toBe('error');
  });
});
