import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from './store.js';

/** Who holds a lease, as the lock's value tells it. */
export interface LeaseHolder {
  /** `host:pid` of the process that took it. */
  holder: string;
  /** When it was taken (epoch ms). */
  since: number;
}

interface LeaseValue extends LeaseHolder {
  token: string;
}

export interface LeaseOptions {
  ttlMs: number;
  clock: Clock;
  logger: Logger;
}

/**
 * A lock in the store that lives only as long as its holder: it is taken for `ttlMs` and renewed
 * every third of that while the holder runs. A holder killed outright leaves it for at most one
 * `ttlMs`; a holder that can no longer renew it (another took it, or the store stayed out of reach
 * for a whole `ttlMs`) is told through `lost`, and must stop.
 */
export class Lease {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private renewedAt: number;
  private released = false;

  private constructor(
    private readonly store: Store,
    private readonly key: string,
    private readonly value: string,
    private readonly options: LeaseOptions,
  ) {
    this.renewedAt = options.clock.now();
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(options.ttlMs / 3)));
    this.timer.unref();
  }

  /** Takes the lease, or says who holds it (null when it was released in between). */
  static async acquire(store: Store, key: string, options: LeaseOptions): Promise<{ lease: Lease } | { heldBy: LeaseHolder | null }> {
    const value: LeaseValue = { token: randomUUID(), holder: `${hostname()}:${process.pid}`, since: options.clock.now() };
    const text = JSON.stringify(value);
    if (await store.setIfAbsent(key, text, options.ttlMs)) return { lease: new Lease(store, key, text, options) };
    return { heldBy: await readLease(store, key) };
  }

  /** Aborted when the lease is lost while held. */
  get lost(): AbortSignal {
    return this.controller.signal;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.store.deleteIfValue(this.key, this.value).catch((error: unknown) => {
      this.options.logger.warn({ err: error, key: this.key }, 'could not release a lease; it expires by itself');
    });
  }

  private async renew(): Promise<void> {
    if (this.released || this.controller.signal.aborted) return;
    try {
      if (await this.store.extendIfValue(this.key, this.value, this.options.ttlMs)) {
        this.renewedAt = this.options.clock.now();
        return;
      }
      this.lose(`the lease ${this.key} was taken over or expired`);
    } catch (error) {
      if (this.options.clock.now() - this.renewedAt < this.options.ttlMs) return;
      this.lose(`the lease ${this.key} could not be renewed for ${this.options.ttlMs} ms: ${(error as Error).message}`);
    }
  }

  private lose(reason: string): void {
    if (this.released) return;
    clearInterval(this.timer);
    this.options.logger.error({ key: this.key }, reason);
    this.controller.abort(new Error(reason));
  }
}

/** Who holds the lease under `key`, or null when nobody does. */
export async function readLease(store: Store, key: string): Promise<LeaseHolder | null> {
  const text = await store.get(key);
  if (text === null) return null;
  try {
    const { holder, since } = JSON.parse(text) as Partial<LeaseValue>;
    return { holder: typeof holder === 'string' ? holder : 'unknown', since: typeof since === 'number' ? since : 0 };
  } catch {
    return { holder: 'unknown', since: 0 };
  }
}

/** `host:pid since 2026-12-03T02:00:00.000Z`, for a refusal. */
export function describeHolder(holder: LeaseHolder): string {
  return `held by ${holder.holder} since ${new Date(holder.since).toISOString()}`;
}
