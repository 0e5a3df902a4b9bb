import type { Kysely, QueryResult } from 'kysely';
import type { Executor } from './database.js';

/** SQLite and PostgreSQL have INSERT … RETURNING; MySQL has not. */
export function supportsReturning(db: Executor): boolean {
  return db.getExecutor().adapter.supportsReturning;
}

/** The auto-increment id of the one row an INSERT without RETURNING created. */
export function insertedId(result: Pick<QueryResult<unknown>, 'insertId'>): number {
  if (result.insertId === undefined) throw new Error('the INSERT reported no insert id');
  return Number(result.insertId);
}

/** Inserts one row and resolves to its new id, on every engine. */
export async function insertReturningId(db: Executor, table: string, values: Record<string, unknown>): Promise<number> {
  const insert = (db as Kysely<any>).insertInto(table).values(values);
  if (supportsReturning(db)) return Number((await insert.returning('id').executeTakeFirstOrThrow()).id);
  return insertedId(await insert.executeTakeFirstOrThrow());
}

/** Inserts one row and resolves to it as stored (defaults and id included), on every engine. */
export async function insertReturningRow<Row>(db: Executor, table: string, values: Record<string, unknown>): Promise<Row> {
  const insert = (db as Kysely<any>).insertInto(table).values(values);
  if (supportsReturning(db)) return (await insert.returningAll().executeTakeFirstOrThrow()) as Row;
  const id = insertedId(await insert.executeTakeFirstOrThrow());
  return (await (db as Kysely<any>).selectFrom(table).selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as Row;
}
