import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { JobOutcomePolicy } from '../job-outcome.js';
import type { AmqpDedupe } from './amqp-dedupe.js';
import type { AmqpHandover } from './amqp-handover.js';
import { decodeJob, type JobMessage } from './amqp-message.js';
import type { Outcome } from './amqp-outcome.js';
import type { AmqpRouter } from './amqp-router.js';

export interface Delivery {
  message: ConsumeMessage;
  /** The channel it came on: the only one that can acknowledge it. */
  channel: Channel;
}

export interface AmqpSettlerOptions {
  queue: string;
  router: AmqpRouter;
  dedupe: AmqpDedupe;
  handover: AmqpHandover;
  logger: Logger;
  clock: Clock;
  outcomes: JobOutcomePolicy;
  isClosed: (channel: Channel) => boolean;
}

const LAST_ATTEMPT_LOST = 'lease expired: the worker stopped during the last attempt without acknowledging it';
const ATTEMPT_LOST = 'lease expired: the worker stopped during the job without acknowledging it';

/**
 * Ends a worker's deliveries: publishes the follow-up an outcome needs (the retry, the parked
 * copy, the job given back), waits for the broker to confirm it, and only then acknowledges.
 */
export class AmqpSettler {
  constructor(private readonly o: AmqpSettlerOptions) {}

  /** The consumer of the previous delivery stopped before acknowledging it: that attempt is used. */
  async recoverRedelivered(delivery: Delivery, job: JobMessage): Promise<void> {
    const attempts = job.attempts + 1;
    if (attempts >= job.maxAttempts) {
      this.o.logger.warn({ jobId: job.id, attempts }, 'the worker of the last attempt stopped before finishing; parked');
      await this.apply(delivery, job, { kind: 'park', attempts, reason: LAST_ATTEMPT_LOST });
      return;
    }
    // Republished with the attempt counted, so that a job that keeps killing its worker runs out of attempts.
    await this.o.router.toReadyNow(this.o.queue, { ...job, attempts, lastError: ATTEMPT_LOST });
    this.ack(delivery, job);
  }

  async apply(delivery: Delivery, job: JobMessage, outcome: Outcome): Promise<void> {
    const now = this.o.clock.now();
    switch (outcome.kind) {
      case 'completed':
        // Before the acknowledgement: a key released too early allows a duplicate, one never released blocks enqueues.
        await this.o.dedupe.release(this.o.queue, job.dedupeKey, job.id).catch((error: unknown) => {
          this.o.logger.error({ err: error, jobId: job.id }, 'could not release the dedupe key; it expires with its TTL');
        });
        break;
      case 'retry':
        await this.o.router.toReady(this.o.queue, { ...job, attempts: outcome.attempts, lastError: outcome.reason, availableAt: outcome.availableAt ?? now + outcome.delayMs });
        break;
      case 'park':
        await this.o.router.toParked(this.o.queue, { ...job, attempts: outcome.attempts, lastError: outcome.reason, parkedAt: now });
        break;
      case 'settled':
        break;
    }
    this.ack(delivery, job);
    if (outcome.kind === 'park') {
      await this.o.outcomes.notifyParked(job.payload, { id: job.id, queue: this.o.queue, attempts: outcome.attempts, maxAttempts: job.maxAttempts, reason: outcome.reason });
    }
  }

  async parkUndecodable(delivery: Delivery, error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      const id = await this.o.router.undecodableToParked(this.o.queue, delivery.message, reason);
      this.o.logger.error({ jobId: id, reason }, 'undecodable message parked');
      this.ack(delivery);
    } catch (parkError) {
      this.o.logger.error({ err: parkError }, 'could not park an undecodable message; it goes back to the queue');
      this.nack(delivery);
    }
  }

  /** Back to the queue without counting an attempt: republished as it was, then acknowledged. */
  async giveBack(deliveries: Delivery[]): Promise<void> {
    for (const delivery of deliveries) {
      if (this.o.isClosed(delivery.channel)) continue;
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

  ack(delivery: Delivery, job?: JobMessage): void {
    try {
      delivery.channel.ack(delivery.message);
    } catch {
      // The channel closed after the follow-up was published: the redelivery only needs acknowledging.
      if (job) this.o.handover.keep(job.id, Promise.resolve({ kind: 'settled' }));
    }
  }

  nack(delivery: Delivery): void {
    try {
      delivery.channel.nack(delivery.message, false, true);
    } catch {
      // Closed channel: the broker has requeued the message already.
    }
  }
}
