import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { addToHistory, deleteHistoryBefore, findHistory } from './queue-history.repository.js';
import { SUMMED_HISTORY_COLUMNS, type HistoryCounts, type QueueHistoryTable } from './queue-history.table.js';

export const JOB_OUTCOMES = ['completed', 'retried', 'failed', 'parked'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The two histories: one-minute buckets kept a day, five-minute buckets kept two weeks. */
export const HISTORY_RESOLUTIONS = [
  { bucketMs: MINUTE_MS, keepMs: DAY_MS },
  { bucketMs: 5 * MINUTE_MS, keepMs: 14 * DAY_MS },
] as const;

export const HISTORY_RANGES = {
  '1h': { bucketMs: MINUTE_MS, spanMs: HOUR_MS },
  '24h': { bucketMs: MINUTE_MS, spanMs: DAY_MS },
  '7d': { bucketMs: 5 * MINUTE_MS, spanMs: 7 * DAY_MS },
  '14d': { bucketMs: 5 * MINUTE_MS, spanMs: 14 * DAY_MS },
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

export type HistoryBucket = { start: number } & Record<JobOutcome, number> & {
    /** Attempts that started in the bucket. */
    started: number;
    /** Their mean and longest wait for a worker, from ready to start; null when none started. */
    waitAvgMs: number | null;
    waitMaxMs: number | null;
  };

export interface QueueHistoryView {
  queue: string;
  range: HistoryRange;
  bucketMs: number;
  /** Every bucket of the range, oldest first, the empty ones included; the last is still filling. */
  buckets: HistoryBucket[];
}

export type ThroughputMinute = { minute: number } & Record<JobOutcome, number>;

export interface QueueHistoryOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  flushEveryMs?: number;
}

const emptyCounts = (): HistoryCounts => ({ completed: 0, retried: 0, failed: 0, parked: 0, started: 0, wait_total_ms: 0, wait_max_ms: 0 });

/**
 * What every queue did, per minute, across every worker process: each process counts finished
 * attempts by outcome and the waits of the attempts that start, and adds them to the shared
 * `queue_history` rows every few seconds (one statement per flush, whatever the job rate), as
 * Sidekiq adds its processed and failed counters to Redis.
 */
export class QueueHistory {
  private pending = new Map<string, { queue: string; minute: number; counts: HistoryCounts }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private readonly flushEveryMs: number;

  constructor(private readonly o: QueueHistoryOptions) {
    this.flushEveryMs = o.flushEveryMs ?? 5_000;
  }

  /** An attempt of `queue` finished with `outcome`; `waitMs` is its wait for a worker, when it counts as a start. */
  finished(queue: string, outcome: JobOutcome, waitMs?: number): void {
    const counts = this.cell(queue);
    counts[outcome] += 1;
    if (waitMs === undefined) return;
    counts.started += 1;
    counts.wait_total_ms += waitMs;
    if (waitMs > counts.wait_max_ms) counts.wait_max_ms = waitMs;
  }

  /** How long an attempt that starts now has waited for a worker since it could run. */
  waitSince(readyAt: number): number {
    return Math.max(0, this.o.clock.now() - readyAt);
  }

  /** Adds what this process counted to the shared rows; counts that could not be written wait for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  async read(queue: string, range: HistoryRange): Promise<QueueHistoryView> {
    const { bucketMs, spanMs } = HISTORY_RANGES[range];
    const count = spanMs / bucketMs;
    const last = startOf(this.o.clock.now(), bucketMs);
    const first = last - (count - 1) * bucketMs;
    const rows = await this.o.database.readStale((db) => findHistory(db, queue, bucketMs, first));
    const byStart = new Map(rows.map((row) => [Number(row.bucket_start), row]));
    const buckets = Array.from({ length: count }, (_, i) => bucketOf(first + i * bucketMs, byStart.get(first + i * bucketMs)));
    return { queue, range, bucketMs, buckets };
  }

  /** The last `minutes` minutes' finished attempts, oldest first; the current minute is still filling. */
  async recent(queue: string, minutes: number): Promise<ThroughputMinute[]> {
    const { buckets } = await this.read(queue, '1h');
    return buckets.slice(-minutes).map((bucket) => ({ minute: bucket.start, completed: bucket.completed, retried: bucket.retried, failed: bucket.failed, parked: bucket.parked }));
  }

  /** Deletes what is past each history's keeping; returns how many buckets went. */
  async sweep(): Promise<number> {
    const now = this.o.clock.now();
    let deleted = 0;
    for (const { bucketMs, keepMs } of HISTORY_RESOLUTIONS) deleted += await this.o.database.write((db) => deleteHistoryBefore(db, bucketMs, now - keepMs));
    return deleted;
  }

  private cell(queue: string): HistoryCounts {
    const minute = startOf(this.o.clock.now(), MINUTE_MS);
    const key = `${queue}\u0000${minute}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { queue, minute, counts: emptyCounts() };
      this.pending.set(key, entry);
      this.timer ??= setInterval(() => void this.flush(), this.flushEveryMs).unref();
    }
    return entry.counts;
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    if (batch.size === 0) return;
    this.pending = new Map();
    try {
      // Counters: a crash may lose the last seconds of them, never anything else.
      await this.o.database.write((db) => addToHistory(db, rowsOf([...batch.values()])), { durable: false });
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.o.logger.warn({ err: error }, 'queue history not written; the counts are kept for the next flush');
      this.failing = true;
      for (const [key, entry] of batch) {
        const current = this.pending.get(key);
        if (current) addCounts(current.counts, entry.counts);
        else this.pending.set(key, entry);
      }
    }
  }
}

/** The rows of every resolution for the minutes counted: a five-minute row sums its minutes. */
function rowsOf(minutes: ReadonlyArray<{ queue: string; minute: number; counts: HistoryCounts }>): QueueHistoryTable[] {
  const rows = new Map<string, QueueHistoryTable>();
  for (const { queue, minute, counts } of minutes) {
    for (const { bucketMs } of HISTORY_RESOLUTIONS) {
      const start = startOf(minute, bucketMs);
      const key = `${queue}\u0000${bucketMs}\u0000${start}`;
      const row = rows.get(key);
      if (row) addCounts(row, counts);
      else rows.set(key, { queue, bucket_ms: bucketMs, bucket_start: start, ...counts });
    }
  }
  return [...rows.values()];
}

function addCounts(into: HistoryCounts, more: HistoryCounts): void {
  for (const column of SUMMED_HISTORY_COLUMNS) into[column] += more[column];
  into.wait_max_ms = Math.max(into.wait_max_ms, more.wait_max_ms);
}

function bucketOf(start: number, row: QueueHistoryTable | undefined): HistoryBucket {
  if (!row) return { start, completed: 0, retried: 0, failed: 0, parked: 0, started: 0, waitAvgMs: null, waitMaxMs: null };
  const started = Number(row.started);
  return {
    start,
    completed: Number(row.completed),
    retried: Number(row.retried),
    failed: Number(row.failed),
    parked: Number(row.parked),
    started,
    waitAvgMs: started === 0 ? null : Math.round(Number(row.wait_total_ms) / started),
    waitMaxMs: started === 0 ? null : Number(row.wait_max_ms),
  };
}

function startOf(at: number, bucketMs: number): number {
  return at - (at % bucketMs);
}
