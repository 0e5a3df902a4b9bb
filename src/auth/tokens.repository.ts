import { sql } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import { param, prepareQuery } from '../platform/db/prepared-query.js';
import { insertReturningId } from '../platform/db/returning.js';
import type { AuthTables, NewTokenRow, TokenRow } from './auth.tables.js';

const tables = tablesOf<AuthTables>();

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

export interface TokenUse {
  id: number;
  at: number;
}

/**
 * Records the last use of many tokens in one statement. A value never moves `last_used_at`
 * backwards: another process may have written a later use of the same token. The integers are
 * inlined so that PostgreSQL reads them as numbers (a bound parameter in a CASE would be text).
 */
export async function touchTokens(db: Executor, uses: readonly TokenUse[]): Promise<void> {
  if (uses.length === 0) return;
  const whens = uses.map((use) => sql`when ${sql.lit(integer(use.id))} then ${sql.lit(integer(use.at))}`);
  const latest = sql<number>`case id ${sql.join(whens, sql` `)} end`;
  await tables(db)
    .updateTable('personal_access_tokens')
    .set({ last_used_at: latest })
    .where(
      'id',
      'in',
      uses.map((use) => use.id),
    )
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', latest)]))
    .execute();
}

function integer(value: number): number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
  return value;
}
