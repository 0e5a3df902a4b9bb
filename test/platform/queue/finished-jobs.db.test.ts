import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import { defineJob, enqueueJob, JobRegistry, type JobRunner } from '../../../src/platform/queue/jobs.js';
import { PermanentError, RetryableError, type Worker } from '../../../src/platform/queue/queue.js';
import { LogSampler } from '../../../src/platform/telemetry/log-sampler.js';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';
import { waitFor } from '../../support/driver-wait.js';
import { captureLogs } from '../../support/log-capture.js';

interface Payload {
  kind: 'ok' | 'flaky' | 'broken' | 'hangs';
}

const testJob = defineJob<Payload>('test.finished', { maxAttempts: 3 });

/** ok completes, flaky fails its first attempt, broken fails for good, hangs waits until its worker gives it back. */
function runner(finishedLog?: 'info' | 'debug'): JobRunner<Payload> {
  return {
    definition: testJob,
    workOptions: {},
    ...(finishedLog && { finishedLog }),
    handler: async ({ kind }, job) => {
      if (kind === 'flaky' && job.attempt === 1) throw new RetryableError('third party answered 503');
      if (kind === 'broken') throw new PermanentError('third party answered 422');
      if (kind === 'hangs') {
        await new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason as Error)));
      }
    },
  };
}

describe(`finished-job lines and a forced stop on the database queue (${testDialect()})`, () => {
  let temp: TempDatabase | undefined;
  let queue: DatabaseQueue | undefined;
  let workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop(0)));
    workers = [];
    await queue?.close();
    await temp?.cleanup();
    queue = undefined;
    temp = undefined;
  });

  async function start(options: { sample?: number; finishedLog?: 'info' | 'debug' } = {}) {
    temp = await createTempDatabase('intake-finished-jobs');
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', role: 'worker', destination: logs.destination });
    queue = new DatabaseQueue({ database: temp.database, logger, defaultMaxAttempts: 3, defaultBackoff: { baseMs: 10, maxMs: 20 }, leaseMs: 30_000, maxIdleMs: 20, random: () => 0.5 });
    const registry = new JobRegistry([testJob]).handle(runner(options.finishedLog));
    workers = registry.start(queue, { concurrency: 4 }, { logger, sampler: new LogSampler(options.sample ?? 1) });
    const enqueue = async (kind: Payload['kind'], times = 1) => {
      for (let i = 0; i < times; i++) await enqueueJob(queue!, testJob, { kind });
    };
    const jobRow = async () => temp!.database.db.selectFrom('jobs').select(['state', 'attempts', 'locked_by', 'lease_until']).executeTakeFirstOrThrow();
    return { logs, registry, enqueue, jobRow };
  }

  it('writes one line per finished attempt: completed, retry scheduled or parked, with queue, id, attempt and duration', async () => {
    const { logs, enqueue } = await start();
    await enqueue('ok', 5);
    await enqueue('flaky', 2);
    await enqueue('broken');
    await waitFor(() => logs.lines.length >= 10, 10_000, 'ten finished-job lines');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const records = logs.records();
    expect(records).toHaveLength(10);
    const byOutcome = (outcome: string) => records.filter((r) => r.outcome === outcome);
    expect(byOutcome('completed')).toHaveLength(7);
    expect(byOutcome('retry scheduled')).toHaveLength(2);
    expect(byOutcome('parked')).toHaveLength(1);
    for (const line of records) {
      expect(line).toMatchObject({ queue: 'test.finished', jobId: expect.stringMatching(/^\d+$/), maxAttempts: 3 });
      expect(line.msg).toMatch(/^job test\.finished #\d+ (completed|retry scheduled|parked) \(attempt \d of 3, \d+ ms\)/);
      expect(typeof line.durationMs).toBe('number');
    }
    expect(byOutcome('completed').every((r) => r.level === 30)).toBe(true);
    expect(byOutcome('retry scheduled')[0]).toMatchObject({ level: 30, attempt: 1, error: 'third party answered 503' });
    expect(byOutcome('parked')[0]).toMatchObject({ level: 40, attempt: 1, error: 'third party answered 422' });
    // The flaky jobs completed on their second attempt.
    expect(byOutcome('completed').filter((r) => r.attempt === 2)).toHaveLength(2);
  });

  it('LOG_JOB_SAMPLE=0 leaves out the completed lines, never a retry or a parked job', async () => {
    const { logs, enqueue } = await start({ sample: 0 });
    await enqueue('ok', 5);
    await enqueue('flaky');
    await enqueue('broken');
    await waitFor(() => logs.lines.length >= 2, 10_000, 'the retry and parked lines');
    await waitFor(async () => (await temp!.database.db.selectFrom('jobs').select('id').where('state', '!=', 'parked').execute()).length === 0, 10_000, 'every job to finish');
    expect(logs.records().map((r) => r.outcome).sort()).toEqual(['parked', 'retry scheduled']);
  });

  it('writes a bulk job type’s lines at debug', async () => {
    const { logs, enqueue } = await start({ finishedLog: 'debug' });
    await enqueue('ok', 3);
    await enqueue('broken');
    await waitFor(async () => (await temp!.database.db.selectFrom('jobs').select('id').where('state', '!=', 'parked').execute()).length === 0, 10_000, 'every job to finish');
    expect(logs.lines).toEqual([]);
  });

  it('a second stop gives the running job back at once: ready again, its attempt not counted', async () => {
    const { logs, registry, enqueue, jobRow } = await start();
    await enqueue('hangs');
    await waitFor(() => registry.inFlight() === 1, 5_000, 'the job to start');
    expect(await jobRow()).toMatchObject({ state: 'active', attempts: 1 });

    // The first Ctrl-C: the drain would wait 30 s for the job.
    const draining = Promise.all(workers.map((w) => w.stop(30_000)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await jobRow()).state).toBe('active');

    // The second: given back now, not when the 30 s lease runs out.
    const forcedAt = Date.now();
    await Promise.all(workers.map((w) => w.stop(0)));
    await draining;
    expect(Date.now() - forcedAt).toBeLessThan(2_000);
    expect(await jobRow()).toMatchObject({ state: 'ready', attempts: 0, locked_by: null, lease_until: null });
    await waitFor(() => registry.inFlight() === 0, 2_000, 'the handler to end');
    expect(logs.records().filter((r) => r.outcome !== undefined)).toEqual([expect.objectContaining({ outcome: 'given back', level: 30, attempt: 1 })]);
  });

  it('gives the running job back when the drain deadline runs out', async () => {
    const { enqueue, jobRow, registry } = await start();
    await enqueue('hangs');
    await waitFor(() => registry.inFlight() === 1, 5_000, 'the job to start');
    await Promise.all(workers.map((w) => w.stop(50)));
    expect(await jobRow()).toMatchObject({ state: 'ready', attempts: 0, locked_by: null });
  });

  it('keeps the plain handler when started without a log', async () => {
    temp = await createTempDatabase('intake-finished-jobs');
    queue = new DatabaseQueue({ database: temp.database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 3, defaultBackoff: { baseMs: 10, maxMs: 20 }, leaseMs: 30_000, maxIdleMs: 20 });
    const registry = new JobRegistry([testJob]).handle(runner());
    workers = registry.start(queue, { concurrency: 1 });
    await enqueueJob(queue, testJob, { kind: 'ok' });
    await waitFor(async () => (await temp!.database.db.selectFrom('jobs').select('id').execute()).length === 0, 5_000, 'the job to complete');
    expect(registry.inFlight()).toBe(0);
  });
});
