import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { tablesOf } from '../db/tables.js';
import { BulkInsert } from '../db/bulk-insert.js';
import { coalesced } from '../db/coalesce.js';
import { executorDialect } from '../db/executor-dialect.js';
import { param, prepareQuery } from '../db/prepared-query.js';
import type { IdempotencyRecord, IdempotencyTables, NewIdempotencyRecord } from './idempotency.table.js';

const tables = tablesOf<IdempotencyTables>();

const recordByKey = prepareQuery<{ scope: string; key: string }, IdempotencyRecord>((db) =>
  tables(db).selectFrom('idempotency_keys').selectAll().where('scope', '=', param<string>('scope')).where('key', '=', param<string>('key')),
);

const lockedRecordByKey = prepareQuery<{ scope: string; key: string }, IdempotencyRecord>((db) =>
  tables(db).selectFrom('idempotency_keys').selectAll().where('scope', '=', param<string>('scope')).where('key', '=', param<string>('key')).forUpdate(),
);

type RecordValues = Required<Omit<NewIdempotencyRecord, 'id'>>;

const insertRecord = (db: Executor) =>
  tables(db)
    .insertInto('idempotency_keys')
    .values({
      scope: param('scope'),
      key: param('key'),
      fingerprint: param('fingerprint'),
      status_code: param('status_code'),
      response_body: param('response_body'),
      response_headers: param('response_headers'),
      created_at: param('created_at'),
      expires_at: param('expires_at'),
    });

const insertPlain = prepareQuery<RecordValues, never>(insertRecord);

const insertUnlessTaken = prepareQuery<RecordValues, { id: number }>((db) =>
  insertRecord(db)
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('id'),
);

/** MySQL: a no-op update on a taken key affects no row (the pool clears CLIENT_FOUND_ROWS). */
const insertUnlessTakenOnMysql = prepareQuery<RecordValues, never>((db) => insertRecord(db).onDuplicateKeyUpdate({ id: sql.ref('id') }));

export function findIdempotencyRecord(db: Executor, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
  return recordByKey.first(db, { scope, key });
}

export async function insertIdempotencyRecord(db: Executor, record: RecordValues): Promise<void> {
  await insertPlain.execute(db, record);
}

/** The record of a key inside a transaction, locked, as the latest committed version (MySQL's snapshot may predate it). */
export function lockIdempotencyRecord(trx: Executor, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
  return (executorDialect(trx) === 'sqlite' ? recordByKey : lockedRecordByKey).first(trx, { scope, key });
}

async function insertOneUnlessTaken(db: Executor, record: RecordValues): Promise<boolean> {
  if (executorDialect(db) === 'mysql') return Number((await insertUnlessTakenOnMysql.execute(db, record)).numAffectedRows ?? 0) === 1;
  return (await insertUnlessTaken.rows(db, record)).length === 1;
}

const RECORD_COLUMNS = ['scope', 'key', 'fingerprint', 'status_code', 'response_body', 'response_headers', 'created_at', 'expires_at'] as const;
const recordsUnlessTaken = new BulkInsert<RecordValues, { scope: string; key: string }>('idempotency_keys', RECORD_COLUMNS, {
  returning: ['scope', 'key'],
  skipConflictsOn: ['scope', 'key'],
  maxRows: 128,
});

/** A multi-row claim on MySQL found a key taken, and cannot tell whose: the batch is re-run one transaction at a time. */
export class IdempotencyClaimsCollided extends Error {
  constructor() {
    super('an idempotency key of a batch was taken; its transactions are re-run one at a time');
  }
}

async function insertManyUnlessTaken(db: Executor, records: readonly RecordValues[]): Promise<boolean[]> {
  if (records.length === 1) return [await insertOneUnlessTaken(db, records[0]!)];
  if (executorDialect(db) === 'mysql') {
    const result = await tables(db)
      .insertInto('idempotency_keys')
      .values([...records])
      .onDuplicateKeyUpdate({ id: sql.ref('id') })
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) !== records.length) throw new IdempotencyClaimsCollided();
    return records.map(() => true);
  }
  const keyOf = (record: { scope: string; key: string }) => `${record.scope}\n${record.key}`;
  const taken = new Set((await recordsUnlessTaken.insert(db, records)).map(keyOf));
  // One statement inserts a key at most once: a second caller with the same key did not take it.
  const seen = new Set<string>();
  return records.map((record) => {
    const key = keyOf(record);
    if (seen.has(key)) return false;
    seen.add(key);
    return taken.has(key);
  });
}

/**
 * Inserts the record unless its (scope, key) is taken; true when this insert took it. The records
 * of the interleaved transactions of a batch go in together (platform/db/coalesce.ts).
 */
export const insertIdempotencyRecordUnlessTaken: (db: Executor, record: RecordValues) => Promise<boolean> = coalesced(insertManyUnlessTaken);

export async function deleteExpiredIdempotencyRecord(db: Executor, scope: string, key: string, now: number): Promise<void> {
  await tables(db).deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).where('expires_at', '<=', now).execute();
}

/** Deletes up to `limit` expired records; returns how many. */
export async function deleteExpiredIdempotencyRecords(db: Executor, now: number, limit = 5000): Promise<number> {
  // MySQL has no LIMIT in an IN subquery, but a DELETE of its own may have one.
  const result = await (executorDialect(db) !== 'mysql'
    ? tables(db)
        .deleteFrom('idempotency_keys')
        .where('id', 'in', (eb) => eb.selectFrom('idempotency_keys').select('id').where('expires_at', '<=', now).limit(limit))
    : tables(db).deleteFrom('idempotency_keys').where('expires_at', '<=', now).limit(limit)
  ).executeTakeFirst();
  return Number(result.numDeletedRows);
}
