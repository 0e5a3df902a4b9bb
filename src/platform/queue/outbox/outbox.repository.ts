import { sql, type Kysely } from 'kysely';
import type { Dialect, Executor } from '../../db/database.js';
import { tablesOf } from '../../db/tables.js';
import { BulkInsert } from '../../db/bulk-insert.js';
import { coalescedRows } from '../../db/coalesce.js';
import { idAmong } from '../../db/id-among.js';
import type { NewOutboxRow, OutboxRow, OutboxTables } from './outbox.table.js';

type Db = Kysely<OutboxTables>;
const tables = tablesOf<OutboxTables>();

export type NewOutbox = Required<Pick<NewOutboxRow, 'queue' | 'payload' | 'headers' | 'priority' | 'max_attempts' | 'dedupe_key' | 'available_at' | 'created_at'>>;

const outboxRows = new BulkInsert<NewOutbox>('outbox', ['queue', 'payload', 'headers', 'priority', 'max_attempts', 'dedupe_key', 'available_at', 'created_at']);

/**
 * Rows in multi-row inserts (an order writes one per recurring item, a feed ingestion one per new
 * image); the rows of the interleaved transactions of a batch go in together (platform/db/coalesce.ts).
 */
export const insertOutboxRows = coalescedRows<NewOutbox>((trx, rows) => outboxRows.insert(trx, rows));

export interface ClaimParams {
  limit: number;
  now: number;
  claimedUntil: number;
  claimedBy: string;
}

/** Claims up to `limit` rows that no live lease or retry delay holds, highest priority first, then oldest. */
export async function claimOutboxRows(db: Executor, dialect: Dialect, p: ClaimParams): Promise<OutboxRow[]> {
  const claimed = dialect === 'mysql' ? await claimWithSelectThenUpdate(tables(db), p) : await claimWithUpdateReturning(tables(db), dialect, p);
  return claimed.sort((a, b) => b.priority - a.priority || a.id - b.id);
}

function nextClaimable(db: Db, p: ClaimParams) {
  return db
    .selectFrom('outbox')
    .select('id')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', p.now)]))
    .orderBy('priority', 'desc')
    .orderBy('id')
    .limit(p.limit);
}

function claimUpdate(db: Db, p: ClaimParams) {
  return db.updateTable('outbox').set({ claimed_until: p.claimedUntil, claimed_by: p.claimedBy });
}

async function claimWithUpdateReturning(db: Db, dialect: Dialect, p: ClaimParams): Promise<OutboxRow[]> {
  if (dialect === 'postgres') return claimUpdate(db, p).where(idAmong(nextClaimable(db, p).forUpdate().skipLocked())).returningAll().execute();
  return claimUpdate(db, p).where('id', 'in', nextClaimable(db, p)).returningAll().execute();
}

/**
 * MySQL's claim. At READ COMMITTED, as PostgreSQL's: at MySQL's default REPEATABLE READ, the
 * statements keep locks on the rows and gaps they only passed, and two claimers, or a claim and a
 * delete of finished rows, deadlocked (the outbox relays' test, on MariaDB: 3 deadlocks in 3 runs,
 * none at READ COMMITTED).
 */
async function claimWithSelectThenUpdate(db: Db, p: ClaimParams): Promise<OutboxRow[]> {
  return db.transaction().setIsolationLevel('read committed').execute(async (trx) => {
    const ids = (await nextClaimable(trx, p).forUpdate().skipLocked().execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await claimUpdate(trx, p).where('id', 'in', ids).execute();
    return trx.selectFrom('outbox').selectAll().where('id', 'in', ids).execute();
  });
}

/** Deletes published rows that this relay still holds; returns how many. */
export async function deleteOutboxRows(db: Executor, ids: number[], claimedBy: string): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('outbox').where('id', 'in', ids).where('claimed_by', '=', claimedBy).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Gives rows whose publish failed back, claimable again from `retryAt`, with the failure counted. */
export async function releaseOutboxRows(db: Executor, ids: number[], claimedBy: string, retryAt: number, error: string): Promise<void> {
  if (ids.length === 0) return;
  await tables(db)
    .updateTable('outbox')
    .set({ claimed_until: retryAt, claimed_by: null, attempts: sql<number>`attempts + 1`, last_error: error })
    .where('id', 'in', ids)
    .where('claimed_by', '=', claimedBy)
    .execute();
}

/** Rows of one queue by what they will be once published (ready or delayed) and priority. */
export function countOutboxRows(db: Executor, queue: string, now: number) {
  return tables(db)
    .selectFrom('outbox')
    .select((eb) => [
      eb.case().when('available_at', '>', now).then(sql.lit('delayed')).else(sql.lit('ready')).end().as('state'),
      'priority',
      eb.fn.countAll<number>().as('count'),
    ])
    .where('queue', '=', queue)
    .groupBy([sql`1`, sql`2`])
    .execute();
}

/** Rows not yet published, and the age of the oldest: the relay's lag. */
export interface OutboxPending {
  count: number;
  /** created_at of the oldest row (epoch ms), null when the outbox is empty. */
  oldestCreatedAt: number | null;
}

export async function pendingOutbox(db: Executor): Promise<OutboxPending> {
  const row = await tables(db)
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('created_at').as('oldest')])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
}
