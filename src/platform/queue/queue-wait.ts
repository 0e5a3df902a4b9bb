import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Queue, QueueStats } from './queue.js';

/** How long the oldest ready job has waited for a worker: 0 when none is ready, undefined where the driver cannot tell. */
export function oldestWaitMs(stats: QueueStats, now: number): number | undefined {
  if (stats.oldestReadySince === undefined) return undefined;
  return stats.oldestReadySince === null ? 0 : Math.max(0, now - stats.oldestReadySince);
}

export interface QueueWaitOptions {
  queue: Pick<Queue, 'stats'>;
  queueNames: readonly string[];
  /** QUEUE_WAIT_WARN_S in milliseconds: a longer wait is a long wait. */
  warnAfterMs: number;
  clock: Clock;
}

/**
 * queue_oldest_ready_age_seconds{queue} and queue_long_wait{queue} (1 while the oldest ready job
 * has waited longer than QUEUE_WAIT_WARN_S), from the stats the queue depth gauge reads when
 * scraped; a queue whose driver cannot tell the age (RabbitMQ) has no series.
 */
export function queueWaitMetrics(metrics: Metrics, o: { recentStats: () => Promise<QueueStats[]>; warnAfterMs: number; clock: Clock }): void {
  const waits = async () => {
    const now = o.clock.now();
    return (await o.recentStats()).map((stats) => [stats.queue, oldestWaitMs(stats, now)] as const);
  };
  metrics.gauge('queue_oldest_ready_age_seconds', 'How long the oldest ready job of each queue has waited for a worker (0: none ready)', ['queue'], async (gauge) => {
    gauge.reset();
    for (const [queue, waited] of await waits()) if (waited !== undefined) gauge.set({ queue }, waited / 1000);
  });
  metrics.gauge('queue_long_wait', 'Whether the oldest ready job of each queue has waited longer than QUEUE_WAIT_WARN_S (1) or not (0)', ['queue'], async (gauge) => {
    gauge.reset();
    for (const [queue, waited] of await waits()) if (waited !== undefined) gauge.set({ queue }, waited > o.warnAfterMs ? 1 : 0);
  });
}

/** Writes a warning when a queue's oldest ready job starts waiting longer than QUEUE_WAIT_WARN_S, and a line when it stops. */
export class LongWaitLog {
  private readonly waiting = new Set<string>();

  constructor(private readonly o: QueueWaitOptions & { logger: Logger }) {}

  async check(): Promise<void> {
    const now = this.o.clock.now();
    for (const name of this.o.queueNames) {
      const waited = oldestWaitMs(await this.o.queue.stats(name), now);
      if (waited === undefined) continue;
      const long = waited > this.o.warnAfterMs;
      if (long && !this.waiting.has(name)) {
        this.waiting.add(name);
        this.o.logger.warn({ queue: name, waitedS: Math.round(waited / 1000), warnAfterS: this.o.warnAfterMs / 1000 }, 'long wait: the oldest ready job has waited longer than QUEUE_WAIT_WARN_S');
      } else if (!long && this.waiting.delete(name)) {
        this.o.logger.info({ queue: name, waitedS: Math.round(waited / 1000) }, 'long wait over: the oldest ready job waits less than QUEUE_WAIT_WARN_S again');
      }
    }
  }
}
