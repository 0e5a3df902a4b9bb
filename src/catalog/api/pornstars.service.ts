import type { Executor } from '../../platform/db/database.js';
import { NotFoundError, ValidationError } from '../../platform/errors/domain-errors.js';
import { offsetOf, type PageRequest } from '../../platform/http/pagination.js';
import { recordTombstone } from '../catalog-changes.repository.js';
import type { PornstarRow } from '../catalog.tables.js';
import { listAliasesOf } from './aliases.repository.js';
import type { WriteMode } from './catalog.input.js';
import { claimImages, rowToWrite, replaceAliases, replaceThumbnails, transact, type CatalogServiceDeps, type Precondition } from './catalog.sync.js';
import { toPornstarInput, type PornstarInput } from './pornstars.input.js';
import { groupBy, type PornstarGraph } from './pornstars.presenter.js';
import {
  countPornstars,
  deletePornstar,
  findPornstar,
  findPornstarIdByExternalId,
  insertPornstar,
  listPornstars,
  updatePornstar,
  type PornstarFilter,
  type PornstarSort,
} from './pornstars.repository.js';
import type { PornstarBodyData } from './pornstars.schemas.js';
import { listUrlsOfPornstars } from './thumbnail-urls.repository.js';
import { listThumbnailsOf } from './thumbnails.repository.js';

const externalIdTaken = () => new ValidationError({ external_id: ['The external_id has already been taken.'] });

/** Loads the aliases, thumbnails and URLs of many pornstars with one query each (no N+1). */
export async function loadGraphs(db: Executor, pornstars: PornstarRow[]): Promise<PornstarGraph[]> {
  const ids = pornstars.map((p) => p.id);
  const [aliases, thumbnails, urls] = await Promise.all([listAliasesOf(db, ids), listThumbnailsOf(db, ids), listUrlsOfPornstars(db, ids)]);
  const aliasesOf = groupBy(aliases, (a) => a.pornstar_id);
  const thumbnailsOf = groupBy(thumbnails, (t) => t.pornstar_id);
  const urlsOf = groupBy(urls, (u) => u.thumbnail_id);
  return pornstars.map((pornstar) => ({
    pornstar,
    aliases: aliasesOf.get(pornstar.id) ?? [],
    thumbnails: (thumbnailsOf.get(pornstar.id) ?? []).map((thumbnail) => ({ thumbnail, urls: urlsOf.get(thumbnail.id) ?? [] })),
  }));
}

/** Totals remembered per catalog version and filter (the least recently used go first). */
const MAX_TOTALS = 1_000;

export class PornstarsService {
  private readonly totals = new Map<string, number>();

  constructor(private readonly deps: CatalogServiceDeps) {}

  /**
   * A page and the total; with the catalog `version` the listing is read at, the total is counted
   * once per version and filter instead of on every page.
   */
  async list(filter: PornstarFilter, sort: PornstarSort, page: PageRequest, version?: string): Promise<{ items: PornstarGraph[]; total: number }> {
    // A listing may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [rows, total] = await Promise.all([listPornstars(db, filter, sort, page.perPage, offsetOf(page)), this.total(db, filter, version)]);
      return { items: await loadGraphs(db, rows), total };
    });
  }

  private async total(db: Executor, filter: PornstarFilter, version: string | undefined): Promise<number> {
    if (version === undefined) return countPornstars(db, filter);
    const key = `${version}:${JSON.stringify(filter)}`;
    const known = this.totals.get(key);
    if (known !== undefined) return known;
    const total = await countPornstars(db, filter);
    this.totals.set(key, total);
    if (this.totals.size > MAX_TOTALS) this.totals.delete(this.totals.keys().next().value!);
    return total;
  }

  async get(id: number, includeRemoved = false): Promise<PornstarGraph> {
    const db = this.deps.database.db;
    const row = await findPornstar(db, id, includeRemoved);
    if (!row) throw new NotFoundError();
    const [graph] = await loadGraphs(db, [row]);
    return graph!;
  }

  /** The pornstar, its aliases, thumbnails and URLs, and the claim of its images: one transaction. */
  async create(body: PornstarBodyData): Promise<PornstarGraph> {
    const input = toPornstarInput(body, 'replace');
    return this.write(async (trx, now) => {
      const externalId = input.columns.external_id!;
      if ((await findPornstarIdByExternalId(trx, externalId)) !== undefined) throw externalIdTaken();
      const row = await insertPornstar(trx, {
        ...(input.columns as Required<PornstarInput['columns']>),
        content_hash: null,
        children_hash: null,
        removed_at: null,
        created_at: now,
        updated_at: now,
      });
      return this.writeChildren(trx, row.id, input, now);
    });
  }

  /** PUT (`replace`) or PATCH (`merge`); nested aliases and thumbnails are replaced when given. */
  async update(id: number, body: PornstarBodyData, mode: WriteMode, includeRemoved = false, expect?: Precondition<PornstarGraph>): Promise<PornstarGraph> {
    const input = toPornstarInput(body, mode);
    return this.write(async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstars', id }, () => findPornstar(trx, id, includeRemoved), expect, async (row) => (await loadGraphs(trx, [row]))[0]!);
      const externalId = input.columns.external_id;
      if (externalId !== undefined && externalId !== existing.external_id) {
        const owner = await findPornstarIdByExternalId(trx, externalId);
        if (owner !== undefined && owner !== id) throw externalIdTaken();
      }
      // The feed compares content hashes: clearing it makes the next run write the feed's version.
      await updatePornstar(trx, id, { ...input.columns, content_hash: null, children_hash: null, updated_at: now });
      return this.writeChildren(trx, id, input, now, includeRemoved);
    });
  }

  async destroy(id: number, includeRemoved = false, expect?: Precondition<PornstarGraph>): Promise<void> {
    await this.write(async (trx, now) => {
      await rowToWrite(trx, { table: 'pornstars', id }, () => findPornstar(trx, id, includeRemoved), expect, async (row) => (await loadGraphs(trx, [row]))[0]!);
      await recordTombstone(trx, id, now);
      if (!(await deletePornstar(trx, id))) throw new NotFoundError();
    });
  }


  private async writeChildren(trx: Executor, id: number, input: PornstarInput, now: number, includeRemoved = true): Promise<PornstarGraph> {
    if (input.aliases) await replaceAliases(trx, id, input.aliases, now);
    if (input.thumbnails) await claimImages(this.deps.images, trx, await replaceThumbnails(trx, id, input.thumbnails, now));
    const row = await findPornstar(trx, id, includeRemoved);
    const [graph] = await loadGraphs(trx, [row!]);
    return graph!;
  }

  private write<T>(work: (trx: Executor, now: number) => Promise<T>): Promise<T> {
    return transact(this.deps, externalIdTaken, work);
  }
}
