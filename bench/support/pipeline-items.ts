/** The pipeline benchmark's order items: written straight into the app's tables, watched until every one is completed, then removed. */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { sql, type Kysely } from 'kysely';
import type { AuthTables } from '../../src/auth/auth.tables.js';
import type { Container } from '../../src/app/container.js';
import type { Database, Executor } from '../../src/platform/db/database.js';
import { BulkInsert } from '../../src/platform/db/bulk-insert.js';
import { tablesOf } from '../../src/platform/db/tables.js';
import type { NewOrderItemRow, NewOrderRow, OrdersTables } from '../../src/orders/orders.tables.js';
import { DEFAULT_PRIORITY, type Priority } from '../../src/platform/queue/queue.js';

export interface SeededItem {
  id: number;
  priority: Priority;
}

export interface SeededItems {
  userId: number;
  items: SeededItem[];
  firstId: number;
  lastId: number;
}

export interface ItemProgress {
  completed: number;
  /** The latest `updated_at` of a completed item: when the last status was written. */
  lastWrittenAt: number | null;
}

type OrderColumns = Required<Omit<NewOrderRow, 'id' | 'finished_at'>>;
type ItemColumns = Required<Omit<NewOrderItemRow, 'id'>>;

const orderInsert = new BulkInsert<OrderColumns, { id: number }>(
  'orders',
  ['user_id', 'client_identity', 'client_contact_point', 'content_hash', 'created_at', 'updated_at'],
  { returning: ['id'] },
);
const itemInsert = new BulkInsert<ItemColumns, { id: number }>(
  'order_items',
  ['order_id', 'position', 'label', 'kind', 'cost_cents', 'meta', 'priority', 'status', 'details', 'created_at', 'updated_at'],
  { returning: ['id'] },
);

const tables = tablesOf<OrdersTables>();

/**
 * `count` orders of one user with one `recurring` item each, in status `received`, as the orders
 * API stores them, but without their jobs: enqueueing is what the benchmark measures.
 */
export async function seedRecurringItems(container: Container, count: number): Promise<SeededItems> {
  const now = Date.now();
  const user = await container.auth.createUser({ name: 'Pipeline bench', email: `pipeline-bench-${randomUUID()}@bench.example`, password: randomUUID() });
  const ids = await container.database.transaction(async (trx) => {
    const orders = Array.from({ length: count }, (_, i) => ({
      user_id: user.id,
      client_identity: 'Bench Client Ltd',
      client_contact_point: 'orders@bench.example',
      content_hash: `pipeline-bench-${i}`,
      created_at: now,
      updated_at: now,
    }));
    const orderIds = (await orderInsert.insert(trx, orders)).map((o) => o.id);
    const items = orderIds.map((orderId) => ({
      order_id: orderId,
      position: 0,
      label: 'Monthly refill',
      kind: 'recurring' as const,
      cost_cents: 1250,
      meta: '{"priority":"normal","frequency":"monthly"}',
      priority: DEFAULT_PRIORITY,
      status: 'received' as const,
      details: null,
      created_at: now,
      updated_at: now,
    }));
    return (await itemInsert.insert(trx, items)).map((item) => item.id).sort((a, b) => a - b);
  });
  if (ids.length !== count) throw new Error(`seeded ${ids.length} order items of ${count}`);
  return { userId: user.id, items: ids.map((id) => ({ id, priority: DEFAULT_PRIORITY })), firstId: ids[0]!, lastId: ids.at(-1)! };
}

export async function itemProgress(db: Executor, seeded: SeededItems): Promise<ItemProgress> {
  const row = await tables(db)
    .selectFrom('order_items')
    .select((eb) => [eb.fn.countAll<number | string>().as('completed'), eb.fn.max('updated_at').as('last')])
    .where('id', '>=', seeded.firstId)
    .where('id', '<=', seeded.lastId)
    .where('status', '=', 'completed')
    .executeTakeFirstOrThrow();
  return { completed: Number(row.completed), lastWrittenAt: row.last === null ? null : Number(row.last) };
}

/** Polls until every seeded item is completed, or `timeoutMs` passed; returns the last progress seen. */
export async function waitForItems(db: Executor, seeded: SeededItems, timeoutMs: number): Promise<ItemProgress & { timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await itemProgress(db, seeded);
    if (progress.completed >= seeded.items.length) return { ...progress, timedOut: false };
    if (Date.now() > deadline) return { ...progress, timedOut: true };
    // The end is the items' own last write, not this poll's: polling often would only take the worker's thread (a poll scans the run's items).
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Deletes the items, orders and user, and the attempts recorded so far, so that a shared server database is left as it was. */
export async function removeSeededItems(database: Database, seeded: SeededItems): Promise<void> {
  await database.transaction(async (trx) => {
    await tables(trx).deleteFrom('order_items').where('id', '>=', seeded.firstId).where('id', '<=', seeded.lastId).execute();
    await tables(trx).deleteFrom('orders').where('user_id', '=', seeded.userId).execute();
    await (trx as Kysely<AuthTables>).deleteFrom('users').where('id', '=', seeded.userId).execute();
  });
  await removeOwnAttempts(database);
}

/**
 * Reclaims the dead rows a run leaves in the queue and order tables, and gathers the statistics of
 * the rows just seeded. A PostgreSQL server with autovacuum off (as on the development machines)
 * would otherwise make every run scan the dead rows of all the runs before it, and plan the run's
 * statements for tables it believes empty (sequential scans of the seeded items); autovacuum's
 * analyze does both in production. Call it after seeding, before the timed part.
 */
export async function vacuumBeforeRun(database: Database): Promise<void> {
  if (database.dialect !== 'postgres') return;
  await removeOwnAttempts(database);
  await sql`vacuum (analyze) jobs, outbox, order_items, orders, webhook_events, webhook_deliveries, job_attempts`.execute(database.db);
}

/**
 * The attempt log rows of this bench process's earlier runs (their workers record as this
 * process). Kept, they grew the log by a row per job and run: after a few dozen runs its indexes
 * outgrew PostgreSQL's shared buffers, and every later run's attempt inserts slowed.
 */
export async function removeOwnAttempts(database: Database): Promise<void> {
  await sql`delete from job_attempts where process = ${`${os.hostname()}:${process.pid}`}`.execute(database.db);
}
