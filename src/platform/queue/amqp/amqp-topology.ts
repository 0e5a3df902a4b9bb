import type { Channel, ChannelModel, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { AmqpConnection } from './amqp-connection.js';

/** Retry delay tiers in production: each is a queue whose messages wait that long, then return. */
export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [250, 1_000, 4_000, 15_000, 60_000, 300_000, 1_800_000];

export const MAX_PRIORITY = 5;
const MAX_QUEUE_NAME_BYTES = 255;

export interface QueueDeclaration {
  name: string;
  options: Options.AssertQueue;
}

export const retryQueueName = (queue: string, tierMs: number): string => `${queue}.retry.${tierMs}`;
export const parkedQueueName = (queue: string): string => `${queue}.parked`;

/**
 * The broker queues behind one job queue: `<queue>` (priorities 1..5), one retry queue per tier
 * whose queue-level TTL dead-letters back into `<queue>`, and `<queue>.parked`. A tier per delay
 * because RabbitMQ expires messages only at the head of a queue: in one shared retry queue, a
 * 2 s retry would wait behind a 5 min one.
 */
export function declarationsOf(queue: string, tiersMs: readonly number[]): QueueDeclaration[] {
  return [
    { name: queue, options: { durable: true, arguments: { 'x-max-priority': MAX_PRIORITY } } },
    ...tiersMs.map((tier) => ({
      name: retryQueueName(queue, tier),
      options: {
        durable: true,
        arguments: { 'x-message-ttl': tier, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue },
      },
    })),
    { name: parkedQueueName(queue), options: { durable: true } },
  ];
}

export async function declareTopology(channel: Channel, queue: string, tiersMs: readonly number[]): Promise<void> {
  for (const { name, options } of declarationsOf(queue, tiersMs)) await channel.assertQueue(name, options);
}

/**
 * Where a job due at `availableAt` goes now: the main queue once due, otherwise the largest tier
 * that does not overshoot the remaining delay (the smallest tier when even that one does). The
 * message returns to the main queue after the tier's TTL, and the consumer routes the rest of
 * the delay the same way, so a delay between two tiers is never rounded up to the larger one.
 */
export function routeFor(queue: string, availableAt: number, now: number, tiersMs: readonly number[]): string {
  const remaining = availableAt - now;
  if (remaining <= 0) return queue;
  let tier = tiersMs[0]!;
  for (const candidate of tiersMs) if (candidate <= remaining) tier = candidate;
  return retryQueueName(queue, tier);
}

/** Throws when the tiers are not ascending positive whole milliseconds. */
export function validateTiers(tiersMs: readonly number[]): void {
  if (tiersMs.length === 0) throw new Error('AMQP retry tiers: at least one tier is needed');
  for (const [i, tier] of tiersMs.entries()) {
    if (!Number.isSafeInteger(tier) || tier <= 0) throw new Error(`AMQP retry tiers: ${tier} is not a positive whole number of milliseconds`);
    if (i > 0 && tier <= tiersMs[i - 1]!) throw new Error(`AMQP retry tiers must ascend without repeats, got ${tiersMs.join(',')}`);
  }
}

export function validateQueueName(queue: string, tiersMs: readonly number[]): void {
  const longest = retryQueueName(queue, tiersMs[tiersMs.length - 1]!);
  if (queue.length === 0 || Buffer.byteLength(longest) > MAX_QUEUE_NAME_BYTES) {
    throw new Error(`AMQP queue name "${queue}" is empty or too long for its retry queues (${MAX_QUEUE_NAME_BYTES} bytes at most)`);
  }
}

/**
 * Declares each job queue's broker queues once per process (assertQueue is idempotent) and again
 * on every reconnect, so a broker that lost them (a new node, a reset) gets them back before any
 * publish or consumer resumes.
 */
export interface AmqpTopologyOptions {
  connection: AmqpConnection;
  tiersMs: readonly number[];
  /** Prepended to each job queue's name on the broker, e.g. `intake.`; default none. */
  prefix: string;
  logger: Logger;
  operationTimeoutMs: number;
}

/**
 * Maps job queues to their broker queues, and declares each job queue's topology once per
 * process (assertQueue is idempotent) and again on every reconnect, so that a broker that lost
 * them (a new node, a reset) has them back before any publish or consumer resumes.
 */
export class AmqpTopology {
  private readonly declared = new Map<string, Promise<void>>();

  constructor(private readonly o: AmqpTopologyOptions) {
    validateTiers(o.tiersMs);
    o.connection.addSetup((model) => this.redeclare(model));
  }

  get tiersMs(): readonly number[] {
    return this.o.tiersMs;
  }

  mainName(queue: string): string {
    return this.o.prefix + queue;
  }

  parkedName(queue: string): string {
    return parkedQueueName(this.mainName(queue));
  }

  retryNames(queue: string): string[] {
    return this.o.tiersMs.map((tier) => retryQueueName(this.mainName(queue), tier));
  }

  /** The broker queue a job due at `availableAt` is published to now. */
  route(queue: string, availableAt: number, now: number): string {
    return routeFor(this.mainName(queue), availableAt, now, this.o.tiersMs);
  }

  ensure(queue: string): Promise<void> {
    let declaring = this.declared.get(queue);
    if (!declaring) {
      const main = this.mainName(queue);
      validateQueueName(main, this.o.tiersMs);
      declaring = this.o.connection.withChannel(`declaring the AMQP queues of "${queue}"`, (channel) => declareTopology(channel, main, this.o.tiersMs), this.o.operationTimeoutMs);
      const mine = declaring;
      this.declared.set(queue, mine);
      mine.catch(() => {
        if (this.declared.get(queue) === mine) this.declared.delete(queue);
      });
    }
    return declaring;
  }

  /** A broker queue went missing (deleted by hand): its job queue is declared again on next use. */
  forget(brokerQueue: string): void {
    for (const queue of this.jobQueuesOf(brokerQueue)) this.declared.delete(queue);
  }

  /** A broker queue went missing: its job queue is declared again now. */
  async restore(brokerQueue: string): Promise<void> {
    for (const queue of this.jobQueuesOf(brokerQueue)) {
      this.declared.delete(queue);
      await this.ensure(queue);
    }
  }

  /** After a 404 NOT_FOUND on one of its queues (deleted by hand), the job queue is declared again on next use. */
  forgetIfMissing(queue: string, error: unknown): void {
    if ((error as { code?: unknown } | undefined)?.code === 404) this.declared.delete(queue);
  }

  /** Every broker queue this process declared. */
  brokerQueues(): string[] {
    return [...this.declared.keys()].flatMap((queue) => this.brokerNamesOf(queue));
  }

  private jobQueuesOf(brokerQueue: string): string[] {
    return [...this.declared.keys()].filter((queue) => this.brokerNamesOf(queue).includes(brokerQueue));
  }

  private brokerNamesOf(queue: string): string[] {
    return declarationsOf(this.mainName(queue), this.o.tiersMs).map((d) => d.name);
  }

  private async redeclare(model: ChannelModel): Promise<void> {
    let channel: Channel | undefined;
    for (const queue of [...this.declared.keys()]) {
      try {
        channel ??= await openQuietChannel(model);
        await declareTopology(channel, this.mainName(queue), this.o.tiersMs);
      } catch (error) {
        // A declaration the broker refuses (other arguments on an existing queue) closes the
        // channel; the job queue is declared again, and the error surfaces, on its next use.
        this.o.logger.error({ err: error, queue }, 'AMQP topology could not be declared on reconnect');
        this.declared.delete(queue);
        channel = undefined;
      }
    }
    await channel?.close();
  }
}

/** Its errors are reported by the declarations that fail. */
async function openQuietChannel(model: ChannelModel): Promise<Channel> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  return channel;
}
