import type { Executor } from '../db/database.js';
import { deleteCompletedJobs } from './database-queue.sql.js';

/**
 * A claimed job of the database queue that its handler may complete in a transaction of its own:
 * the job's row is deleted with the handler's last writes, so that they commit together and the
 * worker has no completion of its own to write. Other drivers give handlers none.
 */
export class JobCompletion {
  private committed = false;

  constructor(
    readonly jobId: number,
    readonly lockedBy: string,
  ) {}

  /** True once a transaction that completed the job has committed: the job is gone, whatever the handler does next. */
  get isCommitted(): boolean {
    return this.committed;
  }

  /** Call after the commit of the transaction in which `completeJobsWithin` ran. */
  markCommitted(): void {
    this.committed = true;
  }
}

/**
 * Deletes the jobs in the caller's transaction, each only while its worker still holds it (a job
 * whose lease expired and went to another worker stays). After the commit, call `markCommitted`.
 */
export async function completeJobsWithin(db: Executor, completions: readonly JobCompletion[]): Promise<void> {
  const idsByWorker = new Map<string, number[]>();
  for (const { jobId, lockedBy } of completions) {
    const ids = idsByWorker.get(lockedBy);
    if (ids) ids.push(jobId);
    else idsByWorker.set(lockedBy, [jobId]);
  }
  for (const [lockedBy, ids] of idsByWorker) await deleteCompletedJobs(db, ids, lockedBy);
}
