import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepJobAttempts } from '../../../src/platform/queue/job-attempt-retention.js';
import { countLatestAttempts, insertJobAttempts, listAttemptsOfJob, listLatestAttempts, type JobAttemptInsert } from '../../../src/platform/queue/job-attempts.repository.js';
import type { AttemptOutcome } from '../../../src/platform/queue/job-attempts.table.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';

const Q = 'orders.integration';
const T0 = 1_700_000_000_000;

function row(jobId: string, attempt: number, outcome: AttemptOutcome, startedAt: number, fields: Partial<JobAttemptInsert> = {}): JobAttemptInsert {
  return {
    queue: Q,
    job_id: jobId,
    attempt,
    priority: 2,
    outcome,
    started_at: startedAt,
    duration_ms: 12,
    error: outcome === 'completed' ? null : `attempt ${attempt} of ${jobId} failed`,
    process: 'host:1',
    payload: JSON.stringify({ jobId }),
    headers: '{}',
    enqueued_at: T0,
    ...fields,
  };
}

describe(`the job attempt log's queries (${testDialect()})`, () => {
  let temp: TempDatabase;
  const jobIds = (rows: Array<{ job_id: string }>) => rows.map((r) => r.job_id);

  beforeAll(async () => {
    temp = await createTempDatabase('intake-job-attempts');
    await insertJobAttempts(temp.database.db, [
      // a: retried twice, then completed.
      row('a', 1, 'retried', T0 + 100),
      row('a', 2, 'retried', T0 + 200),
      row('a', 3, 'completed', T0 + 300),
      // b: failed for good, then parked at the same millisecond: the row written last is its latest.
      row('b', 1, 'failed', T0 + 400),
      row('b', 1, 'parked', T0 + 400, { duration_ms: null, priority: null, headers: null }),
      // c: a retry is due.
      row('c', 1, 'retried', T0 + 500),
      // d: parked, then re-driven by an operator and completed (its rows arrive out of order: another worker flushed first).
      row('d', 1, 'completed', T0 + 900),
      row('d', 1, 'parked', T0 + 600, { duration_ms: null }),
      // e: held by a circuit: its latest row is a deferral, in no list.
      row('e', 1, 'deferred', T0 + 700),
      // Another queue's job with the same id.
      row('a', 1, 'parked', T0 + 800, { queue: 'images.download' }),
    ]);
  });
  afterAll(() => temp.cleanup());

  it("lists one job's attempts oldest first, and not another queue's job of the same id", async () => {
    const attempts = await listAttemptsOfJob(temp.database.db, Q, 'a');
    expect(attempts.map((a) => [a.attempt, a.outcome, a.started_at])).toEqual([
      [1, 'retried', T0 + 100],
      [2, 'retried', T0 + 200],
      [3, 'completed', T0 + 300],
    ]);
    expect(attempts[0]).toMatchObject({ queue: Q, job_id: 'a', priority: 2, duration_ms: 12, error: 'attempt 1 of a failed', process: 'host:1', payload: '{"jobId":"a"}', headers: '{}', enqueued_at: T0 });
    expect((await listAttemptsOfJob(temp.database.db, Q, 'd')).map((a) => a.outcome)).toEqual(['parked', 'completed']);
    expect(await listAttemptsOfJob(temp.database.db, Q, 'nope')).toEqual([]);
  });

  it('lists the jobs whose latest row has an outcome, newest first, with that row', async () => {
    const page = { limit: 10, offset: 0 };
    const completed = await listLatestAttempts(temp.database.db, Q, ['completed'], page);
    expect(jobIds(completed)).toEqual(['d', 'a']);
    expect(completed[1]).toMatchObject({ attempt: 3, started_at: T0 + 300 });
    const failed = await listLatestAttempts(temp.database.db, Q, ['failed', 'parked'], page);
    expect(failed.map((r) => [r.job_id, r.outcome])).toEqual([['b', 'parked']]);
    expect(jobIds(await listLatestAttempts(temp.database.db, Q, ['retried'], page))).toEqual(['c']);
    expect(jobIds(await listLatestAttempts(temp.database.db, 'images.download', ['failed', 'parked'], page))).toEqual(['a']);
  });

  it('pages through them, and counts them up to a bound', async () => {
    expect(jobIds(await listLatestAttempts(temp.database.db, Q, ['completed'], { limit: 1, offset: 1 }))).toEqual(['a']);
    expect(await countLatestAttempts(temp.database.db, Q, ['completed'], 100)).toBe(2);
    expect(await countLatestAttempts(temp.database.db, Q, ['completed', 'retried', 'parked'], 100)).toBe(4);
    // Past the bound, one more than it: "more than upTo".
    expect(await countLatestAttempts(temp.database.db, Q, ['completed', 'retried', 'parked'], 2)).toBe(3);
  });

  it('sweeps the rows older than the retention in bounded batches, and says when some are left', async () => {
    const other = await createTempDatabase('intake-job-attempts-sweep');
    try {
      const hour = 3_600_000;
      await insertJobAttempts(other.database.db, [
        ...Array.from({ length: 7 }, (_, i) => row(`old-${i}`, 1, 'completed', T0 + i)),
        row('old-parked', 2, 'parked', T0),
        row('old-image', 1, 'retried', T0, { queue: 'images.download' }),
        row('new', 1, 'completed', T0 + 2 * hour),
        row('unswept-queue', 1, 'completed', T0, { queue: 'elsewhere' }),
      ]);
      const now = T0 + 3 * hour;
      const queues = [Q, 'images.download'];
      expect(await sweepJobAttempts(other.database, now, 2, { queues, batch: 3, maxBatches: 2 })).toEqual({ deleted: 6, more: true });
      expect(await sweepJobAttempts(other.database, now, 2, { queues, batch: 3, maxBatches: 2 })).toEqual({ deleted: 3, more: false });
      const left = await other.database.db.selectFrom('job_attempts').select('job_id').orderBy('job_id').execute();
      expect(left.map((r) => r.job_id)).toEqual(['new', 'unswept-queue']);
    } finally {
      await other.cleanup();
    }
  });
});
