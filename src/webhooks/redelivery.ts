import type { Clock } from '../platform/clock.js';
import type { Executor } from '../platform/db/database.js';
import { tablesOf } from '../platform/db/tables.js';
import { enqueueJobs } from '../platform/queue/jobs.js';
import type { TransactionalQueue } from '../platform/queue/queue.js';
import type { WebhooksTables } from './webhooks.tables.js';
import { webhookDeliveryJob } from './webhooks.jobs.js';

const tables = tablesOf<WebhooksTables>();

/**
 * Sends deliveries again, in the caller's transaction: each goes back to `pending` with a fresh
 * count of attempts and a new delivery job, under the same `webhook-id`. A delivery already
 * `pending` is left alone (its job is on its way). Returns how many were queued.
 */
export async function redeliver(db: Executor, queue: TransactionalQueue, clock: Clock, deliveryIds: readonly number[]): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const rows = await tables(db).selectFrom('webhook_deliveries').select(['id', 'message_id']).where('id', 'in', [...deliveryIds]).where('status', '!=', 'pending').execute();
  if (rows.length === 0) return 0;
  const now = clock.now();
  await tables(db)
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, finished_at: null, updated_at: now })
    .where('id', 'in', rows.map((row) => row.id))
    .where('status', '!=', 'pending')
    .execute();
  await enqueueJobs(
    queue,
    webhookDeliveryJob,
    rows.map((row) => ({ payload: { messageId: row.message_id }, options: { dedupeKey: `webhook:${row.message_id}` } })),
    db,
  );
  return rows.length;
}
