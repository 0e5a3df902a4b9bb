import type { Insertable, Selectable } from 'kysely';

/** A paused queue: no worker process claims its jobs until the row is deleted. */
export interface QueuePausesTable {
  queue: string;
  paused_at: number;
  /** The operator: the email of the token's user, or `cli`. */
  paused_by: string;
  reason: string | null;
}

/** A process that runs workers, as its last heartbeat described it. */
export interface WorkerProcessesTable {
  /** hostname:pid:random, unique per process start. */
  id: string;
  role: string;
  hostname: string;
  pid: number;
  version: string;
  started_at: number;
  last_seen_at: number;
  /** The process's heartbeat interval: it counts as alive for three of them after its last beat. */
  heartbeat_ms: number;
  /** JSON: `[{queue, concurrency}]`, the queues it works. */
  queues: string;
  /** JSON: `[{queue, id, attempt, startedAt}]`, the jobs it ran at its last beat (the oldest, when there are many). */
  running: string;
  running_count: number;
}

export type QueuePauseRow = Selectable<QueuePausesTable>;
export type WorkerProcessRow = Selectable<WorkerProcessesTable>;
export type NewWorkerProcessRow = Insertable<WorkerProcessesTable>;

export interface QueueControlTables {
  queue_pauses: QueuePausesTable;
  worker_processes: WorkerProcessesTable;
}
