import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/platform/db/database.js';
import {
  DeferredError,
  PermanentError,
  RetryableError,
  type JobContext,
  type JobState,
  type Priority,
  type Queue,
  type QueueStats,
  type TransactionalQueue,
  type WorkOptions,
  type Worker,
} from '../../../src/platform/queue/queue.js';
import { deferred, sleep, waitFor } from '../../support/driver-wait.js';

export interface QueueHarnessOptions {
  /**
   * How long a claim holds a job before another worker may take it over. A broker driver has no
   * leases: the broker redelivers at once when the consumer's channel closes, and ignores this.
   */
  leaseMs?: number;
  /** Attempts for jobs enqueued without `maxAttempts`. */
  maxAttempts?: number;
}

export interface QueueFixture {
  queue: Queue;
  /** The database that business writes (and, with `trx`, enqueues) go through. */
  database: Database;
  /** Makes `worker` vanish as a crashed process would: no completion, no release. */
  crash(worker: Worker): void;
  cleanup(): Promise<void>;
}

export interface QueueHarness {
  /** A fresh, empty queue per call. Jitter should be deterministic (random = () => 0.5). */
  create(options?: QueueHarnessOptions): Promise<QueueFixture>;
  /** What the driver cannot do by its nature; an absent flag means it can. */
  capabilities?: QueueCapabilities;
}

export interface QueueCapabilities {
  /** enqueue(…, trx) joins the caller's transaction. A bare broker driver cannot; the outbox wrapping it can. */
  transactionalEnqueue?: boolean;
  /** The states whose stats it counts exactly by priority (a broker cannot count a queue by priority). Default: all. */
  exactPriorityStates?: JobState[];
}

const STATES: JobState[] = ['ready', 'delayed', 'active', 'parked'];

const Q = 'contract';
const BACKOFF = { baseMs: 20, maxMs: 60_000 };

interface Named {
  name: string;
}

/** The fixture's queue as the TransactionalQueue that its harness says it is. */
function transactional(queue: Queue): TransactionalQueue {
  expect((queue as Partial<TransactionalQueue>).transactional).toBe(true);
  return queue as TransactionalQueue;
}

/** The behaviour every queue driver must show; each driver's test file runs it once. */
export function queueContract(name: string, harness: QueueHarness): void {
  describe(`queue contract: ${name}`, () => {
    const open: Array<{ fixture: QueueFixture; workers: Worker[] }> = [];

    afterEach(async () => {
      for (const { fixture, workers } of open.splice(0)) {
        await Promise.all(workers.map((w) => w.stop(0)));
        await fixture.queue.close();
        await fixture.cleanup();
      }
    });

    async function setup(options?: QueueHarnessOptions) {
      const fixture = await harness.create(options);
      const entry = { fixture, workers: [] as Worker[] };
      open.push(entry);
      const { queue } = fixture;
      const work = (handler: (payload: Named, job: JobContext) => Promise<void>, options: Partial<WorkOptions> = {}): Worker => {
        const worker = queue.work(Q, (payload, job) => handler(payload as Named, job), { concurrency: 1, backoff: BACKOFF, ...options });
        entry.workers.push(worker);
        return worker;
      };
      const counts = async (): Promise<QueueStats['counts']> => (await queue.stats(Q)).counts;
      const isEmpty = async () => Object.values(await counts()).every((n) => n === 0);
      return { ...fixture, queue, work, counts, isEmpty };
    }

    it('serves higher priority first', async () => {
      const { queue, work } = await setup();
      const priorities: Priority[] = [1, 3, 5, 2, 4, 2, 5, 1, 3];
      for (const [i, priority] of priorities.entries()) await queue.enqueue(Q, { name: `${priority}-${i}` }, { priority });
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name));
      await waitFor(() => seen.length === priorities.length, 5_000, 'every job');
      expect(seen[0]).toMatch(/^5-/);
      expect(seen).toEqual(['5-2', '5-6', '4-4', '3-1', '3-8', '2-3', '2-5', '1-0', '1-7']);
    });

    it('keeps first in, first out within one priority', async () => {
      const { queue, work } = await setup();
      const names = Array.from({ length: 12 }, (_, i) => `job-${i}`);
      for (const name of names) await queue.enqueue(Q, { name }, { priority: 3 });
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name));
      await waitFor(() => seen.length === names.length, 5_000, 'every job');
      expect(seen).toEqual(names);
    });

    it('does not let a delayed retry block a ready job', async () => {
      const { queue, work, counts } = await setup();
      const seen: string[] = [];
      await queue.enqueue(Q, { name: 'slow-retry' }, { priority: 5, maxAttempts: 3 });
      work(async ({ name }) => {
        seen.push(name);
        if (name === 'slow-retry') throw new RetryableError('come back later', 60_000);
      });
      await waitFor(async () => (await counts()).delayed === 1, 5_000, 'the retry to be scheduled');
      const enqueuedAt = Date.now();
      await queue.enqueue(Q, { name: 'ready' }, { priority: 1 });
      await waitFor(() => seen.includes('ready'), 2_000, 'the ready job');
      expect(Date.now() - enqueuedAt).toBeLessThan(2_000);
      expect(seen).toEqual(['slow-retry', 'ready']);
      expect(await counts()).toMatchObject({ ready: 0, delayed: 1, parked: 0 });
    });

    it('retries with backoff, then succeeds', async () => {
      const { queue, work, isEmpty } = await setup();
      const attempts: number[] = [];
      const times: number[] = [];
      await queue.enqueue(Q, { name: 'flaky' }, { maxAttempts: 5 });
      work(async (_payload, job) => {
        attempts.push(job.attempt);
        times.push(Date.now());
        expect(job.maxAttempts).toBe(5);
        if (job.attempt < 3) throw new RetryableError(`failure ${job.attempt}`);
      });
      await waitFor(() => attempts.length === 3, 5_000, 'three attempts');
      await waitFor(isEmpty, 2_000, 'the job to complete');
      expect(attempts).toEqual([1, 2, 3]);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(10);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(20);
    });

    it('runs a deferred job again after its delay without counting the attempt, even on its only attempt', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      const attempts: number[] = [];
      const times: number[] = [];
      await queue.enqueue(Q, { name: 'busy' }, { maxAttempts: 1 });
      work(async (_payload, job) => {
        attempts.push(job.attempt);
        times.push(Date.now());
        if (attempts.length === 1) throw new DeferredError(300, 'no free slot');
        if (attempts.length < 4) throw new DeferredError(20, 'no free slot');
      });
      await waitFor(async () => (await counts()).delayed === 1, 5_000, 'the deferral to be scheduled');
      await waitFor(() => attempts.length === 4, 5_000, 'four runs');
      await waitFor(isEmpty, 2_000, 'the job to complete');
      expect(attempts).toEqual([1, 1, 1, 1]);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(250);
      expect(await queue.parked(Q)).toEqual([]);
    });

    it('keeps the count of earlier failed attempts across a deferral', async () => {
      const { queue, work, counts } = await setup();
      const attempts: number[] = [];
      await queue.enqueue(Q, { name: 'flaky-then-busy' }, { maxAttempts: 2 });
      work(async (_payload, job) => {
        attempts.push(job.attempt);
        if (attempts.length === 2) throw new DeferredError(20, 'no free slot');
        throw new RetryableError(`failure ${attempts.length}`);
      });
      await waitFor(async () => (await counts()).parked === 1, 5_000, 'the job to be parked');
      expect(attempts).toEqual([1, 2, 2]);
      expect((await queue.parked(Q))[0]).toMatchObject({ attempts: 2, maxAttempts: 2, lastError: 'failure 3' });
    });

    it('parks a job after its last attempt, with its error and attempts', async () => {
      const { queue, work, counts } = await setup();
      const attempts: number[] = [];
      await queue.enqueue(Q, { name: 'doomed' }, { maxAttempts: 3, priority: 4 });
      work(async (_payload, job) => {
        attempts.push(job.attempt);
        throw new RetryableError(`boom on attempt ${job.attempt}`);
      });
      await waitFor(async () => (await queue.parked(Q)).length === 1, 5_000, 'the job to be parked');
      const [parked] = await queue.parked(Q);
      expect(parked).toMatchObject({ queue: Q, payload: { name: 'doomed' }, priority: 4, attempts: 3, maxAttempts: 3 });
      expect(parked!.lastError).toContain('boom on attempt 3');
      expect(parked!.parkedAt).toBeGreaterThanOrEqual(parked!.createdAt);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await counts()).toEqual({ ready: 0, delayed: 0, active: 0, parked: 1 });
    });

    it('parks at once on a PermanentError', async () => {
      const { queue, work, counts } = await setup();
      const attempts: number[] = [];
      await queue.enqueue(Q, { name: 'malformed' }, { maxAttempts: 5 });
      work(async (_payload, job) => {
        attempts.push(job.attempt);
        throw new PermanentError('payload cannot be processed');
      });
      await waitFor(async () => (await counts()).parked === 1, 5_000, 'the job to be parked');
      const [parked] = await queue.parked(Q);
      expect(parked).toMatchObject({ attempts: 1, maxAttempts: 5, lastError: 'payload cannot be processed' });
      expect(attempts).toEqual([1]);
    });

    it('tells the owner of every parked job: out of attempts, permanent failure, or a worker that died on the last attempt', async () => {
      const { queue, work, crash } = await setup({ leaseMs: 300 });
      const notices: Array<{ name: string; attempts: number; reason: string }> = [];
      const onParked = async (payload: unknown, notice: { attempts: number; reason: string }) => {
        notices.push({ name: (payload as Named).name, attempts: notice.attempts, reason: notice.reason });
      };
      const claimedLast = deferred();
      const hang = deferred();
      await queue.enqueue(Q, { name: 'exhausted' }, { maxAttempts: 2 });
      await queue.enqueue(Q, { name: 'permanent' }, { maxAttempts: 5 });
      await queue.enqueue(Q, { name: 'orphaned' }, { maxAttempts: 1 });
      const first = work(
        async ({ name }) => {
          if (name === 'exhausted') throw new RetryableError('still down');
          if (name === 'permanent') throw new PermanentError('never valid');
          claimedLast.resolve();
          await hang.promise;
        },
        { concurrency: 3, onParked },
      );
      await claimedLast.promise;
      await waitFor(() => notices.length === 2, 5_000, 'two jobs to be parked by their handler');
      crash(first);
      try {
        let reran = false;
        work(async () => void (reran = true), { onParked });
        await waitFor(() => notices.length === 3, 5_000, 'the orphaned job to be parked');
        expect(reran).toBe(false);
      } finally {
        hang.resolve();
      }
      expect(notices.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'exhausted', attempts: 2, reason: 'still down' },
        { name: 'orphaned', attempts: 1, reason: expect.stringMatching(/lease expired/) },
        { name: 'permanent', attempts: 1, reason: 'never valid' },
      ]);
      expect((await queue.stats(Q)).counts.parked).toBe(3);
    });

    it('lists parked jobs a page at a time: pages in the order of the whole list, without gaps or repeats', async () => {
      const { queue, work, counts } = await setup();
      const names = Array.from({ length: 7 }, (_, i) => `p-${i}`);
      for (const name of names) await queue.enqueue(Q, { name }, { maxAttempts: 1 });
      work(async ({ name }) => Promise.reject(new PermanentError(`${name} is broken`)));
      await waitFor(async () => (await counts()).parked === names.length, 5_000, 'every job parked');
      const whole = (await queue.parked(Q, { limit: 50 })).map((job) => (job.payload as Named).name);
      expect([...whole].sort()).toEqual(names);
      const pages: string[][] = [];
      for (let offset = 0; offset < 9; offset += 3) pages.push((await queue.parked(Q, { limit: 3, offset })).map((job) => (job.payload as Named).name));
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual(whole);
      expect(await queue.parked(Q, { limit: 3, offset: 7 })).toEqual([]);
      // Reading pages takes nothing away.
      expect((await counts()).parked).toBe(names.length);
    });

    it('searches the parked jobs by error text, priority, time and payload field (every job, where the driver can)', async () => {
      const { queue, work, counts } = await setup();
      const before = Date.now();
      for (let itemId = 1; itemId <= 6; itemId++) await queue.enqueue(Q, { name: `s-${itemId}`, itemId: itemId === 6 ? 42 : itemId }, { maxAttempts: 1, priority: itemId % 2 === 0 ? 4 : 2 });
      work(async (payload) => Promise.reject(new PermanentError((payload as unknown as { itemId: number }).itemId % 3 === 0 ? 'third party answered 503' : 'third party answered 400')));
      await waitFor(async () => (await counts()).parked === 6, 5_000, 'every job parked');
      const page = { limit: 10, offset: 0 };
      const names = async (filter: Parameters<Queue['search']>[1], p = page) => (await queue.search(Q, filter, p)).jobs.map((job) => (job.payload as Named).name).sort();
      expect(await names({ state: 'parked', text: '503' })).toEqual(['s-3', 's-6']);
      expect(await names({ text: 'ANSWERED 503' })).toEqual(['s-3', 's-6']);
      expect(await names({ state: 'parked', priority: 4 })).toEqual(['s-2', 's-4', 's-6']);
      expect(await names({ payloadField: { key: 'itemId', value: 42 } })).toEqual(['s-6']);
      expect(await names({ payloadField: { key: 'itemId', value: 4 } })).toEqual(['s-4']);
      expect(await names({ text: '100%_!' })).toEqual([]);
      expect(await names({ from: before - 60_000, to: Date.now() + 60_000, state: 'parked' })).toHaveLength(6);
      expect(await names({ to: before - 60_000 })).toEqual([]);
      const first = await queue.search(Q, { state: 'parked' }, { limit: 4, offset: 0 });
      const second = await queue.search(Q, { state: 'parked' }, { limit: 4, offset: 4 });
      expect(first.total).toBe(6);
      expect([...first.jobs, ...second.jobs].map((job) => job.id).sort()).toHaveLength(6);
      expect(new Set([...first.jobs, ...second.jobs].map((job) => job.id)).size).toBe(6);
      expect(first.jobs[0]).toMatchObject({ queue: Q, state: 'parked', attempts: 1, maxAttempts: 1, lastError: expect.stringContaining('third party answered') });
      expect(['all', 'parked']).toContain(first.scope);
    });

    it('re-runs parked jobs by id and all at once, and purges them', async () => {
      const { queue, work, counts } = await setup();
      const healed = new Set<string>();
      const done: string[] = [];
      const retriedAttempts: number[] = [];
      for (const name of ['a', 'b', 'c', 'd']) await queue.enqueue(Q, { name }, { maxAttempts: 2 });
      work(async ({ name }, job) => {
        if (!healed.has(name)) throw new PermanentError(`${name} is broken`);
        retriedAttempts.push(job.attempt);
        done.push(name);
      });
      await waitFor(async () => (await counts()).parked === 4, 5_000, 'four parked jobs');
      const idOf = async (name: string) => (await queue.parked(Q)).find((job) => (job.payload as Named).name === name)!.id;
      for (const name of ['a', 'b', 'c', 'd']) healed.add(name);

      expect(await queue.retryParked(Q, [await idOf('a')])).toBe(1);
      await waitFor(() => done.includes('a'), 5_000, 'job a to re-run');
      expect(await counts()).toMatchObject({ parked: 3 });

      expect(await queue.purgeParked(Q, [await idOf('d')])).toBe(1);
      expect(await queue.retryParked(Q, 'all')).toBe(2);
      await waitFor(() => done.length === 3, 5_000, 'jobs b and c to re-run');
      expect([...done].sort()).toEqual(['a', 'b', 'c']);
      expect(retriedAttempts).toEqual([1, 1, 1]);
      expect(await queue.parked(Q)).toEqual([]);

      healed.clear();
      for (const name of ['e', 'f']) await queue.enqueue(Q, { name });
      await waitFor(async () => (await counts()).parked === 2, 5_000, 'two more parked jobs');
      expect(await queue.purgeParked(Q)).toBe(2);
      expect(await queue.retryParked(Q, 'all')).toBe(0);
      expect(await counts()).toEqual({ ready: 0, delayed: 0, active: 0, parked: 0 });
    });

    it('reclaims the job of a crashed worker once its lease expires', async () => {
      const { queue, work, crash, isEmpty } = await setup({ leaseMs: 300 });
      const claimed = deferred();
      const hang = deferred();
      const attempts: number[] = [];
      await queue.enqueue(Q, { name: 'orphan' });
      const first = work(async (_payload, job) => {
        attempts.push(job.attempt);
        claimed.resolve();
        await hang.promise;
      });
      await claimed.promise;
      crash(first);
      try {
        work(async (_payload, job) => void attempts.push(job.attempt));
        await waitFor(() => attempts.length === 2, 5_000, 'a second worker to take the job over');
        await waitFor(isEmpty, 2_000, 'the job to complete');
        expect(attempts).toEqual([1, 2]);
      } finally {
        hang.resolve();
      }
    });

    it('keeps the lease of a live worker whose handler outlasts it', async () => {
      const { queue, work, isEmpty } = await setup({ leaseMs: 300 });
      const attempts: number[] = [];
      await queue.enqueue(Q, { name: 'long' });
      const handler = async (_payload: Named, job: JobContext) => {
        attempts.push(job.attempt);
        await sleep(1_000);
      };
      work(handler);
      await waitFor(() => attempts.length === 1, 5_000, 'the job to start');
      work(handler);
      await waitFor(isEmpty, 5_000, 'the job to complete');
      expect(attempts).toEqual([1]);
    });

    it('holds a delayed job until its delay has passed', async () => {
      const { queue, work, counts } = await setup();
      const enqueuedAt = Date.now();
      await queue.enqueue(Q, { name: 'later' }, { delayMs: 300 });
      expect(await counts()).toMatchObject({ ready: 0, delayed: 1 });
      let ranAt = 0;
      work(async () => {
        ranAt = Date.now();
      });
      await waitFor(() => ranAt > 0, 5_000, 'the delayed job');
      expect(ranAt - enqueuedAt).toBeGreaterThanOrEqual(300);
    });

    it('hands the handler its payload, headers and job identity', async () => {
      const { queue, work } = await setup();
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const payload = { name: 'rich', nested: { list: [1, 'two', null], flag: true } };
      const before = Date.now();
      await queue.enqueue(Q, payload, { headers: { traceparent }, maxAttempts: 7, priority: 4 });
      const after = Date.now();
      const seen: Array<{ payload: unknown; job: JobContext }> = [];
      work(async (received, job) => void seen.push({ payload: received, job }));
      await waitFor(() => seen.length === 1, 5_000, 'the job');
      const [{ payload: received, job }] = seen as [{ payload: unknown; job: JobContext }];
      expect(received).toEqual(payload);
      expect(job).toMatchObject({ queue: Q, attempt: 1, maxAttempts: 7, priority: 4, headers: { traceparent } });
      expect(job.id).toEqual(expect.any(String));
      expect(job.signal.aborted).toBe(false);
      expect(job.enqueuedAt).toBeGreaterThanOrEqual(before);
      expect(job.enqueuedAt).toBeLessThanOrEqual(after);
      expect(job.readyAt).toBe(job.enqueuedAt);
    });

    it('tells a retried or delayed attempt since when it could run: the end of its backoff or delay, not the enqueue', async () => {
      const { queue, work } = await setup();
      await queue.enqueue(Q, { name: 'retried' }, { maxAttempts: 2 });
      await queue.enqueue(Q, { name: 'delayed' }, { delayMs: 200 });
      const seen: Array<{ name: string; job: JobContext; startedAt: number }> = [];
      work(async ({ name }, job) => {
        seen.push({ name, job, startedAt: Date.now() });
        if (name === 'retried' && job.attempt === 1) throw new RetryableError('once', 150);
      });
      await waitFor(() => seen.length === 3, 5_000, 'three attempts');
      const [first, second] = seen.filter((s) => s.name === 'retried') as [(typeof seen)[number], (typeof seen)[number]];
      expect(second.job.enqueuedAt).toBe(first.job.enqueuedAt);
      expect(second.job.readyAt).toBeGreaterThanOrEqual(first.startedAt + 100);
      expect(second.job.readyAt).toBeLessThanOrEqual(second.startedAt);
      const delayed = seen.find((s) => s.name === 'delayed')!;
      expect(delayed.job.readyAt - delayed.job.enqueuedAt).toBeGreaterThanOrEqual(200);
      expect(delayed.job.readyAt).toBeLessThanOrEqual(delayed.startedAt);
    });

    it.skipIf(harness.capabilities?.transactionalEnqueue === false)('enqueues in the caller transaction: a rollback leaves no job, a commit runs it', async () => {
      const { queue: fixtureQueue, database, work, counts, isEmpty } = await setup();
      const queue = transactional(fixtureQueue);
      await expect(
        database.transaction(async (trx) => {
          await queue.enqueue(Q, { name: 'rolled-back' }, {}, trx);
          throw new Error('business write failed');
        }),
      ).rejects.toThrow('business write failed');
      expect((await counts()).ready).toBe(0);
      await database.transaction(async (trx) => {
        await queue.enqueue(Q, { name: 'committed' }, {}, trx);
      });
      expect((await counts()).ready).toBe(1);
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name));
      await waitFor(() => seen.length > 0, 5_000, 'the committed job');
      await waitFor(isEmpty, 2_000, 'the job to complete');
      expect(seen).toEqual(['committed']);
    });

    it('is typed transactional exactly when it can enqueue in the caller transaction', async () => {
      const { queue } = await setup();
      expect('transactional' in queue && queue.transactional === true).toBe(harness.capabilities?.transactionalEnqueue !== false);
    });

    it('keeps one job per dedupeKey while it is live', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      await queue.enqueue(Q, { name: 'first' }, { dedupeKey: 'order-42' });
      await queue.enqueue(Q, { name: 'second' }, { dedupeKey: 'order-42' });
      await queue.enqueue(Q, { name: 'other' }, { dedupeKey: 'order-43' });
      expect((await counts()).ready).toBe(2);
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name));
      await waitFor(isEmpty, 5_000, 'both jobs to complete');
      expect(seen).toEqual(['first', 'other']);
      await queue.enqueue(Q, { name: 'after-completion' }, { dedupeKey: 'order-42' });
      await waitFor(() => seen.length === 3, 5_000, 'the key to be free again');
      expect(seen[2]).toBe('after-completion');
    });

    it('enqueues many at once, each served by its priority, skipping a live dedupeKey', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      await queue.enqueue(Q, { name: 'live' }, { dedupeKey: 'k1' });
      await queue.enqueueMany(Q, [
        { payload: { name: 'low' }, options: { priority: 1 } },
        { payload: { name: 'max' }, options: { priority: 5 } },
        { payload: { name: 'duplicate' }, options: { dedupeKey: 'k1' } },
        { payload: { name: 'normal' } },
        { payload: { name: 'max-deduped' }, options: { priority: 5, dedupeKey: 'k2' } },
      ]);
      expect((await counts()).ready).toBe(5);
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name));
      await waitFor(isEmpty, 5_000, 'every job to complete');
      expect(seen).toEqual(['max', 'max-deduped', 'live', 'normal', 'low']);
    });

    it.skipIf(harness.capabilities?.transactionalEnqueue === false)('enqueues many in the caller transaction: a rollback leaves none, a commit runs all', async () => {
      const { queue: fixtureQueue, database, work, counts, isEmpty } = await setup();
      const queue = transactional(fixtureQueue);
      const batch = (prefix: string) => Array.from({ length: 300 }, (_, i) => ({ payload: { name: `${prefix}-${i}` } }));
      await expect(
        database.transaction(async (trx) => {
          await queue.enqueueMany(Q, batch('rolled-back'), trx);
          throw new Error('business write failed');
        }),
      ).rejects.toThrow('business write failed');
      expect((await counts()).ready).toBe(0);
      await database.transaction((trx) => queue.enqueueMany(Q, batch('committed'), trx));
      const seen: string[] = [];
      work(async ({ name }) => void seen.push(name), { concurrency: 8 });
      await waitFor(() => seen.length === 300, 10_000, 'the committed batch');
      await waitFor(isEmpty, 2_000, 'the jobs to complete');
      expect(new Set(seen)).toEqual(new Set(batch('committed').map((job) => job.payload.name)));
    });

    it('reports stats by state and priority', async () => {
      const { queue, work, counts } = await setup();
      await queue.enqueue(Q, { name: 'poison' }, { priority: 5 });
      const worker = work(async () => {
        throw new PermanentError('poison');
      });
      await waitFor(async () => (await counts()).parked === 1, 5_000, 'the poison job to be parked');
      await worker.stop(1_000);
      const beforeReady = Date.now();
      await queue.enqueue(Q, { name: 'r1' }, { priority: 1 });
      await queue.enqueue(Q, { name: 'r2' }, { priority: 1 });
      await queue.enqueue(Q, { name: 'r3' }, { priority: 4 });
      await queue.enqueue(Q, { name: 'later' }, { priority: 3, delayMs: 60_000 });
      await queue.enqueue(`${Q}-other`, { name: 'elsewhere' }, { priority: 1 });
      const zero = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
      const byPriority = {
        ready: { ...zero, 1: 2, 4: 1 },
        delayed: { ...zero, 3: 1 },
        active: zero,
        parked: { ...zero, 5: 1 },
      };
      const exactStates = harness.capabilities?.exactPriorityStates ?? STATES;
      const exact = Object.fromEntries(STATES.map((state) => [state, exactStates.includes(state)])) as Record<JobState, boolean>;
      const stats = await queue.stats(Q);
      expect(stats).toEqual({
        queue: Q,
        counts: { ready: 3, delayed: 1, active: 0, parked: 1 },
        byPriority: Object.fromEntries(STATES.map((state) => [state, exact[state] ? byPriority[state] : stats.byPriority[state]])),
        byPriorityExact: exact,
        // Where the driver can tell how long its oldest ready job has waited: since r1 was enqueued.
        ...(stats.oldestReadySince !== undefined && { oldestReadySince: expect.any(Number) }),
      });
      if (stats.oldestReadySince !== undefined) expect(stats.oldestReadySince).toBeGreaterThanOrEqual(beforeReady);
      if (stats.oldestReadySince !== undefined) expect(stats.oldestReadySince).toBeLessThanOrEqual(Date.now());
    });

    it('counts a running job as active', async () => {
      const { queue, work, counts } = await setup();
      const claimed = deferred();
      const release = deferred();
      await queue.enqueue(Q, { name: 'busy' });
      work(async () => {
        claimed.resolve();
        await release.promise;
      });
      await claimed.promise;
      expect(await counts()).toEqual({ ready: 0, delayed: 0, active: 1, parked: 0 });
      release.resolve();
    });

    it('stop(deadline) waits for an in-flight handler to finish', async () => {
      const { queue, work, isEmpty } = await setup();
      const claimed = deferred();
      let finished = false;
      await queue.enqueue(Q, { name: 'in-flight' });
      const worker = work(async () => {
        claimed.resolve();
        await sleep(150);
        finished = true;
      });
      await claimed.promise;
      await worker.stop(5_000);
      expect(finished).toBe(true);
      expect(await isEmpty()).toBe(true);
    });

    it('stop(deadline) gives a job back to ready when its handler outlives the deadline, without counting the attempt', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      const claimed = deferred();
      let aborted = false;
      await queue.enqueue(Q, { name: 'slow' }, { maxAttempts: 1 });
      const worker = work(async (_payload, job) => {
        claimed.resolve();
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
        aborted = true;
        throw new RetryableError('aborted by shutdown');
      });
      await claimed.promise;
      const stoppedAt = Date.now();
      await worker.stop(100);
      expect(Date.now() - stoppedAt).toBeLessThan(2_000);
      await waitFor(() => aborted, 1_000, 'the handler to see the abort');
      expect(await counts()).toEqual({ ready: 1, delayed: 0, active: 0, parked: 0 });

      const attempts: number[] = [];
      work(async (_payload, job) => void attempts.push(job.attempt));
      await waitFor(isEmpty, 5_000, 'the released job to complete');
      expect(attempts).toEqual([1]);
    });

    it('a second stop(0) during a long drain gives the running job back at once (a forced exit), without counting the attempt', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      const claimed = deferred();
      await queue.enqueue(Q, { name: 'forced' }, { maxAttempts: 1 });
      const worker = work(async (_payload, job) => {
        claimed.resolve();
        await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
        throw new RetryableError('aborted by shutdown');
      });
      await claimed.promise;
      const draining = worker.stop(60_000);
      await sleep(50);
      expect((await counts()).active).toBe(1);
      const forcedAt = Date.now();
      await worker.stop(0);
      await draining;
      expect(Date.now() - forcedAt).toBeLessThan(2_000);
      expect(await counts()).toEqual({ ready: 1, delayed: 0, active: 0, parked: 0 });

      const attempts: number[] = [];
      work(async (_payload, job) => void attempts.push(job.attempt));
      await waitFor(isEmpty, 5_000, 'the given-back job to complete');
      expect(attempts).toEqual([1]);
    });

    it.each([
      { total: 200, concurrency: 8, prefetch: 0 },
      { total: 60, concurrency: 3, prefetch: 3 },
      { total: 60, concurrency: 3, prefetch: 3, durableCompletions: false },
    ])('handles $total jobs exactly once with concurrency $concurrency and prefetch $prefetch', async ({ total, concurrency, prefetch, durableCompletions }) => {
      const { queue, work, isEmpty } = await setup();
      await Promise.all(Array.from({ length: total }, (_, i) => queue.enqueue(Q, { name: `job-${i}` })));
      const handled = new Map<string, number>();
      let active = 0;
      let maxActive = 0;
      work(
        async ({ name }) => {
          maxActive = Math.max(maxActive, ++active);
          await sleep(name.length % 3);
          handled.set(name, (handled.get(name) ?? 0) + 1);
          active -= 1;
        },
        { concurrency, prefetch, durableCompletions },
      );
      await waitFor(() => handled.size === total, 10_000, 'every job');
      await waitFor(isEmpty, 2_000, 'the queue to drain');
      expect([...handled.values()].every((n) => n === 1)).toBe(true);
      expect(maxActive).toBeLessThanOrEqual(concurrency);
      expect(maxActive).toBeGreaterThan(1);
    });

    it('stop() gives prefetched jobs that never started back to ready, without counting an attempt', async () => {
      const { queue, work, counts, isEmpty } = await setup();
      const started = deferred();
      const release = deferred();
      for (const name of ['running', 'waiting-1', 'waiting-2']) await queue.enqueue(Q, { name }, { maxAttempts: 1 });
      const worker = work(
        async () => {
          started.resolve();
          await release.promise;
        },
        { concurrency: 1, prefetch: 2 },
      );
      await started.promise;
      await waitFor(async () => (await counts()).active === 3, 5_000, 'the worker to prefetch two more');
      const stopping = worker.stop(5_000);
      release.resolve();
      await stopping;
      expect(await counts()).toEqual({ ready: 2, delayed: 0, active: 0, parked: 0 });

      const attempts: number[] = [];
      work(async (_payload, job) => void attempts.push(job.attempt));
      await waitFor(isEmpty, 5_000, 'the released jobs to complete');
      expect(attempts).toEqual([1, 1]);
    });

    it('shares jobs between two workers without handling any twice', async () => {
      const { queue, work, isEmpty } = await setup();
      const total = 100;
      await Promise.all(Array.from({ length: total }, (_, i) => queue.enqueue(Q, { name: `job-${i}` })));
      const handled = new Map<string, number>();
      const handler = async ({ name }: Named) => {
        await sleep(1);
        handled.set(name, (handled.get(name) ?? 0) + 1);
      };
      work(handler, { concurrency: 4 });
      work(handler, { concurrency: 4 });
      await waitFor(() => handled.size === total, 10_000, 'every job');
      await waitFor(isEmpty, 2_000, 'the queue to drain');
      expect([...handled.values()].every((n) => n === 1)).toBe(true);
    });
  });
}
