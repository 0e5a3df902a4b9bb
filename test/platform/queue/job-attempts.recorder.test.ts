import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import { ERROR_CHARS, JobAttemptRecorder, type JobAttempt, type JobAttemptRecorderOptions } from '../../../src/platform/queue/job-attempts.recorder.js';
import { Metrics } from '../../../src/platform/telemetry/metrics.js';
import { createTempSqlite, type TempSqlite } from '../../support/driver-sqlite.js';
import { waitFor } from '../../support/driver-wait.js';
import { parsePrometheus } from '../../support/prometheus.js';

function attempt(n: number): JobAttempt {
  return { queue: 'q', jobId: String(n), attempt: 1, priority: 2, outcome: 'completed', startedAt: 1_000 + n, durationMs: 3, error: null, payload: { n }, headers: {}, enqueuedAt: 1_000 };
}

describe('the job attempt recorder', () => {
  let sqlite: TempSqlite | undefined;
  afterEach(async () => {
    await sqlite?.cleanup();
    sqlite = undefined;
  });

  /** A recorder over a fresh SQLite file whose writes are counted, and can be made to fail. */
  async function setup(options: Partial<JobAttemptRecorderOptions> = {}) {
    sqlite = await createTempSqlite('intake-attempt-recorder');
    const real = sqlite.database;
    const io = { writes: 0, failing: false };
    const database: Database = {
      ...real,
      write: (work, writeOptions) => {
        io.writes += 1;
        return io.failing ? Promise.reject(new Error('database unavailable')) : real.write(work, writeOptions);
      },
    };
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
    const metrics = new Metrics();
    const recorder = new JobAttemptRecorder({ database, logger, metrics, processName: 'test-host:42', ...options });
    const rows = () => real.db.selectFrom('job_attempts').selectAll().orderBy('id').execute();
    const dropped = async (reason: string) => parsePrometheus(await metrics.text()).get(`job_attempts_dropped_total{reason=${reason}}`) ?? 0;
    return { recorder, io, warnings, rows, dropped };
  }

  it('writes a burst of attempts in a few multi-row inserts, not one per attempt', async () => {
    const { recorder, io, rows } = await setup({ flushEveryMs: 50, flushAtRows: 500 });
    for (let n = 0; n < 1_200; n++) recorder.record(attempt(n));
    await waitFor(async () => (await rows()).length === 1_200, 5_000, 'every attempt written');
    expect(io.writes).toBeLessThanOrEqual(3);
    const written = await rows();
    expect(written[0]).toMatchObject({ queue: 'q', job_id: '0', attempt: 1, priority: 2, outcome: 'completed', started_at: 1_000, duration_ms: 3, process: 'test-host:42', payload: '{"n":0}', headers: '{}', enqueued_at: 1_000 });
    expect(written.at(-1)).toMatchObject({ job_id: '1199' });
  });

  it('writes a few attempts after flushEveryMs, and cuts long errors', async () => {
    const { recorder, io, rows } = await setup({ flushEveryMs: 30 });
    recorder.record({ ...attempt(1), outcome: 'retried', error: 'x'.repeat(ERROR_CHARS + 500) });
    recorder.record(attempt(2));
    expect(recorder.pendingCount).toBe(2);
    await waitFor(async () => (await rows()).length === 2, 2_000, 'the attempts written by the timer');
    expect(io.writes).toBe(1);
    expect((await rows())[0]!.error).toHaveLength(ERROR_CHARS);
  });

  it('drops the oldest attempts beyond its cap, and counts them', async () => {
    const { recorder, rows, dropped } = await setup({ flushEveryMs: 60_000, flushAtRows: 1_000, maxBuffered: 5 });
    for (let n = 0; n < 8; n++) recorder.record(attempt(n));
    expect(recorder.pendingCount).toBe(5);
    expect(await dropped('buffer_full')).toBe(3);
    await recorder.flush();
    expect((await rows()).map((r) => r.job_id)).toEqual(['3', '4', '5', '6', '7']);
  });

  it('writes what it holds on close, and records nothing after', async () => {
    const { recorder, rows } = await setup({ flushEveryMs: 60_000 });
    recorder.record(attempt(1));
    recorder.record(attempt(2));
    expect(await rows()).toEqual([]);
    await recorder.close();
    expect((await rows()).map((r) => r.job_id)).toEqual(['1', '2']);
    recorder.record(attempt(3));
    expect(recorder.pendingCount).toBe(0);
  });

  it('drops the attempts of a failed write, logs the failure once, and writes again once the database is back', async () => {
    const { recorder, io, warnings, rows, dropped } = await setup({ flushEveryMs: 60_000 });
    io.failing = true;
    recorder.record(attempt(1));
    await recorder.flush();
    recorder.record(attempt(2));
    recorder.record(attempt(3));
    await recorder.flush();
    expect(io.writes).toBe(2);
    expect(await dropped('write_failed')).toBe(3);
    expect(warnings.filter((w) => w.startsWith('could not record job attempts'))).toHaveLength(1);
    // Nothing is tried again: the failed attempts are gone.
    await recorder.flush();
    expect(io.writes).toBe(2);
    io.failing = false;
    recorder.record(attempt(4));
    await recorder.flush();
    expect((await rows()).map((r) => r.job_id)).toEqual(['4']);
    io.failing = true;
    recorder.record(attempt(5));
    await recorder.flush();
    expect(warnings.filter((w) => w.startsWith('could not record job attempts'))).toHaveLength(2);
  });
});
