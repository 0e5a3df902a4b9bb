import { sha256Hex } from '../../platform/canonical-json.js';
import type { Clock } from '../../platform/clock.js';
import type { Database, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/errors.js';
import { executorDialect } from '../../platform/db/executor-dialect.js';
import { sql } from 'kysely';
import { deleteAliases, insertAliases, listAliasesOf, updateAlias } from './aliases.repository.js';
import { NotFoundError, ValidationError } from '../../platform/errors/domain-errors.js';
import type { ThumbnailRow } from '../catalog.tables.js';
import { aliasKey, type ThumbnailInput, type UrlInput } from './catalog.input.js';
import { deleteThumbnailUrls, insertThumbnailUrls, listUrlsOfThumbnails, updateThumbnailUrl } from './thumbnail-urls.repository.js';
import { touchPornstar } from './pornstars.repository.js';
import { countCatalogChange } from '../catalog-versions.repository.js';
import { takeChangeSeq } from '../catalog-changes.repository.js';
import { deleteThumbnails, insertThumbnail, listThumbnailsOf, updateThumbnail } from './thumbnails.repository.js';

/**
 * Every image URL written through the API enters the download pipeline, in the transaction that
 * writes it. Implemented by the images module: it creates the `images` rows it has not seen and
 * enqueues their downloads, and returns how many it enqueued.
 */
export interface ImageClaimer {
  claim(trx: Executor, urls: string[]): Promise<number>;
}

export interface CatalogServiceDeps {
  database: Database;
  images: ImageClaimer;
  clock: Clock;
}

/**
 * Runs one write in a transaction, counted as a change of the catalog: it takes the next change
 * sequence number first (the pornstars it writes are stamped with it), and counts the catalog
 * version last. A unique violation means a concurrent writer took the same key between the check
 * and the insert: it gets the same error the check would have given.
 */
export async function transact<T>(deps: CatalogServiceDeps, conflict: () => Error, work: (trx: Executor, now: number) => Promise<T>): Promise<T> {
  try {
    return await deps.database.transaction(async (trx) => {
      const now = deps.clock.now();
      await takeChangeSeq(trx);
      const result = await work(trx, now);
      await countCatalogChange(trx, now);
      return result;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}

/**
 * Locks one catalog row for the rest of the transaction (PostgreSQL and MySQL; SQLite runs one
 * writer at a time anyway), so that a precondition checked against it holds until the commit.
 */
export async function lockRow(trx: Executor, table: 'pornstars' | 'pornstar_aliases' | 'pornstar_thumbnails' | 'pornstar_thumbnail_urls', id: number): Promise<void> {
  if (executorDialect(trx) === 'sqlite') return;
  await sql`select id from ${sql.table(table)} where id = ${id} for update`.execute(trx);
}

/** A write's precondition (`If-Match`), given the resource as it is before the write. */
export type Precondition<T> = (current: T) => void;

/**
 * The row a write changes: locked and checked against `expect` (given `view` of it) when there is
 * one, so that the check holds until the commit; 404 when there is no such row.
 */
export async function rowToWrite<R, V>(
  trx: Executor,
  target: { table: Parameters<typeof lockRow>[1]; id: number },
  find: () => Promise<R | undefined>,
  expect: Precondition<V> | undefined,
  view: (row: R) => V | Promise<V>,
): Promise<R> {
  if (expect) await lockRow(trx, target.table, target.id);
  const row = await find();
  if (!row) throw new NotFoundError();
  if (expect) expect(await view(row));
  return row;
}

/** Hands the distinct new URLs of one write to the image pipeline, inside its transaction. */
export async function claimImages(images: ImageClaimer, trx: Executor, urls: string[]): Promise<void> {
  const distinct = [...new Set(urls)];
  if (distinct.length > 0) await images.claim(trx, distinct);
}

export function urlRow(thumbnailId: number, input: UrlInput, now: number) {
  return { thumbnail_id: thumbnailId, url: input.url, url_hash: sha256Hex(input.url), local_path: input.local_path, created_at: now, updated_at: now };
}

/** Makes a pornstar's aliases exactly `aliases` (matched case-insensitively, so a re-cased alias is renamed). */
export async function replaceAliases(trx: Executor, pornstarId: number, aliases: string[], now: number): Promise<void> {
  const existing = await listAliasesOf(trx, [pornstarId]);
  const wanted = new Map(aliases.map((alias) => [aliasKey(alias), alias]));
  const kept = new Set<string>();
  const stale: number[] = [];
  for (const row of existing) {
    const alias = wanted.get(row.alias_key);
    if (alias === undefined || kept.has(row.alias_key)) {
      stale.push(row.id);
      continue;
    }
    kept.add(row.alias_key);
    if (alias !== row.alias) await updateAlias(trx, row.id, { alias, updated_at: now });
  }
  await deleteAliases(trx, stale);
  const added = [...wanted].filter(([key]) => !kept.has(key));
  await insertAliases(
    trx,
    added.map(([key, alias]) => ({ pornstar_id: pornstarId, alias, alias_key: key, created_at: now, updated_at: now })),
  );
}

/** Makes a thumbnail's URLs exactly `urls`; returns the URLs it added. */
export async function replaceUrls(trx: Executor, thumbnailId: number, urls: UrlInput[], now: number): Promise<string[]> {
  const existing = await listUrlsOfThumbnails(trx, [thumbnailId]);
  const wanted = new Map(urls.map((url) => [url.url, url]));
  const kept = new Set<string>();
  const stale: number[] = [];
  for (const row of existing) {
    const input = wanted.get(row.url);
    if (input === undefined || kept.has(row.url)) {
      stale.push(row.id);
      continue;
    }
    kept.add(row.url);
    if (input.local_path !== row.local_path) await updateThumbnailUrl(trx, row.id, { local_path: input.local_path, updated_at: now });
  }
  await deleteThumbnailUrls(trx, stale);
  const added = [...wanted.values()].filter((url) => !kept.has(url.url));
  await insertThumbnailUrls(
    trx,
    added.map((url) => urlRow(thumbnailId, url, now)),
  );
  return added.map((url) => url.url);
}

/**
 * Makes a pornstar's thumbnails exactly `thumbnails`; returns the URLs it added. Each is matched to
 * an existing thumbnail of its type, in id order (the order the resource shows them), which is
 * updated in place and keeps its source: a feed thumbnail stays the feed's, and the next feed run
 * writes the feed's version again. Existing thumbnails left over are deleted; thumbnails left over
 * are added as the API's.
 */
export async function replaceThumbnails(trx: Executor, pornstarId: number, thumbnails: ThumbnailInput[], now: number): Promise<string[]> {
  const existing = new Map<string, ThumbnailRow[]>();
  for (const row of await listThumbnailsOf(trx, [pornstarId])) existing.set(row.type, [...(existing.get(row.type) ?? []), row]);
  const added: string[] = [];
  for (const input of thumbnails) {
    const row = existing.get(input.type)?.shift();
    if (row) {
      if (row.width !== input.width || row.height !== input.height) {
        await updateThumbnail(trx, row.id, { width: input.width, height: input.height, updated_at: now });
      }
      added.push(...(await replaceUrls(trx, row.id, input.urls, now)));
    } else {
      const created = await insertThumbnail(trx, {
        pornstar_id: pornstarId,
        type: input.type,
        source: 'api',
        width: input.width,
        height: input.height,
        created_at: now,
        updated_at: now,
      });
      await insertThumbnailUrls(
        trx,
        input.urls.map((url) => urlRow(created.id, url, now)),
      );
      added.push(...input.urls.map((url) => url.url));
    }
  }
  await deleteThumbnails(trx, [...existing.values()].flat().map((row) => row.id));
  return added;
}

export const unknownPornstar = () => new ValidationError({ pornstar_id: ['The selected pornstar_id is invalid.'] });

/** Marks the pornstar a child left and the one it joined as changed (one call when it did not move). */
export async function touchBoth(trx: Executor, before: number, after: number, now: number): Promise<void> {
  await touchPornstar(trx, before, now);
  if (after !== before) await touchPornstar(trx, after, now);
}
