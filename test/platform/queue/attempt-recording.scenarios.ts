import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/platform/clock.js';
import type { Database } from '../../../src/platform/db/database.js';
import { AttemptRecordingQueue } from '../../../src/platform/queue/attempt-recording-queue.js';
import { JobAttemptRecorder } from '../../../src/platform/queue/job-attempts.recorder.js';
import { listAttemptsOfJob } from '../../../src/platform/queue/job-attempts.repository.js';
import { JobAttemptsService } from '../../../src/platform/queue/job-attempts.service.js';
import { DeferredError, PermanentError, RetryableError, type JobContext, type TransactionalQueue, type WorkOptions, type Worker } from '../../../src/platform/queue/queue.js';
import { Metrics } from '../../../src/platform/telemetry/metrics.js';
import { deferred, sleep, waitFor } from '../../support/driver-wait.js';

export interface RecordedQueueFixture {
  /** The driver, as the app has it under its decorators: a queue that can join a transaction. */
  queue: TransactionalQueue;
  /** Where the attempt log is written. */
  database: Database;
  /** Makes `worker` vanish as a crashed process would. */
  crash(worker: Worker): void;
  cleanup(): Promise<void>;
}

export interface RecordedQueueHarness {
  /** A fresh, empty queue; a crashed worker's job is taken over after `leaseMs` where the driver has leases. */
  create(options: { leaseMs: number }): Promise<RecordedQueueFixture>;
}

const Q = 'attempts';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const HEADERS = { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`, 'x-tenant': 'acme' };

/** The attempt log over a driver: what each attempt of a job leaves behind, whatever ran it. */
export function attemptRecordingScenarios(name: string, harness: RecordedQueueHarness): void {
  describe(`job attempt log: ${name}`, () => {
    const open: Array<{ fixture: RecordedQueueFixture; queue: AttemptRecordingQueue }> = [];
    afterEach(async () => {
      for (const { fixture, queue } of open.splice(0)) {
        await queue.close();
        await fixture.cleanup();
      }
    });

    async function setup() {
      const fixture = await harness.create({ leaseMs: 300 });
      const recorder = new JobAttemptRecorder({ database: fixture.database, logger: pino({ level: 'silent' }), metrics: new Metrics(), flushEveryMs: 20 });
      const queue = new AttemptRecordingQueue(fixture.queue, recorder, systemClock);
      open.push({ fixture, queue });
      const workers: Worker[] = [];
      const work = (handler: (payload: { name: string }, job: JobContext) => Promise<void>, options: Partial<WorkOptions> = {}) => {
        const worker = queue.work(Q, (payload, job) => handler(payload as { name: string }, job), { concurrency: 2, backoff: { baseMs: 5, maxMs: 20 }, ...options });
        workers.push(worker);
        return worker;
      };
      const attempts = (id: string) => listAttemptsOfJob(fixture.database.db, Q, id);
      /** The rows of a job once `count` of them are written (they are written every 20 ms). */
      const attemptsOnce = async (id: () => string | undefined, count: number) => {
        await waitFor(async () => id() !== undefined && (await attempts(id()!)).length >= count, 10_000, `${count} recorded rows`);
        return attempts(id()!);
      };
      const jobs = new JobAttemptsService({ database: fixture.database, queue });
      return { fixture, queue, work, attempts, attemptsOnce, jobs };
    }

    it('records a job that failed twice, then completed: three attempts in order, with durations, errors, payload, headers and trace id', async () => {
      const { queue, work, attemptsOnce, jobs } = await setup();
      await queue.enqueue(Q, { name: 'flaky' }, { maxAttempts: 5, priority: 4, headers: HEADERS });
      let id: string | undefined;
      work(async (_payload, job) => {
        id = job.id;
        await sleep(5);
        if (job.attempt < 3) throw new RetryableError(`third party answered 503 (attempt ${job.attempt})`);
      });
      const rows = await attemptsOnce(() => id, 3);
      expect(rows.map((row) => [row.attempt, row.outcome, row.error])).toEqual([
        [1, 'retried', 'third party answered 503 (attempt 1)'],
        [2, 'retried', 'third party answered 503 (attempt 2)'],
        [3, 'completed', null],
      ]);
      for (const row of rows) {
        expect(row.duration_ms).toBeGreaterThanOrEqual(4);
        expect(row).toMatchObject({ queue: Q, job_id: id, priority: 4, payload: '{"name":"flaky"}', process: expect.stringMatching(/:\d+$/) });
        expect(JSON.parse(row.headers!)).toMatchObject(HEADERS);
      }
      expect(rows[1]!.started_at).toBeGreaterThanOrEqual(rows[0]!.started_at + rows[0]!.duration_ms!);

      const detail = await jobs.detail(Q, id!);
      expect(detail).toMatchObject({ id, queue: Q, state: null, payload: { name: 'flaky' }, traceId: TRACE_ID, priority: 4, attemptsMade: null });
      expect(detail.headers).toMatchObject(HEADERS);
      expect(detail.attempts.map((a) => a.outcome)).toEqual(['retried', 'retried', 'completed']);
      const recent = await jobs.recent(Q, 'completed', { page: 1, perPage: 10 });
      expect(recent).toMatchObject({ total: 1, totalCapped: false, jobs: [{ id, attempt: 3, outcome: 'completed', payloadSummary: '{"name":"flaky"}' }] });
    });

    it('records a job that ran out of attempts: retried, failed, then parked with its last error', async () => {
      const { queue, work, attemptsOnce, jobs } = await setup();
      await queue.enqueue(Q, { name: 'exhausted' }, { maxAttempts: 2, headers: HEADERS });
      let id: string | undefined;
      work(async (_payload, job) => {
        id = job.id;
        throw new RetryableError('still down');
      });
      const rows = await attemptsOnce(() => id, 3);
      expect(rows.map((row) => [row.attempt, row.outcome, row.error])).toEqual([
        [1, 'retried', 'still down'],
        [2, 'failed', 'still down'],
        [2, 'parked', 'still down'],
      ]);
      // The parking's row: no run of its own, and what the final failure knew of the job.
      expect(rows[2]).toMatchObject({ duration_ms: null, priority: 2, payload: '{"name":"exhausted"}' });
      expect(JSON.parse(rows[2]!.headers!)).toMatchObject(HEADERS);
      const detail = await jobs.detail(Q, id!);
      expect(detail).toMatchObject({ state: 'parked', attemptsMade: 2, maxAttempts: 2, lastError: 'still down', traceId: TRACE_ID });
      expect((await jobs.recent(Q, 'failed', { page: 1, perPage: 10 })).jobs).toMatchObject([{ id, outcome: 'parked', attempt: 2 }]);
    });

    it('records a PermanentError as failed, then parked, on the first attempt', async () => {
      const { queue, work, attemptsOnce } = await setup();
      await queue.enqueue(Q, { name: 'invalid' }, { maxAttempts: 5 });
      let id: string | undefined;
      work(async (_payload, job) => {
        id = job.id;
        throw new PermanentError('third party answered 422');
      });
      const rows = await attemptsOnce(() => id, 2);
      expect(rows.map((row) => [row.attempt, row.outcome, row.error])).toEqual([
        [1, 'failed', 'third party answered 422'],
        [1, 'parked', 'third party answered 422'],
      ]);
    });

    it('keeps one row for the deferrals of an attempt, however often it defers', async () => {
      const { queue, work, attemptsOnce, attempts } = await setup();
      await queue.enqueue(Q, { name: 'held' }, { maxAttempts: 1 });
      let id: string | undefined;
      let runs = 0;
      work(async (_payload, job) => {
        id = job.id;
        runs += 1;
        if (runs <= 5) throw new DeferredError(5, 'circuit open for third-party');
      });
      const rows = await attemptsOnce(() => id, 2);
      await waitFor(() => runs === 6, 5_000, 'the sixth run');
      await sleep(60);
      expect(runs).toBe(6);
      expect((await attempts(id!)).map((row) => [row.attempt, row.outcome, row.error])).toEqual([
        [1, 'deferred', 'circuit open for third-party'],
        [1, 'completed', null],
      ]);
      expect(rows[0]!.started_at).toBeLessThanOrEqual(rows[1]!.started_at);
    });

    it('records an attempt its stopping worker gave back, then the run that completed it', async () => {
      const { queue, work, attemptsOnce } = await setup();
      await queue.enqueue(Q, { name: 'slow' }, { maxAttempts: 1 });
      const claimed = deferred<string>();
      const worker = work(async (_payload, job) => {
        claimed.resolve(job.id);
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
        throw new RetryableError('aborted by shutdown');
      });
      const id = await claimed.promise;
      await worker.stop(50);
      work(async () => undefined);
      const rows = await attemptsOnce(() => id, 2);
      // Given back, the attempt is not counted: the run after it is attempt 1 again.
      expect(rows.map((row) => [row.attempt, row.outcome, row.error])).toEqual([
        [1, 'given back', 'aborted by shutdown'],
        [1, 'completed', null],
      ]);
    });

    it('records the parking of a job whose worker died during its last attempt, by the worker that parked it', async () => {
      const { queue, work, fixture, attemptsOnce } = await setup();
      await queue.enqueue(Q, { name: 'orphaned' }, { maxAttempts: 1, headers: HEADERS });
      const claimed = deferred<string>();
      const hang = deferred();
      const first = work(async (_payload, job) => {
        claimed.resolve(job.id);
        await hang.promise;
      });
      const id = await claimed.promise;
      fixture.crash(first);
      try {
        work(async () => Promise.reject(new Error('must not run again')));
        const rows = await attemptsOnce(() => id, 1);
        expect(rows).toHaveLength(1);
        // The parking worker never ran the job: what the attempt knew (priority, headers) is not known here.
        expect(rows[0]).toMatchObject({ attempt: 1, outcome: 'parked', error: expect.stringMatching(/^lease expired: the worker stopped during the last attempt/), priority: null, headers: null, payload: '{"name":"orphaned"}' });
      } finally {
        hang.reject(new Error('the crashed worker is gone'));
      }
    });
  });
}
