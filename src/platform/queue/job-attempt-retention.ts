import type { Database } from '../db/database.js';
import { deleteJobAttempts, jobAttemptIdsStartedBefore } from './job-attempts.repository.js';

const HOUR_MS = 3_600_000;

export interface JobAttemptRetentionOptions {
  /** Rows deleted per statement. */
  batch?: number;
  /** Statements per sweep; what is left waits for the next sweep. */
  maxBatches?: number;
}

/**
 * Deletes the attempt log's rows older than `retentionHours`, `batch` rows per statement and at most
 * `maxBatches` statements, so that no write holds the table for long and one sweep ends in bounded
 * time. Returns how many rows went, and whether older ones are left for the next sweep.
 */
export async function sweepJobAttempts(database: Database, now: number, retentionHours: number, options: JobAttemptRetentionOptions = {}): Promise<{ deleted: number; more: boolean }> {
  const batch = options.batch ?? 5_000;
  const maxBatches = options.maxBatches ?? 40;
  const before = now - retentionHours * HOUR_MS;
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const count = await database.write(async (db) => deleteJobAttempts(db, await jobAttemptIdsStartedBefore(db, before, batch)));
    deleted += count;
    if (count < batch) return { deleted, more: false };
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { deleted, more: true };
}
