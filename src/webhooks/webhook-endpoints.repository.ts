import type { Updateable } from 'kysely';
import type { Executor } from '../platform/db/database.js';
import { executorDialect } from '../platform/db/executor-dialect.js';
import { insertReturningRow } from '../platform/db/returning.js';
import { tablesOf } from '../platform/db/tables.js';
import type { NewWebhookEndpointRow, WebhookEndpointRow, WebhookEndpointsTable, WebhooksTables } from './webhooks.tables.js';

/** The owners' table, only to lock a user's row while their endpoints are counted. */
interface OwnerTables {
  users: { id: number };
}
const tables = tablesOf<WebhooksTables & OwnerTables>();

/**
 * The ids of a user's endpoints as last committed, with the user's row locked until the end of the
 * transaction (SQLite runs one writer at a time), so that two concurrent creations are counted in
 * turn and the limit holds. MySQL's plain reads may see an older snapshot: the read locks too.
 */
export async function lockEndpointIdsOfUser(db: Executor, userId: number): Promise<number[]> {
  const ids = tables(db).selectFrom('webhook_endpoints').select('id').where('user_id', '=', userId);
  if (executorDialect(db) === 'sqlite') return (await ids.execute()).map((row) => row.id);
  await tables(db).selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
  return (await ids.forUpdate().execute()).map((row) => row.id);
}

export function insertEndpoint(db: Executor, row: NewWebhookEndpointRow): Promise<WebhookEndpointRow> {
  return insertReturningRow<WebhookEndpointRow>(db, 'webhook_endpoints', row);
}

export function findEndpointForUser(db: Executor, userId: number, endpointId: number): Promise<WebhookEndpointRow | undefined> {
  return tables(db).selectFrom('webhook_endpoints').selectAll().where('id', '=', endpointId).where('user_id', '=', userId).executeTakeFirst();
}

export function listEndpointsForUser(db: Executor, userId: number, limit: number, offset: number): Promise<WebhookEndpointRow[]> {
  return tables(db).selectFrom('webhook_endpoints').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').limit(limit).offset(offset).execute();
}

export async function countEndpointsForUser(db: Executor, userId: number): Promise<number> {
  const row = await tables(db).selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Applies `changes` to one of the user's endpoints (MySQL counts only the rows a statement changed, so nothing is returned). */
export async function updateEndpointForUser(db: Executor, userId: number, endpointId: number, changes: Updateable<WebhookEndpointsTable>): Promise<void> {
  await tables(db).updateTable('webhook_endpoints').set(changes).where('id', '=', endpointId).where('user_id', '=', userId).execute();
}

/** Deletes one of the user's endpoints (its deliveries go with it); false when there is no such endpoint. */
export async function deleteEndpointForUser(db: Executor, userId: number, endpointId: number): Promise<boolean> {
  const result = await tables(db).deleteFrom('webhook_endpoints').where('id', '=', endpointId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
