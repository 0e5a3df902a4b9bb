/**
 * Against the compiled app (`npm run build` first): a worker process is SIGKILLed while a webhook
 * request is in flight, and another worker on the same database delivers the event again, under
 * the same webhook-id. On the last attempt, the delivery is recorded failed instead of lost.
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createContainer, QUEUE_NAMES, type Container } from '../../src/app/container.js';
import { startOutboxRelay } from '../../src/app/roles.js';
import { insertUser } from '../../src/auth/users.repository.js';
import type { OutboxRelay } from '../../src/platform/queue/outbox/outbox-relay.js';
import type { WebhooksTables } from '../../src/webhooks/webhooks.tables.js';
import type { Kysely } from 'kysely';
import { deleteJobQueues, TEST_TIERS_MS } from '../platform/queue/amqp-fixture.js';
import { testConfig } from '../support/app.js';
import { waitFor } from '../support/driver-wait.js';
import { assertBuilt, freePort, killAll, MAIN_JS, spawnNode, waitUntilServing, type ManagedProcess } from '../support/processes.js';
import { describeWithServices, serviceUrls } from '../support/services.js';
import { newSecret } from './delivery-harness.js';
import { verifyStandardWebhook } from './standard-webhooks.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';

afterAll(() => killAll());

function killSuite(driver: 'database' | 'amqp'): void {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await killAll();
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup = [];
  });

  async function setup(maxAttempts: number) {
    assertBuilt();
    const receiver: Receiver = await startReceiver((_arrival, index) => (index === 0 ? 'hang' : { status: 200 }));
    cleanup.push(() => receiver.close());
    const prefix = `test-${Math.random().toString(16).slice(2, 10)}.`;
    const amqp: Record<string, string> = driver === 'amqp' ? { QUEUE_DRIVER: 'amqp', AMQP_URL: serviceUrls.rabbitmq, AMQP_QUEUE_PREFIX: prefix, AMQP_RETRY_TIERS_MS: TEST_TIERS_MS.join(',') } : {};
    const env = {
      ...amqp,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true',
      // A delivery's attempts are the schedule's waits + 1.
      WEBHOOK_RETRY_SCHEDULE_MS: maxAttempts === 1 ? 'none' : Array(maxAttempts - 1).fill(50).join(','),
      WEBHOOK_TIMEOUT_MS: '30000',
      JOB_LEASE_MS: '1000',
    };
    const config = await testConfig(env);
    const container: Container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    cleanup.push(async () => {
      await container.close();
      if (driver === 'amqp') await deleteJobQueues(prefix, QUEUE_NAMES);
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    });
    // The api role relays the outbox to the broker; here the test does.
    const relay: OutboxRelay | undefined = container.outbox && startOutboxRelay(container, container.outbox);
    if (relay) cleanup.push(() => relay.stop(1_000));

    const now = Date.now();
    const user = await insertUser(container.database.db, { name: 'killed', email: 'killed@example.test', password_hash: 'x', created_at: now, updated_at: now });
    const secret = newSecret();
    const db = container.database.db as Kysely<WebhooksTables>;
    await db
      .insertInto('webhook_endpoints')
      .values({ user_id: user.id, url: receiver.url, description: null, events: '["order.completed"]', secret, previous_secret: null, previous_secret_until: null, enabled: 1, created_at: now, updated_at: now })
      .execute();
    await container.database.transaction((trx) => container.webhookEvents.publish(trx, [{ userId: user.id, type: 'order.completed', data: { id: 1, contents: [] } }]));
    const delivery = () => db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();

    const startWorker = async (name: string): Promise<ManagedProcess> => {
      const metricsPort = await freePort();
      const worker = spawnNode(name, MAIN_JS, {
        ...env,
        ROLE: 'worker',
        DATA_DIR: config.dataDir,
        DATABASE_URL: config.databaseUrl,
        MIGRATE_ON_START: 'false',
        METRICS_PORT: String(metricsPort),
        HOST: '127.0.0.1',
        THIRD_PARTY_URL: 'http://127.0.0.1:9/never-called',
        LOG_LEVEL: 'warn',
        FEED_INGEST_ON_START: 'false',
      });
      await waitUntilServing(worker, `http://127.0.0.1:${metricsPort}/health`);
      return worker;
    };
    return { receiver, secret, delivery, startWorker };
  }

  it('delivers the event again, under the same webhook-id, after the worker is killed mid-request', { timeout: 60_000 }, async () => {
    const { receiver, secret, delivery, startWorker } = await setup(4);
    const first = await startWorker('worker (killed)');
    await waitFor(() => receiver.arrivals.length === 1, 20_000, 'the first request to arrive');
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    expect(await delivery()).toMatchObject({ status: 'pending' });

    const second = await startWorker('worker (restarted)');
    await waitFor(async () => (await delivery()).status === 'succeeded', 30_000, `the delivery to succeed\n${second.describe()}`);
    const row = await delivery();
    expect(receiver.arrivals).toHaveLength(2);
    expect(receiver.arrivals.map((a) => a.headers['webhook-id'])).toEqual([row.message_id, row.message_id]);
    expect(receiver.arrivals[1]!.body).toBe(receiver.arrivals[0]!.body);
    expect(verifyStandardWebhook(secret, receiver.arrivals[1]!.headers, receiver.arrivals[1]!.body, Date.now())).toBe(true);
    expect(row).toMatchObject({ attempts: 2, last_status_code: 200 });
  });

  it('records the delivery failed when the worker is killed during its last attempt', { timeout: 60_000 }, async () => {
    const { receiver, delivery, startWorker } = await setup(1);
    const first = await startWorker('worker (killed on the last attempt)');
    await waitFor(() => receiver.arrivals.length === 1, 20_000, 'the only request to arrive');
    await first.kill('SIGKILL');

    const second = await startWorker('worker (restarted after the last attempt)');
    await waitFor(async () => (await delivery()).status === 'failed', 30_000, `the delivery to be failed\n${second.describe()}`);
    expect(await delivery()).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.stringMatching(/lease expired|stopped/) });
    expect(receiver.arrivals).toHaveLength(1);
  });
}

describe('a webhook worker killed mid-delivery, on the database queue', () => killSuite('database'));

await describeWithServices(['rabbitmq'], 'a webhook worker killed mid-delivery, on the amqp queue', () => killSuite('amqp'));
