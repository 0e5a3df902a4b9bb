import type { Database } from '../platform/db/database.js';
import { deleteDeliveries, deleteEvents, deliveryIdsCreatedBefore, eventSeqsCreatedBefore } from './webhook-retention.repository.js';

const DAY_MS = 86_400_000;

export interface WebhookRetentionOptions {
  /** Rows deleted per statement. */
  batch?: number;
  /** Statements per table and sweep; what is left waits for the next sweep. */
  maxBatches?: number;
}

export interface WebhookLogSwept {
  deliveries: number;
  events: number;
  /** Rows past the cut-off were left for the next sweep (the batch bound was reached). */
  more: boolean;
}

/**
 * Deletes the deliveries, then the events, created more than `logDays` ago, whatever their status,
 * `batch` rows per statement and at most `maxBatches` statements per table, so that no write holds
 * the tables for long and one sweep ends in bounded time.
 */
export async function sweepWebhookLog(database: Database, now: number, logDays: number, options: WebhookRetentionOptions = {}): Promise<WebhookLogSwept> {
  const batch = options.batch ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  const before = now - logDays * DAY_MS;
  const deliveries = await drain(maxBatches, batch, () => database.transaction(async (trx) => deleteDeliveries(trx, await deliveryIdsCreatedBefore(trx, before, batch))));
  const events = deliveries.more
    ? { total: 0, more: true }
    : await drain(maxBatches, batch, () => database.transaction(async (trx) => deleteEvents(trx, await eventSeqsCreatedBefore(trx, before, batch))));
  return { deliveries: deliveries.total, events: events.total, more: deliveries.more || events.more };
}

async function drain(maxBatches: number, batch: number, deleteBatch: () => Promise<number>): Promise<{ total: number; more: boolean }> {
  let total = 0;
  for (let i = 0; i < maxBatches; i++) {
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < batch) return { total, more: false };
  }
  return { total, more: true };
}
