import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/platform/clock.js';
import type { Database } from '../../../src/platform/db/database.js';
import { PausableQueue } from '../../../src/platform/queue/pausable-queue.js';
import { PausedQueues } from '../../../src/platform/queue/paused-queues.js';
import { QueuePauses } from '../../../src/platform/queue/queue-pauses.js';
import type { ClaimGate, JobContext, Priority, TransactionalQueue, Worker } from '../../../src/platform/queue/queue.js';
import { deferred, sleep, waitFor } from '../../support/driver-wait.js';

export interface PauseFixture {
  /** Two queues of one driver over the same jobs, as two worker processes would have. */
  queues: [TransactionalQueue, TransactionalQueue];
  /** Where the pauses live. */
  database: Database;
  cleanup(): Promise<void>;
}

export interface PauseHarness {
  create(): Promise<PauseFixture>;
}

const Q = 'pausable';
/** Shorter than QUEUE_PAUSE_POLL_MS's default, so that the suite stays quick; the bounds below hold for the default too. */
const POLL_MS = 250;
const silent = pino({ level: 'silent' });

interface Run {
  name: string;
  attempt: number;
}

/** A claim gate opened and closed by hand: its listeners hear each change, after it, as `ClaimGate` promises. */
function handGate(open: boolean) {
  const listeners = new Set<() => void>();
  const set = (to: boolean) => {
    gate.open = to;
    for (const listener of [...listeners]) listener();
  };
  const gate = {
    open,
    ready: () => Promise.resolve(),
    isOpen: () => gate.open,
    subscribe(listener: () => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close: () => set(false),
    reopen: () => set(true),
  };
  return gate;
}

/** What QUEUE_PAUSE_POLL_MS promises on every driver: a pause stops every worker's claims within a second, and costs no job an attempt. */
export function pauseContract(name: string, harness: PauseHarness): void {
  describe(`pausing a queue: ${name}`, () => {
    const open: Array<{ fixture: PauseFixture; queues: PausableQueue[] }> = [];
    afterEach(async () => {
      for (const { fixture, queues } of open.splice(0)) {
        for (const queue of queues) await queue.close();
        await fixture.cleanup();
      }
    });

    /** Two "processes", each with its own view of the pauses, whose jobs block while their name starts with `hold`. */
    async function setup() {
      const fixture = await harness.create();
      const views = fixture.queues.map(() => new PausedQueues({ database: fixture.database, logger: silent, pollMs: POLL_MS }));
      const queues = fixture.queues.map((queue, i) => new PausableQueue(queue, views[i]!, silent));
      open.push({ fixture, queues });
      const started: Run[] = [];
      const finished: string[] = [];
      const release = deferred();
      const handler = async (payload: unknown, job: JobContext) => {
        const { name } = payload as { name: string };
        started.push({ name, attempt: job.attempt });
        if (name.startsWith('hold')) await release.promise;
        finished.push(name);
      };
      const work = (i: number, prefetch = 0, claimGate?: ClaimGate, concurrency = 1): Worker => queues[i]!.work(Q, handler, { concurrency, prefetch, claimGate });
      const enqueue = async (...names: string[]) => {
        for (const [i, name] of names.entries()) await queues[i % 2]!.enqueue(Q, { name });
      };
      /** On the first queue, whose worker an enqueue wakes at once on every driver. */
      const enqueueWith = async (...jobs: Array<[name: string, priority: Priority]>) => {
        for (const [name, priority] of jobs) await queues[0]!.enqueue(Q, { name }, { priority });
      };
      const counts = async () => (await queues[0]!.stats(Q)).counts;
      return { pauses: new QueuePauses({ database: fixture.database, clock: systemClock }), views, queues, started, finished, release, work, enqueue, enqueueWith, counts };
    }

    it('stops every worker claiming within a second while their running jobs finish, then runs the waiting jobs once each, no attempt spent', async () => {
      const { pauses, views, started, finished, release, work, enqueue, counts } = await setup();
      work(0, 1);
      await enqueue('hold-1');
      await waitFor(() => started.length === 1, 5_000, 'a held job on the first worker');
      // Claimed ahead of a free slot: the pause must give it back unstarted.
      await enqueue('early-1');
      await waitFor(async () => (await counts()).active === 2, 2_000, 'the first worker to claim a job ahead');
      work(1);
      await enqueue('hold-2');
      await waitFor(() => started.length === 2, 5_000, 'a held job on the second worker');

      await pauses.pause(Q, 'ops@example.test', 'migrating the third party');
      await waitFor(() => views.every((view) => view.isPaused(Q)), 1_000, 'both workers to see the pause');
      await enqueue('late-1', 'late-2');
      await sleep(1_500);
      expect(started.map((run) => run.name).sort()).toEqual(['hold-1', 'hold-2']);

      release.resolve();
      await waitFor(() => finished.length === 2, 2_000, 'the running jobs to finish');
      await waitFor(async () => {
        const { ready, active } = await counts();
        return ready === 3 && active === 0;
      }, 2_000, 'three jobs waiting, none held by a worker');
      await sleep(2 * POLL_MS);
      expect(started).toHaveLength(2);

      const resumedAt = Date.now();
      await pauses.resume(Q);
      await waitFor(() => finished.length === 5, 2_000, 'every waiting job after the resume');
      expect(Date.now() - resumedAt).toBeLessThan(1_500);
      expect(started.map((run) => run.name).sort()).toEqual(['early-1', 'hold-1', 'hold-2', 'late-1', 'late-2']);
      expect(started.every((run) => run.attempt === 1)).toBe(true);
      await waitFor(async () => Object.values(await counts()).every((n) => n === 0), 2_000, 'an empty queue');
    });

    it('claims nothing while paused from its start, and stops in every state: paused, draining and running', async () => {
      const { pauses, views, started, finished, release, work, enqueue, counts } = await setup();
      await pauses.pause(Q, 'cli');
      const first = work(0);
      await enqueue('hold-1');
      await sleep(3 * POLL_MS);
      expect(started).toEqual([]);
      await first.stop(1_000);

      await pauses.resume(Q);
      const second = work(1);
      await waitFor(() => started.length === 1, 2_000, 'the held job to start');
      await pauses.pause(Q, 'cli');
      await waitFor(() => views[1]!.isPaused(Q), 1_000, 'the worker to see the pause');
      // Draining: a stop with no time left gives the running job back, its attempt not counted.
      await second.stop(0);
      await waitFor(async () => (await counts()).ready === 1, 2_000, 'the job given back');
      release.resolve();

      await pauses.resume(Q);
      const third = work(0);
      await waitFor(() => finished.length >= 1 && started.length === 2, 2_000, 'the job to run again');
      expect(started.map((run) => run.attempt)).toEqual([1, 1]);
      await third.stop(1_000);
    });

    it('claims nothing while its claim gate is closed, lets its running job finish and gives back what it claimed ahead unspent, then runs the waiting jobs by priority once each', async () => {
      const { started, finished, release, work, enqueueWith, counts } = await setup();
      const gate = handGate(false);
      work(0, 1, gate);
      await enqueueWith(['late-p1', 1], ['hold-p5', 5], ['ahead-p4', 4], ['late-p2', 2]);
      await sleep(300);
      expect(started).toEqual([]);
      expect(await counts()).toMatchObject({ ready: 4, active: 0 });

      gate.reopen();
      await waitFor(async () => started.length === 1 && (await counts()).active === 2, 2_000, 'the held job to run and the next one to be claimed ahead');
      expect(started[0]!.name).toBe('hold-p5');
      gate.close();
      await enqueueWith(['late-p3', 3]);
      await sleep(300);
      expect(started).toHaveLength(1);

      release.resolve();
      await waitFor(() => finished.length === 1, 2_000, 'the running job to finish');
      await waitFor(async () => {
        const { ready, active } = await counts();
        return ready === 4 && active === 0;
      }, 2_000, 'four jobs waiting, none held by the worker');
      await sleep(300);
      expect(started).toHaveLength(1);

      gate.reopen();
      await waitFor(() => finished.length === 5, 2_000, 'every waiting job after the gate opened');
      expect(started).toEqual(['hold-p5', 'ahead-p4', 'late-p3', 'late-p2', 'late-p1'].map((name) => ({ name, attempt: 1 })));
      await waitFor(async () => Object.values(await counts()).every((n) => n === 0), 2_000, 'an empty queue');
    });

    it('claims again as soon as its gate reopens, beside a job that ran through the close, and never beyond its concurrency', async () => {
      const { started, finished, release, work, enqueueWith } = await setup();
      const gate = handGate(true);
      work(0, 0, gate, 2);
      await enqueueWith(['hold-1', 3]);
      await waitFor(() => started.length === 1, 2_000, 'the held job to start');
      gate.close();
      await enqueueWith(['quick', 3]);
      await sleep(300);
      expect(started).toHaveLength(1);
      // The held job still runs: the reopened gate does not wait for it.
      gate.reopen();
      await waitFor(() => finished.includes('quick'), 2_000, 'a job claimed after the reopening');
      await enqueueWith(['hold-2', 3], ['after', 3]);
      await waitFor(() => started.length === 3, 2_000, 'the second held job to start');
      await sleep(300);
      expect(started.map((run) => run.name)).toEqual(['hold-1', 'quick', 'hold-2']);
      release.resolve();
      await waitFor(() => finished.length === 4, 2_000, 'every job');
      expect(started.every((run) => run.attempt === 1)).toBe(true);
    });
  });
}
