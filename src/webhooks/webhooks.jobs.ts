import type { Logger } from 'pino';
import type { WebhooksConfig } from '../config.js';
import type { Clock, Random } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import type { LookupFunction } from '../platform/net/ssrf.js';
import { defineJob, type JobRunner } from '../platform/queue/jobs.js';
import type { BackoffPolicy } from '../platform/queue/queue.js';
import type { OutboundGuard } from '../platform/outbound/outbound-guard.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import type { WriteBatchLimits } from '../platform/db/write-batcher.js';
import { ReadBatcher } from '../platform/db/read-batcher.js';
import { DeliverySuccessBatcher } from './delivery-success.batcher.js';
import { findDispatches } from './webhook-dispatch.repository.js';
import { EndpointSlots } from './endpoint-slots.js';
import { webhookDeliveryHandler, webhookParkedHandler } from './webhook-delivery.handler.js';
import { WebhookSender } from './webhook-sender.js';
import { webhookMetrics } from './webhooks.metrics.js';

export interface WebhookDeliveryPayload {
  /** The delivery's `msg_…` id. */
  messageId: string;
}

/** One per event and subscribed endpoint: POST the signed event to the endpoint. */
export const webhookDeliveryJob = defineJob<WebhookDeliveryPayload>('webhooks.delivery');

export interface WebhookJobsDeps {
  database: Database;
  clock: Clock;
  random: Random;
  logger: Logger;
  metrics: Metrics;
  webhooks: WebhooksConfig;
  /** `intake-webhooks/<version>`; the app knows the version. */
  userAgent: string;
  /** DNS resolution for the SSRF guard; tests answer with any address. */
  resolve?: LookupFunction;
  /** `config.jobWriteBatch`: the successes of concurrent deliveries are written together; unset, each alone. */
  writeBatch?: WriteBatchLimits;
  /** Holds deliveries while their endpoint is rate-limited, paused or its circuit open; unset: never. */
  outbound?: OutboundGuard;
  /** WEBHOOK_RATE_PER_S_PER_ENDPOINT; undefined: no limit. */
  ratePerSPerEndpoint?: number;
}

/** The queue's retry policy for deliveries: the configured schedule, a `Retry-After` capped at its longest wait. */
export function deliveryBackoff(webhooks: Pick<WebhooksConfig, 'retryScheduleMs'>): BackoffPolicy {
  const schedule = webhooks.retryScheduleMs;
  return { baseMs: schedule[0] ?? 0, maxMs: Math.max(0, ...schedule), scheduleMs: schedule };
}

/** Attempts of a delivery job: one, then one after each wait of the schedule. Enqueue delivery jobs with it as `maxAttempts`. */
export function deliveryMaxAttempts(webhooks: Pick<WebhooksConfig, 'retryScheduleMs'>): number {
  return webhooks.retryScheduleMs.length + 1;
}

/**
 * How long a delivery job may wait to run: its whole retry schedule (with the jitter's 10 %), each
 * attempt's timeout, and an hour. A delivery held past it (its endpoint's circuit open all along)
 * is parked as expired, and fails, rather than being sent days late.
 */
export function deliveryLifetimeMs(webhooks: Pick<WebhooksConfig, 'retryScheduleMs' | 'timeoutMs'>): number {
  const schedule = webhooks.retryScheduleMs.reduce((sum, wait) => sum + wait, 0);
  return Math.ceil(schedule * 1.1) + deliveryMaxAttempts(webhooks) * webhooks.timeoutMs + 3_600_000;
}

/** Everything a worker process needs to run `webhooks.delivery` jobs, on their own queue and concurrency. */
export function createWebhookJobs(deps: WebhookJobsDeps): JobRunner<WebhookDeliveryPayload> {
  const { webhooks } = deps;
  const sender = new WebhookSender({
    timeoutMs: webhooks.timeoutMs,
    allowHttp: webhooks.allowHttp,
    allowPrivateHosts: webhooks.allowPrivateHosts,
    connectionsPerOrigin: webhooks.endpointConcurrency,
    userAgent: deps.userAgent,
    resolve: deps.resolve,
  });
  const backoff = deliveryBackoff(webhooks);
  const handlerDeps = {
    database: deps.database,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger.child({ job: webhookDeliveryJob.queue }),
    sender,
    slots: new EndpointSlots(webhooks.endpointConcurrency),
    metrics: webhookMetrics(deps.metrics, deps.database),
    backoff,
    timeoutMs: webhooks.timeoutMs,
    disableAfterHours: webhooks.disableAfterHours,
    dispatches: new ReadBatcher({ read: (ids: string[]) => findDispatches(deps.database.db, ids), keyOf: (row) => row.message_id, maxKeys: deps.writeBatch?.maxItems ?? 1 }),
    successes: new DeliverySuccessBatcher(deps.database, deps.clock, deps.writeBatch ?? { maxItems: 1, lingerMs: 0 }),
    guard: deps.outbound && { outbound: deps.outbound, limits: { ratePerS: deps.ratePerSPerEndpoint, probeLeaseMs: webhooks.timeoutMs } },
  };
  return {
    definition: webhookDeliveryJob,
    handler: webhookDeliveryHandler(handlerDeps),
    // A completion lost in a crash runs the job again, which finds its delivery finished and stops.
    workOptions: { concurrency: webhooks.concurrency, backoff, onParked: webhookParkedHandler(handlerDeps), durableCompletions: false },
    finishedLog: 'debug',
    close: () => sender.close(),
  };
}
