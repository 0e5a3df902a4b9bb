import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import type { ItemWriteBatch } from './item-status.batcher.js';
import type { OutboundGuard } from '../platform/outbound/outbound-guard.js';
import { defineJob, type JobRunner } from '../platform/queue/jobs.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import { orderIntegrationHandler, orderParkedHandler, THIRD_PARTY_DESTINATION, thirdPartyMetrics } from './orders.integration.js';
import type { OrderEventSink } from './order-events.js';
import { ThirdPartyClient } from './third-party.client.js';

export interface OrderIntegrationPayload {
  itemId: number;
}

/**
 * A job denied a token of THIRD_PARTY_RATE_PER_S waits in its worker for one, by priority, when
 * its turn comes within this long: at the rates a third party allows, one slot's wait is far
 * shorter. A longer wait holds the job off the worker instead.
 */
const WAIT_IN_LINE_MS = 2_000;

/** One per `recurring` item: send it to the third party and write the outcome back. */
export const orderIntegrationJob = defineJob<OrderIntegrationPayload>('orders.integration', {}, THIRD_PARTY_DESTINATION);

export interface OrderJobsDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Where the items go: THIRD_PARTY_URL, or the simulator's. */
  thirdPartyUrl: string;
  thirdPartyTimeoutMs: number;
  /** `config.jobWriteBatch`. */
  writeBatch?: ItemWriteBatch;
  /** Records the events of item and order outcomes, in the transactions that write them. */
  events?: OrderEventSink;
  /** Holds jobs while the third party is rate-limited, paused or its circuit open; unset: never. */
  outbound?: OutboundGuard;
  /** THIRD_PARTY_RATE_PER_S; undefined: no limit. */
  thirdPartyRatePerS?: number;
}

/** Everything a worker process needs to run `orders.integration` jobs. */
export function createOrderJobs(options: OrderJobsDeps): JobRunner<OrderIntegrationPayload> {
  const client = new ThirdPartyClient({ url: options.thirdPartyUrl, timeoutMs: options.thirdPartyTimeoutMs });
  const logger = options.logger.child({ job: orderIntegrationJob.queue });
  const guard = options.outbound && { outbound: options.outbound, limits: { ratePerS: options.thirdPartyRatePerS, probeLeaseMs: options.thirdPartyTimeoutMs, waitInLineMs: WAIT_IN_LINE_MS, gated: true } };
  const deps = { database: options.database, client, clock: options.clock, logger, metrics: thirdPartyMetrics(options.metrics), writeBatch: options.writeBatch, events: options.events, guard };
  return {
    definition: orderIntegrationJob,
    handler: orderIntegrationHandler(deps),
    // A completion lost in a crash runs the job again, which finds its item completed and stops.
    // Every job goes to the third party: while it is held, the queue claims nothing and keeps its jobs in priority order.
    workOptions: { onParked: orderParkedHandler(deps), durableCompletions: false, claimGate: options.outbound?.gateOf(THIRD_PARTY_DESTINATION) },
    close: () => client.close(),
  };
}
