import type { Store } from '../../store/store.js';

/**
 * RabbitMQ cannot find a message by a key, so dedupe keys live in the key-value store: an
 * enqueue takes `<queue>:<key>` with set-if-absent and holds it, with the job's id as value,
 * while the job is live (ready, delayed, running or parked, as a `jobs` row holds it in the
 * database driver). Completion and purging release it; the TTL frees a key whose job vanished
 * outside the driver (a queue deleted by hand).
 */
export class AmqpDedupe {
  constructor(
    private readonly store: Store | undefined,
    private readonly ttlMs: number,
  ) {}

  get enabled(): boolean {
    return this.store !== undefined;
  }

  /** True when the job may be published: no key, or this job now holds it. */
  async claim(queue: string, dedupeKey: string | undefined, jobId: string): Promise<boolean> {
    if (dedupeKey === undefined) return true;
    if (!this.store) throw new Error(`enqueue on "${queue}" with a dedupeKey needs the AMQP queue driver to be given a store`);
    return this.store.setIfAbsent(storeKey(queue, dedupeKey), jobId, this.ttlMs);
  }

  async release(queue: string, dedupeKey: string | null, jobId: string): Promise<void> {
    if (dedupeKey === null || !this.store) return;
    await this.store.deleteIfValue(storeKey(queue, dedupeKey), jobId);
  }
}

function storeKey(queue: string, dedupeKey: string): string {
  return `queue-dedupe:${queue}:${dedupeKey}`;
}
