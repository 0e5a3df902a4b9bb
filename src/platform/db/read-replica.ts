import type { Logger } from 'pino';
import type { Executor } from './database.js';
import { isConnectionError } from './errors.js';

export interface ReplicaStatus {
  configured: boolean;
  /** False while reads go to the primary because the replica could not be reached. */
  healthy: boolean;
  /** Reads that fell back to the primary since start. */
  fallbacks: number;
}

/**
 * Sends reads that may be stale to a replica. When the replica cannot be reached, the read is
 * run on the primary instead, and the replica is left alone for `retryAfterMs` before it is tried
 * again; each change of state is logged once.
 */
export class ReadReplica {
  private downUntil = 0;
  private fallbacks = 0;

  constructor(
    private readonly replica: Executor,
    private readonly primary: Executor,
    private readonly logger: Logger | undefined,
    private readonly retryAfterMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  async read<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    if (this.now() < this.downUntil) return this.onPrimary(work);
    try {
      const result = await work(this.replica);
      if (this.downUntil !== 0) {
        this.downUntil = 0;
        this.logger?.info('read replica reachable again; stale reads go back to it');
      }
      return result;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      if (this.downUntil === 0) this.logger?.warn({ err: error, retryAfterMs: this.retryAfterMs }, 'read replica unreachable; reading from the primary');
      this.downUntil = this.now() + this.retryAfterMs;
      return this.onPrimary(work);
    }
  }

  status(): ReplicaStatus {
    return { configured: true, healthy: this.downUntil === 0, fallbacks: this.fallbacks };
  }

  private onPrimary<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    this.fallbacks++;
    return work(this.primary);
  }
}
