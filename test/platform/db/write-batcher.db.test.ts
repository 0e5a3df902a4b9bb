import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Executor } from '../../../src/platform/db/database.js';
import { WriteBatcher, type WriteBatchLimits, type WriteBatcherOptions } from '../../../src/platform/db/write-batcher.js';
import type { KvTable } from '../../../src/platform/store/kv.table.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { deferred, type Deferred } from '../../support/driver-wait.js';

type Kv = Kysely<{ kv: KvTable }>;

describe('WriteBatcher', () => {
  let handle: TempDatabase;
  /** The keys of each write, in order. */
  let writes: string[][];
  const stored = async () => (await (handle.database.db as Kv).selectFrom('kv').select('key').orderBy('key').execute()).map((r) => r.key);

  beforeEach(async () => {
    handle = await createTempDatabase('intake-write-batcher');
    writes = [];
  });
  afterEach(() => handle.cleanup());

  /** Inserts each submitted key into `kv` with one multi-row INSERT per batch, resolving to the key upper-cased. */
  function batcher(limits: WriteBatchLimits & Pick<WriteBatcherOptions<string, string>, 'moreComing' | 'concurrency'>, database: Database = handle.database) {
    return new WriteBatcher<string, string>({
      ...limits,
      database,
      write: async (db: Executor, keys) => {
        writes.push(keys);
        await (db as Kv)
          .insertInto('kv')
          .values(keys.map((key) => ({ key, value: 'v', expires_at: null })))
          .execute();
        return keys.map((key) => key.toUpperCase());
      },
    });
  }

  it.each([0, 5])('writes the items of concurrent callers in one statement, and hands each caller its own result (linger %i ms)', async (lingerMs) => {
    const shared = batcher({ maxItems: 64, lingerMs });
    expect(await Promise.all(['f', 'g', 'h'].map((key) => shared.submit(key)))).toEqual(['F', 'G', 'H']);
    expect(writes).toEqual([['f', 'g', 'h']]);
    expect(await stored()).toEqual(['f', 'g', 'h']);
  });

  it('writes a full batch at once, without waiting for the linger, and never more than maxItems together', async () => {
    const shared = batcher({ maxItems: 4, lingerMs: 60_000 });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => shared.submit(key)));
    expect(writes.map((batch) => batch.length)).toEqual([4, 4, 2]);
    expect(await stored()).toEqual(keys);
  });

  it('writes each item alone and at once with maxItems 1', async () => {
    const alone = batcher({ maxItems: 1, lingerMs: 60_000 });
    await Promise.all(['x', 'y'].map((key) => alone.submit(key)));
    expect(writes).toEqual([['x'], ['y']]);
  });

  it('fails only the item that fails on its own: its neighbours in the batch commit', async () => {
    await (handle.database.db as Kv).insertInto('kv').values({ key: 'taken', value: 'first', expires_at: null }).execute();
    const shared = batcher({ maxItems: 64, lingerMs: 5 });
    const outcomes = await Promise.allSettled(['n1', 'taken', 'n2', 'n3'].map((key) => shared.submit(key)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual(['N1', 'N2', 'N3']);
    // The batch was tried together first; then each item alone (SQLite's group commit may retry too).
    expect(writes[0]).toEqual(['n1', 'taken', 'n2', 'n3']);
    expect(writes.filter((batch) => batch.length === 1).map(([key]) => key)).toEqual(expect.arrayContaining(['n1', 'taken', 'n2', 'n3']));
    expect(await stored()).toEqual(['n1', 'n2', 'n3', 'taken']);
    const kept = await (handle.database.db as Kv).selectFrom('kv').select('value').where('key', '=', 'taken').executeTakeFirstOrThrow();
    expect(kept.value).toBe('first');
  });

  it('resolves no caller before the write holding its item has returned, committed', async () => {
    const commit = deferred();
    const held: Database = {
      ...handle.database,
      write: async (work, options) => {
        const result = await handle.database.write(work, options);
        await commit.promise;
        return result;
      },
    };
    const shared = batcher({ maxItems: 64, lingerMs: 1 }, held);
    const settled: string[] = [];
    const calls = ['p', 'q'].map((key) => shared.submit(key).then((result) => void settled.push(result)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toEqual([['p', 'q']]);
    expect(settled).toEqual([]);
    commit.resolve();
    await Promise.all(calls);
    expect(settled).toEqual(['P', 'Q']);
    expect(await stored()).toEqual(['p', 'q']);
  });

  it('forms the next batch of the items that arrive while one is being written', async () => {
    const shared = batcher({ maxItems: 64, lingerMs: 0 });
    const first = shared.submit('r1');
    await new Promise((resolve) => setImmediate(resolve));
    const rest = ['r2', 'r3', 'r4'].map((key) => shared.submit(key));
    await Promise.all([first, ...rest]);
    expect(writes).toEqual([['r1'], ['r2', 'r3', 'r4']]);
  });

  it('strands no item submitted in the microtasks between the end of a batch and the next (found under load: a job never finished)', async () => {
    const shared = batcher({ maxItems: 64, lingerMs: 0 });
    for (let ticks = 0; ticks < 12; ticks++) {
      await shared.submit(`s${ticks}-a`);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      const late = shared.submit(`s${ticks}-b`);
      const outcome = await Promise.race([late, new Promise((resolve) => setTimeout(() => resolve('stranded'), 2_000))]);
      expect(outcome, `submitted ${ticks} microtasks after the batch`).toBe(`S${ticks}-B`);
    }
  });

  it('holds a batch while more items are coming, up to holdMs, and starts it on release() once none is', async () => {
    let coming = true;
    const make = (holdMs: number) => batcher({ maxItems: 64, lingerMs: 0, holdMs, moreComing: () => coming });
    const held = make(60_000);
    const first = held.submit('h1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    held.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes).toEqual([]);
    const second = held.submit('h2');
    coming = false;
    held.release();
    expect(await Promise.all([first, second])).toEqual(['H1', 'H2']);
    expect(writes).toEqual([['h1', 'h2']]);

    coming = true;
    const capped = make(40);
    const started = performance.now();
    await expect(capped.submit('h3')).resolves.toBe('H3');
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(writes).toEqual([['h1', 'h2'], ['h3']]);
  });

  describe('with concurrency 2', () => {
    /** A database whose writes each wait for their own gate, counting how many run at once. */
    function gatedDatabase() {
      const gates: Array<Deferred> = [];
      let running = 0;
      let most = 0;
      const database: Database = {
        ...handle.database,
        write: async (work, options) => {
          running++;
          most = Math.max(most, running);
          const gate = deferred<void>();
          gates.push(gate);
          try {
            await gate.promise;
            return await handle.database.write(work, options);
          } finally {
            running--;
          }
        },
      };
      return { database, gates, most: () => most };
    }
    const tick = () => new Promise((resolve) => setImmediate(resolve));

    it('writes the next batch while the first is still being written, and a third only once a slot is free', async () => {
      const { database, gates, most } = gatedDatabase();
      const shared = batcher({ maxItems: 64, lingerMs: 0, concurrency: 2 }, database);
      const calls = [shared.submit('c1')];
      await tick();
      calls.push(shared.submit('c2'), shared.submit('c3'));
      await tick();
      expect(gates).toHaveLength(2);
      calls.push(shared.submit('c4'));
      await tick();
      await tick();
      expect(gates).toHaveLength(2);
      gates[1]!.resolve();
      await calls[2];
      await tick();
      expect(gates).toHaveLength(3);
      gates[0]!.resolve();
      gates[2]!.resolve();
      expect(await Promise.all(calls)).toEqual(['C1', 'C2', 'C3', 'C4']);
      expect(most()).toBe(2);
      expect(await stored()).toEqual(['c1', 'c2', 'c3', 'c4']);
      expect(writes.map((batch) => batch.join())).toEqual(expect.arrayContaining(['c1', 'c2,c3', 'c4']));
    });

    it('starts as many full batches at once as it has slots', async () => {
      const { database, gates, most } = gatedDatabase();
      const shared = batcher({ maxItems: 3, lingerMs: 60_000, concurrency: 2 }, database);
      const calls = Array.from({ length: 8 }, (_, i) => shared.submit(`f${i}`));
      await tick();
      expect(gates).toHaveLength(2);
      // The two left over wait for a free slot, not for the linger.
      gates[0]!.resolve();
      await waitForGates(gates, 3);
      gates[1]!.resolve();
      gates[2]!.resolve();
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 8 }, (_, i) => `F${i}`));
      expect(most()).toBe(2);
      expect(writes.map((batch) => batch.length).sort()).toEqual([2, 3, 3]);
    });

    it('flush() waits for the batches being written and the items still waiting', async () => {
      const { database, gates } = gatedDatabase();
      const shared = batcher({ maxItems: 2, lingerMs: 60_000, concurrency: 2 }, database);
      const calls = ['w1', 'w2', 'w3', 'w4', 'w5'].map((key) => shared.submit(key));
      let flushed = false;
      const flushing = shared.flush().then(() => (flushed = true));
      await tick();
      expect(flushed).toBe(false);
      gates[0]!.resolve();
      gates[1]!.resolve();
      await waitForGates(gates, 3);
      expect(flushed).toBe(false);
      gates[2]!.resolve();
      await flushing;
      expect(await Promise.all(calls)).toEqual(['W1', 'W2', 'W3', 'W4', 'W5']);
    });

    it('fails only the item that fails on its own while another batch commits beside it', async () => {
      await (handle.database.db as Kv).insertInto('kv').values({ key: 'taken', value: 'first', expires_at: null }).execute();
      const shared = batcher({ maxItems: 2, lingerMs: 60_000, concurrency: 2 });
      const outcomes = await Promise.allSettled(['a', 'taken', 'b', 'c'].map((key) => shared.submit(key)));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(writes).toEqual(
        expect.arrayContaining([
          ['a', 'taken'],
          ['b', 'c'],
        ]),
      );
      expect(await stored()).toEqual(['a', 'b', 'c', 'taken']);
    });

    async function waitForGates(gates: unknown[], count: number): Promise<void> {
      for (let i = 0; i < 200 && gates.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(gates.length).toBeGreaterThanOrEqual(count);
    }
  });

  it('flush() waits for every item submitted so far', async () => {
    const shared = batcher({ maxItems: 64, lingerMs: 60_000 });
    const call = shared.submit('z');
    await shared.flush();
    expect(await stored()).toEqual(['z']);
    await expect(call).resolves.toBe('Z');
  });
});
