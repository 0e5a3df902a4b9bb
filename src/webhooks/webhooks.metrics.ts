import type { Database } from '../platform/db/database.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import { countDisabledEndpoints } from './webhook-dispatch.repository.js';

/** `retry`: another attempt follows; `deferred`: the endpoint had no free slot, nothing was sent. */
export type DeliveryOutcome = 'succeeded' | 'retry' | 'failed' | 'deferred';

export interface WebhookMetrics {
  delivery(outcome: DeliveryOutcome): void;
  /** One request's time, whatever its answer. */
  sent(durationMs: number): void;
}

/** webhook_deliveries_total{outcome}, webhook_delivery_duration_seconds, and webhook_endpoints_disabled (read from the database when scraped). */
export function webhookMetrics(metrics: Metrics, database: Database): WebhookMetrics {
  const deliveries = metrics.counter('webhook_deliveries_total', 'Webhook delivery attempts, by outcome: succeeded, retry, failed, deferred (no free slot for the endpoint)', ['outcome']);
  const duration = metrics.histogram('webhook_delivery_duration_seconds', 'Webhook request time, whatever the answer', [], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  metrics.gauge('webhook_endpoints_disabled', 'Webhook endpoints disabled (410 Gone, failing too long, or by their owner)', [], async (gauge) => {
    gauge.set(await countDisabledEndpoints(database.db));
  });
  return {
    delivery(outcome) {
      deliveries.inc({ outcome });
    },
    sent(durationMs) {
      duration.observe(durationMs / 1000);
    },
  };
}
