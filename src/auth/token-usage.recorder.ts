import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { touchTokens, type TokenUse } from './tokens.repository.js';

/** A token's `last_used_at` is written at most once per this interval. */
export const TOKEN_USE_INTERVAL_MS = 60_000;
const FLUSH_EVERY_MS = 10_000;
const USES_PER_STATEMENT = 1_000;

export interface TokenUsageDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
}

export interface TokenUsageOptions {
  intervalMs?: number;
  /** How often pending uses are written; 0: only by `flush()` and `close()`. */
  flushEveryMs?: number;
}

/**
 * Records when tokens were last used, off the request path: `record` only remembers the latest use
 * of each token, and a timer writes them all with one statement. A token whose use was written
 * less than `intervalMs` before is not written again. A failed write is logged and tried again at
 * the next flush; no request ever waits for one.
 */
export class TokenUsageRecorder {
  /** The latest use not yet written, by token id. */
  private readonly pending = new Map<number, number>();
  /** The last use written (by this process, or as read from the token's row), while it is recent. */
  private readonly written = new Map<number, number>();
  private readonly intervalMs: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly deps: TokenUsageDeps,
    options: TokenUsageOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? TOKEN_USE_INTERVAL_MS;
    const every = options.flushEveryMs ?? FLUSH_EVERY_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.flush(), every);
      this.timer.unref();
    }
  }

  /** Tokens with a use waiting to be written. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Notes a use of `tokenId` at `at`; `storedLastUse` is the token row's `last_used_at`, when the caller read it. */
  record(tokenId: number, at: number, storedLastUse?: number | null): void {
    if (storedLastUse !== undefined && storedLastUse !== null) this.noteWritten(tokenId, storedLastUse);
    const written = this.written.get(tokenId);
    if (written !== undefined && at - written < this.intervalMs) return;
    const pending = this.pending.get(tokenId);
    if (pending === undefined || at > pending) this.pending.set(tokenId, at);
  }

  /** A revoked token: nothing more to write for it. */
  forget(tokenId: number): void {
    this.pending.delete(tokenId);
    this.written.delete(tokenId);
  }

  /** Writes the pending uses; never rejects. Flushes run one after another. */
  flush(): Promise<void> {
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writePending());
    this.flushing = run;
    void run.then(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writePending(): Promise<void> {
    this.forgetOldWrites();
    if (this.pending.size === 0) return;
    const uses: TokenUse[] = [...this.pending].map(([id, at]) => ({ id, at }));
    this.pending.clear();
    try {
      for (let i = 0; i < uses.length; i += USES_PER_STATEMENT) {
        const chunk = uses.slice(i, i + USES_PER_STATEMENT);
        // Lost in a crash, a use is only a little older than it should be.
        await this.deps.database.write((db) => touchTokens(db, chunk), { durable: false });
      }
      for (const use of uses) this.noteWritten(use.id, use.at);
    } catch (error) {
      this.deps.logger.warn({ err: error, tokens: uses.length }, 'could not record token use; will try again');
      for (const use of uses) this.record(use.id, use.at);
    }
  }

  private noteWritten(tokenId: number, at: number): void {
    const known = this.written.get(tokenId);
    if (known === undefined || at > known) this.written.set(tokenId, at);
  }

  /** A write older than the interval no longer holds anything back. */
  private forgetOldWrites(): void {
    const now = this.deps.clock.now();
    for (const [id, at] of this.written) if (now - at >= this.intervalMs) this.written.delete(id);
  }
}
