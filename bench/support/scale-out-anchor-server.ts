/**
 * The same-work anchor of bench:orders' scale-out row (issue 11): the work of intake's
 * POST /api/orders on PostgreSQL + Redis + RabbitMQ, written by hand the fastest way known, with
 * none of intake's layers (no auth lookup, schema, validation, logger, metrics, traces or
 * query builder). Per request: the Idempotency-Key lock (Redis SET NX PX). Per batch of the
 * requests that arrived meanwhile (up to 4 batches at once, one pooled connection each): one
 * transaction with one multi-row INSERT each for the orders, their items, the outbox rows of the
 * recurring items and the idempotency records (ON CONFLICT DO NOTHING), then each caller gets its
 * 201. A relay loop claims outbox rows (SKIP LOCKED), publishes them with confirms, deletes them.
 *
 * ANCHOR_LAYERS=true adds, by hand, the per-request work that DESIGN.md requires of intake on top
 * of the writes, each the cheapest known way: a bearer token checked against an in-process cache
 * (sha256 of the secret, constant-time compare), the body validated by intake's own JSON schema
 * (compiled by Fastify's ajv), an x-request-id on every response, a Prometheus histogram per
 * request, and each message published with intake's job properties (message id, content type,
 * attempt headers) and `mandatory`. Logging is at `warn`, as the benchmarked intake's is.
 *
 * Tables: bench/pgbench/setup.sql's (o, oi, ob, ik), in DATABASE_URL. Environment: PORT,
 * DATABASE_URL, REDIS_URL, AMQP_URL, ANCHOR_QUEUE (deleted on exit), ANCHOR_LAYERS.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { connect, type Options } from 'amqplib';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { CreateOrderBody } from '../../src/orders/orders.schemas.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const QUEUE = env('ANCHOR_QUEUE');
const LAYERS = process.env.ANCHOR_LAYERS === 'true';
/** The token the benchmark sends ("<id>|<secret>"), as a token row would hold it: the sha256 of its secret. */
const TOKEN_ID = 1;
const TOKEN_SECRET_SHA256 = createHash('sha256').update('anchor').digest();
const BATCHES_AT_ONCE = 4;
const RELAY_BATCH = 256;

const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: BATCHES_AT_ONCE + 1 });
const redis = new Redis(env('REDIS_URL'));
const amqp = await connect(env('AMQP_URL'));
const channel = await amqp.createConfirmChannel();
await channel.assertQueue(QUEUE, { durable: true, arguments: { 'x-max-priority': 5 } });

interface Item {
  label: string;
  kind: string;
  cost: number;
  meta?: Record<string, unknown>;
}
interface Pending {
  userId: number;
  key: string;
  fingerprint: string;
  client: { identity: string; contact_point: string };
  contents: Item[];
  resolve: (body: string) => void;
  reject: (error: unknown) => void;
}

const queued: Pending[] = [];
let inFlight = 0;
let scheduled = false;

function schedule(): void {
  if (scheduled || inFlight >= BATCHES_AT_ONCE || queued.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    while (inFlight < BATCHES_AT_ONCE && queued.length > 0) {
      const batch = queued.splice(0, 128);
      inFlight++;
      void writeBatch(batch).finally(() => {
        inFlight--;
        schedule();
      });
    }
  });
}

const placeholders = (rows: number, columns: number) =>
  Array.from({ length: rows }, (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`).join(', ');

async function writeBatch(batch: Pending[]): Promise<void> {
  const client = await pool.connect();
  const now = Date.now();
  try {
    await client.query('begin');
    const orders = await client.query<{ id: number }>(
      `insert into o (user_id, client_identity, client_contact_point, content_hash, created_at, updated_at) values ${placeholders(batch.length, 6)} returning id`,
      batch.flatMap((p) => [p.userId, p.client.identity, p.client.contact_point, p.fingerprint, now, now]),
    );
    const orderIds = orders.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const items = batch.flatMap((p, i) => p.contents.map((item, position) => ({ orderId: orderIds[i]!, position, item })));
    const stored = await client.query<{ id: number; order_id: number; position: number }>(
      `insert into oi (order_id, position, label, kind, cost_cents, meta, priority, status, details, created_at, updated_at) values ${placeholders(items.length, 11)} returning id, order_id, position`,
      items.flatMap(({ orderId, position, item }) => [orderId, position, item.label, item.kind, Math.round(item.cost * 100), JSON.stringify(item.meta ?? {}), 2, item.kind === 'recurring' ? 'received' : 'completed', null, now, now]),
    );
    const idOf = new Map(stored.rows.map((r) => [`${r.order_id}:${r.position}`, Number(r.id)]));
    const recurring = items.filter(({ item }) => item.kind === 'recurring').map(({ orderId, position }) => idOf.get(`${orderId}:${position}`)!);
    if (recurring.length > 0) {
      await client.query(
        `insert into ob (queue, payload, headers, priority, created_at) values ${placeholders(recurring.length, 5)}`,
        recurring.flatMap((itemId) => [QUEUE, JSON.stringify({ itemId }), '{}', 2, now]),
      );
    }
    const bodies = batch.map((p, i) =>
      JSON.stringify({
        message: 'Order stored successfully',
        order: { id: orderIds[i], client: p.client, contents: p.contents.map((item, position) => ({ id: idOf.get(`${orderIds[i]}:${position}`), ...item })), created_at: now },
      }),
    );
    await client.query(
      `insert into ik (scope, key, fingerprint, status_code, response_body, response_headers, created_at, expires_at) values ${placeholders(batch.length, 8)} on conflict (scope, key) do nothing`,
      batch.flatMap((p, i) => [`user:${p.userId}`, p.key, p.fingerprint, 201, bodies[i], '{}', now, now + 86_400_000]),
    );
    await client.query('commit');
    batch.forEach((p, i) => p.resolve(bodies[i]!));
    wakeRelay();
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    for (const p of batch) p.reject(error);
  } finally {
    client.release();
  }
}

let relayWake: (() => void) | undefined;
let stopping = false;
const wakeRelay = () => relayWake?.();

function publishOptions(priority: number, now: number): Options.Publish {
  if (!LAYERS) return { persistent: true, priority };
  return {
    persistent: true,
    priority,
    mandatory: true,
    messageId: randomUUID(),
    contentType: 'application/json',
    headers: { 'x-intake-attempts': 0, 'x-intake-max-attempts': 5, 'x-intake-created-at': now },
  };
}

async function relay(): Promise<void> {
  while (!stopping) {
    const now = Date.now();
    const claimed = await pool.query<{ id: number; payload: string; priority: number }>(
      `update ob set claimed_until = $1 where id in (select id from ob where claimed_until is null or claimed_until < $2 order by priority desc, id limit ${RELAY_BATCH} for update skip locked) returning id, payload, priority`,
      [Date.now() + 30_000, Date.now()],
    );
    if (claimed.rows.length === 0) {
      await new Promise<void>((resolve) => {
        relayWake = resolve;
        setTimeout(resolve, 10);
      });
      continue;
    }
    for (const row of claimed.rows) channel.publish('', QUEUE, Buffer.from(row.payload), publishOptions(row.priority, now));
    await channel.waitForConfirms();
    await pool.query('delete from ob where id = any($1)', [claimed.rows.map((r) => r.id)]);
  }
}

const app = Fastify(
  LAYERS ? { loggerInstance: pino({ level: 'warn' }), requestIdHeader: 'x-request-id', genReqId: () => randomUUID() } : { logger: false },
);
if (LAYERS) addLayers();
app.post('/api/orders', LAYERS ? { schema: { body: CreateOrderBody } } : {}, async (request, reply) => {
  const body = request.body as { client: Pending['client']; contents: Item[] };
  const key = String(request.headers['idempotency-key'] ?? '');
  const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
  const userId = 1;
  if ((await redis.set(`anchor:idem:${userId}:${key}`, fingerprint, 'PX', 60_000, 'NX')) !== 'OK') return reply.code(409).send({ message: 'in flight' });
  const stored = await new Promise<string>((resolve, reject) => {
    queued.push({ userId, key, fingerprint, client: body.client, contents: body.contents, resolve, reject });
    schedule();
  });
  return reply.code(201).header('content-type', 'application/json').send(stored);
});

function addLayers(): void {
  const verified = new Map<string, { userId: number; expiresAt: number }>();
  app.addHook('onRequest', async (request, reply) => {
    if (request.url === '/health') return;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const secret = match?.[1] ?? '';
    const hash = createHash('sha256').update(secret).digest();
    const cacheKey = `${TOKEN_ID}:${hash.toString('hex')}`;
    const hit = verified.get(cacheKey);
    if (hit && hit.expiresAt > Date.now()) return;
    if (!timingSafeEqual(hash, TOKEN_SECRET_SHA256)) return reply.code(401).send({ message: 'Unauthenticated.' });
    verified.set(cacheKey, { userId: 1, expiresAt: Date.now() + 1_000 });
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route pattern',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
app.get('/health', async () => ({ status: 'ok' }));

const relayDone = relay();
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });

const shutdown = () =>
  void (async () => {
    await app.close();
    stopping = true;
    wakeRelay();
    await relayDone.catch(() => undefined);
    await channel.deleteQueue(QUEUE).catch(() => undefined);
    await amqp.close().catch(() => undefined);
    redis.disconnect();
    await pool.end();
    process.exit(0);
  })();
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
