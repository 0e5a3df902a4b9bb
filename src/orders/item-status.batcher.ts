import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { WriteBatcher, type WriteBatchLimits } from '../platform/db/write-batcher.js';
import { completeJobsWithin, type JobCompletion } from '../platform/queue/job-completion.js';
import { applyItemOutcomes, type ItemOutcome } from './item-outcomes.js';
import type { OrderEventSink } from './order-events.js';
import { startItemsDispatch, type ItemForDispatch } from './orders.repository.js';

/**
 * How long an outcome waits, by default, for the outcomes of the other items in their third-party
 * call. With a fast third party the jobs of a worker then move in step and their outcomes share a
 * transaction (issue 11: larger batches, fewer round trips); with a slow one it adds this much to a
 * long call.
 */
const OUTCOME_HOLD_MS = 5;

/** The batches of a worker's item writes; `outcomesAtOnce` outcome transactions may be written at once (default 1). */
export type ItemWriteBatch = WriteBatchLimits & { outcomesAtOnce?: number };

/** An outcome, and the job that ends with it. */
type OutcomeWrite = ItemOutcome & { completion?: JobCompletion };

/**
 * The item writes of concurrent integration jobs, batched: `processing` marks go in one statement
 * per batch, and so do outcomes with their details. Each call resolves only once the statement
 * holding it has committed.
 */
export class ItemStatusBatcher {
  private readonly dispatches: WriteBatcher<number, ItemForDispatch | undefined>;
  private readonly outcomes: WriteBatcher<OutcomeWrite, void>;
  /** Items dispatched whose outcome is not recorded yet: they are in their third-party call. */
  private calling = 0;

  /** `events` records the events the outcomes cause, in the same transactions. */
  constructor(database: Database, clock: Clock, limits: ItemWriteBatch, events?: OrderEventSink) {
    this.dispatches = new WriteBatcher({
      ...limits,
      database,
      // Lost in a crash, `processing` leaves the item `received`: the job runs again either way.
      durable: false,
      write: async (db, itemIds) => {
        const found = new Map((await startItemsDispatch(db, itemIds, clock.now())).map((item) => [item.id, item]));
        return itemIds.map((id) => found.get(Number(id)));
      },
    });
    this.outcomes = new WriteBatcher<OutcomeWrite, void>({
      ...limits,
      // An outcome's round trips are the worker's longest write: on PostgreSQL the next batches'
      // overlap them, and batches that share an order take its row locks in turn, in order. On
      // MySQL, with them on, one CI run of the two-workers test sent 3 of 2,000 items twice, for a
      // reason not found (9 runs since passed): they stay off there. SQLite commits one
      // transaction at a time, where batches at once would only be smaller.
      concurrency: database.dialect === 'postgres' ? limits.outcomesAtOnce : 1,
      database,
      // An outcome locks its order and writes its events: all of it commits together.
      transaction: true,
      moreComing: () => this.calling > 0,
      holdMs: limits.holdMs ?? OUTCOME_HOLD_MS,
      write: async (db, changes) => {
        await applyItemOutcomes(db, lastChangeOfEachItem(changes), clock.now(), events);
        await completeJobsWithin(db, changes.flatMap((change) => change.completion ?? []));
        return changes.map(() => undefined);
      },
    });
  }

  /**
   * Marks the item `processing` unless it is completed; undefined when there is nothing to send.
   * An item returned is in its call until its outcome is recorded, or `callEnded` is called.
   */
  async startDispatch(itemId: number): Promise<ItemForDispatch | undefined> {
    const item = await this.dispatches.submit(itemId);
    if (item) this.calling += 1;
    return item;
  }

  /**
   * Records the outcome of a dispatched item (and the events it causes) unless the item is already
   * completed. With `completion`, its job is completed in the same transaction.
   */
  record(change: OutcomeWrite): Promise<void> {
    const written = this.outcomes.submit(change).then(() => change.completion?.markCommitted());
    this.callEnded();
    return written;
  }

  /** A dispatched item's call ended without an outcome to record. */
  callEnded(): void {
    this.calling -= 1;
    if (this.calling === 0) this.outcomes.release();
  }
}

/**
 * Two deliveries of one item's job may finish in one batch. Written one after the other, the
 * later would win unless the earlier completed the item, which never changes again.
 */
function lastChangeOfEachItem(changes: readonly ItemOutcome[]): ItemOutcome[] {
  const byItem = new Map<number, ItemOutcome>();
  for (const change of changes) {
    if (byItem.get(change.itemId)?.status !== 'completed') byItem.set(change.itemId, change);
  }
  return [...byItem.values()];
}
