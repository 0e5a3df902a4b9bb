import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { RunningJobs } from './running-jobs.js';
import { deleteWorkerProcess, upsertWorkerProcess } from './worker-processes.repository.js';

export interface WorkerHeartbeatOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** WORKER_HEARTBEAT_MS. */
  everyMs: number;
  role: string;
  version: string;
  /** The queues this process works, with each worker's concurrency. */
  queues: ReadonlyArray<{ queue: string; concurrency: number }>;
  running: RunningJobs;
}

/** Bound on the running jobs a beat lists (the oldest); the count is always exact. */
const RUNNING_LISTED = 200;

/**
 * Tells operators that this worker process is alive, and what it runs now: its row in
 * `worker_processes`, rewritten every `everyMs` and deleted on a clean stop. A process that
 * crashed stops beating; it shows as gone after three missed beats, and the maintenance sweep
 * deletes its row an hour later.
 */
export class WorkerHeartbeat {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;
  private failing = false;

  constructor(private readonly o: WorkerHeartbeatOptions) {
    this.startedAt = o.clock.now();
  }

  /** Beats now, then every `everyMs`; resolves after the first beat (whether it was written or not). */
  start(): Promise<void> {
    this.beating = this.beat();
    return this.beating;
  }

  /** Stops beating and deletes the row, once the beat in flight (which would write it again) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    await this.o.database.write((db) => deleteWorkerProcess(db, this.id)).catch((error: unknown) => {
      this.o.logger.warn({ err: error }, 'could not delete this worker process from worker_processes; it shows as gone after three missed heartbeats');
    });
  }

  private async beat(): Promise<void> {
    const { running } = this.o;
    const row = {
      id: this.id,
      role: this.o.role,
      hostname: os.hostname(),
      pid: process.pid,
      version: this.o.version,
      started_at: this.startedAt,
      last_seen_at: this.o.clock.now(),
      heartbeat_ms: this.o.everyMs,
      queues: JSON.stringify(this.o.queues),
      running: JSON.stringify(running.list(RUNNING_LISTED)),
      running_count: running.count,
    };
    try {
      await this.o.database.write((db) => upsertWorkerProcess(db, row), { durable: false });
      if (this.failing) this.o.logger.info('the worker heartbeat is written again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.o.logger.error({ err: error }, 'could not write the worker heartbeat; operators see this process as gone until it works again');
      this.failing = true;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat();
    }, this.o.everyMs);
    this.timer.unref();
  }
}
