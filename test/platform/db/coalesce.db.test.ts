import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesced, runInterleaved, type RunMany } from '../../../src/platform/db/coalesce.js';
import { createDatabase, type Database, type Executor } from '../../../src/platform/db/database.js';
import { IdempotencyClaimsCollided, insertIdempotencyRecordUnlessTaken } from '../../../src/platform/idempotency/idempotency.repository.js';
import type { IdempotencyTables } from '../../../src/platform/idempotency/idempotency.table.js';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import type { QueueTables } from '../../../src/platform/queue/jobs.table.js';
import { OutboxQueue } from '../../../src/platform/queue/outbox/outbox-queue.js';
import type { OutboxTables } from '../../../src/platform/queue/outbox/outbox.table.js';
import type { KvTable } from '../../../src/platform/store/kv.table.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { sleep, waitFor } from '../../support/driver-wait.js';

type Tables = { kv: KvTable } & IdempotencyTables & QueueTables & OutboxTables;
const tables = (db: Executor) => db as Kysely<Tables>;

/** The error a taken primary key raises on the run's engine. */
const UNIQUE_VIOLATION = { sqlite: 'SQLITE_CONSTRAINT_PRIMARYKEY', postgres: '23505', mysql: 'ER_DUP_ENTRY' } as const;

/**
 * A coalesced write into `kv`: each call inserts its keys in one multi-row INSERT, then reads them
 * back, answering each input with the value stored for it. `calls` holds the inputs of every call.
 */
function kvInsert() {
  const calls: string[][] = [];
  const runMany: RunMany<string, string> = async (trx, keys) => {
    calls.push([...keys]);
    await tables(trx)
      .insertInto('kv')
      .values(keys.map((key) => ({ key, value: `value of ${key}`, expires_at: null })))
      .execute();
    const rows = await tables(trx).selectFrom('kv').select(['key', 'value']).where('key', 'in', [...keys]).execute();
    const stored = new Map(rows.map((row) => [row.key, row.value]));
    return keys.map((key) => stored.get(key)!);
  };
  return { calls, runMany, insert: coalesced(runMany) };
}

const valueOf = (key: string) => `value of ${key}`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('coalesced writes of interleaved units', () => {
  let handle: TempDatabase;
  let database: Database;
  const others: Database[] = [];

  // One database for the file: every test writes keys, queues and scopes of its own.
  beforeAll(async () => {
    handle = await createTempDatabase('intake-coalesce');
    database = handle.database;
  });
  afterAll(async () => {
    for (const other of others.splice(0)) await other.close();
    await handle.cleanup();
  });

  const committed = async (prefix: string) =>
    (await tables(database.db).selectFrom('kv').select('key').where('key', 'like', `${prefix}%`).orderBy('key').execute()).map((row) => row.key);

  /** Runs `works` interleaved in one real transaction, outside group commit. */
  const interleaved = <T>(works: Array<(trx: Executor) => Promise<T>>) => database.db.transaction().execute((trx) => runInterleaved(trx, works));

  it('runs the same call of N interleaved units once with every input, answers each its own output, and makes one call per wave', async () => {
    const a = kvInsert();
    const b = kvInsert();
    const batches = new Set<Executor>();
    // Unit i makes (i % 3) + 1 calls of `a` and one of `b`: A, B, then A again for some.
    const waves = (i: number) => (i % 3) + 1;
    const results = await Promise.all(
      range(6).map((i) =>
        database.transaction(
          async (trx) => {
            batches.add(trx);
            const outputs = [await a.insert(trx, `wave-1-a-${i}`), await b.insert(trx, `wave-2-b-${i}`)];
            for (let wave = 3; wave <= waves(i) + 1; wave++) outputs.push(await a.insert(trx, `wave-${wave}-a-${i}`));
            return outputs;
          },
          { interleave: true },
        ),
      ),
    );
    expect(batches.size).toBe(1);
    expect(a.calls).toEqual([range(6).map((i) => `wave-1-a-${i}`), [1, 2, 4, 5].map((i) => `wave-3-a-${i}`), [2, 5].map((i) => `wave-4-a-${i}`)]);
    expect(b.calls).toEqual([range(6).map((i) => `wave-2-b-${i}`)]);
    expect(results).toEqual(
      range(6).map((i) => [valueOf(`wave-1-a-${i}`), valueOf(`wave-2-b-${i}`), ...range(waves(i) - 1).map((w) => valueOf(`wave-${w + 3}-a-${i}`))]),
    );
    expect(await committed('wave-')).toHaveLength(6 + 6 + 4 + 2);
  });

  it('does not wait for a unit that awaits something else between two calls: the others go on after a turn of the event loop', async () => {
    const a = kvInsert();
    const b = kvInsert();
    const results = await Promise.all(
      range(5).map((i) =>
        database.transaction(
          async (trx) => {
            const first = await a.insert(trx, `other-a-${i}`);
            // Unit 0 waits (on timers) until the others have made their second call; unit 1 waits
            // for a statement of its own. Had the others waited for unit 0, it would time out here.
            if (i === 0) await waitFor(() => b.calls.length > 0, 5_000, 'the call of the units that went straight on');
            if (i === 1) await tables(trx).selectFrom('kv').select('key').where('key', 'like', 'other-a-%').execute();
            return [first, await b.insert(trx, `other-b-${i}`)];
          },
          { interleave: true },
        ),
      ),
    );
    expect(results).toEqual(range(5).map((i) => [valueOf(`other-a-${i}`), valueOf(`other-b-${i}`)]));
    expect(a.calls).toEqual([range(5).map((i) => `other-a-${i}`)]);
    // The units that went straight on were not held for unit 0: it made a later call.
    expect(b.calls.length).toBeGreaterThanOrEqual(2);
    expect(b.calls[0]).toEqual(expect.arrayContaining(['other-b-2', 'other-b-3', 'other-b-4']));
    expect(b.calls[0]).not.toContain('other-b-0');
    expect(b.calls.flat().sort()).toEqual(range(5).map((i) => `other-b-${i}`));
    expect(await committed('other-')).toHaveLength(10);
  });

  it('runs the waiting calls once a turn of the event loop has passed, while a unit that makes no call is still busy', async () => {
    const a = kvInsert();
    const events: string[] = [];
    const traced: RunMany<string, string> = async (trx, keys) => {
      events.push(`runMany ${keys.join(',')}`);
      return a.runMany(trx, keys);
    };
    const insert = coalesced(traced);
    const results = await interleaved([
      (trx) => insert(trx, 'busy-a'),
      async () => {
        // Busy until the others' call has run: it would wait forever for the call that waits for it.
        await waitFor(() => events.length > 0, 5_000, 'the call of the other units');
        events.push('busy unit done');
        return 'no call';
      },
      (trx) => insert(trx, 'busy-b'),
    ]);
    expect(results).toEqual([valueOf('busy-a'), 'no call', valueOf('busy-b')]);
    expect(events).toEqual(['runMany busy-a,busy-b', 'busy unit done']);
  });

  it('runs a call at once with its one input outside an interleaved batch', async () => {
    const a = kvInsert();
    // On the connection itself.
    expect(await a.insert(database.db, 'alone-db')).toBe(valueOf('alone-db'));
    // In a group-commit batch of units that do not interleave: one after the other, each call alone.
    const batches = new Set<Executor>();
    const sequential = await Promise.all(
      ['alone-seq-1', 'alone-seq-2', 'alone-seq-3'].map((key) =>
        database.transaction(async (trx) => {
          batches.add(trx);
          return a.insert(trx, key);
        }),
      ),
    );
    expect(sequential).toEqual(['alone-seq-1', 'alone-seq-2', 'alone-seq-3'].map(valueOf));
    expect(batches.size).toBe(1);
    // Asking to interleave, without group commit: each unit is a transaction of its own.
    const separate = createDatabase({ url: handle.url, poolMax: 4, groupCommit: false });
    others.push(separate);
    const ungrouped = await Promise.all(['alone-off-1', 'alone-off-2'].map((key) => separate.transaction((trx) => a.insert(trx, key), { interleave: true })));
    expect(ungrouped).toEqual(['alone-off-1', 'alone-off-2'].map(valueOf));
    // In a transaction of its own.
    expect(await database.db.transaction().execute((trx) => a.insert(trx, 'alone-trx'))).toBe(valueOf('alone-trx'));
    expect(a.calls).toEqual([['alone-db'], ['alone-seq-1'], ['alone-seq-2'], ['alone-seq-3'], expect.any(Array), expect.any(Array), ['alone-trx']]);
    expect(a.calls.slice(4, 6).flat().sort()).toEqual(['alone-off-1', 'alone-off-2']);
    expect(await committed('alone-')).toHaveLength(7);
  });

  it('rejects a failing unit alone with its own error, while its neighbours in the interleaved batch commit', async () => {
    const a = kvInsert();
    const keys = ['fail-a', 'fail-b', 'fail-bad', 'fail-c', 'fail-d'];
    const outcomes = await Promise.allSettled(
      keys.map((key) =>
        database.transaction(
          async (trx) => {
            const value = await a.insert(trx, key);
            if (key === 'fail-bad') throw new Error('unit failed after its write');
            return value;
          },
          { interleave: true },
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('unit failed after its write'));
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual(['fail-a', 'fail-b', 'fail-c', 'fail-d'].map(valueOf));
    // One call for the batch, rolled back; then each unit re-ran in a transaction of its own.
    expect(a.calls).toEqual([keys, ...keys.map((key) => [key])]);
    expect(await committed('fail-')).toEqual(['fail-a', 'fail-b', 'fail-c', 'fail-d']);
  });

  it('rejects every caller of a call that throws; re-run alone, the healthy units commit and the culprit gets its own error', async () => {
    const a = kvInsert();
    await a.insert(database.db, 'throws-taken');
    a.calls.length = 0;
    const keys = ['throws-a', 'throws-b', 'throws-taken', 'throws-c'];
    const seen: Array<{ key: string; error: unknown }> = [];
    const outcomes = await Promise.allSettled(
      keys.map((key) =>
        database.transaction(
          async (trx) => {
            try {
              return await a.insert(trx, key);
            } catch (error) {
              seen.push({ key, error });
              throw error;
            }
          },
          { interleave: true },
        ),
      ),
    );
    // In the batch, the one multi-row INSERT failed on the taken key, for all four callers alike.
    const inBatch = seen.slice(0, 4);
    expect(inBatch.map((s) => s.key).sort()).toEqual([...keys].sort());
    expect(new Set(inBatch.map((s) => s.error)).size).toBe(1);
    expect(inBatch[0]!.error).toMatchObject({ code: UNIQUE_VIOLATION[database.dialect] });
    expect(a.calls).toEqual([keys, ...keys.map((key) => [key])]);
    // Alone, only the unit with the taken key fails.
    expect(seen.map((s) => s.key)).toEqual([...inBatch.map((s) => s.key), 'throws-taken']);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: UNIQUE_VIOLATION[database.dialect] });
    expect(await committed('throws-')).toEqual(['throws-a', 'throws-b', 'throws-c', 'throws-taken']);
  });

  it('rejects every caller when runMany returns a wrong number of outputs', async () => {
    const short = coalesced<string, string>(async (_trx, inputs) => inputs.slice(1));
    const long = coalesced<string, string>(async (_trx, inputs) => [...inputs, 'extra']);
    const outcome = (call: Promise<string>) => call.then((value) => `resolved ${value}`, (error: unknown) => (error as Error).message);
    const results = await interleaved(
      range(3).map((i) => async (trx: Executor) => [await outcome(short(trx, `s${i}`)), await outcome(long(trx, `l${i}`))]),
    );
    expect(results).toEqual(range(3).map(() => ['a coalesced write returned 2 results for 3 inputs', 'a coalesced write returned 4 results for 3 inputs']));
  });

  it('rejects a call outside a batch when runMany returns other than one output', async () => {
    const none = coalesced<string, string>(async () => []);
    const two = coalesced<string, string>(async (_trx, inputs) => [...inputs, 'extra']);
    await expect(none(database.db, 'x')).rejects.toThrow('a coalesced write returned 0 results for 1 input');
    await expect(two(database.db, 'x')).rejects.toThrow('a coalesced write returned 2 results for 1 input');
  });

  it('rejects an interleaved run with the first failure, only once every unit has settled', async () => {
    const events: string[] = [];
    const run = interleaved([
      async () => {
        events.push('first fails');
        throw new Error('first unit failed');
      },
      async () => {
        throw new Error('second unit failed');
      },
      async () => {
        await sleep(30);
        events.push('slow unit done');
        return 'slow';
      },
    ]);
    await expect(run).rejects.toThrow('first unit failed');
    expect(events).toEqual(['first fails', 'slow unit done']);
  });

  it('runs the interleaved units of a batch first, together, then the others one after the other in the same transaction', async () => {
    const a = kvInsert();
    await tables(database.db).insertInto('kv').values({ key: 'mixed-counter', value: '0', expires_at: null }).execute();
    const batchOf = new Map<string, Executor>();
    const events: string[] = [];
    const interleavedUnit = (name: string) =>
      database.transaction(
        async (trx) => {
          batchOf.set(name, trx);
          const own = await a.insert(trx, `mixed-${name}`);
          events.push(`${name} end`);
          return own;
        },
        { interleave: true },
      );
    // Read-modify-write: correct only when no other unit runs between its read and its write.
    const sequentialUnit = (name: string) =>
      database.transaction(async (trx) => {
        batchOf.set(name, trx);
        events.push(`${name} start`);
        const { value } = await tables(trx).selectFrom('kv').select('value').where('key', '=', 'mixed-counter').executeTakeFirstOrThrow();
        await new Promise((resolve) => setImmediate(resolve));
        await tables(trx).updateTable('kv').set({ value: String(Number(value) + 1) }).where('key', '=', 'mixed-counter').execute();
        const own = await a.insert(trx, `mixed-${name}`);
        events.push(`${name} end`);
        return own;
      });
    const results = await Promise.all([
      interleavedUnit('i1'),
      interleavedUnit('i2'),
      sequentialUnit('n1'),
      sequentialUnit('n2'),
      sequentialUnit('n3'),
      interleavedUnit('i3'),
      interleavedUnit('i4'),
    ]);
    expect(results).toEqual(['i1', 'i2', 'n1', 'n2', 'n3', 'i3', 'i4'].map((name) => valueOf(`mixed-${name}`)));
    // Submitted in one turn, they form one batch: one transaction.
    expect(new Set(batchOf.values()).size).toBe(1);
    expect(events.slice(0, 4).sort()).toEqual(['i1 end', 'i2 end', 'i3 end', 'i4 end']);
    expect(events.slice(4)).toEqual(['n1 start', 'n1 end', 'n2 start', 'n2 end', 'n3 start', 'n3 end']);
    const { value } = await tables(database.db).selectFrom('kv').select('value').where('key', '=', 'mixed-counter').executeTakeFirstOrThrow();
    expect(value).toBe('3');
    // The four interleaved units made one call together; the others one call each.
    expect(a.calls.map((keys) => keys.join(',')).sort()).toEqual(['mixed-i1,mixed-i2,mixed-i3,mixed-i4', 'mixed-n1', 'mixed-n2', 'mixed-n3']);
  });

  it.each([
    ['all commit together', 'coalesce-all', undefined],
    ['one fails, and the others commit alone', 'coalesce-one-fails', 4],
  ] as const)('writes the jobs and outbox rows of an interleaved batch once each when %s', async (_title, queue, failing) => {
    const jobs = new DatabaseQueue({ database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 3, defaultBackoff: { baseMs: 100, maxMs: 1000 }, leaseMs: 1000 });
    const outbox = new OutboxQueue({ inner: jobs, database });
    try {
      // Unit i enqueues i % 3 jobs on each (0, 1 or 2: no call, the one-row and the many-row path).
      const payloads = (unit: number) => range(unit % 3).map((n) => ({ payload: { unit, n } }));
      const batches = new Set<Executor>();
      const outcomes = await Promise.allSettled(
        range(7).map((unit) =>
          database.transaction(
            async (trx) => {
              batches.add(trx);
              await jobs.enqueueMany(queue, payloads(unit), trx);
              await outbox.enqueueMany(queue, payloads(unit), trx);
              if (unit === failing) throw new Error(`unit ${unit} failed`);
            },
            { interleave: true },
          ),
        ),
      );
      expect(outcomes.map((o) => o.status)).toEqual(range(7).map((unit) => (unit === failing ? 'rejected' : 'fulfilled')));
      // One batch, plus a transaction per unit when it was re-run.
      expect(batches.size).toBe(failing === undefined ? 1 : 8);
      const expected = range(7)
        .filter((unit) => unit !== failing)
        .flatMap((unit) => payloads(unit).map(({ payload }) => JSON.stringify(payload)))
        .sort();
      const jobRows = await tables(database.db).selectFrom('jobs').select('payload').where('queue', '=', queue).execute();
      const outboxRows = await tables(database.db).selectFrom('outbox').select('payload').where('queue', '=', queue).execute();
      expect(jobRows.map((row) => row.payload).sort()).toEqual(expected);
      expect(outboxRows.map((row) => row.payload).sort()).toEqual(expected);
    } finally {
      await jobs.close();
    }
  });

  describe('idempotency claims of interleaved units', () => {
    const record = (scope: string, key: string, fingerprint: string) => ({
      scope,
      key,
      fingerprint,
      status_code: 201,
      response_body: `{"by":"${fingerprint}"}`,
      response_headers: '{}',
      created_at: 1,
      expires_at: 4_102_444_800_000,
    });
    const claims = [['k1', 'f0'], ['k2', 'f1'], ['k1', 'f2'], ['taken', 'f3']] as const;

    it('in one multi-row statement: a key repeated or already taken is not claimed (MySQL cannot tell which, and fails every caller)', async () => {
      await insertIdempotencyRecordUnlessTaken(database.db, record('direct', 'taken', 'earlier'));
      const results = await interleaved(
        claims.map(([key, fingerprint]) => (trx: Executor) =>
          insertIdempotencyRecordUnlessTaken(trx, record('direct', key, fingerprint)).then(String, (error: unknown) => (error instanceof IdempotencyClaimsCollided ? 'collided' : String(error))),
        ),
      );
      expect(results).toEqual(database.dialect === 'mysql' ? ['collided', 'collided', 'collided', 'collided'] : ['true', 'true', 'false', 'false']);
    });

    it('through group commit: on every engine, the first unit of a key claims it and the others are told it is taken', async () => {
      await insertIdempotencyRecordUnlessTaken(database.db, record('grouped', 'taken', 'earlier'));
      const results = await Promise.all(
        claims.map(([key, fingerprint]) => database.transaction((trx) => insertIdempotencyRecordUnlessTaken(trx, record('grouped', key, fingerprint)), { interleave: true })),
      );
      expect(results).toEqual([true, true, false, false]);
      const stored = await tables(database.db).selectFrom('idempotency_keys').select(['key', 'fingerprint']).where('scope', '=', 'grouped').orderBy('key').execute();
      expect(stored).toEqual([
        { key: 'k1', fingerprint: 'f0' },
        { key: 'k2', fingerprint: 'f1' },
        { key: 'taken', fingerprint: 'earlier' },
      ]);
    });
  });
});
