import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InFlightError, NotFoundError, ValidationError, type DomainError } from '../../../src/platform/errors/domain-errors.js';
import { buildApp } from '../../../src/platform/http/app.js';

const thrown: Record<string, () => DomainError> = {
  'not-found': () => new NotFoundError(),
  'order-not-found': () => new NotFoundError('Order not found.'),
  conflict: () => new ConflictError('Duplicate order.', { order_id: 7 }),
  validation: () => new ValidationError({ name: ['The name field is required.'], 'contents.0.cost': ['Too many decimals.'] }),
  unprocessable: () => new ValidationError({}, 'The Idempotency-Key has already been used with a different request payload.'),
  'in-flight': () => new InFlightError('Still being processed.', 1),
};

describe('domain errors at the HTTP edge', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [],
      plugins: [
        async (scope) => {
          scope.get<{ Params: { name: string } }>('/throw/:name', async (request) => {
            throw thrown[request.params.name]!();
          });
        },
      ],
    });
  });
  afterAll(() => app.close());

  const get = (name: string) => app.inject({ method: 'GET', url: `/throw/${name}` });

  it('answers NotFoundError with 404 and its message', async () => {
    expect([(await get('not-found')).statusCode, (await get('not-found')).json()]).toEqual([404, { message: 'Resource not found.' }]);
    expect((await get('order-not-found')).json()).toEqual({ message: 'Order not found.' });
  });

  it('answers ConflictError with 409, its details beside the message', async () => {
    const res = await get('conflict');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ message: 'Duplicate order.', order_id: 7 });
  });

  it("answers ValidationError with Laravel's 422: the summary and every field's messages", async () => {
    const res = await get('validation');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      message: 'The name field is required. (and 1 more error)',
      errors: { name: ['The name field is required.'], 'contents.0.cost': ['Too many decimals.'] },
    });
  });

  it('answers a ValidationError that names no field with a 422 of its message alone', async () => {
    const res = await get('unprocessable');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ message: 'The Idempotency-Key has already been used with a different request payload.' });
  });

  it('answers InFlightError with 409 and Retry-After', async () => {
    const res = await get('in-flight');
    expect(res.statusCode).toBe(409);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({ message: 'Still being processed.' });
  });
});
