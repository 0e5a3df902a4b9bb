import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import { insertReturningRow } from '../platform/db/returning.js';
import type { AuthTables, NewUserRow, UserRow } from './auth.tables.js';

const tables = tablesOf<AuthTables>();

export async function insertUser(db: Executor, user: NewUserRow): Promise<UserRow> {
  return insertReturningRow<UserRow>(db, 'users', user);
}

export function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  return tables(db).selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findUserById(db: Executor, id: number): Promise<UserRow | undefined> {
  return tables(db).selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}
