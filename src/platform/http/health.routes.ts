import type { FastifyInstance } from 'fastify';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const LIVENESS = { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } as const;
const READINESS = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    checks: { type: 'object', additionalProperties: { type: 'string', enum: ['up', 'down'] } },
  },
  required: ['status', 'checks'],
} as const;

export async function healthRoutes(app: FastifyInstance, checks: ReadinessCheck[]): Promise<void> {
  app.get('/health', { schema: { summary: 'Liveness', tags: ['health'], response: { 200: LIVENESS } } }, async () => ({ status: 'ok' }));

  const ready = { summary: 'Readiness: every backing service answers (database, store, queue; a writable image cache where images are downloaded)', tags: ['health'], response: { 200: READINESS, 503: READINESS } };
  app.get('/ready', { schema: ready }, async (request, reply) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2000);
          return [name, 'up'] as const;
        } catch (error) {
          request.log.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'down'] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'up');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
