import type { Kysely } from 'kysely';
import { runHooks, takeCommitHooks, trackCommitHooks } from './commit-hooks.js';
import type { Executor, TransactionWork } from './database.js';

interface Unit {
  work: TransactionWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Commits the transactions of concurrent callers together: units submitted while a batch is
 * being written form the next batch, which is one database transaction and one commit (one
 * fsync). Each caller's promise settles only after the commit that holds its writes.
 *
 * A unit must only touch the database through `trx`: when any unit of a batch fails, the batch
 * is rolled back and every unit is re-run in a transaction of its own, so that only the failing
 * unit sees its error.
 */
export class GroupCommit {
  private pending: Unit[] = [];
  private draining = false;

  constructor(
    private readonly db: Kysely<any>,
    private readonly maxBatch = 512,
  ) {}

  run<T>(work: TransactionWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        if (batch.length === 1) await this.commitAlone(batch[0]!);
        else await this.commitTogether(batch);
      }
    } finally {
      this.draining = false;
    }
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
