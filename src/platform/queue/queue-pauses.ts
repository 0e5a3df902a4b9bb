import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { QueuePauseRow } from './queue-controls.table.js';
import { deleteQueuePause, findQueuePause, insertQueuePause, listQueuePauses } from './queue-pauses.repository.js';

/** Who paused a queue, when, and why. */
export interface QueuePause {
  queue: string;
  at: number;
  by: string;
  reason: string | null;
}

export function pauseOf(row: QueuePauseRow): QueuePause {
  return { queue: row.queue, at: Number(row.paused_at), by: row.paused_by, reason: row.reason };
}

/** A queue's pause as the operator API and the CLI show it; null while the queue runs. */
export function pauseView(pause: QueuePause | null | undefined): { at: number; by: string; reason: string | null } | null {
  return pause ? { at: pause.at, by: pause.by, reason: pause.reason } : null;
}

/**
 * Pauses and resumes queues for operators (admin API, CLI, dashboard). The state is a row per
 * paused queue, which every worker process polls (PausedQueues): a pause holds in every process
 * and survives restarts.
 */
export class QueuePauses {
  constructor(private readonly deps: { database: Database; clock: Clock }) {}

  /** Pauses `queue`; a queue already paused keeps its pause (`changed` false), which is returned. */
  async pause(queue: string, by: string, reason: string | null = null): Promise<{ pause: QueuePause; changed: boolean }> {
    const row = { queue, paused_at: this.deps.clock.now(), paused_by: by, reason };
    const changed = await this.deps.database.write((db) => insertQueuePause(db, row));
    // A resume may come between the two statements: the pause this call asked for is still the answer.
    return { pause: (await this.get(queue)) ?? pauseOf(row), changed };
  }

  /** Resumes `queue`; false when it was not paused. */
  resume(queue: string): Promise<boolean> {
    return this.deps.database.write((db) => deleteQueuePause(db, queue));
  }

  async get(queue: string): Promise<QueuePause | null> {
    const row = await findQueuePause(this.deps.database.db, queue);
    return row ? pauseOf(row) : null;
  }

  /** Every paused queue, by name. */
  async all(): Promise<Map<string, QueuePause>> {
    const rows = await listQueuePauses(this.deps.database.db);
    return new Map(rows.map((row) => [row.queue, pauseOf(row)]));
  }
}

/** queue_paused{queue}: 1 while the queue is paused, read from the database when scraped, so that every process reports it. */
export function queuePausedMetric(metrics: Metrics, database: Database, queueNames: readonly string[]): void {
  metrics.gauge('queue_paused', 'Whether an operator has paused the queue (1): no worker claims its jobs until it is resumed', ['queue'], async (gauge) => {
    const paused = new Set((await listQueuePauses(database.db)).map((row) => row.queue));
    gauge.reset();
    for (const queue of queueNames) gauge.set({ queue }, paused.has(queue) ? 1 : 0);
  });
}
