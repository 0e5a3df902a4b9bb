import type { Clock } from '../platform/clock.js';
import type { Executor } from '../platform/db/database.js';
import { enqueueJobs } from '../platform/queue/jobs.js';
import type { TransactionalQueue } from '../platform/queue/queue.js';
import { deliveriesToResend, markDeliveriesPending } from './redelivery.repository.js';
import { webhookDeliveryJob } from './webhooks.jobs.js';

/**
 * Sends deliveries again, in the caller's transaction: each goes back to `pending` with a fresh
 * count of attempts and a new delivery job, under the same `webhook-id`. A delivery already
 * `pending` is left alone (its job is on its way). Returns how many were queued.
 */
export interface RedeliveryDeps {
  queue: TransactionalQueue;
  clock: Clock;
  /** Of each delivery job: the retry schedule's length + 1 (`deliveryMaxAttempts`). */
  maxAttempts: number;
}

export async function redeliver(db: Executor, { queue, clock, maxAttempts }: RedeliveryDeps, deliveryIds: readonly number[]): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const rows = await deliveriesToResend(db, deliveryIds);
  if (rows.length === 0) return 0;
  await markDeliveriesPending(db, rows.map((row) => row.id), clock.now());
  await enqueueJobs(
    queue,
    webhookDeliveryJob,
    rows.map((row) => ({ payload: { messageId: row.message_id }, options: { dedupeKey: `webhook:${row.message_id}`, maxAttempts } })),
    db,
  );
  return rows.length;
}
