import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { insertUser } from '../../src/auth/users.repository.js';
import { createContainer } from '../../src/app/container.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { testConfig } from '../support/app.js';
import { createEmptyDatabase, SERVICE_OF } from '../support/driver-databases.js';
import { waitFor } from '../support/driver-wait.js';
import { createOrderAsApi } from '../support/orders.js';
import { assertBuilt, freePort, killAll, MAIN_JS, spawnNode, waitUntilServing } from '../support/processes.js';
import { describeWithServices } from '../support/services.js';
import { startFakeThirdParty } from '../orders/fake-third-party.js';

/** Enough for both workers to claim side by side for hundreds of rounds; 5,000 cost the suite 30 s more and showed nothing more. */
const ITEMS = 2_000;
const PER_ORDER = 100;

afterAll(() => killAll());

for (const dialect of ['postgres', 'mysql'] as const) {
  await describeWithServices([SERVICE_OF[dialect]], `two worker processes on ${dialect}`, () => {
    it(`handle ${ITEMS} recurring items exactly once between them, losing none`, async () => {
      assertBuilt();
      const thirdParty = await startFakeThirdParty();
      const { url } = await createEmptyDatabase(dialect);
      const container = await createContainer(await testConfig({ DATABASE_URL: url }), { logger: pino({ level: 'silent' }) });
      try {
        const now = Date.now();
        const user = await insertUser(container.database.db, { name: 'load', email: `load-${dialect}@example.test`, password_hash: 'x', created_at: now, updated_at: now });
        const contents = Array.from({ length: PER_ORDER }, (_, i) => ({ label: `Plan ${i}`, kind: 'recurring', cost: 9.99 }));
        for (let order = 0; order < ITEMS / PER_ORDER; order++) {
          const created = await createOrderAsApi(container.orders, {
            principal: { userId: user.id, tokenId: 0, abilities: ['orders'] },
            body: { client: { identity: `client ${order}`, contact_point: 'ops@example.test' }, contents },
            idempotencyKey: `load-${order}`,
          });
          expect(created.statusCode).toBe(201);
        }
        expect((await container.queue.stats(orderIntegrationJob.queue)).counts.ready).toBe(ITEMS);

        const workers = await Promise.all(
          ['worker-a', 'worker-b'].map(async (name) => {
            const metricsPort = await freePort();
            const worker = spawnNode(name, MAIN_JS, {
              ROLE: 'worker',
              DATABASE_URL: url,
              DATABASE_POOL_MAX: '8',
              MIGRATE_ON_START: 'false',
              METRICS_PORT: String(metricsPort),
              HOST: '127.0.0.1',
              THIRD_PARTY_URL: thirdParty.url,
              WORKER_CONCURRENCY: '16',
              LOG_LEVEL: 'warn',
              FEED_INGEST_ON_START: 'false',
            });
            await waitUntilServing(worker, `http://127.0.0.1:${metricsPort}/health`);
            return worker;
          }),
        );

        const completed = async () =>
          Number((await container.database.db.selectFrom('order_items').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'completed').executeTakeFirstOrThrow()).n);
        await waitFor(async () => (await completed()) === ITEMS, 120_000, `${ITEMS} completed items`);

        const keys = thirdParty.received.map((r) => String(r.headers['idempotency-key']));
        expect(keys).toHaveLength(ITEMS);
        expect(new Set(keys).size).toBe(ITEMS);
        expect(workers.every((w) => !w.hasExited)).toBe(true);
        // An item is written completed inside the handler; its job row goes once the handler returns.
        const drained = async () => {
          const { counts } = await container.queue.stats(orderIntegrationJob.queue);
          return counts.ready + counts.delayed + counts.active + counts.parked === 0;
        };
        await waitFor(drained, 10_000, 'an empty queue after the last completion');
      } finally {
        await killAll();
        await container.close();
        await thirdParty.close();
      }
    }, 180_000);
  });
}
