import { afterEach, expect, it } from 'vitest';
import type { AmqpQueueOptions } from '../../../src/platform/queue/amqp/amqp-queue.js';
import type { JobContext } from '../../../src/platform/queue/queue.js';
import { describeWithServices } from '../../support/services.js';
import { deferred, sleep, waitFor } from '../../support/driver-wait.js';
import { closeConnectionOnBroker, createAmqpFixture, recordingLogger, type AmqpFixture } from './amqp-fixture.js';

type Named = { name: string };

await describeWithServices(['rabbitmq'], 'amqp queue recovery', () => {
  const fixtures: AmqpFixture[] = [];
  const stops: Array<() => void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    for (const fixture of fixtures.splice(0)) await fixture.cleanup();
  });
  async function setup(options: Partial<AmqpQueueOptions> = {}): Promise<AmqpFixture> {
    const fixture = await createAmqpFixture({ publishAttempts: 10, publishTimeoutMs: 3_000, ...options });
    fixtures.push(fixture);
    return fixture;
  }

  /** Pings every few milliseconds, counting failures, until stopped. */
  function watchPing(fixture: AmqpFixture): { failures: () => number } {
    let failures = 0;
    let running = true;
    stops.push(() => (running = false));
    void (async () => {
      while (running) {
        await fixture.queue.ping().catch(() => (failures += 1));
        await sleep(5);
      }
    })();
    return { failures: () => failures };
  }

  it('loses no job when the broker closes the connection during enqueues and consumption; ping fails while it is down, then recovers', async () => {
    const { logger, messages } = recordingLogger('info');
    const fixture = await setup({ logger });
    const { queue } = fixture;
    const total = 400;
    const handled = new Map<string, number>();
    const completed = new Set<string>();
    queue.work(
      'load',
      async (payload: unknown) => {
        const { name } = payload as Named;
        handled.set(name, (handled.get(name) ?? 0) + 1);
        await sleep(20);
        completed.add(name);
      },
      { concurrency: 4 },
    );
    await waitFor(async () => queue.ping().then(() => true, () => false), 5_000, 'the first connection');
    const ping = watchPing(fixture);

    let enqueued = 0;
    const enqueuing = (async () => {
      for (let i = 0; i < total; i += 1) {
        await queue.enqueue('load', { name: `job-${i}` });
        enqueued += 1;
        if (i % 10 === 0) await sleep(5);
      }
    })();
    await waitFor(() => enqueued >= 60 && handled.size >= 30, 10_000, 'enqueues and handling under way');
    const before = { enqueued, handled: handled.size };
    await closeConnectionOnBroker(fixture.connectionName);
    await waitFor(() => ping.failures() > 0, 5_000, 'ping to fail while the connection is down');
    await waitFor(async () => queue.ping().then(() => true, () => false), 10_000, 'ping to recover');

    await enqueuing;
    await waitFor(() => handled.size === total, 20_000, 'every job to be handled');
    await waitFor(async () => Object.values((await queue.stats('load')).counts).every((n) => n === 0), 5_000, 'the queue to drain');
    // The cut came with jobs still to enqueue and a backlog still to consume.
    expect(before.enqueued).toBeLessThan(total);
    expect(before.handled).toBeLessThan(before.enqueued);
    expect(completed.size).toBe(total);
    expect([...handled.values()].every((n) => n >= 1)).toBe(true);
    expect((await queue.parked('load')).length).toBe(0);
    expect(messages).toEqual(expect.arrayContaining(['AMQP connection lost; reconnecting', 'AMQP reconnected']));
  });

  it('holds an enqueue made while the connection is down until the reconnect, then has it confirmed', async () => {
    const fixture = await setup({ reconnect: { initialDelayMs: 1_500, maxDelayMs: 3_000 } });
    const { queue } = fixture;
    await queue.enqueue('outage', { name: 'before' });
    await closeConnectionOnBroker(fixture.connectionName);
    await waitFor(async () => queue.ping().then(() => false, () => true), 5_000, 'ping to fail while the connection is down');
    await queue.enqueue('outage', { name: 'during' });
    await queue.ping();
    expect((await queue.stats('outage')).counts.ready).toBe(2);
  });

  it('lets a handler that outlives a lost connection finish once: its redelivery takes the outcome instead of a second attempt', async () => {
    const fixture = await setup();
    const { queue } = fixture;
    const started = deferred();
    const release = deferred();
    const attempts: number[] = [];
    queue.work(
      'span',
      async (_payload: unknown, job: JobContext) => {
        attempts.push(job.attempt);
        started.resolve();
        await release.promise;
      },
      { concurrency: 1 },
    );
    await queue.enqueue('span', { name: 'long' }, { maxAttempts: 1 });
    await started.promise;
    const ping = watchPing(fixture);
    await closeConnectionOnBroker(fixture.connectionName);
    await waitFor(() => ping.failures() > 0, 5_000, 'ping to fail while the connection is down');
    await waitFor(async () => queue.ping().then(() => true, () => false), 10_000, 'the connection to come back');
    await waitFor(async () => (await queue.stats('span')).counts.active === 2, 5_000, 'the redelivery to wait for the running handler');
    release.resolve();
    // Counts are read one queue after another; once nothing is active, the outcome is in the broker.
    await waitFor(async () => (await queue.stats('span')).counts.active === 0, 5_000, 'the job to be settled');
    expect((await queue.stats('span')).counts).toEqual({ ready: 0, delayed: 0, active: 0, parked: 0 });
    expect(attempts).toEqual([1]);
  });

  it('does not count an attempt for jobs that were only prefetched when the connection was lost', async () => {
    const fixture = await setup();
    const { queue } = fixture;
    const started = deferred();
    const release = deferred();
    const attempts: Array<{ name: string; attempt: number }> = [];
    queue.work(
      'prefetched',
      async (payload: unknown, job: JobContext) => {
        const { name } = payload as Named;
        attempts.push({ name, attempt: job.attempt });
        started.resolve();
        if (name === 'running') await release.promise;
      },
      { concurrency: 1, prefetch: 2 },
    );
    for (const name of ['running', 'waiting-1', 'waiting-2']) await queue.enqueue('prefetched', { name }, { maxAttempts: 1 });
    await started.promise;
    await waitFor(async () => (await queue.stats('prefetched')).counts.active === 3, 5_000, 'two jobs to be prefetched');
    const ping = watchPing(fixture);
    await closeConnectionOnBroker(fixture.connectionName);
    await waitFor(() => ping.failures() > 0, 5_000, 'ping to fail while the connection is down');
    await waitFor(async () => queue.ping().then(() => true, () => false), 10_000, 'the connection to come back');
    release.resolve();
    await waitFor(async () => Object.values((await queue.stats('prefetched')).counts).every((n) => n === 0), 5_000, 'every job to complete');
    expect(attempts).toEqual([
      { name: 'running', attempt: 1 },
      { name: 'waiting-1', attempt: 1 },
      { name: 'waiting-2', attempt: 1 },
    ]);
  });
});
