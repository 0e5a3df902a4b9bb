import { AsyncResource } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import { runInterleaved } from './coalesce.js';
import { runHooks, takeCommitHooks, trackCommitHooks } from './commit-hooks.js';
import type { Executor, TransactionOptions, TransactionWork } from './database.js';
import { UnavailableError } from '../unavailable.js';
import { isConnectionError } from './errors.js';

interface Unit {
  work: TransactionWork<unknown>;
  durable: boolean;
  interleave: boolean;
  /** A short write (Database.write): it may ride along in a durable batch. */
  short: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs `commit` (a whole transaction) with the disk flush at commit skipped. It may hand `commit`
 * a connection pinned for the whole call, on which `commit` must then run its transaction.
 */
export type WithoutFlush = <T>(commit: (connection?: Kysely<any>) => Promise<T>) => Promise<T>;

export interface GroupCommitSettings {
  /** Units per batch at most. Default 128. */
  maxBatch?: number;
  /**
   * How long a batch that could start waits for more units (ms). Default 0: a batch is whatever
   * queued while the batches in flight were being written, so a lone unit waits for nothing.
   */
  lingerMs?: number;
  /** Batches written at once, each on a connection of its own. Default 1 (SQLite has one connection). */
  concurrency?: number;
}

export interface GroupCommitOptions extends GroupCommitSettings {
  /** How batches of `durable: false` units commit (SQLite: `synchronous = NORMAL` meanwhile). */
  withoutFlush?: WithoutFlush;
  /**
   * Makes durable what was committed through `withoutFlush` (SQLite: an fdatasync of the
   * write-ahead log, off the event loop); resolves once a flush that started after the call has
   * finished. With it, durable batches commit through `withoutFlush` too, and their callers (and
   * commit hooks) are answered after this flush, while the next batch is already being written.
   */
  flushLog?: () => Promise<void>;
  /** Where batches of `durable: false` units run (PostgreSQL: the pool with `synchronous_commit` off). Default: `db`. */
  relaxedDb?: Kysely<any>;
  /** Wraps each transaction of a unit run alone: the deadlock retry of PostgreSQL and MySQL. */
  retryAlone?: <T>(run: () => Promise<T>) => Promise<T>;
  /**
   * true: short `durable: false` units (submitted with {@link GroupCommit.write}) ride along in a
   * durable batch instead of costing a commit of their own. For one connection (SQLite), where
   * batches are written one at a time anyway. Long non-durable transactions (a feed's batches)
   * still form batches of their own, so that the units of a durable batch never wait for them.
   * Default false: durable and non-durable units always form separate batches, which pooled
   * engines write on separate connections at the same time.
   */
  mixDurability?: boolean;
}

/**
 * Commits the transactions of concurrent callers together: units submitted while batches are
 * being written form the next batch, which is one database transaction and one commit (one
 * flush). Each caller's promise settles only after the commit that holds its writes.
 *
 * A unit must only touch the database through `trx`, and must not wait for another unit (nor
 * open a transaction of its own). The units of a batch submitted with `interleave: true` run
 * first, at the same time, their coalesced writes made together (see coalesce.ts); the others
 * then run one after the other.
 *
 * When any unit of a batch fails, the batch is rolled back and every unit is re-run in a
 * transaction of its own, so that only the failing unit sees its error. This was chosen over a
 * SAVEPOINT per unit: a failing unit is rare on the hot paths (validation comes first, and the
 * idempotency claim does not raise on a taken key), while savepoints would cost two round trips
 * per unit on every batch, give PostgreSQL a subtransaction per unit (past 64 in one transaction
 * they overflow its subxid cache and slow every session's snapshots), and not isolate a MySQL
 * deadlock anyway (InnoDB rolls back the whole transaction). A batch aborted to break a deadlock
 * is thus re-run unit by unit, each under `retryAlone`.
 *
 * Units submitted with `durable: false` are batched only with each other and committed through
 * `withoutFlush` or on `relaxedDb`: work that can be redone does not wait for the disk, and the
 * next durable commit flushes it too.
 *
 * With `flushLog` (SQLite), durable batches also commit without the flush, and their callers are
 * answered after `flushLog`: the event loop never waits for the disk, and the next batch is
 * written while the previous one is being flushed. Their rows are visible to other readers of the
 * database from the commit, up to one flush before they are durable.
 */
export class GroupCommit {
  private pending: Unit[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lingering: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly concurrency: number;
  private readonly retryAlone: <T>(run: () => Promise<T>) => Promise<T>;

  constructor(
    private readonly db: Kysely<any>,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? 128);
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.retryAlone = options.retryAlone ?? ((run) => run());
  }

  run<T>(work: TransactionWork<T>, options: TransactionOptions = {}): Promise<T> {
    return this.submit(work, options, false);
  }

  /** A short write that needs no transaction of its own (Database.write): see `mixDurability`. */
  write<T>(work: TransactionWork<T>, options: TransactionOptions = {}): Promise<T> {
    return this.submit(work, options, true);
  }

  private submit<T>(work: TransactionWork<T>, options: TransactionOptions, short: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The unit runs later, inside whichever batch takes it: it keeps its caller's async context
      // (the active trace span, a request's logger), not that of the batch's first caller.
      this.pending.push({
        work: inCallerContext(work),
        durable: options.durable ?? true,
        interleave: options.interleave ?? false,
        short,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.lingering && this.pending.length >= this.maxBatch) {
        clearTimeout(this.lingering);
        this.lingering = undefined;
        this.scheduled = false;
      }
      this.schedule();
    });
  }

  /** Starts batches on the next turn of the event loop (after the linger), while a slot is free. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.concurrency || this.pending.length === 0) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      this.lingering = undefined;
      this.startBatches();
    };
    if (this.lingerMs > 0 && this.pending.length < this.maxBatch) this.lingering = setTimeout(start, this.lingerMs);
    else setImmediate(start);
  }

  private startBatches(): void {
    while (this.inFlight < this.concurrency && this.pending.length > 0) {
      const batch = this.nextBatch();
      this.inFlight++;
      void this.writeBatch(batch).finally(() => {
        this.inFlight--;
        // Units that arrived while this batch was written have waited long enough: they go at once.
        if (this.lingering === undefined) this.startBatches();
        else this.schedule();
      });
    }
  }

  private async writeBatch(batch: Unit[]): Promise<void> {
    const durable = batch.some((unit) => unit.durable);
    const db = durable ? this.db : (this.options.relaxedDb ?? this.db);
    const { withoutFlush, flushLog } = this.options;
    const flushAfter = durable && withoutFlush !== undefined && flushLog !== undefined;
    if ((durable && !flushAfter) || !withoutFlush) return settle(await this.commit(db, batch));
    // Callers hear back only once the connection is durable again, so that nothing they do
    // next outside this queue can commit without its flush.
    let outcomes: Outcome[] | undefined;
    try {
      await withoutFlush(async (connection) => {
        outcomes = await this.commit(connection ?? db, batch);
      });
    } catch (error) {
      outcomes ??= batch.map((unit) => ({ unit, ok: false, error }));
    }
    const committed = outcomes!;
    if (!flushAfter) return settle(committed);
    // The next batch may start now: its inserts overlap this batch's flush.
    void flushLog().then(
      () => settle(committed),
      (error: unknown) => settle(committed.map((outcome) => (outcome.ok ? { ...outcome, ok: false, error: new LogFlushError(error) } : outcome))),
    );
  }

  private commit(db: Kysely<any>, batch: Unit[]): Promise<Outcome[]> {
    return batch.length === 1 ? this.commitAlone(db, batch[0]!).then((outcome) => [outcome]) : this.commitTogether(db, batch);
  }

  /**
   * The units at the head of the queue, up to `maxBatch`, that share the batch's durability; with
   * `mixDurability`, short non-durable units join a durable batch (and a batch is durable when a
   * durable unit waits among the next ones).
   */
  private nextBatch(): Unit[] {
    const first = this.pending[0]!;
    const rides = (unit: Unit) => this.options.mixDurability === true && !unit.durable && unit.short;
    const durable = first.durable || (rides(first) && this.pending.some((unit, i) => i < this.maxBatch && unit.durable));
    const end = this.pending.findIndex((unit, i) => i >= this.maxBatch || (unit.durable !== durable && !(durable && rides(unit))));
    return this.pending.splice(0, end === -1 ? this.pending.length : end);
  }

  private async commitTogether(db: Kysely<any>, batch: Unit[]): Promise<Outcome[]> {
    let results: unknown[];
    let hooks: Array<() => void> = [];
    let committing = false;
    try {
      results = await db.transaction().execute(async (trx) => {
        trackCommitHooks(trx);
        const out = new Map<Unit, unknown>();
        const interleaved = batch.filter((unit) => unit.interleave);
        if (interleaved.length > 0) {
          const interleavedResults = await runInterleaved(trx, interleaved.map((unit) => unit.work));
          interleaved.forEach((unit, i) => out.set(unit, interleavedResults[i]));
        }
        for (const unit of batch) if (!unit.interleave) out.set(unit, await unit.work(trx));
        hooks = takeCommitHooks(trx);
        committing = true;
        return batch.map((unit) => out.get(unit));
      });
    } catch (error) {
      // A COMMIT cut off with its connection may have gone through: running the units again could
      // apply them twice, so their callers hear of the lost connection instead.
      if (committing && isConnectionError(error)) return batch.map((unit) => ({ unit, ok: false, error }));
      const outcomes: Outcome[] = [];
      for (const unit of batch) outcomes.push(await this.commitAlone(db, unit));
      return outcomes;
    }
    // The batch's hooks all go with its first unit: they run before any of its callers hears back.
    return batch.map((unit, i) => ({ unit, ok: true, value: results[i], hooks: i === 0 ? hooks : [] }));
  }

  private async commitAlone(db: Kysely<any>, unit: Unit): Promise<Outcome> {
    try {
      const { value, hooks } = await this.retryAlone(() => transact(db, unit.work));
      return { unit, ok: true, value, hooks };
    } catch (error) {
      return { unit, ok: false, error };
    }
  }
}

type Outcome = { unit: Unit; ok: true; value: unknown; hooks: Array<() => void> } | { unit: Unit; ok: false; error: unknown };

/** Runs the commit hooks of the committed units, then answers every caller. */
function settle(outcomes: Outcome[]): void {
  for (const outcome of outcomes) if (outcome.ok) runHooks(outcome.hooks);
  for (const outcome of outcomes) {
    if (outcome.ok) outcome.unit.resolve(outcome.value);
    else outcome.unit.reject(outcome.error);
  }
}

/**
 * The transaction committed, but the log holding it could not be flushed: it may not survive a
 * power loss. The HTTP edge answers 503, so that a client retries (and an Idempotency-Key replays).
 */
export class LogFlushError extends UnavailableError {
  constructor(cause: unknown) {
    super('database', 'The database committed this write but could not flush its log to the disk.', { cause });
    this.name = 'LogFlushError';
  }
}

/** `work`, run in the async context of this call. (AsyncResource.bind costs several times more: it builds a deprecated getter each time.) */
function inCallerContext<T>(work: TransactionWork<T>): TransactionWork<T> {
  const caller = new AsyncResource('GroupCommitUnit');
  return (trx) => caller.runInAsyncScope(work, null, trx);
}

export async function runTransaction<T>(db: Kysely<any>, work: TransactionWork<T>): Promise<T> {
  const { value, hooks } = await transact(db, work);
  runHooks(hooks);
  return value;
}

/** `work` in a transaction of its own, and the commit hooks it left for its caller to run. */
async function transact<T>(db: Kysely<any>, work: TransactionWork<T>): Promise<{ value: T; hooks: Array<() => void> }> {
  let hooks: Array<() => void> = [];
  const value = await db.transaction().execute(async (trx: Executor) => {
    trackCommitHooks(trx);
    try {
      return await work(trx);
    } finally {
      hooks = takeCommitHooks(trx);
    }
  });
  return { value, hooks };
}
