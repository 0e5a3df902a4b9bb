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
  /** How long a delivery job may wait to run (`deliveryLifetimeMs`): past it, it is parked as expired and the delivery fails. */
  lifetimeMs?: number;
}

/** The options of a delivery job enqueued at `now`. */
export function deliveryJobOptions(deps: RedeliveryDeps, now: number): { maxAttempts: number; expiresAt?: number } {
  return { maxAttempts: deps.maxAttempts, ...(deps.lifetimeMs !== undefined && { expiresAt: now + deps.lifetimeMs }) };
}

export async function redeliver(db: Executor, deps: RedeliveryDeps, deliveryIds: readonly number[]): Promise<number> {
  const { queue, clock } = deps;
  if (deliveryIds.length === 0) return 0;
  const rows = await deliveriesToResend(db, deliveryIds);
  if (rows.length === 0) return 0;
  await markDeliveriesPending(db, rows.map((row) => row.id), clock.now());
  await enqueueJobs(
    queue,
    webhookDeliveryJob,
    rows.map((row) => ({ payload: { messageId: row.message_id }, options: { dedupeKey: `webhook:${row.message_id}`, ...deliveryJobOptions(deps, clock.now()) } })),
    db,
  );
  return rows.length;
}
