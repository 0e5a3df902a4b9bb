import type { Database } from '../platform/db/database.js';
import type { Metrics } from '../platform/telemetry/metrics.js';
import type { FeedRunRow } from './catalog.tables.js';
import { findLastSuccessfulRun } from './feed/feed-runs.repository.js';

export interface FeedMetrics {
  recordRun(run: FeedRunRow): void;
}

/** feed_runs_total{status}, feed_items_total{outcome}, and when the last good run finished (read from the database when scraped). */
export function feedMetrics(metrics: Metrics, database: Database): FeedMetrics {
  const runs = metrics.counter('feed_runs_total', 'Feed ingestion runs, by status', ['status']);
  const items = metrics.counter('feed_items_total', 'Feed items, by outcome of their run', ['outcome']);
  metrics.gauge('feed_last_success_timestamp_seconds', 'When the last successful (or unchanged) feed run finished', [], async (gauge) => {
    const run = await findLastSuccessfulRun(database.db);
    if (run?.finished_at) gauge.set(run.finished_at / 1000);
  });
  return {
    recordRun(run) {
      runs.inc({ status: run.status });
      const outcomes = { created: run.created_count, updated: run.updated_count, unchanged: run.unchanged_count, removed: run.removed_count, invalid: run.invalid_count, repaired: run.repaired_count };
      for (const [outcome, count] of Object.entries(outcomes)) if (count > 0) items.inc({ outcome }, count);
    },
  };
}

export interface ImageMetrics {
  downloaded(bytes: number, seconds: number): void;
  /** `failed`: no attempt is left; `retry`: another attempt follows. */
  failed(outcome: 'failed' | 'retry'): void;
}

/** images_total{status}, image_bytes_total and image_download_duration_seconds. */
export function imageMetrics(metrics: Metrics): ImageMetrics {
  const images = metrics.counter('images_total', 'Image download attempts, by result: cached, retry, failed', ['status']);
  const bytes = metrics.counter('image_bytes_total', 'Bytes of images downloaded and stored');
  const duration = metrics.histogram('image_download_duration_seconds', 'Image download time (transfer and store)', [], [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
  return {
    downloaded(size, seconds) {
      images.inc({ status: 'cached' });
      bytes.inc(size);
      duration.observe(seconds);
    },
    failed(outcome) {
      images.inc({ status: outcome });
    },
  };
}
