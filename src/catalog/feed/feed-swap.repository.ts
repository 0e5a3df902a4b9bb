import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/database.js';
import { executorDialect } from '../../platform/db/executor-dialect.js';
import { publishPending } from './feed-pending.repository.js';
import { markPornstarsRemoved } from './feed.repository.js';

/** The pornstar columns a feed item sets, copied from the stage as they are. */
const ITEM_COLUMNS = [
  'name', 'name_search', 'link', 'license', 'wl_status', 'hair_color', 'ethnicity', 'has_tattoos', 'has_piercings', 'breast_size', 'breast_type', 'gender',
  'orientation', 'age', 'subscriptions', 'monthly_searches', 'views', 'videos_count', 'premium_videos_count', 'white_label_video_count', 'rank',
  'rank_premium', 'rank_wl', 'content_hash', 'children_hash',
] as const;

const REMOVE_CHUNK = 500;

export interface SwapCounts {
  removed: number;
}

/**
 * Makes a run visible: the caller runs this in one transaction, so that readers see the catalog
 * before the run or after it, never between. Every step is one set-based statement whose cost is
 * in the engine, not in round trips, to keep that transaction short: the pornstars the run
 * inserted are published, the changed ones rewritten from the stage with their aliases, feed
 * thumbnails and URLs made exactly the staged ones (only the rows that differ are written; the
 * rows that stay keep their ids), and `removedIds` soft-removed. Every pornstar it changes is
 * stamped with `changeSeq` (taken first by the caller, who also counts the catalog change), and
 * listed in `feed_run_changes`.
 */
export async function applyRun(db: Executor, runId: number, removedIds: readonly number[], now: number, changeSeq: number): Promise<SwapCounts> {
  const dialect = executorDialect(db);
  const at = timestamp(dialect, now);
  await recordCreatedAndUpdated(db, runId);
  await publishPending(db, runId, changeSeq);
  await rewriteChangedPornstars(db, dialect, now, changeSeq);
  await syncAliases(db, dialect, now, at);
  await syncThumbnails(db, dialect, now, at);
  await syncThumbnailUrls(db, at);
  let removed = 0;
  for (let start = 0; start < removedIds.length; start += REMOVE_CHUNK) {
    const chunk = removedIds.slice(start, start + REMOVE_CHUNK);
    await recordRemoved(db, runId, chunk);
    removed += await markPornstarsRemoved(db, chunk, now, changeSeq);
  }
  await sql`update feed_runs set change_seq = ${changeSeq} where id = ${runId}`.execute(db);
  return { removed };
}

/** What `GET /feed-runs/{id}/changes` lists: the pornstars the run inserts and those it rewrites, with the hash it writes. */
async function recordCreatedAndUpdated(db: Executor, runId: number): Promise<void> {
  await sql`
    insert into feed_run_changes (run_id, pornstar_id, external_id, ${sql.ref('change')}, content_hash)
    select ${runId}, id, external_id, 'created', content_hash from pornstars where pending_run_id = ${runId}`.execute(db);
  await sql`
    insert into feed_run_changes (run_id, pornstar_id, external_id, ${sql.ref('change')}, content_hash)
    select ${runId}, pornstar_id, external_id, 'updated', content_hash from feed_stage_pornstars`.execute(db);
}

/** The pornstars of `ids` still shown, which the run is about to remove. */
async function recordRemoved(db: Executor, runId: number, ids: readonly number[]): Promise<void> {
  await sql`
    insert into feed_run_changes (run_id, pornstar_id, external_id, ${sql.ref('change')}, content_hash)
    select ${runId}, id, external_id, 'removed', null from pornstars where id in (${sql.join(ids)}) and removed_at is null`.execute(db);
}

/** The pornstars whose staged aliases or thumbnails differ from their stored ones (only theirs are staged). */
const changedIds = sql`select s.pornstar_id from feed_stage_pornstars s where s.children_changed = 1`;

async function rewriteChangedPornstars(db: Executor, dialect: Dialect, now: number, changeSeq: number): Promise<void> {
  const set: Array<[string, RawBuilder<unknown>]> = [
    ...ITEM_COLUMNS.map((c): [string, RawBuilder<unknown>] => [c, sql.ref(`s.${c}`)]),
    ['removed_at', sql`null`],
    ['updated_at', sql`${now}`],
    ['change_seq', sql`${changeSeq}`],
  ];
  await updateFrom(dialect, db, { table: 'pornstars', as: 'p' }, sql`feed_stage_pornstars s`, set, sql`s.pornstar_id = p.id`);
}

async function syncAliases(db: Executor, dialect: Dialect, now: number, at: RawBuilder<number>): Promise<void> {
  await sql`
    delete from pornstar_aliases where pornstar_id in (${changedIds})
    and not exists (
      select 1 from pornstars p join feed_stage_aliases sa on sa.external_id = p.external_id
      where p.id = pornstar_aliases.pornstar_id and sa.alias_key = pornstar_aliases.alias_key)`.execute(db);
  // Same key, another spelling ("anna" → "Anna"): compared byte for byte, whatever the column's collation.
  const differs = dialect === 'mysql' ? sql`cast(sa.alias as binary) <> cast(a.alias as binary)` : sql`sa.alias <> a.alias`;
  await updateFrom(
    dialect,
    db,
    { table: 'pornstar_aliases', as: 'a' },
    sql`feed_stage_aliases sa, pornstars p`,
    [['alias', sql.ref('sa.alias')], ['alias_search', sql.ref('sa.alias_search')], ['updated_at', sql`${now}`]],
    sql`p.external_id = sa.external_id and a.pornstar_id = p.id and a.alias_key = sa.alias_key and ${differs}`,
  );
  await sql`
    insert into pornstar_aliases (pornstar_id, alias, alias_key, alias_search, created_at, updated_at)
    select p.id, sa.alias, sa.alias_key, sa.alias_search, ${at}, ${at}
    from feed_stage_aliases sa join pornstars p on p.external_id = sa.external_id
    where not exists (select 1 from pornstar_aliases a where a.pornstar_id = p.id and a.alias_key = sa.alias_key)
    order by sa.id`.execute(db);
}

/** The feed's thumbnails (`source = 'feed'`, found by `feed_type`); those made through the API are never touched. */
async function syncThumbnails(db: Executor, dialect: Dialect, now: number, at: RawBuilder<number>): Promise<void> {
  // Their URLs go with them (ON DELETE CASCADE).
  await sql`
    delete from pornstar_thumbnails where source = 'feed' and pornstar_id in (${changedIds})
    and not exists (
      select 1 from pornstars p join feed_stage_thumbnails st on st.external_id = p.external_id
      where p.id = pornstar_thumbnails.pornstar_id and st.type = pornstar_thumbnails.type)`.execute(db);
  await updateFrom(
    dialect,
    db,
    { table: 'pornstar_thumbnails', as: 't' },
    sql`feed_stage_thumbnails st, pornstars p`,
    [['width', sql.ref('st.width')], ['height', sql.ref('st.height')], ['updated_at', sql`${now}`]],
    sql`p.external_id = st.external_id and t.pornstar_id = p.id and t.feed_type = st.type
      and (coalesce(st.width, -1) <> coalesce(t.width, -1) or coalesce(st.height, -1) <> coalesce(t.height, -1))`,
  );
  await sql`
    insert into pornstar_thumbnails (pornstar_id, type, source, width, height, created_at, updated_at)
    select p.id, st.type, 'feed', st.width, st.height, ${at}, ${at}
    from feed_stage_thumbnails st join pornstars p on p.external_id = st.external_id
    where not exists (select 1 from pornstar_thumbnails t where t.pornstar_id = p.id and t.feed_type = st.type)
    order by st.id`.execute(db);
}

async function syncThumbnailUrls(db: Executor, at: RawBuilder<number>): Promise<void> {
  await sql`
    delete from pornstar_thumbnail_urls where thumbnail_id in (
      select t.id from pornstar_thumbnails t where t.source = 'feed' and t.pornstar_id in (${changedIds}))
    and not exists (
      select 1 from pornstar_thumbnails t2
      join pornstars p on p.id = t2.pornstar_id
      join feed_stage_thumbnail_urls su on su.external_id = p.external_id and su.type = t2.type
      where t2.id = pornstar_thumbnail_urls.thumbnail_id and su.url_hash = pornstar_thumbnail_urls.url_hash)`.execute(db);
  await sql`
    insert into pornstar_thumbnail_urls (thumbnail_id, url, url_hash, created_at, updated_at)
    select t.id, su.url, su.url_hash, ${at}, ${at}
    from feed_stage_thumbnail_urls su
    join pornstars p on p.external_id = su.external_id
    join pornstar_thumbnails t on t.pornstar_id = p.id and t.feed_type = su.type
    where not exists (select 1 from pornstar_thumbnail_urls u where u.thumbnail_id = t.id and u.url_hash = su.url_hash)
    order by su.id`.execute(db);
}

/**
 * UPDATE of `target` from other tables, in each engine's syntax: `UPDATE … SET … FROM …` on
 * PostgreSQL and SQLite, a multi-table `UPDATE a, b SET a.c = …` on MySQL. `where` joins them.
 */
async function updateFrom(
  dialect: Dialect,
  db: Executor,
  target: { table: string; as: string },
  sources: RawBuilder<unknown>,
  set: Array<[string, RawBuilder<unknown>]>,
  where: RawBuilder<unknown>,
): Promise<void> {
  const table = sql`${sql.table(target.table)} as ${sql.raw(target.as)}`;
  if (dialect === 'mysql') {
    const assignments = sql.join(set.map(([column, value]) => sql`${sql.ref(`${target.as}.${column}`)} = ${value}`));
    await sql`update ${table}, ${sources} set ${assignments} where ${where}`.execute(db);
  } else {
    const assignments = sql.join(set.map(([column, value]) => sql`${sql.ref(column)} = ${value}`));
    await sql`update ${table} set ${assignments} from ${sources} where ${where}`.execute(db);
  }
}

/** A timestamp parameter where no column gives it a type (a SELECT list): PostgreSQL would take it for text. */
function timestamp(dialect: Dialect, now: number): RawBuilder<number> {
  return dialect === 'postgres' ? sql<number>`cast(${now} as bigint)` : sql<number>`${now}`;
}
