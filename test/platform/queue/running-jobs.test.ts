import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FinishedJobLog } from '../../../src/platform/queue/finished-jobs.js';
import { defineJob, JobRegistry } from '../../../src/platform/queue/jobs.js';
import { RetryableError, type JobContext } from '../../../src/platform/queue/queue.js';
import { RunningJobs } from '../../../src/platform/queue/running-jobs.js';
import { manualClock } from '../../support/driver-clock.js';
import { deferred } from '../../support/driver-wait.js';

const job = (id: string, attempt = 1): JobContext => ({
  id,
  queue: 'orders.integration',
  attempt,
  maxAttempts: 5,
  priority: 2,
  enqueuedAt: 0,
  readyAt: 0,
  headers: {},
  signal: new AbortController().signal,
});

describe('the jobs a worker process runs now', () => {
  it('are tracked from the start of their handler to its end, however it ends, the oldest first', async () => {
    const clock = manualClock(1_000);
    const running = new RunningJobs(clock);
    const log = new FinishedJobLog({ logger: pino({ level: 'silent' }), running });
    const gates = new Map([
      ['1', deferred()],
      ['2', deferred()],
    ]);
    const { handler } = log.wrap('orders.integration', (_payload, context) => gates.get(context.id)!.promise, undefined, 'info');
    const first = handler({}, job('1'));
    clock.advance(250);
    const second = handler({}, job('2', 3));
    expect(running.list()).toEqual([
      { queue: 'orders.integration', id: '1', attempt: 1, startedAt: 1_000 },
      { queue: 'orders.integration', id: '2', attempt: 3, startedAt: 1_250 },
    ]);
    expect(running.list(1)).toHaveLength(1);
    gates.get('2')!.reject(new RetryableError('third party down'));
    await expect(second).rejects.toThrow('third party down');
    expect(running.list().map((j) => j.id)).toEqual(['1']);
    gates.get('1')!.resolve();
    await first;
    expect(running.count).toBe(0);
  });

  it('come with the concurrency of each queue the registry starts', () => {
    const registry = new JobRegistry([defineJob('a'), defineJob('b')])
      .handle({ definition: defineJob('a'), handler: async () => undefined, workOptions: {} })
      .handle({ definition: defineJob('b'), handler: async () => undefined, workOptions: { concurrency: 2 } });
    expect(registry.workload({ concurrency: 32 })).toEqual([
      { queue: 'a', concurrency: 32 },
      { queue: 'b', concurrency: 2 },
    ]);
  });
});
