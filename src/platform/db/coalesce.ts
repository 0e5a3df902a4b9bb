import type { Executor } from './database.js';

/** Runs the inputs of several callers as one statement (or a few); resolves to one output per input, in input order. */
export type RunMany<In, Out> = (trx: Executor, inputs: readonly In[]) => Promise<readonly Out[]>;

interface Waiting {
  inputs: unknown[];
  settle: Array<{ resolve: (value: unknown) => void; reject: (error: unknown) => void }>;
}

/**
 * The units of one group-commit batch that run at the same time in one transaction. Their
 * coalesced calls wait here until every unit still running waits (or a turn of the event loop
 * has passed), and then each kind of call runs once for all of them: a batch of orders inserts its
 * orders in one statement, then its items in one, instead of one statement per order.
 */
class Interleaving {
  private waiting = new Map<RunMany<unknown, unknown>, Waiting>();
  private calls = 0;
  private turn: NodeJS.Immediate | undefined;

  constructor(
    private readonly trx: Executor,
    private live: number,
  ) {}

  add<In, Out>(runMany: RunMany<In, Out>, input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      const key = runMany as RunMany<unknown, unknown>;
      let group = this.waiting.get(key);
      if (!group) this.waiting.set(key, (group = { inputs: [], settle: [] }));
      group.inputs.push(input);
      group.settle.push({ resolve: resolve as (value: unknown) => void, reject });
      this.calls++;
      this.flushWhenAllWait();
    });
  }

  unitDone(): void {
    this.live--;
    this.flushWhenAllWait();
  }

  private flushWhenAllWait(): void {
    if (this.calls === 0) return;
    // A unit that waits on something else (a statement of its own) joins the next flush instead.
    if (this.calls >= this.live) this.flush();
    else this.turn ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = undefined;
    const groups = [...this.waiting];
    this.waiting = new Map();
    this.calls = 0;
    for (const [runMany, group] of groups) void this.run(runMany, group);
  }

  private async run(runMany: RunMany<unknown, unknown>, group: Waiting): Promise<void> {
    try {
      const outputs = await runMany(this.trx, group.inputs);
      if (outputs.length !== group.inputs.length) throw new Error(`a coalesced write returned ${outputs.length} results for ${group.inputs.length} inputs`);
      group.settle.forEach(({ resolve }, i) => resolve(outputs[i]));
    } catch (error) {
      for (const { reject } of group.settle) reject(error);
    }
  }
}

const interleavings = new WeakMap<Executor, Interleaving>();

/**
 * Runs `works` at the same time in the transaction `trx`, letting their {@link coalesced} calls
 * run together. Rejects with the first failure once every work has settled, so that no statement
 * of a unit is still running when the caller rolls back.
 */
export async function runInterleaved<T>(trx: Executor, works: ReadonlyArray<(trx: Executor) => Promise<T>>): Promise<T[]> {
  const interleaving = new Interleaving(trx, works.length);
  interleavings.set(trx, interleaving);
  try {
    const outcomes = await Promise.allSettled(works.map((work) => work(trx).finally(() => interleaving.unitDone())));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
  } finally {
    interleavings.delete(trx);
  }
}

/**
 * A write that the interleaved units of a batch make together: called inside
 * {@link runInterleaved}, it waits for the same call of the other units and runs once for all;
 * anywhere else it runs at once for its one input. `runMany` must keep each input's effect its
 * own (inserts of new rows, not read-modify-write), and may be called with any number of inputs.
 */
export function coalesced<In, Out>(runMany: RunMany<In, Out>): (trx: Executor, input: In) => Promise<Out> {
  return async (trx, input) => {
    const interleaving = interleavings.get(trx);
    if (interleaving) return interleaving.add(runMany, input);
    const outputs = await runMany(trx, [input]);
    if (outputs.length !== 1) throw new Error(`a coalesced write returned ${outputs.length} results for 1 input`);
    return outputs[0] as Out;
  };
}

/** Inserts that return nothing: the rows of every caller of a batch go into one call of `insertAll`. */
export function coalescedRows<Row>(insertAll: (trx: Executor, rows: readonly Row[]) => Promise<unknown>): (trx: Executor, rows: readonly Row[]) => Promise<void> {
  return coalesced(async (trx, rowsPerCaller: ReadonlyArray<readonly Row[]>) => {
    await insertAll(trx, rowsPerCaller.flat());
    return rowsPerCaller.map(() => undefined);
  });
}
