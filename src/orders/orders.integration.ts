import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { PermanentError, RetryableError, type JobContext, type ParkedNotice } from '../platform/queue/queue.js';
import { failUnfinishedItem, findItemForDispatch, updateItemStatus } from './orders.repository.js';
import type { ItemStatus } from './orders.tables.js';
import { ThirdPartyUnreachableError, type ThirdPartyClient } from './third-party.client.js';

export interface IntegrationDeps {
  database: Database;
  client: ThirdPartyClient;
  clock: Clock;
  logger: Logger;
}

export interface ItemDetails {
  status_code: number | null;
  attempts: number;
  duration_ms: number;
  last_error: string | null;
  completed_at?: string;
}

/** 408, 429 and 5xx may pass later; any other 4xx never will. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Sends one recurring item to the third party and writes the outcome back. Idempotent: a
 * completed item is never sent again, and every attempt carries the same Idempotency-Key.
 */
export function orderIntegrationHandler(deps: IntegrationDeps) {
  return async ({ itemId }: { itemId: number }, job: JobContext): Promise<void> => {
    const item = await findItemForDispatch(deps.database.db, itemId);
    if (!item || item.status === 'completed') return;
    const setStatus = (status: ItemStatus, details?: ItemDetails) =>
      deps.database.write((db) => updateItemStatus(db, itemId, status, details && JSON.stringify(details), deps.clock.now()));
    const write = (status: ItemStatus, details: ItemDetails) => setStatus(status, details);
    await setStatus('processing');

    const lastAttempt = job.attempt >= job.maxAttempts;
    let statusCode: number | null = null;
    let durationMs = 0;
    let retryAfterMs: number | undefined;
    let failure: string;
    try {
      const response = await deps.client.send(
        { ProductName: item.label, Price: item.cost_cents / 100, Timestamp: new Date(item.order_created_at).toISOString() },
        { idempotencyKey: `order-item-${itemId}`, traceparent: job.headers.traceparent },
        job.signal,
      );
      ({ statusCode, durationMs, retryAfterMs } = response);
      if (statusCode >= 200 && statusCode < 300) {
        await write('completed', { status_code: statusCode, attempts: job.attempt, duration_ms: durationMs, last_error: null, completed_at: new Date(deps.clock.now()).toISOString() });
        return;
      }
      failure = `third party answered ${statusCode}`;
      if (!isRetryableStatus(statusCode)) {
        await write('failed', { status_code: statusCode, attempts: job.attempt, duration_ms: durationMs, last_error: failure });
        throw new PermanentError(failure);
      }
    } catch (error) {
      if (!(error instanceof ThirdPartyUnreachableError)) throw error;
      durationMs = error.durationMs;
      failure = error.message;
    }
    await write(lastAttempt ? 'failed' : 'processing', { status_code: statusCode, attempts: job.attempt, duration_ms: durationMs, last_error: failure });
    throw new RetryableError(failure, retryAfterMs);
  };
}

/**
 * When an item's job is parked, the item is `failed`. The handler writes that itself when it gives
 * up; this covers a worker that died during the last attempt, whose handler never got the word.
 */
export function orderParkedHandler(deps: Pick<IntegrationDeps, 'database' | 'clock' | 'logger'>) {
  return async (payload: unknown, notice: ParkedNotice): Promise<void> => {
    const itemId = (payload as { itemId?: unknown } | null)?.itemId;
    if (typeof itemId !== 'number') return;
    const details: ItemDetails = { status_code: null, attempts: notice.attempts, duration_ms: 0, last_error: notice.reason };
    const changed = await deps.database.write((db) => failUnfinishedItem(db, itemId, JSON.stringify(details), deps.clock.now()));
    if (changed) deps.logger.warn({ itemId, reason: notice.reason }, 'item failed: its job was parked');
  };
}
