import fs from 'node:fs';
import type { KyselyPlugin } from 'kysely';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/auth/users.repository.js';
import { createContainer, type Container } from '../../src/container.js';
import { orderIntegrationHandler, type ItemDetails } from '../../src/orders/orders.integration.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import type { Database, Executor } from '../../src/platform/db/database.js';
import type { WriteBatchLimits } from '../../src/platform/db/write-batcher.js';
import type { JobContext, Worker } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';
import { deferred, sleep, waitFor } from '../support/driver-wait.js';
import { startFakeThirdParty, type FakeThirdParty } from './fake-third-party.js';

/** Every statement that mentions this item id fails. */
const POISONED_ITEM = 987_654_321;

interface Harness {
  container: Container;
  thirdParty: FakeThirdParty;
  client: ThirdPartyClient;
  /** An order of `count` recurring items; their ids. */
  order(count: number): Promise<number[]>;
  item(id: number): Promise<{ status: string; details: ItemDetails | null }>;
  close(): Promise<void>;
}

let harness: Harness | undefined;
let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop(1000)));
  workers = [];
  await harness?.close();
  harness = undefined;
});

async function start(): Promise<Harness> {
  const thirdParty = await startFakeThirdParty(() => ({ status: 201 }));
  const config = await testConfig({ DUPLICATE_WINDOW_SECONDS: '0' });
  const container = await createContainer(config, { logger: pino({ level: 'silent' }), random: () => 0.5 });
  const client = new ThirdPartyClient({ url: thirdParty.url, timeoutMs: 2000 });
  const user = await insertUser(container.database.db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
  harness = {
    container,
    thirdParty,
    client,
    async order(count) {
      const contents = Array.from({ length: count }, (_, i) => ({ label: `item ${i}`, kind: 'recurring', cost: 10 + i }));
      const created = await container.orders.create({ principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: 'A', contact_point: 'B' }, contents } });
      return (JSON.parse(created.body) as { order: { contents: Array<{ id: number }> } }).order.contents.map((c) => c.id);
    },
    async item(id) {
      const row = await container.database.db.selectFrom('order_items').select(['status', 'details']).where('id', '=', id).executeTakeFirstOrThrow();
      return { status: row.status as string, details: row.details === null ? null : (JSON.parse(row.details as string) as ItemDetails) };
    },
    async close() {
      await client.close();
      await container.close();
      await thirdParty.close();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

interface Observed {
  database: Database;
  /** The durability of each write, in order of submission. */
  writes: Array<'durable' | 'relaxed'>;
  /** While set, durable writes wait for it before they start. */
  hold?: Promise<void>;
}

/** The database, with its writes counted (and durable ones held on demand); statements naming POISONED_ITEM fail. */
function observe(database: Database): Observed {
  const poison: KyselyPlugin = {
    transformQuery: (args) => {
      if (mentions(args.node, POISONED_ITEM)) throw new Error('a statement of the batch failed');
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const observed: Observed = {
    writes: [],
    database: {
      ...database,
      write: async (work, options) => {
        const durable = options?.durable !== false;
        observed.writes.push(durable ? 'durable' : 'relaxed');
        if (durable) await observed.hold;
        return database.write((db: Executor) => work(db.withPlugin(poison)), options);
      },
    },
  };
  return observed;
}

function mentions(node: unknown, value: number): boolean {
  return node !== null && typeof node === 'object' && Object.values(node).some((v) => v === value || mentions(v, value));
}

const BATCH: WriteBatchLimits = { maxItems: 64, lingerMs: 300 };
const job = (itemId: number): JobContext => ({ id: String(itemId), queue: orderIntegrationJob.queue, attempt: 1, maxAttempts: 3, headers: {}, signal: new AbortController().signal });

describe('order integration writes in batches', () => {
  it('marks the items of concurrent jobs processing in one write, and records their outcomes in one more', async () => {
    const h = await start();
    const ids = await h.order(6);
    const observed = observe(h.container.database);
    const handler = orderIntegrationHandler({ database: observed.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: { ...BATCH, maxItems: 6 } });
    await Promise.all(ids.map((id) => handler({ itemId: id }, job(id))));
    expect(observed.writes).toEqual(['relaxed', 'durable']);
    for (const id of ids) expect(await h.item(id)).toMatchObject({ status: 'completed', details: { status_code: 201, attempts: 1, last_error: null } });
    expect(h.thirdParty.received.map((r) => r.headers['idempotency-key']).sort()).toEqual(ids.map((id) => `order-item-${id}`).sort());
  });

  it('fails only the job whose statement fails: its neighbours in the batch complete', async () => {
    const h = await start();
    const [first, second] = await h.order(2);
    const observed = observe(h.container.database);
    const handler = orderIntegrationHandler({ database: observed.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: BATCH });
    const outcomes = await Promise.allSettled([first!, POISONED_ITEM, second!].map((id) => handler({ itemId: id }, job(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await h.item(first!)).status).toBe('completed');
    expect((await h.item(second!)).status).toBe('completed');
    expect(h.thirdParty.received).toHaveLength(2);
  });

  it('never sends a completed item again when two deliveries of its job meet in one batch', async () => {
    const h = await start();
    const [id] = await h.order(1);
    const handler = orderIntegrationHandler({ database: h.container.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: BATCH });
    await Promise.all([handler({ itemId: id! }, job(id!)), handler({ itemId: id! }, job(id!))]);
    const completed = await h.item(id!);
    expect(completed.status).toBe('completed');
    // Both concurrent deliveries may have found it not yet completed; once it is, nothing sends it again.
    const sent = h.thirdParty.received.length;
    await handler({ itemId: id! }, job(id!));
    expect(await h.item(id!)).toEqual(completed);
    expect(h.thirdParty.received).toHaveLength(sent);
    expect(new Set(h.thirdParty.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`order-item-${id}`]));
  });

  it('returns from a handler, and deletes its job, only after the batch holding its outcome has committed', async () => {
    const h = await start();
    const ids = await h.order(4);
    const observed = observe(h.container.database);
    const commit = deferred();
    observed.hold = commit.promise;
    const handler = orderIntegrationHandler({ database: observed.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: BATCH });
    let returned = 0;
    workers.push(
      h.container.queue.work(
        orderIntegrationJob.queue,
        async (payload, context) => {
          await handler(payload as { itemId: number }, context);
          returned += 1;
        },
        { concurrency: 4 },
      ),
    );
    await waitFor(() => h.thirdParty.received.length === 4, 5000, 'every item to be sent');
    await sleep(BATCH.lingerMs + 200);
    expect(returned).toBe(0);
    for (const id of ids) expect((await h.item(id)).status).toBe('processing');
    expect((await h.container.queue.stats(orderIntegrationJob.queue)).counts.active).toBe(4);
    commit.resolve();
    await waitFor(async () => (await h.container.queue.stats(orderIntegrationJob.queue)).counts.active === 0, 5000, 'the jobs to be deleted');
    expect(returned).toBe(4);
    for (const id of ids) expect((await h.item(id)).status).toBe('completed');
  });
});
