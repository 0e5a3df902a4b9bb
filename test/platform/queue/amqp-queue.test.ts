import { afterEach, expect, it } from 'vitest';
import type { AmqpQueueOptions } from '../../../src/platform/queue/amqp/amqp-queue.js';
import type { AmqpWorker } from '../../../src/platform/queue/amqp/amqp-worker.js';
import { PermanentError, RetryableError, type JobContext } from '../../../src/platform/queue/queue.js';
import { describeWithServices } from '../../support/services.js';
import { sleep, waitFor } from '../../support/driver-wait.js';
import { queueContract } from './queue.contract.js';
import { TEST_TIERS_MS, clearPolicy, createAmqpFixture, recordingLogger, setPolicy, withBroker, type AmqpFixture } from './amqp-fixture.js';

await describeWithServices(['rabbitmq'], 'amqp queue', () => {
  queueContract('amqp driver on RabbitMQ', {
    capabilities: { transactionalEnqueue: false, exactPriorityStates: ['active'] },
    async create(options = {}) {
      const fixture = await createAmqpFixture(options.maxAttempts !== undefined ? { defaultMaxAttempts: options.maxAttempts } : {});
      return {
        queue: fixture.queue,
        database: fixture.sqlite.database,
        crash: (worker) => (worker as AmqpWorker).abandon(),
        cleanup: fixture.cleanup,
      };
    },
  });

  const fixtures: AmqpFixture[] = [];
  afterEach(async () => {
    for (const fixture of fixtures.splice(0)) await fixture.cleanup();
  });
  async function setup(options: Partial<AmqpQueueOptions> = {}): Promise<AmqpFixture> {
    const fixture = await createAmqpFixture(options);
    fixtures.push(fixture);
    return fixture;
  }
  type Named = { name: string };
  const named = (handler: (payload: Named, job: JobContext) => Promise<void>) => (payload: unknown, job: JobContext) => handler(payload as Named, job);

  it('declares a priority queue, one TTL queue per tier that dead-letters back, and a parked queue', async () => {
    const { queue, prefix } = await setup();
    await queue.enqueue('topology', { name: 'one' }, { priority: 4 });
    const main = `${prefix}topology`;
    await withBroker(async (channel) => {
      // A declaration with other arguments than the existing queue's fails, so these succeeding proves the arguments.
      await channel.assertQueue(main, { durable: true, arguments: { 'x-max-priority': 5 } });
      for (const tier of TEST_TIERS_MS) {
        await channel.assertQueue(`${main}.retry.${tier}`, {
          durable: true,
          arguments: { 'x-message-ttl': tier, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': main },
        });
      }
      await channel.assertQueue(`${main}.parked`, { durable: true });
      const message = await channel.get(main, { noAck: false });
      expect(message && message.properties).toMatchObject({ deliveryMode: 2, priority: 4, contentType: 'application/json', messageId: expect.any(String) });
      expect(message && message.properties.headers).toMatchObject({ 'x-intake-attempts': 0, 'x-intake-max-attempts': 5 });
    });
    await expect(withBroker((channel) => channel.assertQueue(main, { durable: true }))).rejects.toThrow(/inequivalent arg 'x-max-priority'/);
  });

  it('sends a short retry back on time while a longer one waits in its own tier', async () => {
    const { queue } = await setup();
    const runs: Array<{ name: string; attempt: number; at: number }> = [];
    await queue.enqueue('tiers', { name: 'long' });
    await queue.enqueue('tiers', { name: 'short' });
    queue.work(
      'tiers',
      named(async ({ name }, job) => {
        runs.push({ name, attempt: job.attempt, at: Date.now() });
        if (job.attempt === 1) throw new RetryableError('later', name === 'long' ? 10_000 : 300);
      }),
      { concurrency: 1, backoff: { baseMs: 1, maxMs: 60_000 } },
    );
    await waitFor(() => runs.some((r) => r.name === 'short' && r.attempt === 2), 3_000, 'the short retry');
    const [first, second] = runs.filter((r) => r.name === 'short');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(300);
    expect(second!.at - first!.at).toBeLessThan(1_500);
    expect(runs.filter((r) => r.name === 'long')).toHaveLength(1);
    expect((await queue.stats('tiers')).counts).toMatchObject({ delayed: 1, parked: 0 });
  });

  it('routes a delay between two tiers through the smaller ones instead of rounding it up', async () => {
    const { queue, prefix } = await setup();
    const enqueuedAt = Date.now();
    await queue.enqueue('between', { name: 'later' }, { delayMs: 700 });
    await withBroker(async (channel) => expect((await channel.checkQueue(`${prefix}between.retry.500`)).messageCount).toBe(1));
    let ranAt = 0;
    queue.work('between', async () => void (ranAt = Date.now()), { concurrency: 1 });
    await waitFor(() => ranAt > 0, 3_000, 'the delayed job');
    expect(ranAt - enqueuedAt).toBeGreaterThanOrEqual(700);
    expect(ranAt - enqueuedAt).toBeLessThan(1_500);
  });

  it('parks an undecodable message at once, without running the handler or looping', async () => {
    const { queue, prefix } = await setup();
    await queue.enqueue('poison', { name: 'fine' });
    const main = `${prefix}poison`;
    await withBroker(async (channel) => {
      channel.sendToQueue(main, Buffer.from('not json {'), { messageId: 'raw-text', priority: 3 });
      channel.sendToQueue(main, Buffer.from('{"name":"no headers"}'), { messageId: 'raw-json', priority: 2 });
      channel.sendToQueue(main, Buffer.from('{"name":"no id"}'));
      await channel.checkQueue(main);
    });
    const handled: string[] = [];
    queue.work('poison', named(async ({ name }) => void handled.push(name)), { concurrency: 2 });
    await waitFor(async () => (await queue.stats('poison')).counts.parked === 3, 5_000, 'three parked messages');
    await sleep(200);
    expect(handled).toEqual(['fine']);
    expect((await queue.stats('poison')).counts).toEqual({ ready: 0, delayed: 0, active: 0, parked: 3 });
    const parked = await queue.parked('poison');
    expect(parked.map((job) => job.lastError)).toEqual(Array(3).fill(expect.stringMatching(/^undecodable message: /)));
    expect(parked.find((job) => job.id === 'raw-text')).toMatchObject({ payload: 'not json {', priority: 3 });
    expect(parked.find((job) => job.id === 'raw-json')?.lastError).toMatch(/header x-intake-max-attempts/);
    expect(parked.filter((job) => !job.id.startsWith('raw-'))[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('retries a publish the broker nacks, and rejects the enqueue while the broker keeps nacking', async () => {
    const { logger, messages } = recordingLogger();
    const { queue, prefix } = await setup({ logger, publishAttempts: 6 });
    const main = `${prefix}full`;
    const policy = `intake-test-${prefix}`;
    await queue.enqueue('full', { name: 'first' });
    await setPolicy(policy, `^${prefix.replace(/[.-]/g, '\\$&')}full$`, { 'max-length': 1, overflow: 'reject-publish' });
    try {
      const second = queue.enqueue('full', { name: 'second' });
      await waitFor(() => messages.includes('AMQP publish not confirmed; retrying'), 5_000, 'a nacked publish');
      await withBroker((channel) => channel.get(main, { noAck: true }));
      await second;
      await expect(queue.enqueue('full', { name: 'third' })).rejects.toThrow(/failed after 6 attempts: message nacked/);
      await withBroker(async (channel) => {
        const left = await channel.get(main, { noAck: true });
        expect(left && JSON.parse(left.content.toString())).toEqual({ name: 'second' });
        expect(await channel.get(main, { noAck: true })).toBe(false);
      });
    } finally {
      await clearPolicy(policy);
    }
  });

  it('declares a queue deleted by hand again: the publish the broker returned is retried, the consumer resubscribes', async () => {
    const { logger, messages } = recordingLogger();
    const { queue, prefix } = await setup({ logger });
    const deleteQueue = () => withBroker((channel) => channel.deleteQueue(`${prefix}deleted`));
    await queue.enqueue('deleted', { name: 'lost with its queue' });
    await deleteQueue();
    await queue.enqueue('deleted', { name: 'returned, then retried' });
    expect(messages).toContain('AMQP publish not confirmed; retrying');
    expect((await queue.stats('deleted')).counts.ready).toBe(1);

    const seen: string[] = [];
    queue.work('deleted', named(async ({ name }) => void seen.push(name)), { concurrency: 1 });
    await waitFor(() => seen.length === 1, 5_000, 'the retried job');
    await deleteQueue();
    await waitFor(() => messages.includes('AMQP consumer cancelled by the broker; subscribing again'), 5_000, 'the cancellation');
    await queue.enqueue('deleted', { name: 'after the consumer came back' });
    await waitFor(() => seen.length === 2, 5_000, 'a job for the new consumer');
    expect(seen).toEqual(['returned, then retried', 'after the consumer came back']);
  });

  it('rejects an enqueue and a ping when the broker cannot be reached', async () => {
    const { queue } = await setup({ url: 'amqp://guest:guest@127.0.0.1:1', publishAttempts: 2, publishTimeoutMs: 200, operationTimeoutMs: 200 });
    await expect(queue.ping()).rejects.toThrow(/AMQP connection is connecting/);
    await expect(queue.enqueue('nowhere', { name: 'lost' })).rejects.toThrow(/timed out/);
  });

  it('refuses an enqueue inside a database transaction: that is the outbox’s job', async () => {
    const { queue, sqlite } = await setup();
    await sqlite.database.transaction(async (trx) => {
      // @ts-expect-error the broker driver is no TransactionalQueue: the compiler refuses a transaction before the driver does
      await expect(queue.enqueue('trx', { name: 'x' }, {}, trx)).rejects.toThrow(/outbox/);
    });
  });

  it('refuses a dedupeKey when it was given no store', async () => {
    const { queue } = await setup({ store: undefined });
    await expect(queue.enqueue('keys', { name: 'x' }, { dedupeKey: 'k' })).rejects.toThrow(/needs the AMQP queue driver to be given a store/);
  });

  it('holds a dedupe key while its job is parked and frees it when the job is purged', async () => {
    const { queue } = await setup();
    const seen: string[] = [];
    queue.work(
      'keys',
      named(async ({ name }) => {
        seen.push(name);
        if (name === 'broken') throw new PermanentError('broken');
      }),
      { concurrency: 1 },
    );
    await queue.enqueue('keys', { name: 'broken' }, { dedupeKey: 'image-1' });
    await waitFor(async () => (await queue.stats('keys')).counts.parked === 1, 5_000, 'the job to be parked');
    await queue.enqueue('keys', { name: 'while-parked' }, { dedupeKey: 'image-1' });
    expect(await queue.purgeParked('keys')).toBe(1);
    await queue.enqueue('keys', { name: 'after-purge' }, { dedupeKey: 'image-1' });
    await waitFor(() => seen.includes('after-purge'), 5_000, 'the job enqueued after the purge');
    expect(seen).toEqual(['broken', 'after-purge']);
  });
});
