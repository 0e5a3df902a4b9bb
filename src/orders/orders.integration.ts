import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import type { Counter, Histogram, Metrics } from '../platform/telemetry/metrics.js';
import { isRetryableStatus } from '../platform/net/retry-after.js';
import { isTracing } from '../platform/telemetry/tracing.js';
import { isFinalFailure } from '../platform/queue/job-outcome.js';
import { outboundOutcomeOf, type Admission, type DestinationLimits, type OutboundGuard } from '../platform/outbound/outbound-guard.js';
import { PermanentError, RetryableError, type JobContext, type ParkedHandler, type ParkedNotice } from '../platform/queue/queue.js';
import { ItemStatusBatcher, type ItemWriteBatch } from './item-status.batcher.js';
import { applyItemOutcomes } from './item-outcomes.js';
import type { OrderEventSink } from './order-events.js';
import type { ItemForDispatch } from './orders.repository.js';
import type { ItemStatus } from './orders.tables.js';
import { ThirdPartyUnreachableError, type ThirdPartyClient, type ThirdPartyOrder } from './third-party.client.js';

export interface IntegrationDeps {
  database: Database;
  client: ThirdPartyClient;
  clock: Clock;
  logger: Logger;
  metrics?: ThirdPartyMetrics;
  /** Item writes of concurrent jobs are batched within these bounds; unset: each is written alone. */
  writeBatch?: ItemWriteBatch;
  /** Records the events of item and order outcomes, in the transactions that write them. */
  events?: OrderEventSink;
  /** The third party's shared rate limit, pause and circuit breaker; unset: every job sends at once. */
  guard?: { outbound: OutboundGuard; limits: DestinationLimits };
}

/** The third party, as the outbound guard names it. */
export const THIRD_PARTY_DESTINATION = 'third-party';

export interface ThirdPartyMetrics {
  requests: Counter<'status_class'>;
  duration: Histogram;
}

/** third_party_requests_total{status_class} and third_party_duration_seconds. */
export function thirdPartyMetrics(metrics: Metrics): ThirdPartyMetrics {
  return {
    requests: metrics.counter('third_party_requests_total', 'Calls to the third party, by status class (error: no response)', ['status_class']),
    duration: metrics.histogram('third_party_duration_seconds', 'Third-party call time', [], [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]),
  };
}

export interface ItemDetails {
  status_code: number | null;
  attempts: number;
  duration_ms: number;
  last_error: string | null;
  completed_at?: string;
}

interface CallOutcome {
  statusCode: number | null;
  durationMs: number;
  retryAfterMs?: number;
  /** null on a 2xx. */
  error: string | null;
  retryable: boolean;
}

async function callThirdParty(client: ThirdPartyClient, order: ThirdPartyOrder, itemId: number, job: JobContext): Promise<CallOutcome> {
  try {
    // While tracing, the HTTP client's instrumentation sends the current span's traceparent itself.
    const traceparent = isTracing() ? undefined : job.headers.traceparent;
    const { statusCode, durationMs, retryAfterMs } = await client.send(order, { idempotencyKey: `order-item-${itemId}`, traceparent }, job.signal);
    const ok = statusCode >= 200 && statusCode < 300;
    return { statusCode, durationMs, retryAfterMs, error: ok ? null : `third party answered ${statusCode}`, retryable: !ok && isRetryableStatus(statusCode) };
  } catch (error) {
    if (!(error instanceof ThirdPartyUnreachableError)) throw error;
    return { statusCode: null, durationMs: error.durationMs, error: error.message, retryable: true };
  }
}

function recordCall(metrics: ThirdPartyMetrics, call: CallOutcome): void {
  metrics.requests.inc({ status_class: call.statusCode === null ? 'error' : `${Math.floor(call.statusCode / 100)}xx` });
  metrics.duration.observe(call.durationMs / 1000);
}

/**
 * Sends one recurring item to the third party and writes the outcome back. Idempotent: a
 * completed item is never sent again, and every attempt carries the same Idempotency-Key.
 */
export function orderIntegrationHandler(deps: IntegrationDeps) {
  const items = new ItemStatusBatcher(deps.database, deps.clock, deps.writeBatch ?? { maxItems: 1, lingerMs: 0 }, deps.events);
  const guard = deps.guard;
  return async ({ itemId }: { itemId: number }, job: JobContext): Promise<void> => {
    // Held here (a DeferredError), a job has not touched its item and has spent no attempt.
    const admission = guard && (await guard.outbound.admit(THIRD_PARTY_DESTINATION, guard.limits, { priority: job.priority, readySince: job.readyAt, signal: job.signal }));
    const item = await items.startDispatch(itemId);
    if (!item) {
      if (admission) await guard.outbound.unused(admission);
      return;
    }
    let recorded = false;
    const record: RecordOutcome = (status, details) => {
      recorded = true;
      // A completed item ends its job: on the database queue the job goes in the outcome's transaction.
      const completion = status === 'completed' ? job.completion : undefined;
      return items.record({ itemId, status, details: JSON.stringify(details), traceparent: job.headers.traceparent, completion });
    };
    try {
      await sendItem(deps, item, job, admission, record);
    } finally {
      // Ended without an outcome (an unexpected error): the outcomes batched meanwhile must not wait for it.
      if (!recorded) items.callEnded();
    }
  };
}

type RecordOutcome = (status: ItemStatus, details: ItemDetails) => Promise<void>;

/** One attempt at the third party for a dispatched item, and its outcome recorded. */
async function sendItem(deps: IntegrationDeps, item: ItemForDispatch, job: JobContext, admission: Admission | undefined, record: RecordOutcome): Promise<void> {
  const guard = deps.guard;
  const order = { ProductName: item.label, Price: item.cost_cents / 100, Timestamp: new Date(item.order_created_at).toISOString() };
  const call = await callThirdParty(deps.client, order, item.id, job);
  if (deps.metrics) recordCall(deps.metrics, call);
  const held = guard && admission && (await guard.outbound.report(admission, outboundOutcomeOf(call.statusCode, call.error, call.retryAfterMs)));
  const details: ItemDetails = { status_code: call.statusCode, attempts: job.attempt, duration_ms: call.durationMs, last_error: call.error };
  if (call.error === null) {
    await record('completed', { ...details, completed_at: new Date(deps.clock.now()).toISOString() });
    return;
  }
  if (guard && held?.holdUntil !== undefined) {
    // The third party is down and its circuit open: the job waits for it without spending the attempt.
    await record('processing', details);
    throw guard.outbound.heldError(THIRD_PARTY_DESTINATION, guard.limits, held.holdUntil, `${call.error}; the third party's circuit is open`);
  }
  const failure = call.retryable ? new RetryableError(call.error, call.retryAfterMs) : new PermanentError(call.error);
  // A failure that parks the job fails the item here, with the third party's answer in its details.
  await record(isFinalFailure(failure, job.attempt, job.maxAttempts) ? 'failed' : 'processing', details);
  throw failure;
}

/**
 * When an item's job is parked, the item is `failed`. The handler writes that itself when it gives
 * up; this covers a worker that died during the last attempt, whose handler never got the word.
 * Pass it as the job's `onParked`: the queue's outcome policy calls it for every parked job.
 */
export function orderParkedHandler(deps: Pick<IntegrationDeps, 'database' | 'clock' | 'logger' | 'events'>): ParkedHandler {
  return async (payload: unknown, notice: ParkedNotice): Promise<void> => {
    const itemId = (payload as { itemId?: unknown } | null)?.itemId;
    if (typeof itemId !== 'number') return;
    const details: ItemDetails = { status_code: null, attempts: notice.attempts, duration_ms: 0, last_error: notice.reason };
    const outcome = { itemId, status: 'failed' as const, details: JSON.stringify(details), onlyIfUnfinished: true };
    const changed = await deps.database.transaction((db) => applyItemOutcomes(db, [outcome], deps.clock.now(), deps.events));
    if (changed) deps.logger.warn({ itemId, reason: notice.reason }, 'item failed: its job was parked');
  };
}
