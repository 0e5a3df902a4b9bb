import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { Clock, Random } from '../../clock.js';
import { DEFAULT_PRIORITY, PRIORITIES, type BackoffPolicy, type JobHandler, type Priority, type WorkOptions, type Worker } from '../queue.js';
import type { AmqpConnection } from './amqp-connection.js';
import type { AmqpDedupe } from './amqp-dedupe.js';
import { decodeJob, type JobMessage } from './amqp-message.js';
import { runHandler, type Outcome } from './amqp-outcome.js';
import type { AmqpRouter } from './amqp-router.js';
import { backoffMs, delay, withTimeout } from './amqp-timing.js';
import type { AmqpTopology } from './amqp-topology.js';

export interface AmqpWorkerOptions {
  queue: string;
  handler: JobHandler;
  concurrency: number;
  prefetch: number;
  backoff: BackoffPolicy;
  onParked?: WorkOptions['onParked'];
  connection: AmqpConnection;
  topology: AmqpTopology;
  router: AmqpRouter;
  dedupe: AmqpDedupe;
  logger: Logger;
  clock: Clock;
  random: Random;
  onStopped: (worker: AmqpWorker) => void;
}

interface Delivery {
  message: ConsumeMessage;
  /** The channel it came on: the only one that can acknowledge it. */
  channel: Channel;
}

interface Run {
  delivery: Delivery;
  abort: AbortController;
  /** True until the handler returned; only then may stop() still give the job back. */
  inHandler: boolean;
  givenBack: boolean;
  done: Promise<void>;
}

/** How long a finished job whose channel closed waits for its redelivery to claim the outcome. */
const HANDOVER_MS = 60_000;
/** Bound on a broker call or a follow-up during shutdown, should the connection hang. */
const BROKER_CALL_MS = 5_000;
const LAST_ATTEMPT_LOST = 'lease expired: the worker stopped during the last attempt without acknowledging it';
const ATTEMPT_LOST = 'lease expired: the worker stopped during the job without acknowledging it';

/**
 * Consumes one queue on its own channel with prefetch = concurrency + prefetch. A message is
 * acknowledged only after its handler finished and the follow-up (retry or parked copy) was
 * confirmed. A redelivered message counts as an attempt: its previous consumer died or lost its
 * connection before the acknowledgement. When that consumer was this worker, it knows better:
 * a redelivery whose handler may still be running here waits for it and applies its outcome
 * instead of running again, and one that was only prefetched here runs without counting.
 */
export class AmqpWorker implements Worker {
  private consuming = false;
  private stopped = false;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private readonly closedChannels = new WeakSet<Channel>();
  /** Delivered, not started (the prefetch). */
  private readonly waiting: Delivery[] = [];
  private readonly runs = new Set<Run>();
  private readonly outcomes = new Map<string, Promise<Outcome>>();
  /** Jobs prefetched on a channel that closed before they started: their redelivery used no attempt. */
  private readonly neverStarted = new Set<string>();

  constructor(private readonly o: AmqpWorkerOptions) {}

  start(): void {
    this.consuming = true;
    void this.supervise();
  }

  /** Messages this worker holds, running or prefetched, by priority. */
  activeByPriority(): Record<Priority, number> {
    const counts = Object.fromEntries(PRIORITIES.map((p) => [p, 0])) as Record<Priority, number>;
    const held = [...this.waiting, ...[...this.runs].filter((r) => !r.givenBack).map((r) => r.delivery)];
    for (const { message } of held) counts[priorityOf(message)] += 1;
    return counts;
  }

  async stop(deadlineMs = 30_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.consuming = false;
    // A subscription still waiting for the connection sees `consuming` false and closes its channel.
    const channel = this.channel;
    if (channel && this.consumerTag) await withTimeout(channel.cancel(this.consumerTag), BROKER_CALL_MS, 'cancelling the consumer').catch(() => undefined);
    await this.giveBack(this.waiting.splice(0));
    const settled = Promise.allSettled([...this.runs].map((r) => r.done));
    const timedOut = await Promise.race([settled.then(() => false), delay(deadlineMs).then(() => true)]);
    const unfinished = [...this.runs].filter((r) => r.inHandler);
    if (timedOut && unfinished.length > 0) {
      this.o.logger.warn({ jobs: unfinished.length }, 'shutdown deadline reached; giving unfinished jobs back to the queue');
      // Give back before aborting: an aborted handler fails at once, and that failure must not count.
      for (const run of unfinished) run.givenBack = true;
      await this.giveBack(unfinished.map((r) => r.delivery));
      for (const run of unfinished) run.abort.abort(new Error('worker stopped'));
    }
    // Jobs past their handler are publishing their follow-up; without an acknowledgement they would run again.
    const settling = Promise.allSettled([...this.runs].filter((r) => !r.givenBack).map((r) => r.done));
    await (timedOut ? Promise.race([settling, delay(BROKER_CALL_MS)]) : settling);
    await withTimeout(channel?.close() ?? Promise.resolve(), BROKER_CALL_MS, 'closing the channel').catch(() => undefined);
    this.o.onStopped(this);
  }

  /** Stops without finishing, acknowledging or giving back anything, as a crashed process would. For tests. */
  abandon(): void {
    this.stopped = true;
    this.consuming = false;
    for (const run of this.runs) run.givenBack = true;
    this.waiting.length = 0;
    void this.channel?.close().catch(() => undefined);
    this.o.onStopped(this);
  }

  /** Keeps a consumer open while consuming: after a channel or connection loss it subscribes again. */
  private async supervise(): Promise<void> {
    let failures = 0;
    while (this.consuming) {
      try {
        const closed = await this.subscribe();
        failures = 0;
        await closed;
      } catch (error) {
        failures += 1;
        if (this.consuming) this.o.logger.warn({ err: error }, 'AMQP consumer could not subscribe; retrying');
      }
      if (this.consuming) await delay(backoffMs(Math.max(1, failures), 100, 5_000, this.o.random));
    }
  }

  /** Opens a channel and consumes; resolves with a promise of that channel's closing. */
  private async subscribe(): Promise<Promise<void>> {
    await this.o.topology.ensure(this.o.queue);
    const channel = await this.o.connection.createChannel();
    const closed = new Promise<void>((resolve) => channel.once('close', resolve));
    channel.once('close', () => this.onChannelClosed(channel));
    this.channel = channel;
    await channel.prefetch(this.o.concurrency + this.o.prefetch);
    if (!this.consuming) {
      await channel.close().catch(() => undefined);
      return closed;
    }
    const { consumerTag } = await channel.consume(this.o.topology.mainName(this.o.queue), (message) => (message ? this.onDelivery(channel, message) : this.onCancelled(channel)), {
      noAck: false,
    });
    this.consumerTag = consumerTag;
    return closed;
  }

  /** While stopping, deliveries that beat the cancellation wait to be given back. */
  private onDelivery(channel: Channel, message: ConsumeMessage): void {
    this.waiting.push({ channel, message });
    this.pump();
  }

  /** The broker cancelled the consumer: the queue was deleted. Declare it again and resubscribe. */
  private onCancelled(channel: Channel): void {
    this.o.logger.warn('AMQP consumer cancelled by the broker; subscribing again');
    this.o.topology.forget(this.o.topology.mainName(this.o.queue));
    void channel.close().catch(() => undefined);
  }

  private onChannelClosed(channel: Channel): void {
    this.closedChannels.add(channel);
    if (this.channel === channel) {
      this.channel = undefined;
      this.consumerTag = undefined;
    }
    // Unacknowledged messages of a closed channel are back in the queue already.
    const kept = this.waiting.filter((d) => d.channel !== channel);
    for (const { message } of this.waiting.filter((d) => d.channel === channel)) {
      const id = message.properties.messageId as unknown;
      if (typeof id !== 'string' || message.fields.redelivered) continue;
      this.neverStarted.add(id);
      setTimeout(() => this.neverStarted.delete(id), HANDOVER_MS).unref();
    }
    this.waiting.splice(0, this.waiting.length, ...kept);
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.runs.size < this.o.concurrency && this.waiting.length > 0) {
      const delivery = this.waiting.shift()!;
      const run: Run = { delivery, abort: new AbortController(), inHandler: true, givenBack: false, done: Promise.resolve() };
      this.runs.add(run);
      run.done = this.process(run).finally(() => {
        this.runs.delete(run);
        this.pump();
      });
    }
  }

  private async process(run: Run): Promise<void> {
    const { message } = run.delivery;
    let job: JobMessage;
    try {
      job = decodeJob(message);
    } catch (error) {
      run.inHandler = false;
      await this.parkUndecodable(run, error);
      return;
    }
    try {
      await this.handle(run, job);
    } catch (error) {
      this.o.logger.error({ err: error, jobId: job.id }, 'could not record the job outcome; the message goes back to the queue');
      this.nack(run.delivery);
    }
  }

  private async handle(run: Run, job: JobMessage): Promise<void> {
    if (job.availableAt > this.o.clock.now()) {
      run.inHandler = false;
      await this.o.router.toReady(this.o.queue, job);
      this.ack(run.delivery, job);
      return;
    }
    if (run.delivery.message.fields.redelivered && !this.neverStarted.delete(job.id)) {
      const local = this.outcomes.get(job.id);
      if (local) {
        this.outcomes.delete(job.id);
        const outcome = await local;
        if (run.givenBack) return;
        run.inHandler = false;
        await this.apply(run, job, outcome);
        return;
      }
      run.inHandler = false;
      await this.recoverRedelivered(run, job);
      return;
    }
    const outcome = runHandler(job, { ...this.o, signal: run.abort.signal });
    this.outcomes.set(job.id, outcome);
    const result = await outcome;
    run.inHandler = false;
    if (run.givenBack) {
      this.forgetOutcome(job.id, outcome);
      return;
    }
    if (this.closedChannels.has(run.delivery.channel)) {
      // The broker redelivers this message; if it comes back here, it takes this outcome over.
      setTimeout(() => this.forgetOutcome(job.id, outcome), HANDOVER_MS).unref();
      return;
    }
    this.forgetOutcome(job.id, outcome);
    await this.apply(run, job, result);
  }

  /** The consumer of the previous delivery stopped before acknowledging it: that attempt is used. */
  private async recoverRedelivered(run: Run, job: JobMessage): Promise<void> {
    const attempts = job.attempts + 1;
    if (attempts >= job.maxAttempts) {
      this.o.logger.warn({ jobId: job.id, attempts }, 'the worker of the last attempt stopped before finishing; parked');
      await this.apply(run, job, { kind: 'park', attempts, reason: LAST_ATTEMPT_LOST });
      return;
    }
    // Republished with the attempt counted, so that a job that keeps killing its worker runs out of attempts.
    await this.o.router.toReady(this.o.queue, { ...job, attempts, lastError: ATTEMPT_LOST, availableAt: 0 });
    this.ack(run.delivery, job);
  }

  private async apply(run: Run, job: JobMessage, outcome: Outcome): Promise<void> {
    const now = this.o.clock.now();
    switch (outcome.kind) {
      case 'completed':
        // Before the acknowledgement: a key released too early allows a duplicate, one never released blocks enqueues.
        await this.o.dedupe.release(this.o.queue, job.dedupeKey, job.id).catch((error: unknown) => {
          this.o.logger.error({ err: error, jobId: job.id }, 'could not release the dedupe key; it expires with its TTL');
        });
        break;
      case 'retry':
        await this.o.router.toReady(this.o.queue, { ...job, attempts: outcome.attempts, lastError: outcome.reason, availableAt: now + outcome.delayMs });
        break;
      case 'park':
        await this.o.router.toParked(this.o.queue, { ...job, attempts: outcome.attempts, lastError: outcome.reason, parkedAt: now });
        break;
      case 'settled':
        break;
    }
    this.ack(run.delivery, job);
    if (outcome.kind === 'park') await this.notifyParked(job, outcome.attempts, outcome.reason);
  }

  private async notifyParked(job: JobMessage, attempts: number, reason: string): Promise<void> {
    if (!this.o.onParked) return;
    const notice = { id: job.id, queue: this.o.queue, attempts, maxAttempts: job.maxAttempts, reason };
    await this.o.onParked(job.payload, notice).catch((error: unknown) => {
      this.o.logger.error({ err: error, jobId: job.id }, 'the parked-job callback failed');
    });
  }

  private async parkUndecodable(run: Run, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      const id = await this.o.router.undecodableToParked(this.o.queue, run.delivery.message, reason);
      this.o.logger.error({ jobId: id, reason }, 'undecodable message parked');
      this.ack(run.delivery);
    } catch (parkError) {
      this.o.logger.error({ err: parkError }, 'could not park an undecodable message; it goes back to the queue');
      this.nack(run.delivery);
    }
  }

  /** Back to the queue without counting an attempt: republished as it was, then acknowledged. */
  private async giveBack(deliveries: Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      if (this.closedChannels.has(delivery.channel)) continue;
      let job: JobMessage | undefined;
      try {
        job = decodeJob(delivery.message);
      } catch {
        job = undefined;
      }
      // A redelivery keeps its flag only through a requeue, and so still counts its lost attempt.
      if (!job || delivery.message.fields.redelivered) {
        this.nack(delivery);
        continue;
      }
      try {
        await this.o.router.toReady(this.o.queue, job);
        this.ack(delivery, job);
      } catch (error) {
        this.o.logger.error({ err: error, jobId: job.id }, 'could not give a job back; the broker redelivers it');
        this.nack(delivery);
      }
    }
  }

  private ack(delivery: Delivery, job?: JobMessage): void {
    try {
      delivery.channel.ack(delivery.message);
    } catch {
      // The channel closed after the follow-up was published: the redelivery only needs acknowledging.
      if (job) this.handOver(job.id, { kind: 'settled' });
    }
  }

  private nack(delivery: Delivery): void {
    try {
      delivery.channel.nack(delivery.message, false, true);
    } catch {
      // Closed channel: the broker has requeued the message already.
    }
  }

  private handOver(jobId: string, outcome: Outcome): void {
    const settled = Promise.resolve(outcome);
    this.outcomes.set(jobId, settled);
    setTimeout(() => this.forgetOutcome(jobId, settled), HANDOVER_MS).unref();
  }

  private forgetOutcome(jobId: string, outcome: Promise<Outcome>): void {
    if (this.outcomes.get(jobId) === outcome) this.outcomes.delete(jobId);
  }
}

function priorityOf(message: ConsumeMessage): Priority {
  const priority = message.properties.priority as Priority | undefined;
  return priority !== undefined && PRIORITIES.includes(priority) ? priority : DEFAULT_PRIORITY;
}
