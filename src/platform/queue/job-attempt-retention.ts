import type { Database } from '../db/database.js';
import { deleteJobAttempts, jobAttemptIdsStartedBefore } from './job-attempts.repository.js';
import { ATTEMPT_OUTCOMES } from './job-attempts.table.js';

const HOUR_MS = 3_600_000;

export interface JobAttemptRetentionOptions {
  /** The queues whose rows are swept (the log has no index on the time alone: it is swept queue by queue, outcome by outcome). */
  queues: readonly string[];
  /** Rows deleted per statement. */
  batch?: number;
  /** Full batches per sweep; what is left waits for the next sweep. */
  maxBatches?: number;
}

/**
 * Deletes the attempt log's rows older than `retentionHours`, `batch` rows per statement and at most
 * `maxBatches` statements, so that no write holds the table for long and one sweep ends in bounded
 * time. Returns how many rows went, and whether older ones are left for the next sweep.
 */
export async function sweepJobAttempts(database: Database, now: number, retentionHours: number, options: JobAttemptRetentionOptions): Promise<{ deleted: number; more: boolean }> {
  const batch = options.batch ?? 5_000;
  let budget = options.maxBatches ?? 40;
  const before = now - retentionHours * HOUR_MS;
  let deleted = 0;
  for (const queue of options.queues) {
    for (const outcome of ATTEMPT_OUTCOMES) {
      for (;;) {
        const count = await database.write(async (db) => deleteJobAttempts(db, await jobAttemptIdsStartedBefore(db, { queue, outcome }, before, batch)));
        deleted += count;
        if (count < batch) break;
        // Only full batches spend the budget: a sweep runs one statement per queue and outcome, plus at most `maxBatches`.
        budget -= 1;
        if (budget === 0) return { deleted, more: true };
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
  return { deleted, more: false };
}
