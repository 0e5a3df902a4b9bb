import { NotFoundError, ValidationError } from '../../platform/errors/domain-errors.js';
import type { FieldErrors } from '../../platform/errors/field-errors.js';
import { offsetOf, type PageRequest } from '../../platform/http/pagination.js';
import type { AliasRow } from '../catalog.tables.js';
import { countAliases, findAlias, findAliasIdByKey, insertAlias, listAliases, updateAlias, deleteAliases, type AliasFilter } from './aliases.repository.js';
import type { AliasBodyData } from './aliases.schemas.js';
import { aliasKey, checkAlias } from './catalog.input.js';
import { rowToWrite, touchBoth, transact, unknownPornstar, type CatalogServiceDeps, type Precondition } from './catalog.sync.js';
import { findPornstar, touchPornstar } from './pornstars.repository.js';

const aliasTaken = () => new ValidationError({ alias: ['The alias has already been taken.'] });

export class AliasesService {
  constructor(private readonly deps: CatalogServiceDeps) {}

  async list(filter: AliasFilter, page: PageRequest): Promise<{ items: AliasRow[]; total: number }> {
    // A listing may be a little stale: the read replica serves it when there is one.
    return this.deps.database.readStale(async (db) => {
      const [items, total] = await Promise.all([listAliases(db, filter, page.perPage, offsetOf(page)), countAliases(db, filter)]);
      return { items, total };
    });
  }

  async get(id: number, includeRemoved = false): Promise<AliasRow> {
    const row = await findAlias(this.deps.database.db, id, includeRemoved);
    if (!row) throw new NotFoundError();
    return row;
  }

  async create(body: AliasBodyData): Promise<AliasRow> {
    const alias = checkedAlias(body.alias!);
    const pornstarId = body.pornstar_id!;
    return transact(this.deps, aliasTaken, async (trx, now) => {
      if (!(await findPornstar(trx, pornstarId, false))) throw unknownPornstar();
      if ((await findAliasIdByKey(trx, pornstarId, aliasKey(alias))) !== undefined) throw aliasTaken();
      const row = await insertAlias(trx, { pornstar_id: pornstarId, alias, alias_key: aliasKey(alias), created_at: now, updated_at: now });
      await touchPornstar(trx, pornstarId, now);
      return row;
    });
  }

  /** PUT and PATCH alike: an alias has no optional field. */
  async update(id: number, body: AliasBodyData, includeRemoved = false, expect?: Precondition<AliasRow>): Promise<AliasRow> {
    const alias = body.alias === undefined ? undefined : checkedAlias(body.alias);
    return transact(this.deps, aliasTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_aliases', id }, () => findAlias(trx, id, includeRemoved), expect, (row) => row);
      const pornstarId = body.pornstar_id ?? existing.pornstar_id;
      if (pornstarId !== existing.pornstar_id && !(await findPornstar(trx, pornstarId, false))) throw unknownPornstar();
      const text = alias ?? existing.alias;
      const other = await findAliasIdByKey(trx, pornstarId, aliasKey(text));
      if (other !== undefined && other !== id) throw aliasTaken();
      await updateAlias(trx, id, { pornstar_id: pornstarId, alias: text, alias_key: aliasKey(text), updated_at: now });
      await touchBoth(trx, existing.pornstar_id, pornstarId, now);
      return (await findAlias(trx, id, true))!;
    });
  }

  async destroy(id: number, includeRemoved = false, expect?: Precondition<AliasRow>): Promise<void> {
    await transact(this.deps, aliasTaken, async (trx, now) => {
      const existing = await rowToWrite(trx, { table: 'pornstar_aliases', id }, () => findAlias(trx, id, includeRemoved), expect, (row) => row);
      if ((await deleteAliases(trx, [id])) === 0) throw new NotFoundError();
      await touchPornstar(trx, existing.pornstar_id, now);
    });
  }
}


function checkedAlias(value: string): string {
  const errors: FieldErrors = {};
  const alias = checkAlias(errors, 'alias', value);
  if (alias === undefined) throw new ValidationError(errors);
  return alias;
}
