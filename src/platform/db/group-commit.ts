import type { Kysely } from 'kysely';
import { runHooks, takeCommitHooks, trackCommitHooks } from './commit-hooks.js';
import type { Executor, TransactionOptions, TransactionWork } from './database.js';

interface Unit {
  work: TransactionWork<unknown>;
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Runs `commit` (a whole transaction) with the disk flush at commit skipped. */
export type WithoutFlush = <T>(commit: () => Promise<T>) => Promise<T>;

/**
 * Commits the transactions of concurrent callers together: units submitted while a batch is
 * being written form the next batch, which is one database transaction and one commit (one
 * fsync). Each caller's promise settles only after the commit that holds its writes.
 *
 * A unit must only touch the database through `trx`: when any unit of a batch fails, the batch
 * is rolled back and every unit is re-run in a transaction of its own, so that only the failing
 * unit sees its error.
 *
 * Units submitted with `durable: false` are batched only with each other and committed through
 * `withoutFlush`: work that can be redone does not wait for the disk, and the next durable
 * commit flushes it too.
 */
export class GroupCommit {
  private pending: Unit[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<any>,
    private readonly maxBatch = 512,
    private readonly withoutFlush?: WithoutFlush,
  ) {}

  run<T>(work: TransactionWork<T>, options: TransactionOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, durable: options.durable ?? true, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.nextBatch();
        if (batch[0]!.durable || !this.withoutFlush) await this.commit(batch);
        else {
          // Callers hear back only once the connection is durable again, so that nothing they do
          // next outside this queue can commit without its flush.
          const outcomes: Array<() => void> = [];
          const held = batch.map((unit) => ({
            ...unit,
            resolve: (value: unknown) => void outcomes.push(() => unit.resolve(value)),
            reject: (error: unknown) => void outcomes.push(() => unit.reject(error)),
          }));
          try {
            await this.withoutFlush(() => this.commit(held));
          } catch (error) {
            if (outcomes.length === 0) for (const unit of batch) outcomes.push(() => unit.reject(error));
          }
          for (const settle of outcomes) settle();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private commit(batch: Unit[]): Promise<void> {
    return batch.length === 1 ? this.commitAlone(batch[0]!) : this.commitTogether(batch);
  }

  /** The units at the head of the queue that share the first one's durability, up to `maxBatch`. */
  private nextBatch(): Unit[] {
    const durable = this.pending[0]!.durable;
    const end = this.pending.findIndex((unit, i) => i >= this.maxBatch || unit.durable !== durable);
    return this.pending.splice(0, end === -1 ? this.pending.length : end);
  }

  private async commitTogether(batch: Unit[]): Promise<void> {
    let results: unknown[];
    let hooks: Array<() => void> = [];
    try {
      results = await this.db.transaction().execute(async (trx) => {
        trackCommitHooks(trx);
        const out: unknown[] = [];
        for (const unit of batch) out.push(await unit.work(trx));
        hooks = takeCommitHooks(trx);
        return out;
      });
    } catch {
      for (const unit of batch) await this.commitAlone(unit);
      return;
    }
    runHooks(hooks);
    batch.forEach((unit, i) => unit.resolve(results[i]));
  }

  private async commitAlone(unit: Unit): Promise<void> {
    try {
      unit.resolve(await runTransaction(this.db, unit.work));
    } catch (error) {
      unit.reject(error);
    }
  }
}

export async function runTransaction<T>(db: Kysely<any>, work: TransactionWork<T>): Promise<T> {
  let hooks: Array<() => void> = [];
  const result = await db.transaction().execute(async (trx: Executor) => {
    trackCommitHooks(trx);
    try {
      return await work(trx);
    } finally {
      hooks = takeCommitHooks(trx);
    }
  });
  runHooks(hooks);
  return result;
}
