import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { afterCommit } from '../../../src/platform/db/commit-hooks.js';
import type { Executor } from '../../../src/platform/db/database.js';
import { GroupCommit, LogFlushError, runTransaction, type WithoutFlush } from '../../../src/platform/db/group-commit.js';
import { deferred, sleep, waitFor, type Deferred } from '../../support/driver-wait.js';

interface Tables {
  items: { id: Generated<number>; name: string };
}

interface Fixture {
  db: Kysely<Tables>;
  /** Statements seen by the connection, lower-cased (`begin`, `commit`, `rollback`, ...). */
  statements: string[];
  count(statement: 'begin' | 'commit' | 'rollback'): number;
  /** Names visible to a second connection, i.e. committed. */
  committed(): string[];
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(): Promise<Fixture> {
  const file = path.join(os.tmpdir(), `intake-group-commit-${process.pid}-${randomUUID()}.db`);
  const connection = new SqliteDatabase(file);
  connection.pragma('journal_mode = WAL');
  const statements: string[] = [];
  const db = new Kysely<Tables>({
    dialect: new SqliteDialect({ database: connection }),
    log: (event) => void statements.push(event.query.sql.trim().toLowerCase()),
  });
  await sql`create table items (id integer primary key autoincrement, name text not null unique)`.execute(db);
  const reader = new SqliteDatabase(file, { readonly: true });
  cleanups.push(async () => {
    reader.close();
    await db.destroy();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  });
  statements.length = 0;
  return {
    db,
    statements,
    count: (statement) => statements.filter((s) => s === statement).length,
    committed: () => (reader.prepare('select name from items order by id').all() as Array<{ name: string }>).map((r) => r.name),
  };
}

const insert = (trx: Executor, name: string) => trx.insertInto('items').values({ name }).execute();

describe('GroupCommit', () => {
  it('commits concurrent transactions together, in one BEGIN and one COMMIT', async () => {
    const { db, count, committed } = await setup();
    const group = new GroupCommit(db);
    const names = Array.from({ length: 10 }, (_, i) => `item-${i}`);
    const results = await Promise.all(
      names.map((name) =>
        group.run(async (trx) => {
          await insert(trx, name);
          return name.toUpperCase();
        }),
      ),
    );
    expect(results).toEqual(names.map((n) => n.toUpperCase()));
    expect(count('begin')).toBe(1);
    expect(count('commit')).toBe(1);
    expect(committed()).toEqual(names);
  });

  it('settles each caller only once its writes are committed', async () => {
    const { db, committed } = await setup();
    const group = new GroupCommit(db);
    const seenAtResolve: string[][] = [];
    await Promise.all(['a', 'b', 'c'].map((name) => group.run((trx) => insert(trx, name)).then(() => seenAtResolve.push(committed()))));
    expect(seenAtResolve).toEqual([['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c']]);
  });

  it('forms the next batch from units submitted while a batch is being written', async () => {
    const { db, count, committed } = await setup();
    const group = new GroupCommit(db);
    const inFirstBatch = deferred();
    const release = deferred();
    const first = ['a', 'b', 'c'].map((name, i) =>
      group.run(async (trx) => {
        await insert(trx, name);
        if (i === 0) {
          inFirstBatch.resolve();
          await release.promise;
        }
      }),
    );
    await inFirstBatch.promise;
    const second = ['d', 'e', 'f'].map((name) => group.run((trx) => insert(trx, name)));
    release.resolve();
    await Promise.all([...first, ...second]);
    expect(count('begin')).toBe(2);
    expect(count('commit')).toBe(2);
    expect(committed()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('splits a burst into batches of at most maxBatch units', async () => {
    const { db, count, committed } = await setup();
    const group = new GroupCommit(db, { maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => group.run((trx) => insert(trx, `item-${i}`))));
    expect(count('begin')).toBe(3);
    expect(committed()).toHaveLength(10);
  });

  it('rejects a failing unit alone while the others in its batch commit', async () => {
    const { db, count, committed } = await setup();
    const group = new GroupCommit(db);
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'bad', 'c', 'd'].map((name) =>
        group.run(async (trx) => {
          await insert(trx, name);
          if (name === 'bad') throw new Error('unit failed after its write');
          return name;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toEqual(new Error('unit failed after its write'));
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual(['a', 'b', 'c', 'd']);
    expect(committed()).toEqual(['a', 'b', 'c', 'd']);
    // The batch rolled back, then each unit ran in a transaction of its own.
    expect(count('begin')).toBe(6);
    expect(count('rollback')).toBe(2);
  });

  it('gives a unit its own database error, such as a unique violation', async () => {
    const { db, committed } = await setup();
    const group = new GroupCommit(db);
    await group.run((trx) => insert(trx, 'taken'));
    const outcomes = await Promise.allSettled(['x', 'taken', 'y'].map((name) => group.run((trx) => insert(trx, name))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(committed()).toEqual(['taken', 'x', 'y']);
  });

  it('runs afterCommit hooks once, after the commit, and never for a unit that failed', async () => {
    const { db, committed } = await setup();
    const group = new GroupCommit(db);
    const hookRuns: Array<{ name: string; visible: string[] }> = [];
    const outcomes = await Promise.allSettled(
      ['a', 'bad', 'b'].map((name) =>
        group.run(async (trx) => {
          await insert(trx, name);
          afterCommit(trx, () => hookRuns.push({ name, visible: committed() }));
          if (name === 'bad') throw new Error('rolled back');
          expect(hookRuns.map((h) => h.name)).not.toContain(name);
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(hookRuns.map((h) => h.name)).toEqual(['a', 'b']);
    expect(hookRuns[0]!.visible).toContain('a');
    expect(hookRuns[1]!.visible).toContain('b');
  });

  it('runs the hooks of a batch after its commit and before its callers settle', async () => {
    const { db, committed } = await setup();
    const group = new GroupCommit(db);
    const events: string[] = [];
    await Promise.all(
      ['a', 'b'].map((name) =>
        group
          .run(async (trx) => {
            await insert(trx, name);
            afterCommit(trx, () => events.push(`hook ${name}: ${committed().join(',')}`));
          })
          .then(() => events.push(`settled ${name}`)),
      ),
    );
    expect(events).toEqual(['hook a: a,b', 'hook b: a,b', 'settled a', 'settled b']);
  });

  it('does not let a throwing hook fail the commit', async () => {
    const { db, committed } = await setup();
    const group = new GroupCommit(db);
    await expect(
      group.run(async (trx) => {
        await insert(trx, 'a');
        afterCommit(trx, () => {
          throw new Error('hook failed');
        });
        return 'ok';
      }),
    ).resolves.toBe('ok');
    expect(committed()).toEqual(['a']);
  });

  it('batches non-durable units only with each other, through withoutFlush', async () => {
    const { db, count, committed } = await setup();
    let skipped = 0;
    const withoutFlush: WithoutFlush = async (commit) => {
      skipped++;
      return commit();
    };
    const group = new GroupCommit(db, { withoutFlush });
    await Promise.all([
      group.run((trx) => insert(trx, 'x'), { durable: false }),
      group.run((trx) => insert(trx, 'y'), { durable: false }),
      group.run((trx) => insert(trx, 'z')),
    ]);
    expect(committed()).toEqual(['x', 'y', 'z']);
    expect(skipped).toBe(1);
    expect(count('commit')).toBe(2);
  });

  it('rejects a failing non-durable unit alone, and re-runs the rest without the flush too', async () => {
    const { db, count, committed } = await setup();
    let wrapped = 0;
    const withoutFlush: WithoutFlush = async (commit) => {
      wrapped++;
      return commit();
    };
    const group = new GroupCommit(db, { withoutFlush });
    const outcomes = await Promise.allSettled(
      ['p', 'bad', 'q'].map((name) =>
        group.run(
          async (trx) => {
            await insert(trx, name);
            if (name === 'bad') throw new Error('bulk unit failed');
          },
          { durable: false },
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(committed()).toEqual(['p', 'q']);
    // One batch, rolled back, then each unit alone: all inside the one withoutFlush.
    expect(wrapped).toBe(1);
    expect(count('rollback')).toBe(2);
  });

  it('answers the callers of a non-durable batch only after withoutFlush has finished', async () => {
    const { db } = await setup();
    const order: string[] = [];
    const withoutFlush: WithoutFlush = async (commit) => {
      const result = await commit();
      order.push('flush restored');
      return result;
    };
    const group = new GroupCommit(db, { withoutFlush });
    await group.run((trx) => insert(trx, 'x'), { durable: false }).then(() => order.push('caller answered'));
    expect(order).toEqual(['flush restored', 'caller answered']);
  });

  it('commits a non-durable unit alone, through withoutFlush, between batches of durable ones', async () => {
    const { db, statements, committed } = await setup();
    const flushSkipped: string[] = [];
    const withoutFlush: WithoutFlush = async (commit) => {
      flushSkipped.push('start');
      try {
        return await commit();
      } finally {
        flushSkipped.push('end');
      }
    };
    const group = new GroupCommit(db, { withoutFlush });
    await Promise.all([
      group.run((trx) => insert(trx, 'a')),
      group.run((trx) => insert(trx, 'b')),
      group.run((trx) => insert(trx, 'bulk'), { durable: false }),
      group.run((trx) => insert(trx, 'c')),
    ]);
    expect(committed()).toEqual(['a', 'b', 'bulk', 'c']);
    expect(flushSkipped).toEqual(['start', 'end']);
    // a+b together, bulk alone, then c.
    expect(statements.filter((s) => s === 'begin' || s === 'commit' || s.startsWith('insert')).map((s) => (s.startsWith('insert') ? 'insert' : s))).toEqual([
      'begin', 'insert', 'insert', 'commit', 'begin', 'insert', 'commit', 'begin', 'insert', 'commit',
    ]);
  });


  it('with mixDurability, short non-durable writes ride along in a durable batch; long non-durable transactions stay apart', async () => {
    const { db, count, committed } = await setup();
    let skipped = 0;
    const withoutFlush: WithoutFlush = async (commit) => {
      skipped++;
      return commit();
    };
    const group = new GroupCommit(db, { withoutFlush, mixDurability: true });
    await Promise.all([
      group.write((trx) => insert(trx, 'lock'), { durable: false }),
      group.run((trx) => insert(trx, 'order')),
      group.write((trx) => insert(trx, 'mark'), { durable: false }),
    ]);
    expect(committed()).toEqual(['lock', 'order', 'mark']);
    expect(count('commit')).toBe(1);
    expect(skipped).toBe(0);
    // A long non-durable transaction: a batch of its own, without the flush, after the durable one.
    await Promise.all([
      group.run((trx) => insert(trx, 'order-2')),
      group.run((trx) => insert(trx, 'feed-batch'), { durable: false }),
      group.write((trx) => insert(trx, 'mark-2'), { durable: false }),
    ]);
    expect(count('commit')).toBe(3);
    expect(skipped).toBe(1);
    // Short non-durable writes alone still skip the flush.
    await Promise.all([group.write((trx) => insert(trx, 'x'), { durable: false }), group.write((trx) => insert(trx, 'y'), { durable: false })]);
    expect(skipped).toBe(2);
    expect(count('commit')).toBe(4);
    expect(committed()).toEqual(['lock', 'order', 'mark', 'order-2', 'feed-batch', 'mark-2', 'x', 'y']);
  });

  it('runs the interleaved units of a batch together first, then the others one after the other, in one commit', async () => {
    const { db, count, committed } = await setup();
    const group = new GroupCommit(db);
    const started: string[] = [];
    const gate = deferred<void>();
    const interleaved = (name: string) =>
      group.run(
        async (trx) => {
          started.push(name);
          // Both interleaved units start before either finishes: they run at the same time.
          if (started.length === 1) await gate.promise;
          else gate.resolve();
          await insert(trx, name);
          return name;
        },
        { interleave: true },
      );
    const sequential = (name: string) =>
      group.run(async (trx) => {
        started.push(name);
        await insert(trx, name);
        return name;
      });
    const results = await Promise.all([sequential('s1'), interleaved('i1'), sequential('s2'), interleaved('i2')]);
    expect(results).toEqual(['s1', 'i1', 's2', 'i2']);
    expect(started).toEqual(['i1', 'i2', 's1', 's2']);
    expect(committed().sort()).toEqual(['i1', 'i2', 's1', 's2']);
    expect(count('commit')).toBe(1);
  });
});

describe('GroupCommit with flushLog', () => {
  /** withoutFlush that counts its calls, and a flushLog whose flushes the test finishes by hand. */
  function flushControl() {
    const flushes: Array<Deferred<void>> = [];
    let skipped = 0;
    const withoutFlush: WithoutFlush = async (commit) => {
      skipped++;
      return commit();
    };
    const flushLog = () => {
      const flush = deferred();
      flushes.push(flush);
      return flush.promise;
    };
    return { withoutFlush, flushLog, flushes, skipped: () => skipped };
  }

  it('commits a durable batch without the flush, then answers its callers (after its hooks) only once the log is flushed', async () => {
    const { db, committed } = await setup();
    const control = flushControl();
    const group = new GroupCommit(db, { withoutFlush: control.withoutFlush, flushLog: control.flushLog });
    const events: string[] = [];
    const callers = ['a', 'b'].map((name) =>
      group
        .run(async (trx) => {
          await insert(trx, name);
          afterCommit(trx, () => events.push(`hook ${name}`));
        })
        .then(() => events.push(`answered ${name}`)),
    );
    await waitFor(() => control.flushes.length === 1, 2_000, 'the flush of the log');
    expect(committed()).toEqual(['a', 'b']);
    expect(control.skipped()).toBe(1);
    await sleep(20);
    expect(events).toEqual([]);
    control.flushes[0]!.resolve();
    await Promise.all(callers);
    expect(events).toEqual(['hook a', 'hook b', 'answered a', 'answered b']);
  });

  it('writes the next batch while the previous one waits for its flush', async () => {
    const { db, committed } = await setup();
    const control = flushControl();
    const group = new GroupCommit(db, { withoutFlush: control.withoutFlush, flushLog: control.flushLog });
    const first = group.run((trx) => insert(trx, 'first'));
    await waitFor(() => control.flushes.length === 1, 2_000, 'the first flush');
    const second = group.run((trx) => insert(trx, 'second'));
    await waitFor(() => control.flushes.length === 2, 2_000, 'the second batch committed');
    expect(committed()).toEqual(['first', 'second']);
    control.flushes[1]!.resolve();
    await second;
    let firstAnswered = false;
    void first.then(() => (firstAnswered = true));
    await sleep(20);
    expect(firstAnswered).toBe(false);
    control.flushes[0]!.resolve();
    await first;
  });

  it('tells the committed callers that their flush failed, and the failing unit its own error', async () => {
    const { db, committed } = await setup();
    const control = flushControl();
    const group = new GroupCommit(db, { withoutFlush: control.withoutFlush, flushLog: control.flushLog });
    const outcomes = Promise.allSettled(
      ['p', 'bad', 'q'].map((name) =>
        group.run(async (trx) => {
          await insert(trx, name);
          if (name === 'bad') throw new Error('unit failed');
        }),
      ),
    );
    await waitFor(() => control.flushes.length === 1, 2_000, 'the flush of the log');
    control.flushes[0]!.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const [p, bad, q] = await outcomes;
    expect(committed()).toEqual(['p', 'q']);
    for (const outcome of [p, q]) {
      expect(outcome!.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as LogFlushError;
      expect(error).toBeInstanceOf(LogFlushError);
      expect((error.cause as Error).message).toContain('EIO');
    }
    expect((bad as PromiseRejectedResult).reason).toEqual(new Error('unit failed'));
  });

  it('answers the callers of a non-durable batch without waiting for any flush', async () => {
    const { db, committed } = await setup();
    const control = flushControl();
    const group = new GroupCommit(db, { withoutFlush: control.withoutFlush, flushLog: control.flushLog });
    await group.run((trx) => insert(trx, 'bulk'), { durable: false });
    expect(committed()).toEqual(['bulk']);
    expect(control.flushes).toHaveLength(0);
    expect(control.skipped()).toBe(1);
  });
});

describe('runTransaction and afterCommit', () => {
  it('runs hooks after the commit, drops them on rollback', async () => {
    const { db, committed } = await setup();
    const hookRuns: string[][] = [];
    await runTransaction(db, async (trx) => {
      await insert(trx, 'kept');
      afterCommit(trx, () => hookRuns.push(committed()));
      expect(hookRuns).toEqual([]);
    });
    expect(hookRuns).toEqual([['kept']]);
    await expect(
      runTransaction(db, async (trx) => {
        await insert(trx, 'dropped');
        afterCommit(trx, () => hookRuns.push(['must not run']));
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(hookRuns).toEqual([['kept']]);
    expect(committed()).toEqual(['kept']);
  });

  it('runs a hook at once outside a transaction', async () => {
    const { db } = await setup();
    let ran = false;
    afterCommit(db, () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
