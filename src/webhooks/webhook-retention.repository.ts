import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import type { WebhooksTables } from './webhooks.tables.js';

const tables = tablesOf<WebhooksTables>();

/**
 * Up to `limit` deliveries created before `before`, found through their events' creation index (a
 * delivery is created with its event; deliveries have no index of their own on time).
 */
export async function deliveryIdsCreatedBefore(db: Executor, before: number, limit: number): Promise<number[]> {
  const rows = await tables(db)
    .selectFrom('webhook_events')
    .innerJoin('webhook_deliveries', 'webhook_deliveries.event_id', 'webhook_events.id')
    .select('webhook_deliveries.id')
    .where('webhook_events.created_at', '<', before)
    .where('webhook_deliveries.created_at', '<', before)
    .limit(limit)
    .execute();
  return rows.map((row) => Number(row.id));
}

export async function deleteDeliveries(db: Executor, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await tables(db).deleteFrom('webhook_deliveries').where('id', 'in', [...ids]).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function eventSeqsCreatedBefore(db: Executor, before: number, limit: number): Promise<number[]> {
  const rows = await tables(db).selectFrom('webhook_events').select('seq').where('created_at', '<', before).limit(limit).execute();
  return rows.map((row) => Number(row.seq));
}

export async function deleteEvents(db: Executor, seqs: readonly number[]): Promise<number> {
  if (seqs.length === 0) return 0;
  const result = await tables(db).deleteFrom('webhook_events').where('seq', 'in', [...seqs]).executeTakeFirst();
  return Number(result.numDeletedRows);
}
