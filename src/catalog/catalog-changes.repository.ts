import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { executorDialect } from '../platform/db/executor-dialect.js';
import { tablesOf } from '../platform/db/tables.js';
import type { CatalogTables, PornstarRow } from './catalog.tables.js';

const tables = tablesOf<CatalogTables>();

/**
 * Takes the catalog's next change sequence number for this transaction and holds the counter's
 * row until the commit: catalog writes then commit one after another in sequence order, so that a
 * reader that has seen `n` will never see a later commit with a number below `n`. Call it first
 * in the transaction, before any catalog row is written, so that every writer takes its locks in
 * the same order. Every row the transaction changes is stamped with {@link changeSeqOfThisWrite}.
 */
export async function takeChangeSeq(trx: Executor): Promise<number> {
  await tables(trx).updateTable('catalog_changes').set({ seq: sql`seq + 1` }).where('id', '=', 1).execute();
  const read = tables(trx).selectFrom('catalog_changes').select('seq').where('id', '=', 1);
  // A locking read: on MySQL a plain one would fix the transaction's snapshot here, before the
  // rows a write locks and checks next (`rowToWrite`), which must be read as they are after the lock.
  const row = await (executorDialect(trx) === 'sqlite' ? read : read.forUpdate()).executeTakeFirstOrThrow();
  return Number(row.seq);
}

/** The sequence number this transaction took with {@link takeChangeSeq}: the counter as the transaction itself sees it. */
export function changeSeqOfThisWrite(): RawBuilder<number> {
  return sql<number>`(select seq from catalog_changes where id = 1)`;
}

export interface ChangeHead {
  /** The newest committed sequence number. */
  seq: number;
  /** Names this catalog: a cursor of another database is not one of ours. */
  epoch: string;
  /** Tombstones up to this number were deleted: an older cursor may have missed a deletion. */
  prunedSeq: number;
}

export async function readChangeHead(db: Executor): Promise<ChangeHead> {
  const row = await tables(db).selectFrom('catalog_changes').select(['seq', 'epoch', 'pruned_seq']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { seq: Number(row.seq), epoch: row.epoch, prunedSeq: Number(row.pruned_seq) };
}

/** Keeps what delta sync needs of a pornstar the API deletes (call it before the delete, after {@link takeChangeSeq}). */
export async function recordTombstone(trx: Executor, pornstarId: number, now: number): Promise<void> {
  await tables(trx).deleteFrom('catalog_tombstones').where('pornstar_id', '=', pornstarId).execute();
  await sql`
    insert into catalog_tombstones (pornstar_id, external_id, removed_at, change_seq)
    select id, external_id, ${now}, ${changeSeqOfThisWrite()} from pornstars where id = ${pornstarId}`.execute(trx);
}

/** A position in the change sequence: after the change `seq` of pornstar `id`. */
export interface ChangePosition {
  seq: number;
  id: number;
}

export interface ChangedKey extends ChangePosition {
  /** Deleted through the API: only its tombstone is left. */
  deleted: boolean;
}

/**
 * The next `limit` changes after `after`, by (sequence number, id): the pornstars (removed ones
 * included) and the tombstones, read by one statement so that both come from one snapshot. The
 * unary plus keeps SQLite's planner off the pending-run index, which matches nearly every row.
 */
export async function changedKeysAfter(db: Executor, after: ChangePosition, limit: number): Promise<ChangedKey[]> {
  const rows = await sql<{ seq: number | string; id: number | string; deleted: number | string }>`
    select * from (
      select change_seq as seq, id, 0 as deleted from pornstars
      where +pending_run_id is null and ${positionAfter(db, 'change_seq', 'id', after)}
      order by change_seq, id limit ${limit}
    ) live
    union all
    select * from (
      select change_seq as seq, pornstar_id as id, 1 as deleted from catalog_tombstones
      where ${positionAfter(db, 'change_seq', 'pornstar_id', after)}
      order by change_seq, pornstar_id limit ${limit}
    ) gone
    order by seq, id limit ${limit}`.execute(db);
  return rows.rows.map((row) => ({ seq: Number(row.seq), id: Number(row.id), deleted: Number(row.deleted) === 1 }));
}

/**
 * `(seq, id) > (after.seq, after.id)`, in the form each engine seeks its (seq, id) index with: a
 * row-value comparison on SQLite and PostgreSQL; on MySQL, whose optimizer does not range-scan
 * row values, the two ranges spelled out.
 */
function positionAfter(db: Executor, seq: string, id: string, after: ChangePosition) {
  if (executorDialect(db) === 'mysql') return sql`(${sql.ref(seq)} > ${after.seq} or (${sql.ref(seq)} = ${after.seq} and ${sql.ref(id)} > ${after.id}))`;
  return sql`(${sql.ref(seq)}, ${sql.ref(id)}) > (${after.seq}, ${after.id})`;
}

/** The pornstars of `ids` as they are now, removed ones included, pending ones not. */
export function findChangedPornstars(db: Executor, ids: readonly number[]): Promise<PornstarRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tables(db).selectFrom('pornstars').selectAll().where('id', 'in', ids).where('pending_run_id', 'is', null).execute();
}

export interface Tombstone {
  pornstar_id: number;
  external_id: string;
  removed_at: number;
}

export async function findTombstones(db: Executor, ids: readonly number[]): Promise<Tombstone[]> {
  if (ids.length === 0) return [];
  const rows = await tables(db).selectFrom('catalog_tombstones').select(['pornstar_id', 'external_id', 'removed_at']).where('pornstar_id', 'in', ids).execute();
  return rows.map((row) => ({ pornstar_id: Number(row.pornstar_id), external_id: row.external_id, removed_at: Number(row.removed_at) }));
}

export interface UnstampedImage {
  id: number;
  url_hash: string;
}

/** Images whose state changed since their last stamp, oldest first. */
export async function unstampedImages(db: Executor, limit: number): Promise<UnstampedImage[]> {
  const rows = await tables(db).selectFrom('images').select(['id', 'url_hash']).where('state_seq', 'is', null).orderBy('id').limit(limit).execute();
  return rows.map((row) => ({ id: Number(row.id), url_hash: row.url_hash }));
}

/**
 * Stamps the state changes of `images` onto the pornstars that show them, with this
 * transaction's sequence number (after {@link takeChangeSeq}). The pornstars are found through
 * their URLs' hashes, without reading `images` again, and the images are then written by primary
 * key alone: a download that marks its image locks the `url_hash` index entry before the row, so
 * any read of that index here after the rows were locked would deadlock with it on MySQL. An
 * image that changed again since it was read is stamped all the same: its pornstars are bumped
 * after its change committed (or its change waits for this one and leaves it NULL again).
 */
export async function stampImageChanges(trx: Executor, images: readonly UnstampedImage[], seq: number): Promise<number> {
  if (images.length === 0) return 0;
  await sql`
    update pornstars set change_seq = ${seq} where id in (
      select t.pornstar_id from pornstar_thumbnails t
      join pornstar_thumbnail_urls u on u.thumbnail_id = t.id
      where u.url_hash in (${sql.join(images.map((image) => image.url_hash))}))`.execute(trx);
  const ids = images.map((image) => image.id).sort((a, b) => a - b);
  const stamped = await tables(trx).updateTable('images').set({ state_seq: seq }).where('id', 'in', ids).executeTakeFirst();
  return Number(stamped.numUpdatedRows);
}

/**
 * Deletes the tombstones and feed-run change lists older than `before` (epoch ms) and raises the
 * pruned horizon to the newest deleted tombstone. Run it in a transaction.
 */
export async function pruneChangeHistory(trx: Executor, before: number): Promise<{ tombstones: number; runChanges: number }> {
  const newest = await tables(trx)
    .selectFrom('catalog_tombstones')
    .select((eb) => eb.fn.max<number | string | null>('change_seq').as('seq'))
    .where('removed_at', '<', before)
    .executeTakeFirst();
  let tombstones = 0;
  if (newest?.seq != null) {
    const seq = Number(newest.seq);
    tombstones = Number((await tables(trx).deleteFrom('catalog_tombstones').where('change_seq', '<=', seq).executeTakeFirst()).numDeletedRows);
    await tables(trx).updateTable('catalog_changes').set({ pruned_seq: sql`case when pruned_seq > ${seq} then pruned_seq else ${seq} end` }).where('id', '=', 1).execute();
  }
  const oldRuns = tables(trx).selectFrom('feed_runs').select('id').where('started_at', '<', before);
  const runChanges = Number((await tables(trx).deleteFrom('feed_run_changes').where('run_id', 'in', oldRuns).executeTakeFirst()).numDeletedRows);
  return { tombstones, runChanges };
}
