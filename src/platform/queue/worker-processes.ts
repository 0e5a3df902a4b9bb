import type { Clock } from '../clock.js';
import type { Database } from '../db/database.js';
import { offsetOf, type PageRequest } from '../http/pagination.js';
import type { WorkerProcessRow } from './queue-controls.table.js';
import type { RunningJob } from './running-jobs.js';
import { countWorkerProcesses, HEARTBEATS_ALIVE, listWorkerProcessesPage } from './worker-processes.repository.js';

/** A process that runs workers, as operators see it. */
export interface WorkerProcessView {
  id: string;
  role: string;
  hostname: string;
  pid: number;
  version: string;
  startedAt: number;
  lastSeenAt: number;
  heartbeatMs: number;
  /** Seen within its last three heartbeats. */
  alive: boolean;
  queues: Array<{ queue: string; concurrency: number }>;
  /** The jobs it ran at its last heartbeat, the oldest first (at most 200 listed). */
  running: RunningJob[];
  runningCount: number;
}

function viewOf(row: WorkerProcessRow, now: number): WorkerProcessView {
  const lastSeenAt = Number(row.last_seen_at);
  return {
    id: row.id,
    role: row.role,
    hostname: row.hostname,
    pid: row.pid,
    version: row.version,
    startedAt: Number(row.started_at),
    lastSeenAt,
    heartbeatMs: row.heartbeat_ms,
    alive: lastSeenAt + HEARTBEATS_ALIVE * row.heartbeat_ms >= now,
    queues: JSON.parse(row.queues) as WorkerProcessView['queues'],
    running: JSON.parse(row.running) as RunningJob[],
    runningCount: row.running_count,
  };
}

/** The worker processes and what each runs now, for operators (admin API, CLI, dashboard). */
export class WorkerProcesses {
  constructor(private readonly deps: { database: Database; clock: Clock }) {}

  /** A page of the processes that have beaten within the last hour: the alive ones first. */
  async list(page: PageRequest): Promise<{ processes: WorkerProcessView[]; total: number }> {
    const now = this.deps.clock.now();
    const { db } = this.deps.database;
    const [rows, total] = await Promise.all([listWorkerProcessesPage(db, now, { limit: page.perPage, offset: offsetOf(page) }), countWorkerProcesses(db)]);
    return { processes: rows.map((row) => viewOf(row, now)), total };
  }
}
