import type { Kysely } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { param, prepareQuery } from '../platform/db/prepared-query.js';
import { insertReturningId } from '../platform/db/returning.js';
import type { AuthTables, NewTokenRow, TokenRow } from './auth.tables.js';

const tables = (db: Executor) => db as Kysely<AuthTables>;

export async function insertToken(db: Executor, token: NewTokenRow): Promise<number> {
  return insertReturningId(db, 'personal_access_tokens', token);
}

const tokenById = prepareQuery<{ id: number }, TokenRow>((db) =>
  tables(db).selectFrom('personal_access_tokens').selectAll().where('id', '=', param<number>('id')),
);
const tokenByHash = prepareQuery<{ hash: string }, TokenRow>((db) =>
  tables(db).selectFrom('personal_access_tokens').selectAll().where('token_hash', '=', param<string>('hash')),
);

/** On every authenticated request: prepared once. */
export function findTokenById(db: Executor, id: number): Promise<TokenRow | undefined> {
  return tokenById.first(db, { id });
}

export function findTokenByHash(db: Executor, hash: string): Promise<TokenRow | undefined> {
  return tokenByHash.first(db, { hash });
}

export async function deleteToken(db: Executor, id: number): Promise<void> {
  await tables(db).deleteFrom('personal_access_tokens').where('id', '=', id).execute();
}

export async function touchToken(db: Executor, id: number, now: number): Promise<void> {
  await tables(db).updateTable('personal_access_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
