import { AsyncResource } from 'node:async_hooks';
import fs from 'node:fs';
import type { KyselyPlugin } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertUser } from '../../src/auth/users.repository.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { orderIntegrationHandler, type ItemDetails } from '../../src/orders/orders.integration.js';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { OrdersService } from '../../src/orders/orders.service.js';
import { ThirdPartyClient } from '../../src/orders/third-party.client.js';
import type { Database, Executor, TransactionOptions, TransactionWork } from '../../src/platform/db/database.js';
import type { WriteBatchLimits } from '../../src/platform/db/write-batcher.js';
import { JobCompletion } from '../../src/platform/queue/job-completion.js';
import { OutboxQueue } from '../../src/platform/queue/outbox/outbox-queue.js';
import type { JobContext, Worker } from '../../src/platform/queue/queue.js';
import { createTestApp, testConfig, type TestApp, type TestUser } from '../support/app.js';
import { testDialect } from '../support/driver-databases.js';
import { deferred, sleep, waitFor } from '../support/driver-wait.js';
import { createOrderAsApi } from '../support/orders.js';
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
      const created = await createOrderAsApi(container.orders, { principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: 'A', contact_point: 'B' }, contents } });
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
  /** The durability of each write or transaction, in order of submission. */
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
      // Outcomes are transactions (they lock their orders and write their events with them).
      transaction: async (work, options) => {
        const durable = options?.durable !== false;
        observed.writes.push(durable ? 'durable' : 'relaxed');
        if (durable) await observed.hold;
        return database.transaction((db: Executor) => work(db.withPlugin(poison)), options);
      },
    },
  };
  return observed;
}

function mentions(node: unknown, value: number): boolean {
  return node !== null && typeof node === 'object' && Object.values(node).some((v) => v === value || mentions(v, value));
}

const BATCH: WriteBatchLimits = { maxItems: 64, lingerMs: 300 };
const job = (itemId: number): JobContext => ({ id: String(itemId), queue: orderIntegrationJob.queue, attempt: 1, maxAttempts: 3, priority: 2, enqueuedAt: 0, readyAt: 0, headers: {}, signal: new AbortController().signal });

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

  it('writes outcome batches side by side with concurrency 2 on PostgreSQL (one at a time on MySQL and SQLite): batches of one order take its lock in turn, and each item completes once', async () => {
    const h = await start();
    const ids = await h.order(6);
    const observed = observe(h.container.database);
    const gate = deferred();
    observed.hold = gate.promise;
    const handler = orderIntegrationHandler({ database: observed.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: { maxItems: 3, lingerMs: 0, outcomesAtOnce: 2 } });
    const handled = Promise.all(ids.map((id) => handler({ itemId: id }, job(id))));
    const outcomeBatches = () => observed.writes.filter((w) => w === 'durable').length;
    // One at a time, the second batch waits for the first, which waits for the gate.
    const atOnce = testDialect() === 'postgres' ? 2 : 1;
    await waitFor(() => outcomeBatches() === atOnce, 5_000, `${atOnce} outcome batches written at once`);
    await sleep(100);
    expect(outcomeBatches()).toBe(atOnce);
    gate.resolve();
    await handled;
    for (const id of ids) expect(await h.item(id)).toMatchObject({ status: 'completed', details: { status_code: 201, attempts: 1 } });
    expect(h.thirdParty.received).toHaveLength(6);
    const order = await h.container.database.db.selectFrom('orders').select('finished_at').executeTakeFirstOrThrow();
    expect(order.finished_at).not.toBeNull();
  });

  it('holds an outcome while other items are in their call, so that the outcomes of calls that end apart share a transaction', async () => {
    const h = await start();
    const [fast, slow] = await h.order(2);
    const observed = observe(h.container.database);
    // The slow call answers 200 ms after the fast one: held up to a minute, the first outcome goes when the second arrives.
    const client = { send: async (order, headers, signal) => (order.ProductName === 'item 1' && (await sleep(200)), h.client.send(order, headers, signal)) } as Pick<ThirdPartyClient, 'send'> as ThirdPartyClient;
    const handler = orderIntegrationHandler({ database: observed.database, client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: { maxItems: 64, lingerMs: 0, holdMs: 60_000 } });
    await Promise.all([fast!, slow!].map((id) => handler({ itemId: id }, job(id))));
    expect(observed.writes).toEqual(['relaxed', 'durable']);
    expect([(await h.item(fast!)).status, (await h.item(slow!)).status]).toEqual(['completed', 'completed']);
  });

  it('does not hold the other outcomes for a job whose call failed unexpectedly', async () => {
    const h = await start();
    const [ok, broken] = await h.order(2);
    // Held up to a minute, the batch goes only once every call has ended.
    const client = { send: async (order, headers, signal) => (order.ProductName === 'item 1' ? Promise.reject(new Error('a bug in the client')) : h.client.send(order, headers, signal)) } as Pick<ThirdPartyClient, 'send'> as ThirdPartyClient;
    const handler = orderIntegrationHandler({ database: h.container.database, client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: { maxItems: 64, lingerMs: 0, holdMs: 60_000 } });
    const outcomes = await Promise.allSettled([ok!, broken!].map((id) => handler({ itemId: id }, job(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect((await h.item(ok!)).status).toBe('completed');
    expect((await h.item(broken!)).status).toBe('processing');
  }, 10_000);

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

  it("keeps a job whose completion fails its outcome's batch: its neighbours' outcomes and jobs commit, its item stays processing", async () => {
    const h = await start();
    const ids = await h.order(3);
    const observed = observe(h.container.database);
    const handler = orderIntegrationHandler({ database: observed.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: BATCH });
    // The second job's deletion names POISONED_ITEM, so the batch of all three fails and each is written again alone.
    const completions = ids.map((_, i) => new JobCompletion(i === 1 ? POISONED_ITEM : 900_000 + i, 'this worker'));
    const outcomes = await Promise.allSettled(ids.map((id, i) => handler({ itemId: id }, { ...job(id), completion: completions[i] })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(completions.map((c) => c.isCommitted)).toEqual([true, false, true]);
    expect(await Promise.all(ids.map(async (id) => (await h.item(id)).status))).toEqual(['completed', 'processing', 'completed']);
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

  it("deletes a completed item's job in the transaction of its outcome, so the worker has no deletion left to write", async () => {
    const h = await start();
    await h.order(3);
    const handler = orderIntegrationHandler({ database: h.container.database, client: h.client, clock: h.container.clock, logger: pino({ level: 'silent' }), writeBatch: BATCH });
    const jobsLeftOnReturn: number[] = [];
    const committedOnReturn: Array<boolean | undefined> = [];
    workers.push(
      h.container.queue.work(
        orderIntegrationJob.queue,
        async (payload, context) => {
          await handler(payload as { itemId: number }, context);
          const committed = context.completion?.isCommitted;
          jobsLeftOnReturn.push(Object.values((await h.container.queue.stats(orderIntegrationJob.queue)).counts).reduce((sum, n) => sum + n, 0));
          committedOnReturn.push(committed);
        },
        { concurrency: 3 },
      ),
    );
    await waitFor(() => committedOnReturn.length === 3, 5000, 'every handler to return');
    expect(committedOnReturn).toEqual([true, true, true]);
    // One batch held all three outcomes: when the handlers return, their jobs are already gone.
    expect(jobsLeftOnReturn).toEqual([0, 0, 0]);
  });
});

interface OrderRequestBody {
  client: { identity: string; contact_point: string };
  contents: Array<{ label: string; kind: 'single' | 'recurring'; cost: number }>;
}

interface CreatedOrder {
  message: string;
  order: { id: number; client: OrderRequestBody['client']; contents: Array<{ id: number; label: string; kind: string }> };
}

/** What a client was answered: over HTTP, or by the service itself. */
interface Answer {
  statusCode: number;
  body: string;
  location: string | undefined;
  replayed: boolean;
}

interface SentOrder {
  user: TestUser;
  body: OrderRequestBody;
  key?: string;
  answer: Answer;
}

/** Order n: 1 to 5 items, a client and labels of its own (so that no order can pass for another), some items recurring. */
function numberedOrder(n: number): OrderRequestBody {
  return {
    client: { identity: `client ${n}`, contact_point: `ops-${n}@example.test` },
    contents: Array.from({ length: 1 + (n % 5) }, (_, i) => ({ label: `order ${n} item ${i}`, kind: (n + i) % 3 === 0 ? 'recurring' : 'single', cost: 1 + n + i / 100 })),
  };
}

interface GatheredOrders {
  /** Per order transaction, in order of submission: the transactions its work ran in (its batch's, then its own when the batch was re-run). */
  attempts: Executor[][];
  /** The number of order transactions in each transaction they last ran in. */
  batchSizes(): number[];
  restore(): void;
}

/**
 * Holds the order transactions (`interleave: true`) until `count` of them have come, or
 * `maxWaitMs` has passed, then submits them all in one turn: group commit batches them together
 * however the requests were scheduled on a loaded machine.
 */
function gatherOrderTransactions(database: Database, count: number, maxWaitMs = 10_000): GatheredOrders {
  const original = database.transaction;
  const attempts: Executor[][] = [];
  const held: Array<() => void> = [];
  let released = false;
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    released = true;
    clearTimeout(timer);
    for (const submit of held.splice(0)) submit();
  };
  database.transaction = <T>(work: TransactionWork<T>, options?: TransactionOptions): Promise<T> => {
    if (!options?.interleave) return original(work, options);
    const ran: Executor[] = [];
    attempts.push(ran);
    const tracked: TransactionWork<T> = (trx) => {
      ran.push(trx);
      return work(trx);
    };
    if (released) return original(tracked, options);
    return new Promise<T>((resolve, reject) => {
      // Submitted in the request's own async context, as it would have been.
      held.push(AsyncResource.bind(() => void original(tracked, options).then(resolve, reject)));
      timer ??= setTimeout(release, maxWaitMs);
      if (held.length >= count) release();
    });
  };
  return {
    attempts,
    batchSizes() {
      const sizes = new Map<Executor, number>();
      for (const ran of attempts) if (ran.length > 0) sizes.set(ran.at(-1)!, (sizes.get(ran.at(-1)!) ?? 0) + 1);
      return [...sizes.values()];
    },
    restore() {
      release();
      database.transaction = original;
    },
  };
}

describe('POST /api/orders in group-commit batches', () => {
  let t: TestApp;
  let keySeq = 0;

  beforeAll(async () => {
    // Batches of at most 16 orders: a burst of 40 is several batches, written side by side on PostgreSQL and MySQL.
    t = await createTestApp({ env: { DB_GROUP_COMMIT_MAX_BATCH: '16', IDEMPOTENCY_TTL_SECONDS: '86400' } });
  });
  afterAll(() => t?.close());

  const db = () => t.container.database.db;
  const freshKey = (name: string) => `${name}-${++keySeq}`;

  async function send(user: TestUser, body: OrderRequestBody, key?: string): Promise<SentOrder> {
    const response = await t.postOrder(user, body, key === undefined ? {} : { 'idempotency-key': key });
    const answer = { statusCode: response.statusCode, body: response.body, location: response.headers.location as string | undefined, replayed: response.headers['idempotent-replayed'] === 'true' };
    return { user, body, key, answer };
  }

  /** Makes `requests` at once, their order transactions held until all have come, then submitted in one turn. */
  async function sendTogether(requests: Array<() => Promise<SentOrder>>): Promise<{ sent: SentOrder[]; gathered: GatheredOrders }> {
    const gathered = gatherOrderTransactions(t.container.database, requests.length);
    try {
      return { sent: await Promise.all(requests.map((request) => request())), gathered };
    } finally {
      gathered.restore();
    }
  }

  /**
   * Every fresh 201 among `sent` matches what the database holds for its order (id, Location,
   * client, items with their ids, positions and labels, its idempotency record), the users of
   * `sent` have no other order, and each recurring item has exactly one row in `queueTable`.
   */
  async function expectStoredAsAnswered(sent: SentOrder[], queueTable: 'jobs' | 'outbox' = 'jobs'): Promise<void> {
    const fresh = sent.filter((s) => s.answer.statusCode === 201 && !s.answer.replayed);
    const orderIds: number[] = [];
    const recurringIds: number[] = [];
    for (const { user, body, key, answer } of fresh) {
      const { order } = JSON.parse(answer.body) as CreatedOrder;
      orderIds.push(order.id);
      expect(answer.location).toBe(`/api/orders/${order.id}`);
      expect(order.client).toEqual(body.client);
      expect(order.contents.map((c) => [c.label, c.kind])).toEqual(body.contents.map((c) => [c.label, c.kind]));
      const row = await db().selectFrom('orders').select(['user_id', 'client_identity', 'client_contact_point']).where('id', '=', order.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ user_id: user.id, client_identity: body.client.identity, client_contact_point: body.client.contact_point });
      const items = await db().selectFrom('order_items').select(['id', 'position', 'label', 'kind']).where('order_id', '=', order.id).orderBy('position').execute();
      expect(items).toEqual(body.contents.map((c, position) => ({ id: order.contents[position]!.id, position, label: c.label, kind: c.kind })));
      recurringIds.push(...items.filter((i) => i.kind === 'recurring').map((i) => i.id));
      if (key !== undefined) {
        const record = await db()
          .selectFrom('idempotency_keys')
          .select(['status_code', 'response_body', 'response_headers'])
          .where('scope', '=', `user:${user.id}`)
          .where('key', '=', key)
          .executeTakeFirstOrThrow();
        expect(record.status_code).toBe(201);
        expect(record.response_body).toBe(answer.body);
        expect(JSON.parse(record.response_headers as string)).toEqual({ location: answer.location });
      }
    }
    expect(new Set(orderIds).size).toBe(orderIds.length);
    const userIds = [...new Set(sent.map((s) => s.user.id))];
    const stored = await db().selectFrom('orders').select('id').where('user_id', 'in', userIds).execute();
    expect(stored.map((o) => o.id).sort((x, y) => x - y)).toEqual([...orderIds].sort((x, y) => x - y));
    const itemIds = new Set((await db().selectFrom('order_items').select('id').where('order_id', 'in', orderIds).execute()).map((i) => i.id));
    expect(itemIds.size).toBe(fresh.reduce((n, s) => n + s.body.contents.length, 0));
    const itemIdsIn = async (table: 'jobs' | 'outbox') =>
      (await db().selectFrom(table).select('payload').where('queue', '=', orderIntegrationJob.queue).execute())
        .map((row) => (JSON.parse(row.payload as string) as { itemId: number }).itemId)
        .filter((id) => itemIds.has(id))
        .sort((x, y) => x - y);
    expect(await itemIdsIn(queueTable)).toEqual(recurringIds.sort((x, y) => x - y));
    expect(await itemIdsIn(queueTable === 'jobs' ? 'outbox' : 'jobs')).toEqual([]);
  }

  it('answers each of 40 concurrent orders (keyed or not, 1 to 5 items) with its own stored order, written in shared batches', async () => {
    const users = [await t.user('a'), await t.user('b'), await t.user('c'), await t.user('d')];
    const { sent, gathered } = await sendTogether(Array.from({ length: 40 }, (_, n) => () => send(users[n % 4]!, numberedOrder(n), n % 2 === 0 ? freshKey('burst') : undefined)));
    expect(sent.map((s) => [s.answer.statusCode, s.answer.replayed])).toEqual(sent.map(() => [201, false]));
    await expectStoredAsAnswered(sent);
    // Orders did share transactions, none beyond the configured batch size.
    const sizes = gathered.batchSizes();
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
    expect(sizes.reduce((n, size) => n + size, 0)).toBe(40);
  });

  it('writes one outbox row per recurring item of concurrent orders when the outbox is in front of the queue', async () => {
    const { database, store, idempotency, clock, logger, metrics } = t.container;
    const outbox = new OutboxQueue({ inner: t.container.queue, database, clock });
    const orders = new OrdersService({ database, queue: outbox, store, idempotency, clock, logger, duplicateWindowSeconds: 30, metrics });
    const users = [await t.user('outbox-a'), await t.user('outbox-b')];
    const create = (n: number) => async (): Promise<SentOrder> => {
      const user = users[n % 2]!;
      const body = numberedOrder(200 + n);
      const key = n % 3 === 0 ? freshKey('outbox') : undefined;
      const created = await createOrderAsApi(orders, { principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body, idempotencyKey: key });
      return { user, body, key, answer: { statusCode: created.statusCode, body: created.body, location: created.headers.location, replayed: created.replayed } };
    };
    const { sent, gathered } = await sendTogether(Array.from({ length: 12 }, (_, n) => create(n)));
    expect(sent.map((s) => s.answer.statusCode)).toEqual(sent.map(() => 201));
    expect(new Set(gathered.attempts.map((ran) => ran.at(-1))).size).toBe(1);
    await expectStoredAsAnswered(sent, 'outbox');
  });

  it('answers a request whose key collides inside the batch with its replay or 422, while its neighbours are stored once', async () => {
    const [u, v] = [await t.user('collide'), await t.user('neighbour')];
    const replayKey = freshKey('collide-replay');
    const mismatchKey = freshKey('collide-mismatch');
    const first = await send(u, numberedOrder(101), replayKey);
    const other = await send(u, numberedOrder(102), mismatchKey);
    expect([first.answer.statusCode, other.answer.statusCode]).toEqual([201, 201]);
    // No lock holds the keys (with the database store, a process's locks are freed at the commit):
    // the repeated keys are only found taken by the insert in the batch.

    const { sent, gathered } = await sendTogether([
      ...Array.from({ length: 5 }, (_, n) => () => send(n % 2 ? u : v, numberedOrder(110 + n), freshKey('neighbour'))),
      () => send(u, numberedOrder(101), replayKey),
      () => send(u, numberedOrder(103), mismatchKey),
      ...Array.from({ length: 5 }, (_, n) => () => send(n % 2 ? v : u, numberedOrder(120 + n))),
    ]);
    const [replay, mismatch] = [sent[5]!, sent[6]!];
    const neighbours = sent.filter((s) => s !== replay && s !== mismatch);
    expect(neighbours.map((s) => [s.answer.statusCode, s.answer.replayed])).toEqual(neighbours.map(() => [201, false]));
    expect(replay.answer).toEqual({ ...first.answer, replayed: true });
    expect(mismatch.answer.statusCode).toBe(422);
    expect(JSON.parse(mismatch.answer.body)).toEqual({ message: 'The Idempotency-Key has already been used with a different request payload.' });

    // All twelve started in one batch; it rolled back, and each ran again in a transaction of its own.
    expect(gathered.attempts).toHaveLength(12);
    expect(new Set(gathered.attempts.map((ran) => ran[0])).size).toBe(1);
    expect(gathered.attempts.every((ran) => ran.length >= 2)).toBe(true);
    expect(gathered.batchSizes()).toEqual(Array.from({ length: 12 }, () => 1));

    await expectStoredAsAnswered([first, other, ...neighbours]);
  });

  it.each([
    ['the same body: one order, and the other request replays it', 101, [201, 201]],
    ['different bodies: one order, and the other request is refused', 102, [201, 422]],
  ] as const)('stores one order when the same key comes twice in one batch, with %s', async (_title, secondBody, statuses) => {
    const [u, v] = [await t.user('twice'), await t.user('twice-neighbour')];
    const key = freshKey('twice');
    // The key's lock is lost (as if deleted, or held in another process) as soon as it is taken: each request takes it anew.
    const idempotency = t.container.idempotency;
    const begin = idempotency.begin;
    const locks: string[] = [];
    idempotency.begin = async (scope, taken, fingerprint) => {
      if (taken !== key) return begin.call(idempotency, scope, taken, fingerprint);
      locks.push(taken);
      return { kind: 'proceed', claim: { scope, key: taken, fingerprint } };
    };
    let outcome: { sent: SentOrder[]; gathered: GatheredOrders };
    try {
      outcome = await sendTogether([
        () => send(v, numberedOrder(130), freshKey('twice-neighbour')),
        () => send(u, numberedOrder(101), key),
        () => send(v, numberedOrder(131)),
        () => send(u, numberedOrder(secondBody), key),
        () => send(u, numberedOrder(132), freshKey('twice-neighbour')),
        () => send(v, numberedOrder(133)),
      ]);
    } finally {
      idempotency.begin = begin;
    }
    const { sent, gathered } = outcome;
    expect(locks).toHaveLength(2);
    expect(gathered.attempts).toHaveLength(6);
    expect(new Set(gathered.attempts.map((ran) => ran[0])).size).toBe(1);
    const twice = [sent[1]!, sent[3]!];
    const neighbours = sent.filter((s) => !twice.includes(s));
    expect(neighbours.map((s) => s.answer.statusCode)).toEqual([201, 201, 201, 201]);
    // Either may be the one stored: the requests reach the batch in no promised order.
    expect(twice.map((s) => s.answer.statusCode).sort()).toEqual(statuses);
    const stored = twice.filter((s) => s.answer.statusCode === 201 && !s.answer.replayed);
    expect(stored).toHaveLength(1);
    if (statuses[1] === 201) expect(twice.find((s) => s !== stored[0])!.answer).toEqual({ ...stored[0]!.answer, replayed: true });
    const records = await db().selectFrom('idempotency_keys').select('response_body').where('scope', '=', `user:${u.id}`).where('key', '=', key).execute();
    expect(records).toEqual([{ response_body: stored[0]!.answer.body }]);
    await expectStoredAsAnswered(sent);
  });
  it('takes over a key whose record has expired inside the batch, and answers it as a new order', async () => {
    const [u, v] = [await t.user('expired'), await t.user('expired-neighbour')];
    const key = freshKey('expired');
    const first = await send(u, numberedOrder(140), key);
    expect(first.answer.statusCode).toBe(201);
    // Past the record's TTL (and its lock's): the insert in the batch finds the key taken by an expired record.
    t.clock.advance(86_400_000 + 1_000);
    const { sent, gathered } = await sendTogether([
      () => send(v, numberedOrder(141), freshKey('expired-neighbour')),
      () => send(u, numberedOrder(142), key),
      () => send(v, numberedOrder(143)),
      () => send(u, numberedOrder(144), freshKey('expired-neighbour')),
    ]);
    expect(sent.map((s) => [s.answer.statusCode, s.answer.replayed])).toEqual(sent.map(() => [201, false]));
    expect(sent[1]!.answer.location).not.toBe(first.answer.location);
    // The expired record is replaced in the batch; MySQL, which cannot tell which key of its claims was taken, re-runs them alone.
    expect(new Set(gathered.attempts.map((ran) => ran[0])).size).toBe(1);
    expect(gathered.batchSizes()).toEqual(t.container.database.dialect === 'mysql' ? [1, 1, 1, 1] : [4]);
    // The first order stays, its record now the second one's.
    await expectStoredAsAnswered([{ ...first, key: undefined }, ...sent]);
  });
});
