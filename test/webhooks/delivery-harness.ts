import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { pino } from 'pino';
import { createContainer, QUEUE_NAMES, type Container } from '../../src/app/container.js';
import { startOutboxRelay } from '../../src/app/roles.js';
import { insertUser } from '../../src/auth/users.repository.js';
import type { Clock } from '../../src/platform/clock.js';
import type { LookupFunction } from '../../src/platform/net/ssrf.js';
import type { JobHandler, Worker } from '../../src/platform/queue/queue.js';
import type { WebhookEventType } from '../../src/webhooks/event-types.js';
import { createWebhookJobs, webhookDeliveryJob } from '../../src/webhooks/webhooks.jobs.js';
import type { WebhookDeliveryRow, WebhookEndpointRow, WebhooksTables } from '../../src/webhooks/webhooks.tables.js';
import type { Kysely } from 'kysely';
import { deleteJobQueues, TEST_TIERS_MS } from '../platform/queue/amqp-fixture.js';
import { testConfig } from '../support/app.js';
import { serviceUrls } from '../support/services.js';

export type QueueDriverName = 'database' | 'amqp';

/** Real time plus an offset that tests move forward: retries run for real, hours pass at once. */
export function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export interface DeliveryHarnessOptions {
  driver: QueueDriverName;
  /** Over the defaults: http and private hosts allowed, schedule 50,50,50 (4 attempts), timeout 2 s. */
  env?: Record<string, string>;
  resolve?: LookupFunction;
}

export interface EndpointOptions {
  events?: WebhookEventType[];
  secret?: string;
  previousSecret?: string;
  previousSecretUntil?: number;
}

export interface DeliveryHarness {
  container: Container;
  clock: ReturnType<typeof offsetClock>;
  userId: number;
  /** Starts the delivery worker (the others' queues are not worked). */
  start(): void;
  endpoint(url: string, options?: EndpointOptions): Promise<{ id: number; secret: string }>;
  /** Publishes events as the order pipeline does, in a transaction; returns nothing, the deliveries tell. */
  publish(...events: Array<{ type: WebhookEventType; data: unknown; traceparent?: string }>): Promise<void>;
  deliveries(endpointId: number): Promise<WebhookDeliveryRow[]>;
  endpointRow(id: number): Promise<WebhookEndpointRow>;
  close(): Promise<void>;
}

/** A container on the run's database and the given queue driver, with the delivery job's worker as the app wires it. */
export async function startDeliveryHarness(options: DeliveryHarnessOptions): Promise<DeliveryHarness> {
  const prefix = `test-${randomBytes(4).toString('hex')}.`;
  const amqp: Record<string, string> = options.driver === 'amqp' ? { QUEUE_DRIVER: 'amqp', AMQP_URL: serviceUrls.rabbitmq, AMQP_QUEUE_PREFIX: prefix, AMQP_RETRY_TIERS_MS: TEST_TIERS_MS.join(',') } : {};
  const config = await testConfig({
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
    WEBHOOK_RETRY_SCHEDULE_MS: '50,50,50',
    WEBHOOK_TIMEOUT_MS: '2000',
    ...amqp,
    ...options.env,
  });
  const clock = offsetClock();
  const container = await createContainer(config, { logger: pino({ level: 'silent' }), clock, random: () => 0.5 });
  const relay = container.outbox && startOutboxRelay(container, container.outbox);
  const runner = createWebhookJobs({
    database: container.database,
    clock,
    random: container.random,
    logger: container.logger,
    metrics: container.metrics,
    webhooks: config.webhooks,
    userAgent: 'intake-webhooks/9.9.9-test',
    resolve: options.resolve,
    outbound: container.outbound,
    ratePerSPerEndpoint: config.outbound.webhookRatePerSPerEndpoint,
  });
  const user = await insertUser(container.database.db, { name: 'hooks', email: `hooks-${prefix}@example.test`, password_hash: 'x', created_at: 0, updated_at: 0 });
  const db = () => container.database.db as Kysely<WebhooksTables>;
  let worker: Worker | undefined;
  return {
    container,
    clock,
    userId: user.id,
    start() {
      worker ??= container.queue.work(webhookDeliveryJob.queue, runner.handler as JobHandler, { concurrency: config.webhooks.concurrency, ...runner.workOptions });
    },
    async endpoint(url, endpoint = {}) {
      const secret = endpoint.secret ?? newSecret();
      const now = clock.now();
      const row = await db()
        .insertInto('webhook_endpoints')
        .values({
          user_id: user.id,
          url,
          description: null,
          events: JSON.stringify(endpoint.events ?? ['order.item.completed', 'order.item.failed', 'order.completed']),
          secret,
          previous_secret: endpoint.previousSecret ?? null,
          previous_secret_until: endpoint.previousSecretUntil ?? null,
          enabled: 1,
          created_at: now,
          updated_at: now,
        })
        .executeTakeFirstOrThrow();
      const id = Number(row.insertId ?? (await db().selectFrom('webhook_endpoints').select('id').where('secret', '=', secret).executeTakeFirstOrThrow()).id);
      return { id, secret };
    },
    async publish(...events) {
      await container.database.transaction((trx) => container.webhookEvents.publish(trx, events.map((event) => ({ userId: user.id, ...event }))));
    },
    deliveries: (endpointId) => db().selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id').execute(),
    endpointRow: (id) => db().selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    async close() {
      await worker?.stop(0);
      await relay?.stop(1_000);
      await runner.close?.();
      await container.close();
      if (options.driver === 'amqp') await deleteJobQueues(prefix, QUEUE_NAMES);
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
