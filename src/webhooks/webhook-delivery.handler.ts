import type { Logger } from 'pino';
import type { Clock, Random } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { isRetryableStatus } from '../platform/net/retry-after.js';
import type { ReadBatcher } from '../platform/db/read-batcher.js';
import { retryDelayMs } from '../platform/queue/backoff.js';
import { DeferredError, RetryableError, type BackoffPolicy, type JobContext, type ParkedHandler, type ParkedNotice } from '../platform/queue/queue.js';
import { outboundOutcomeOf, type Admission, type DestinationLimits, type OutboundGuard } from '../platform/outbound/outbound-guard.js';
import { isTracing } from '../platform/telemetry/tracing.js';
import type { EndpointSlots } from './endpoint-slots.js';
import type { DeliverySuccessBatcher } from './delivery-success.batcher.js';
import { disableEndpoint, findDispatch, markEndpointFailing, recordAttempt, type Dispatch } from './webhook-dispatch.repository.js';
import type { SendResult, WebhookSender } from './webhook-sender.js';
import { signingSecrets, webhookHeaders } from './webhook-signature.js';
import type { WebhookMetrics } from './webhooks.metrics.js';
import type { WebhookDeliveryPayload } from './webhooks.jobs.js';

export interface DeliveryDeps {
  database: Database;
  clock: Clock;
  random: Random;
  logger: Logger;
  sender: Pick<WebhookSender, 'send'>;
  slots: EndpointSlots;
  metrics: WebhookMetrics;
  /** The queue's policy for this job type, with `scheduleMs`: `next_attempt_at` is read from it. */
  backoff: BackoffPolicy;
  timeoutMs: number;
  disableAfterHours: number;
  /** Loads a delivery by its message id, batched with the loads of concurrent deliveries. */
  dispatches: Pick<ReadBatcher<string, Dispatch>, 'get'>;
  /** Where successes are written, batched with those of concurrent deliveries. */
  successes: Pick<DeliverySuccessBatcher, 'record'>;
  /** Each endpoint's shared rate limit, pause and circuit breaker; unset: every delivery is sent at once. */
  guard?: { outbound: OutboundGuard; limits: DestinationLimits };
}

/** An endpoint, as the outbound guard names it. */
export const webhookDestination = (endpointId: number) => `webhook:${endpointId}`;

const HOUR_MS = 3_600_000;

/** What an answer (or its absence) means for the delivery. */
interface Verdict {
  statusCode: number | null;
  durationMs: number;
  /** null on success. */
  error: string | null;
  retryable: boolean;
  retryAfterMs?: number;
  /** The endpoint is to be disabled at once, for this reason. */
  disable?: string;
}

/** 2xx succeeds; 410 disables; 408, 429, 5xx and no answer may pass later; anything else (3xx included, never followed) never will. */
export function judge(result: SendResult): Verdict {
  if (result.kind !== 'answered') return { statusCode: null, durationMs: result.durationMs, error: result.error, retryable: result.kind === 'unreachable' };
  const { statusCode, durationMs } = result;
  const base = { statusCode, durationMs };
  if (statusCode >= 200 && statusCode < 300) return { ...base, error: null, retryable: false };
  if (statusCode === 410) return { ...base, error: 'endpoint answered 410', retryable: false, disable: 'the endpoint answered 410 Gone' };
  if (statusCode >= 300 && statusCode < 400) {
    return { ...base, error: `endpoint answered ${statusCode} redirecting to ${result.location || '(no Location)'}; redirects are not followed`, retryable: false };
  }
  const retryable = isRetryableStatus(statusCode);
  return { ...base, error: `endpoint answered ${statusCode}`, retryable, ...(retryable && { retryAfterMs: result.retryAfterMs }) };
}

/**
 * Sends one delivery: its event's stored body, signed with the endpoint's secrets, under the same
 * `webhook-id` on every attempt. A delivery already finished, or whose endpoint was deleted, is
 * left alone; a disabled endpoint fails it unsent. An endpoint with every slot of this process in
 * use defers the job uncounted. The last attempt's failure is recorded here and the job completes:
 * the delivery log, not the parked queue, is where failed deliveries are kept.
 */
export function webhookDeliveryHandler(deps: DeliveryDeps) {
  return async ({ messageId }: WebhookDeliveryPayload, job: JobContext): Promise<void> => {
    const dispatch = await deps.dispatches.get(messageId);
    if (!dispatch || dispatch.status !== 'pending') return;
    if (dispatch.enabled !== 1) {
      const now = deps.clock.now();
      const error = `endpoint disabled: ${dispatch.disabled_reason ?? 'no reason given'}`;
      const changed = await deps.database.write((db) => recordAttempt(db, dispatch.delivery_id, { status: 'failed', last_error: error, next_attempt_at: null, finished_at: now, updated_at: now }));
      if (changed) deps.metrics.delivery('failed');
      return;
    }
    const release = deps.slots.tryAcquire(dispatch.endpoint_id);
    if (!release) {
      deps.metrics.delivery('deferred');
      const delayMs = Math.round(deps.timeoutMs * (0.5 + deps.random()));
      throw new DeferredError(delayMs, `endpoint ${dispatch.endpoint_id} has every delivery slot of this process in use`);
    }
    const { guard } = deps;
    let result: SendResult;
    let admission: Admission | undefined;
    try {
      // Held here (a DeferredError), a delivery has spent no attempt and is not in the log.
      admission = guard && (await guard.outbound.admit(webhookDestination(dispatch.endpoint_id), guard.limits));
      result = await send(deps, dispatch, job);
    } finally {
      release();
    }
    if (result.kind !== 'refused') deps.metrics.sent(result.durationMs);
    const verdict = judge(result);
    const held = admission && (await reportTo(guard!.outbound, admission, result, verdict));
    if (verdict.error === null) {
      await recordSuccess(deps, dispatch, verdict, job.attempt);
      return;
    }
    // The endpoint is down and its circuit open: the delivery waits for it without spending the attempt.
    const holdUntil = verdict.retryable ? held?.holdUntil : undefined;
    const lastAttempt = job.attempt >= Math.min(job.maxAttempts, (deps.backoff.scheduleMs?.length ?? Infinity) + 1);
    const retry = await recordFailure(deps, dispatch, verdict, job.attempt, verdict.retryable && (!lastAttempt || holdUntil !== undefined), holdUntil);
    if (retry && holdUntil !== undefined) throw new DeferredError(Math.max(1, holdUntil - deps.clock.now()), `${verdict.error}; the endpoint's circuit is open`, holdUntil);
    if (retry) throw new RetryableError(verdict.error, verdict.retryAfterMs);
  };
}

/** What the delivery showed of its endpoint. A refusal (the URL policy) never reached it, so it says nothing of its health. */
async function reportTo(outbound: OutboundGuard, admission: Admission, result: SendResult, verdict: Verdict): Promise<{ holdUntil?: number }> {
  if (result.kind !== 'refused') return outbound.report(admission, outboundOutcomeOf(verdict.statusCode, verdict.error, verdict.retryAfterMs));
  await outbound.unused(admission);
  return {};
}

function send(deps: DeliveryDeps, dispatch: Dispatch, job: JobContext): Promise<SendResult> {
  const now = deps.clock.now();
  const message = { id: dispatch.message_id, timestamp: Math.floor(now / 1000), body: dispatch.body };
  // While tracing, the HTTP client's instrumentation sends the current span's traceparent itself.
  const traceparent = isTracing() ? undefined : job.headers.traceparent;
  const headers = { ...webhookHeaders(message, signingSecrets(dispatch, now)), ...(traceparent && { traceparent }) };
  return deps.sender.send(dispatch.url, dispatch.body, headers, job.signal);
}

async function recordSuccess(deps: DeliveryDeps, dispatch: Dispatch, verdict: Verdict, attempt: number): Promise<void> {
  await deps.successes.record({
    deliveryId: dispatch.delivery_id,
    attempts: attempt,
    statusCode: verdict.statusCode!,
    durationMs: verdict.durationMs,
    endpointId: dispatch.endpoint_id,
    failingSince: dispatch.failing_since,
    lastSuccessAt: dispatch.last_success_at,
  });
  deps.metrics.delivery('succeeded');
}

/**
 * Records a failed attempt: the delivery stays pending for a retry or fails, and the endpoint's run
 * of failures starts (or goes on); one that has lasted `disableAfterHours` disables the endpoint.
 * Returns whether the delivery is to be retried.
 */
async function recordFailure(deps: DeliveryDeps, dispatch: Dispatch, verdict: Verdict, attempt: number, retryable: boolean, heldUntil?: number): Promise<boolean> {
  const now = deps.clock.now();
  const failingSince = dispatch.failing_since ?? now;
  const disable = verdict.disable ?? (now - failingSince >= deps.disableAfterHours * HOUR_MS ? `every delivery has failed for ${deps.disableAfterHours} hours` : undefined);
  const retry = retryable && disable === undefined;
  await deps.database.transaction(async (trx) => {
    await recordAttempt(trx, dispatch.delivery_id, {
      status: retry ? 'pending' : 'failed',
      attempts: attempt,
      last_status_code: verdict.statusCode,
      last_duration_ms: verdict.durationMs,
      last_error: verdict.error,
      // The planned wait; the queue's jitter moves the real one by up to 10%.
      next_attempt_at: retry ? (heldUntil ?? now + retryDelayMs(attempt, deps.backoff, () => 0.5, verdict.retryAfterMs)) : null,
      finished_at: retry ? null : now,
      updated_at: now,
    });
    await markEndpointFailing(trx, dispatch.endpoint_id, now);
    if (disable !== undefined) await disableEndpoint(trx, dispatch.endpoint_id, disable, now);
  });
  if (disable !== undefined) deps.logger.warn({ endpointId: dispatch.endpoint_id, reason: disable }, 'webhook endpoint disabled');
  deps.metrics.delivery(retry ? 'retry' : 'failed');
  return retry;
}

/**
 * When a delivery's job is parked, the delivery has failed. The handler records that itself on the
 * last attempt; this covers a worker that died during it. Pass it as the job's `onParked`.
 */
export function webhookParkedHandler(deps: Pick<DeliveryDeps, 'database' | 'clock' | 'logger' | 'metrics'>): ParkedHandler {
  return async (payload: unknown, notice: ParkedNotice): Promise<void> => {
    const messageId = (payload as { messageId?: unknown } | null)?.messageId;
    if (typeof messageId !== 'string') return;
    const dispatch = await findDispatch(deps.database.db, messageId);
    if (!dispatch || dispatch.status !== 'pending') return;
    const now = deps.clock.now();
    const changed = await deps.database.transaction(async (trx) => {
      const failed = await recordAttempt(trx, dispatch.delivery_id, { status: 'failed', attempts: notice.attempts, last_error: notice.reason, next_attempt_at: null, finished_at: now, updated_at: now });
      if (failed) await markEndpointFailing(trx, dispatch.endpoint_id, now);
      return failed;
    });
    if (!changed) return;
    deps.metrics.delivery('failed');
    deps.logger.warn({ messageId, reason: notice.reason }, 'webhook delivery failed: its job was parked');
  };
}
