import type { Database, Executor } from './database.js';

export interface WriteBatchLimits {
  /** Most items written together; 1 writes each item alone, at once. */
  maxItems: number;
  /**
   * How long the first item of a batch waits for others to join it. 0: until the event loop's
   * next turn; items that arrive while a batch is being written still form the next batch.
   */
  lingerMs: number;
  /**
   * Batches written at once, default 1. With more, a batch starts while others are being written
   * only once `maxItems` ÷ `concurrency` items wait (or the linger ends with no batch in flight),
   * so that batches stay large when the writes keep up.
   */
  concurrency?: number;
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
   * true: each batch is a `database.transaction`, for writes of several statements that must
   * commit together or hold locks until they do (`database.write` runs each statement on its own
   * on PostgreSQL and MySQL). Default false.
   */
  transaction?: boolean;
}

interface Pending<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Write-behind for small writes of concurrent callers: items submitted within `lingerMs` of each
 * other (or while the batches in flight are being written) are written together, up to `maxItems`.
 * Each caller's promise settles only after the write that holds its item has committed.
 *
 * When a batch fails, each of its items is written again alone, so that only the items that fail
 * on their own see an error.
 */
export class WriteBatcher<I, R> {
  private pending: Array<Pending<I, R>> = [];
  private cancelLinger: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly concurrency: number;
  /** Items that start a batch beside one in flight. */
  private readonly besideAt: number;

  constructor(private readonly o: WriteBatcherOptions<I, R>) {
    this.concurrency = Math.max(1, o.concurrency ?? 1);
    this.besideAt = Math.max(1, Math.ceil(o.maxItems / this.concurrency));
  }

  submit(item: I): Promise<R> {
    if (this.o.maxItems <= 1) return this.writeAlone(item);
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.inFlight.size === 0 && this.pending.length < this.o.maxItems) this.cancelLinger ??= this.linger();
      else this.startBatches(this.inFlight.size === 0 ? this.o.maxItems : this.besideAt);
    });
  }

  /** Resolves once every item submitted so far has been written (or has failed). */
  async flush(): Promise<void> {
    if (this.pending.length > 0 && this.inFlight.size === 0) this.startBatches(1);
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private linger(): () => void {
    const start = () => {
      this.cancelLinger = undefined;
      this.startBatches(1);
    };
    if (this.o.lingerMs > 0) {
      const timer = setTimeout(start, this.o.lingerMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(start);
    return () => clearImmediate(immediate);
  }

  /** Starts batches while a slot is free and at least `atLeast` items wait. */
  private startBatches(atLeast: number): void {
    while (this.inFlight.size < this.concurrency && this.pending.length >= atLeast) {
      this.cancelLinger?.();
      this.cancelLinger = undefined;
      const write: Promise<void> = this.writeBatch(this.pending.splice(0, this.o.maxItems)).finally(() => {
        this.inFlight.delete(write);
        // Items that arrived while it was written have waited long enough: they go at once.
        this.startBatches(1);
      });
      this.inFlight.add(write);
      atLeast = Math.max(atLeast, this.besideAt);
    }
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
    // A batch is a group already: grouped with others, concurrent batches would run one after the other.
    const options = { durable: this.o.durable ?? true, grouped: false };
    return this.o.transaction ? this.o.database.transaction(work, options) : this.o.database.write(work, options);
  }
}
