import os from 'node:os';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { Counter, Metrics } from '../telemetry/metrics.js';
import { insertJobAttempts, type JobAttemptInsert } from './job-attempts.repository.js';
import type { AttemptOutcome } from './job-attempts.table.js';

/** What a worker knows of one attempt; made into a row (JSON, a cut error) only when it is written. */
export interface JobAttempt {
  queue: string;
  jobId: string;
  attempt: number;
  priority: number | null;
  outcome: AttemptOutcome;
  startedAt: number;
  durationMs: number | null;
  error: string | null;
  payload: unknown;
  headers: Record<string, string> | null;
  enqueuedAt: number | null;
}

/** The longest error kept. */
export const ERROR_CHARS = 2_000;
/** Rows per database write; BulkInsert sends them in statements of at most 256 rows. */
const ROWS_PER_WRITE = 1_024;

export interface JobAttemptRecorderOptions {
  database: Database;
  logger: Logger;
  metrics: Metrics;
  /** How long an attempt waits to be written with the ones after it. Default 250 ms. */
  flushEveryMs?: number;
  /** This many waiting are written at once, without waiting out `flushEveryMs`. Default 500. */
  flushAtRows?: number;
  /** The most attempts held while the writes fall behind; beyond, the oldest are dropped (and counted). Default 20,000. */
  maxBuffered?: number;
  /** Who ran the attempts (the `process` column). Default `host:pid`. */
  processName?: string;
}

/**
 * Writes job attempts off the workers' path: `record` only appends to a buffer, and the buffer is
 * written with multi-row inserts every `flushEveryMs`, or at once when `flushAtRows` wait. One
 * write runs at a time. A write that fails drops its rows (counted in
 * `job_attempts_dropped_total`) and is logged once, until a write succeeds again: the log is
 * history, and a database that cannot take it must not also fill the memory.
 */
export class JobAttemptRecorder {
  private buffer: JobAttempt[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private closed = false;
  private readonly dropped: Counter<'reason'>;
  private readonly flushEveryMs: number;
  private readonly flushAtRows: number;
  private readonly maxBuffered: number;
  private readonly processName: string;

  constructor(private readonly o: JobAttemptRecorderOptions) {
    this.flushEveryMs = o.flushEveryMs ?? 250;
    this.flushAtRows = o.flushAtRows ?? 500;
    this.maxBuffered = o.maxBuffered ?? 20_000;
    this.processName = o.processName ?? `${os.hostname()}:${process.pid}`;
    this.dropped = o.metrics.counter('job_attempts_dropped_total', 'Job attempts not recorded in the attempt log: buffer_full (writes fell behind), write_failed', ['reason']);
  }

  /** Attempts waiting to be written. */
  get pendingCount(): number {
    return this.buffer.length;
  }

  record(attempt: JobAttempt): void {
    if (this.closed) return;
    if (this.buffer.length >= this.maxBuffered) {
      this.buffer.shift();
      this.dropped.inc({ reason: 'buffer_full' });
    }
    this.buffer.push(attempt);
    if (this.buffer.length >= this.flushAtRows) {
      // A flush under way starts the next itself.
      if (!this.flushing) void this.flush();
    } else {
      this.scheduleFlush();
    }
  }

  /** Writes what is buffered; never rejects. Flushes run one after another. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writeBuffered());
    this.flushing = run;
    void run.then(() => {
      if (this.flushing !== run) return;
      this.flushing = undefined;
      if (this.closed) return;
      if (this.buffer.length >= this.flushAtRows) void this.flush();
      else if (this.buffer.length > 0) this.scheduleFlush();
    });
    return run;
  }

  /** Writes what is buffered, and what arrives meanwhile (handlers given back as their workers stop); later attempts are not recorded. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.flush();
    clearTimeout(this.timer);
    // What a failed write left behind has no later flush to wait for.
    if (this.buffer.length > 0) this.dropped.inc({ reason: 'write_failed' }, this.buffer.splice(0).length);
  }

  private scheduleFlush(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.flushEveryMs).unref();
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, ROWS_PER_WRITE);
      try {
        // Lost in a crash, the last attempts are missing from a history: no commit waits for the disk.
        await this.o.database.write((db) => insertJobAttempts(db, batch.map((attempt) => this.rowOf(attempt))), { durable: false });
        this.failing = false;
      } catch (error) {
        this.dropped.inc({ reason: 'write_failed' }, batch.length);
        if (!this.failing) this.o.logger.warn({ err: error, attempts: batch.length }, 'could not record job attempts; dropped them (further failures are not logged until a write succeeds)');
        this.failing = true;
        return;
      }
    }
  }

  private rowOf(attempt: JobAttempt): JobAttemptInsert {
    return {
      queue: attempt.queue,
      job_id: attempt.jobId,
      attempt: attempt.attempt,
      priority: attempt.priority,
      outcome: attempt.outcome,
      started_at: attempt.startedAt,
      duration_ms: attempt.durationMs,
      error: attempt.error === null ? null : attempt.error.slice(0, ERROR_CHARS),
      process: this.processName,
      payload: attempt.payload === undefined ? null : JSON.stringify(attempt.payload),
      headers: attempt.headers === null ? null : JSON.stringify(attempt.headers),
      enqueued_at: attempt.enqueuedAt,
    };
  }
}
