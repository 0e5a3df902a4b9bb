import type { Kysely } from 'kysely';
import type { Executor } from '../db/database.js';
import type { IdempotencyRecord, IdempotencyTables, NewIdempotencyRecord } from './idempotency.table.js';

const tables = (db: Executor) => db as Kysely<IdempotencyTables>;

export function findIdempotencyRecord(db: Executor, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
  return tables(db).selectFrom('idempotency_keys').selectAll().where('scope', '=', scope).where('key', '=', key).executeTakeFirst();
}

export async function insertIdempotencyRecord(db: Executor, record: NewIdempotencyRecord): Promise<void> {
  await tables(db).insertInto('idempotency_keys').values(record).execute();
}

export async function deleteExpiredIdempotencyRecord(db: Executor, scope: string, key: string, now: number): Promise<void> {
  await tables(db).deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('expires_at', '<=', now).execute();
}

export async function deleteExpiredIdempotencyRecords(db: Executor, now: number): Promise<number> {
  const result = await tables(db).deleteFrom('idempotency_keys').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
