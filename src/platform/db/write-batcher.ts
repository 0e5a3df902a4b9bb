import type { Database, Executor } from './database.js';

export interface WriteBatchLimits {
  /** Most items written together; 1 writes each item alone, at once. */
  maxItems: number;
  /**
   * How long the first item of a batch waits for others to join it. 0: until the event loop's
   * next turn; items that arrive while a batch is being written still form the next batch.
   */
  lingerMs: number;
  /** The longest a batch waits while its `moreComing` says more items are on their way. Default 0. */
  holdMs?: number;
}

export const DEFAULT_WRITE_BATCH: WriteBatchLimits = { maxItems: 64, lingerMs: 0 };

export interface WriteBatcherOptions<I, R> extends WriteBatchLimits {
  database: Database;
  /**
   * Writes every item (in one statement where it can) and returns each item's result, in the
   * order of `items`. It runs as one `database.write`, so it must use only `db`.
   */
  write: (db: Executor, items: I[]) => Promise<R[]>;
  /** As for `database.write`; default true. */
  durable?: boolean;
  /**
   * How many batches may be written at once; default 1. More lets a batch's round trips overlap
   * the next one's on an engine with a connection pool; a batch still never waits for another.
   */
  concurrency?: number;
  /**
   * true: each batch is a `database.transaction`, for writes of several statements that must
   * commit together or hold locks until they do (`database.write` runs each statement on its own
   * on PostgreSQL and MySQL). Default false.
   */
  transaction?: boolean;
  /**
   * True while more items are on their way (their callers are busy elsewhere and will submit
   * next): the first item of a batch then waits for them, up to `holdMs` (or `lingerMs`, if longer),
   * unless `release()` is called once nothing more is coming. Unset: only `lingerMs` applies.
   */
  moreComing?: () => boolean;
}

interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Write-behind for small writes of concurrent callers: items submitted within `lingerMs` of each
 * other (or while the previous batch is being written) are written together, up to `maxItems`, in
 * at most `concurrency` batches at once.
 * Each caller's promise settles only after the write that holds its item has committed.
 *
 * When a batch fails, each of its items is written again alone, so that only the items that fail
 * on their own see an error.
 */
export class WriteBatcher<I, R> {
  private pending: Array<Pending<I, R>> = [];
  private cancelLinger: (() => void) | undefined;
  private readonly writing = new Set<Promise<void>>();
  private readonly concurrency: number;

  constructor(private readonly o: WriteBatcherOptions<I, R>) {
    this.concurrency = Math.max(1, o.concurrency ?? 1);
  }

  submit(item: I): Promise<R> {
    if (this.o.maxItems <= 1) return this.writeAlone(item);
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.writing.size >= this.concurrency) return;
      if (this.pending.length >= this.o.maxItems) this.startWriting();
      else this.cancelLinger ??= this.linger();
    });
  }

  /** Resolves once every item submitted so far has been written (or has failed). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.pending.length > 0 && this.writing.size < this.concurrency) this.startWriting();
      if (this.writing.size === 0) return;
      await Promise.race(this.writing);
    }
  }

  /** Starts a batch that waits for items still coming, once none is. */
  release(): void {
    if (this.cancelLinger && this.writing.size < this.concurrency && !this.o.moreComing?.()) this.startWriting();
  }

  private linger(): () => void {
    const waitMs = this.o.moreComing?.() ? Math.max(this.o.lingerMs, this.o.holdMs ?? 0) : this.o.lingerMs;
    if (waitMs > 0) {
      const timer = setTimeout(() => this.startWriting(), waitMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.startWriting());
    return () => clearImmediate(immediate);
  }

  /**
   * Writes the next batch, and more at once while slots are free and a whole batch waits; what is
   * left waits for a free slot, lingering if one is free.
   */
  private startWriting(): void {
    this.cancelLinger?.();
    this.cancelLinger = undefined;
    while (this.pending.length > 0 && this.writing.size < this.concurrency) {
      const written: Promise<void> = this.writeBatch(this.pending.splice(0, this.o.maxItems)).finally(() => {
        this.writing.delete(written);
        // Items that arrived while batches were written have waited long enough: they go next, at once.
        if (this.pending.length > 0 && this.writing.size < this.concurrency) this.startWriting();
      });
      this.writing.add(written);
      if (this.pending.length < this.o.maxItems) break;
    }
    if (this.pending.length > 0 && this.writing.size < this.concurrency) this.cancelLinger = this.linger();
  }

  private async writeBatch(batch: Array<Pending<I, R>>): Promise<void> {
    if (batch.length === 1) {
      const [one] = batch;
      await this.writeAlone(one!.item).then(one!.resolve, one!.reject);
      return;
    }
    let results: R[];
    try {
      results = await this.run((db) => this.o.write(db, batch.map((p) => p.item)));
    } catch {
      await Promise.all(batch.map((p) => this.writeAlone(p.item).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => p.resolve(results[i]!));
  }

  private async writeAlone(item: I): Promise<R> {
    const [result] = await this.run((db) => this.o.write(db, [item]));
    return result!;
  }

  private run(work: (db: Executor) => Promise<R[]>): Promise<R[]> {
    const options = { durable: this.o.durable ?? true };
    return this.o.transaction ? this.o.database.transaction(work, options) : this.o.database.write(work, options);
  }
}
