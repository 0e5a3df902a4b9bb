import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { QueuePauseRow } from './queue-controls.table.js';
import { pauseOf, type QueuePause } from './queue-pauses.js';
import { listQueuePauses } from './queue-pauses.repository.js';

export interface PausedQueuesOptions {
  database: Database;
  logger: Logger;
  /** QUEUE_PAUSE_POLL_MS: how often the paused queues are read again. */
  pollMs: number;
}

/**
 * This process's view of the paused queues, for its workers: one query for every paused queue,
 * again `pollMs` after the last one finished, from the first `start()` until `stop()`. A pause or
 * resume made anywhere is seen within `pollMs` (plus the query). When the table cannot be read
 * (the database is down), the last known state holds, and the failure is logged once, not per poll.
 */
export class PausedQueues {
  private paused = new Map<string, QueuePause>();
  private readonly listeners = new Set<() => void>();
  private firstRead: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failing = false;

  constructor(private readonly o: PausedQueuesOptions) {}

  /** Starts polling (the first call only); resolves once the first read is done, or has failed. */
  start(): Promise<void> {
    this.firstRead ??= this.poll();
    return this.firstRead;
  }

  isPaused(queue: string): boolean {
    return this.paused.has(queue);
  }

  /** `listener` is called after each read that paused or resumed a queue; returns its unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    try {
      this.update(await listQueuePauses(this.o.database.db));
      if (this.failing) this.o.logger.info('the paused queues can be read again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.o.logger.error({ err: error }, 'could not read the paused queues; the workers keep the last known state until they can');
      this.failing = true;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
  }

  private update(rows: QueuePauseRow[]): void {
    const next = new Map(rows.map((row) => [row.queue, pauseOf(row)]));
    let changed = false;
    for (const [queue, pause] of next) {
      if (this.paused.has(queue)) continue;
      changed = true;
      this.o.logger.info({ queue, pausedAt: new Date(pause.at).toISOString(), pausedBy: pause.by, reason: pause.reason }, `queue ${queue} is paused: its workers claim no new job`);
    }
    for (const queue of this.paused.keys()) {
      if (next.has(queue)) continue;
      changed = true;
      this.o.logger.info({ queue }, `queue ${queue} is resumed: its workers claim jobs again`);
    }
    this.paused = next;
    if (changed) for (const listener of this.listeners) listener();
  }
}
