import { randomUUID } from 'node:crypto';
import type { Message } from 'amqplib';
import type { Clock } from '../../clock.js';
import { publishOptions, undecodableParkOptions, type JobMessage } from './amqp-message.js';
import type { AmqpPublisher } from './amqp-publisher.js';
import type { AmqpTopology } from './amqp-topology.js';

/** Every confirmed publish of a job: to its queue (through a retry tier while it must wait) or to parked. */
export class AmqpRouter {
  constructor(
    private readonly publisher: AmqpPublisher,
    private readonly topology: AmqpTopology,
    private readonly clock: Clock,
  ) {}

  async toReady(queue: string, job: JobMessage): Promise<void> {
    await this.topology.ensure(queue);
    await this.publisher.publish(this.topology.route(queue, job.availableAt, this.clock.now()), job.body, publishOptions(job));
  }

  /** Back to its queue, ready from now on: a re-run or a redelivery, whose wait for a worker starts now. */
  async toReadyNow(queue: string, job: JobMessage): Promise<void> {
    await this.toReady(queue, { ...job, availableAt: this.clock.now() });
  }

  async toParked(queue: string, job: JobMessage): Promise<void> {
    await this.topology.ensure(queue);
    await this.publisher.publish(this.topology.parkedName(queue), job.body, publishOptions(job));
  }

  /** Parks a message this driver cannot read, body and headers as they came; returns the id it is parked under. */
  async undecodableToParked(queue: string, message: Message, reason: string): Promise<string> {
    await this.topology.ensure(queue);
    const given = message.properties.messageId as unknown;
    const id = typeof given === 'string' && given.length > 0 ? given : randomUUID();
    await this.publisher.publish(this.topology.parkedName(queue), message.content, undecodableParkOptions(message, id, reason, this.clock.now()));
    return id;
  }
}
