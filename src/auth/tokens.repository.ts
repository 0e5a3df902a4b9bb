import type { Kysely } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import type { AuthTables, NewTokenRow, TokenRow } from './auth.tables.js';

const tables = (db: Executor) => db as Kysely<AuthTables>;

export async function insertToken(db: Executor, token: NewTokenRow): Promise<number> {
  const row = await tables(db).insertInto('personal_access_tokens').values(token).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export function findTokenById(db: Executor, id: number): Promise<TokenRow | undefined> {
  return tables(db).selectFrom('personal_access_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findTokenByHash(db: Executor, hash: string): Promise<TokenRow | undefined> {
  return tables(db).selectFrom('personal_access_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
}

export async function deleteToken(db: Executor, id: number): Promise<void> {
  await tables(db).deleteFrom('personal_access_tokens').where('id', '=', id).execute();
}

export async function touchToken(db: Executor, id: number, now: number): Promise<void> {
  await tables(db).updateTable('personal_access_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
