import type { Channel, GetMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { ParkedJob } from '../queue.js';
import type { AmqpConnection } from './amqp-connection.js';
import type { AmqpDedupe } from './amqp-dedupe.js';
import { decodeJob, parkedView } from './amqp-message.js';
import type { AmqpRouter } from './amqp-router.js';
import { withTimeout } from './amqp-timing.js';
import type { AmqpTopology } from './amqp-topology.js';

export interface AmqpParkedOptions {
  connection: AmqpConnection;
  topology: AmqpTopology;
  router: AmqpRouter;
  dedupe: AmqpDedupe;
  logger: Logger;
  operationTimeoutMs: number;
}

/**
 * Operator work on `<queue>.parked` over AMQP alone (no management API). Messages are read with
 * basic.get without acknowledging them, on a channel of their own; closing that channel puts every
 * message not taken back in its place. While a scan holds messages, other scans and the parked count
 * do not see them. Lists are oldest first, the order of the queue.
 */
export class AmqpParked {
  /** One scan per queue at a time in this process, so that concurrent operator calls see every message. */
  private readonly scans = new Map<string, Promise<void>>();

  constructor(private readonly o: AmqpParkedOptions) {}

  async list(queue: string, limit: number, offset: number): Promise<ParkedJob[]> {
    const seen: GetMessage[] = [];
    await this.scan(queue, async (message) => {
      seen.push(message);
      return seen.length < offset + limit;
    });
    return seen.slice(offset, offset + limit).map((message) => parkedView(queue, message));
  }

  /** Republishes matching jobs to the queue with fresh attempts, each confirmed before it leaves parked. */
  async retry(queue: string, ids: string[] | 'all'): Promise<number> {
    if (ids !== 'all' && ids.length === 0) return 0;
    const wanted = ids === 'all' ? undefined : new Set(ids);
    let moved = 0;
    await this.scan(queue, async (message, channel) => {
      const id = message.properties.messageId as string | undefined;
      if (wanted && (id === undefined || !wanted.has(id))) return true;
      let job;
      try {
        job = decodeJob(message);
      } catch (error) {
        this.o.logger.warn({ err: error, jobId: id }, 'an undecodable parked message cannot be re-run; left parked');
        return true;
      }
      await this.o.router.toReadyNow(queue, { ...job, attempts: 0, parkedAt: null });
      channel.ack(message);
      moved += 1;
      wanted?.delete(job.id);
      return wanted === undefined || wanted.size > 0;
    });
    return moved;
  }

  /** Deletes the given parked jobs, or all of them, releasing their dedupe keys. */
  async purge(queue: string, ids?: string[]): Promise<number> {
    if (ids?.length === 0) return 0;
    if (ids === undefined && !this.o.dedupe.enabled) {
      await this.o.topology.ensure(queue);
      const { messageCount } = await this.o.connection.withChannel('purging parked jobs', (channel) => channel.purgeQueue(this.o.topology.parkedName(queue)), this.o.operationTimeoutMs);
      return messageCount;
    }
    const wanted = ids === undefined ? undefined : new Set(ids);
    let purged = 0;
    await this.scan(queue, async (message, channel) => {
      const id = message.properties.messageId as string | undefined;
      if (wanted && (id === undefined || !wanted.has(id))) return true;
      const job = decodeOrUndefined(message);
      if (job) await this.o.dedupe.release(queue, job.dedupeKey, job.id);
      channel.ack(message);
      purged += 1;
      if (id !== undefined) wanted?.delete(id);
      return wanted === undefined || wanted.size > 0;
    });
    return purged;
  }

  /** Visits parked messages in queue order while `visit` returns true; the ones not acknowledged go back. */
  private async scan(queue: string, visit: (message: GetMessage, channel: Channel) => Promise<boolean>): Promise<void> {
    const previous = this.scans.get(queue) ?? Promise.resolve();
    const current = previous.then(() => this.scanAlone(queue, visit));
    const settled = current.catch(() => undefined);
    this.scans.set(queue, settled);
    void settled.then(() => {
      if (this.scans.get(queue) === settled) this.scans.delete(queue);
    });
    return current;
  }

  private async scanAlone(queue: string, visit: (message: GetMessage, channel: Channel) => Promise<boolean>): Promise<void> {
    await this.o.topology.ensure(queue);
    const channel = await withTimeout(this.o.connection.createChannel(), this.o.operationTimeoutMs, 'opening an AMQP channel');
    try {
      for (;;) {
        const message = await withTimeout(channel.get(this.o.topology.parkedName(queue), { noAck: false }), this.o.operationTimeoutMs, 'reading parked jobs').catch(
          (error: unknown) => {
            this.o.topology.forgetIfMissing(queue, error);
            throw error;
          },
        );
        if (message === false || !(await visit(message, channel))) return;
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
}

function decodeOrUndefined(message: GetMessage) {
  try {
    return decodeJob(message);
  } catch {
    return undefined;
  }
}
