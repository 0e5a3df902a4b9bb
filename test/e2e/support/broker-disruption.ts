import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { QUEUE_NAMES } from '../../../src/app/container.js';
import { createDatabase } from '../../../src/platform/db/database.js';
import { deleteJobQueues } from '../../platform/queue/amqp-fixture.js';
import { startFakeThirdParty } from '../../orders/fake-third-party.js';
import { createEmptyDatabase } from '../../support/driver-databases.js';
import { waitFor } from '../../support/driver-wait.js';
import { freePort, killAll, MAIN_JS, spawnNode, waitUntilServing, type ManagedProcess } from '../../support/processes.js';
import { serviceUrls } from '../../support/services.js';
import { registerUser, requestJson } from './intake.js';

const ORDERS = 60;
const RECURRING_PER_ORDER = 5;
const TIERS = '100,1000,5000';

/** What befalls the broker twice while the orders are posted: at a third and at two thirds of them. */
export type Disruption = (roles: { api: ManagedProcess; worker: ManagedProcess }) => Promise<void>;

/**
 * An api and a worker process on PostgreSQL, RabbitMQ (through the outbox) and Redis; 60 orders
 * of 5 recurring items are posted while the broker is disrupted twice. Every order must be
 * accepted and every item completed once at the third party (which dedupes on the
 * Idempotency-Key), leaving the outbox empty. Unless `repeatsAllowed`, no call may even repeat.
 */
export async function ordersThroughBrokerDisruption(disrupt: Disruption, options: { repeatsAllowed?: boolean } = {}): Promise<{ repeats: number }> {
  const thirdParty = await startFakeThirdParty(() => ({ status: 201 }));
  const { url: databaseUrl } = await createEmptyDatabase('postgres');
  const prefix = `e2e-${randomUUID().slice(0, 8)}.`;
  const shared = {
    DATABASE_URL: databaseUrl,
    QUEUE_DRIVER: 'amqp',
    AMQP_URL: serviceUrls.rabbitmq,
    AMQP_QUEUE_PREFIX: prefix,
    AMQP_RETRY_TIERS_MS: TIERS,
    STORE_DRIVER: 'redis',
    REDIS_URL: serviceUrls.redis,
    REDIS_KEY_PREFIX: prefix,
    JOB_BACKOFF_MS: '50',
    JOB_BACKOFF_MAX_MS: '1000',
    OUTBOX_POLL_MS: '100',
    THIRD_PARTY_URL: thirdParty.url,
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    FEED_INGEST_ON_START: 'false',
  };
  const database = createDatabase({ url: databaseUrl });
  try {
    const apiPort = await freePort();
    const api = spawnNode('api', MAIN_JS, { ...shared, ROLE: 'api', PORT: String(apiPort) });
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    await waitUntilServing(api, `${baseUrl}/ready`, 30_000);
    const metricsPort = await freePort();
    const worker = spawnNode('worker', MAIN_JS, { ...shared, ROLE: 'worker', MIGRATE_ON_START: 'false', METRICS_PORT: String(metricsPort), WORKER_CONCURRENCY: '8' });
    await waitUntilServing(worker, `http://127.0.0.1:${metricsPort}/ready`, 30_000);

    const token = await registerUser(baseUrl, `outage-${prefix.slice(0, -1)}@example.test`);
    const contents = Array.from({ length: RECURRING_PER_ORDER }, (_, i) => ({ label: `Plan ${i}`, kind: 'recurring', cost: 5, meta: { priority: i % 2 ? 'high' : 'low' } }));
    for (let n = 0; n < ORDERS; n++) {
      if (n === ORDERS / 3 || n === (2 * ORDERS) / 3) await disrupt({ api, worker });
      const response = await requestJson(`${baseUrl}/api/orders`, { method: 'POST', token, body: { client: { identity: `c${n}`, contact_point: 'x@example.test' }, contents }, headers: { 'idempotency-key': `order-${n}` } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
    }

    const total = ORDERS * RECURRING_PER_ORDER;
    const completed = async () => Number((await database.db.selectFrom('order_items').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'completed').executeTakeFirstOrThrow()).n);
    await waitFor(async () => (await completed()) === total, 60_000, `${total} completed items`);
    const keys = thirdParty.received.map((r) => String(r.headers['idempotency-key']));
    expect(new Set(keys).size).toBe(total);
    if (!options.repeatsAllowed) expect(keys).toHaveLength(total);
    expect([api, worker].every((p) => !p.hasExited)).toBe(true);
    const outboxLeft = Number((await database.db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    expect(outboxLeft).toBe(0);
    return { repeats: keys.length - total };
  } finally {
    await killAll();
    await database.close();
    await thirdParty.close();
    await deleteJobQueues(prefix, QUEUE_NAMES, TIERS.split(',').map(Number)).catch(() => undefined);
  }
}
