import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { Clock, Random } from '../../clock.js';
import type { JobOutcomePolicy } from '../job-outcome.js';
import { captureContext, withContext } from '../../telemetry/tracing.js';
import { DEFAULT_PRIORITY, PRIORITIES, type JobHandler, type Priority, type Worker } from '../queue.js';
import type { AmqpConnection } from './amqp-connection.js';
import type { AmqpDedupe } from './amqp-dedupe.js';
import { AmqpHandover } from './amqp-handover.js';
import { decodeJob, type JobMessage } from './amqp-message.js';
import { runHandler } from './amqp-outcome.js';
import type { AmqpRouter } from './amqp-router.js';
import { AmqpSettler, type Delivery } from './amqp-settler.js';
import { backoffMs, delay, withTimeout } from './amqp-timing.js';
import type { AmqpTopology } from './amqp-topology.js';
import { StopDeadline } from '../stop-deadline.js';

export interface AmqpWorkerOptions {
  queue: string;
  handler: JobHandler;
  concurrency: number;
  prefetch: number;
  /** Decides between a retry and parking, and tells the job type's owner of a parked job. */
  outcomes: JobOutcomePolicy;
  connection: AmqpConnection;
  topology: AmqpTopology;
  router: AmqpRouter;
  dedupe: AmqpDedupe;
  logger: Logger;
  clock: Clock;
  random: Random;
  onStopped: (worker: AmqpWorker) => void;
}

interface Run {
  delivery: Delivery;
  abort: AbortController;
  /** True until the handler returned; only then may stop() still give the job back. */
  inHandler: boolean;
  givenBack: boolean;
  done: Promise<void>;
}

/** Bound on a broker call or a follow-up during shutdown, should the connection hang. */
const BROKER_CALL_MS = 5_000;

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
  /** Between `suspend` and `resume`: no consumer, while the channel stays open for the running jobs' acknowledgements. */
  private suspended = false;
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private readonly closedChannels = new WeakSet<Channel>();
  /** Delivered, not started (the prefetch). */
  private readonly waiting: Array<Delivery & { context?: ReturnType<typeof captureContext> }> = [];
  private readonly runs = new Set<Run>();
  private readonly handover = new AmqpHandover();
  private readonly settler: AmqpSettler;
  private stopping: Promise<void> | undefined;
  private deadline: StopDeadline | undefined;

  constructor(private readonly o: AmqpWorkerOptions) {
    this.settler = new AmqpSettler({ ...o, handover: this.handover, isClosed: (channel) => this.closedChannels.has(channel) });
  }

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

  /**
   * A second call while stopping (a second Ctrl-C) brings the deadline closer and waits for the
   * same stop: `stop(0)` gives the running jobs back at once. Whatever is not given back when the
   * process exits, the broker requeues as it closes the channel.
   */
  stop(deadlineMs = 30_000): Promise<void> {
    if (this.stopping) {
      this.deadline?.shorten(deadlineMs);
      return this.stopping;
    }
    if (this.stopped) return Promise.resolve();
    this.deadline = new StopDeadline(deadlineMs);
    this.stopping = this.drain(this.deadline);
    return this.stopping;
  }

  suspend(): void {
    if (this.stopped || this.suspended) return;
    this.suspended = true;
    const { channel, consumerTag } = this;
    this.consumerTag = undefined;
    // Deliveries that beat the cancellation are given back as they arrive (onDelivery).
    if (channel && consumerTag) void withTimeout(channel.cancel(consumerTag), BROKER_CALL_MS, 'cancelling the consumer').catch(() => undefined);
    void this.settler.giveBack(this.waiting.splice(0));
  }

  resume(): void {
    if (this.stopped || !this.suspended) return;
    this.suspended = false;
    const channel = this.channel;
    if (!channel || this.consumerTag) return;
    // Failing, the channel closes, and the supervisor subscribes again.
    this.consume(channel).catch((error: unknown) => this.o.logger.warn({ err: error }, 'AMQP consumer could not resume; subscribing again'));
  }

  private async drain(deadline: StopDeadline): Promise<void> {
    this.stopped = true;
    this.consuming = false;
    // A subscription still waiting for the connection sees `consuming` false and closes its channel.
    const channel = this.channel;
    if (channel && this.consumerTag) await withTimeout(channel.cancel(this.consumerTag), BROKER_CALL_MS, 'cancelling the consumer').catch(() => undefined);
    await this.settler.giveBack(this.waiting.splice(0));
    const settled = Promise.allSettled([...this.runs].map((r) => r.done));
    const timedOut = await Promise.race([settled.then(() => false), deadline.reached]);
    deadline.clear();
    const unfinished = [...this.runs].filter((r) => r.inHandler);
    if (timedOut && unfinished.length > 0) {
      this.o.logger.warn({ jobs: unfinished.length }, 'shutdown deadline reached; giving unfinished jobs back to the queue');
      // Give back before aborting: an aborted handler fails at once, and that failure must not count.
      for (const run of unfinished) run.givenBack = true;
      await this.settler.giveBack(unfinished.map((r) => r.delivery));
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
    if (!this.suspended) await this.consume(channel);
    return closed;
  }

  private async consume(channel: Channel): Promise<void> {
    const { consumerTag } = await channel.consume(this.o.topology.mainName(this.o.queue), (message) => (message ? this.onDelivery(channel, message) : this.onCancelled(channel)), {
      noAck: false,
    });
    if (this.suspended || this.channel !== channel) {
      await channel.cancel(consumerTag).catch(() => undefined);
      return;
    }
    this.consumerTag = consumerTag;
  }

  /** While stopping, deliveries that beat the cancellation wait to be given back. */
  private onDelivery(channel: Channel, message: ConsumeMessage): void {
    if (this.suspended) {
      void this.settler.giveBack([{ channel, message }]);
      return;
    }
    // A prefetched message starts when another job frees its slot: it runs in its own delivery's context, not that job's.
    this.waiting.push({ channel, message, context: captureContext() });
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
    for (const { message } of this.waiting.filter((d) => d.channel === channel)) this.handover.notStarted(message);
    this.waiting.splice(0, this.waiting.length, ...kept);
  }

  private pump(): void {
    if (this.stopped || this.suspended) return;
    while (this.runs.size < this.o.concurrency && this.waiting.length > 0) {
      const delivery = this.waiting.shift()!;
      const run: Run = { delivery, abort: new AbortController(), inHandler: true, givenBack: false, done: Promise.resolve() };
      this.runs.add(run);
      run.done = withContext(delivery.context, () => this.process(run)).finally(() => {
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
      await this.settler.parkUndecodable(run.delivery, error);
      return;
    }
    try {
      await this.handle(run, job);
    } catch (error) {
      this.o.logger.error({ err: error, jobId: job.id }, 'could not record the job outcome; the message goes back to the queue');
      this.settler.nack(run.delivery);
    }
  }

  private async handle(run: Run, job: JobMessage): Promise<void> {
    if (job.availableAt > this.o.clock.now()) {
      run.inHandler = false;
      await this.o.router.toReady(this.o.queue, job);
      this.settler.ack(run.delivery, job);
      return;
    }
    const known = run.delivery.message.fields.redelivered ? this.handover.claim(job.id) : 'fresh';
    if (known !== 'fresh') {
      const outcome = known && (await known);
      if (run.givenBack) return;
      run.inHandler = false;
      await (outcome ? this.settler.apply(run.delivery, job, outcome) : this.settler.recoverRedelivered(run.delivery, job));
      return;
    }
    const outcome = runHandler(job, { ...this.o, signal: run.abort.signal });
    this.handover.track(job.id, outcome);
    const result = await outcome;
    run.inHandler = false;
    if (this.closedChannels.has(run.delivery.channel) && !run.givenBack) {
      // The broker redelivers this message; if it comes back here, it takes this outcome over.
      this.handover.keep(job.id, outcome);
      return;
    }
    this.handover.forget(job.id, outcome);
    if (!run.givenBack) await this.settler.apply(run.delivery, job, result);
  }
}

function priorityOf(message: ConsumeMessage): Priority {
  const priority = message.properties.priority as Priority | undefined;
  return priority !== undefined && PRIORITIES.includes(priority) ? priority : DEFAULT_PRIORITY;
}
