import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Idempotency, IdempotencyKeyTaken, parseIdempotencyKey, type IdempotencyClaim } from '../../../src/platform/idempotency/idempotency.js';
import { ProcessLocks, StoreLocks } from '../../../src/platform/idempotency/idempotency-locks.js';
import { deleteExpiredIdempotencyRecords } from '../../../src/platform/idempotency/idempotency.repository.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { manualClock, type ManualClock } from '../../support/driver-clock.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

describe('parseIdempotencyKey', () => {
  it('is undefined when the header is absent', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each([
    ['1 character', 'k'],
    ['255 characters', 'k'.repeat(255)],
    ['a UUID', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['spaces and punctuation', 'a b~!"#'],
  ])('accepts %s', (_what, key) => {
    expect(parseIdempotencyKey(key)).toBe(key);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII', 'schlüssel'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007f'],
  ])('refuses %s as malformed (null)', (_what, key) => {
    expect(parseIdempotencyKey(key)).toBeNull();
  });

  it('refuses a header sent twice', () => {
    expect(parseIdempotencyKey(['a', 'b'])).toBeNull();
  });
});

describe('Idempotency, with locks in the store', () => {
  let sqlite: TempDatabase;
  let clock: ManualClock;
  let idem: Idempotency;
  const TTL = 86_400_000;
  const LOCK_TTL = 60_000;
  const response = { statusCode: 201, body: '{"order":{"id":1}}', headers: { location: '/api/orders/1' } };

  beforeEach(async () => {
    sqlite = await createTempDatabase('intake-idempotency');
    clock = manualClock();
    idem = new Idempotency({ database: sqlite.database, locks: new StoreLocks(new DatabaseStore(sqlite.database, clock)), clock, ttlMs: TTL, lockTtlMs: LOCK_TTL });
  });
  afterEach(() => sqlite.cleanup());

  async function proceed(scope: string, key: string, fp: string): Promise<IdempotencyClaim> {
    const decision = await idem.begin(scope, key, fp);
    expect(decision.kind).toBe('proceed');
    return (decision as { claim: IdempotencyClaim }).claim;
  }
  const finish = (claim: IdempotencyClaim) => sqlite.database.transaction((trx) => idem.record(trx, claim, response));

  it('lets the first request proceed and holds the key while it is in flight', async () => {
    const claim = await proceed('user:1', 'k', 'fp');
    expect(claim).toEqual({ scope: 'user:1', key: 'k', fingerprint: 'fp' });
    expect(await idem.begin('user:1', 'k', 'fp')).toEqual({ kind: 'in_flight' });
    expect(await idem.begin('user:1', 'k', 'other')).toEqual({ kind: 'in_flight' });
  });

  it('replays the recorded response for the same fingerprint', async () => {
    await finish(await proceed('user:1', 'k', 'fp'));
    expect(await idem.begin('user:1', 'k', 'fp')).toEqual({ kind: 'replay', response });
  });

  it('refuses a different fingerprint under a finished key', async () => {
    await finish(await proceed('user:1', 'k', 'fp'));
    expect(await idem.begin('user:1', 'k', 'other')).toEqual({ kind: 'mismatch' });
  });

  it('keeps keys of different scopes apart', async () => {
    await finish(await proceed('user:1', 'k', 'fp'));
    await proceed('user:2', 'k', 'other');
  });

  it('frees the key on release, so that a retry proceeds at once', async () => {
    const claim = await proceed('user:1', 'k', 'fp');
    await idem.release(claim);
    await proceed('user:1', 'k', 'fp');
  });

  it('frees the key of a request that never finished once its lock expires', async () => {
    await proceed('user:1', 'k', 'fp');
    clock.advance(LOCK_TTL - 1);
    expect((await idem.begin('user:1', 'k', 'fp')).kind).toBe('in_flight');
    clock.advance(1);
    await proceed('user:1', 'k', 'fp');
  });

  it('records nothing when the business transaction rolls back', async () => {
    const claim = await proceed('user:1', 'k', 'fp');
    await expect(
      sqlite.database.transaction(async (trx) => {
        await idem.record(trx, claim, response);
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    await idem.release(claim);
    await proceed('user:1', 'k', 'fp');
  });

  it('treats an expired record as absent and replaces it', async () => {
    await finish(await proceed('user:1', 'k', 'fp'));
    clock.advance(TTL);
    const claim = await proceed('user:1', 'k', 'new');
    await sqlite.database.transaction((trx) => idem.record(trx, claim, { ...response, body: 'second' }));
    expect(await idem.begin('user:1', 'k', 'new')).toEqual({ kind: 'replay', response: { ...response, body: 'second' } });
  });

  it('does not read the records before the transaction when the key is new', async () => {
    const untouchable = new Proxy(sqlite.database.db, {
      get: () => {
        throw new Error('the records were read before the transaction');
      },
    });
    const hotPath = new Idempotency({ database: { ...sqlite.database, db: untouchable }, locks: new StoreLocks(new DatabaseStore(sqlite.database, clock)), clock, ttlMs: TTL, lockTtlMs: LOCK_TTL });
    const decision = await hotPath.begin('user:1', 'fresh', 'fp');
    expect(decision.kind).toBe('proceed');
    await sqlite.database.transaction((trx) => hotPath.record(trx, (decision as { claim: IdempotencyClaim }).claim, response));
    expect(await idem.begin('user:1', 'fresh', 'fp')).toEqual({ kind: 'replay', response });
  });

  it.each([
    ['the same payload', 'fp', { kind: 'replay', response }],
    ['a different payload', 'other', { kind: 'mismatch' }],
  ])('tells a request with %s, once the first lock expired, from its insert: the transaction rolls back', async (_what, fp, refusal) => {
    await finish(await proceed('user:1', 'k', 'fp'));
    clock.advance(LOCK_TTL);
    const claim = await proceed('user:1', 'k', fp);
    const attempt = sqlite.database.transaction(async (trx) => {
      await trx.insertInto('kv').values({ key: 'business-write', value: '1', expires_at: null }).execute();
      await idem.record(trx, claim, { ...response, body: 'second' });
    });
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyTaken);
    await expect(attempt).rejects.toMatchObject({ refusal });
    expect(await sqlite.database.db.selectFrom('kv').select('key').where('key', '=', 'business-write').execute()).toEqual([]);
  });

  it('sweeps expired records', async () => {
    await finish(await proceed('user:1', 'a', 'fp'));
    clock.advance(1000);
    await finish(await proceed('user:1', 'b', 'fp'));
    expect(await deleteExpiredIdempotencyRecords(sqlite.database.db, clock.now() + TTL - 1000)).toBe(1);
    expect((await idem.begin('user:1', 'b', 'fp')).kind).toBe('replay');
  });
});

describe('Idempotency, with locks in the process (the database store)', () => {
  let temp: TempDatabase;
  let clock: ManualClock;
  const TTL = 86_400_000;
  const LOCK_TTL = 60_000;
  const response = { statusCode: 201, body: '{"order":{"id":1}}', headers: { location: '/api/orders/1' } };

  beforeEach(async () => {
    temp = await createTempDatabase('intake-idempotency-process');
    clock = manualClock();
  });
  afterEach(() => temp.cleanup());

  /** One API process: its own locks over the shared database. */
  function process(locks = new ProcessLocks(clock)) {
    const idem = new Idempotency({ database: temp.database, locks, clock, ttlMs: TTL, lockTtlMs: LOCK_TTL });
    return {
      idem,
      locks,
      async proceed(key: string, fp: string): Promise<IdempotencyClaim> {
        const decision = await idem.begin('user:1', key, fp);
        expect(decision.kind).toBe('proceed');
        return (decision as { claim: IdempotencyClaim }).claim;
      },
      /** The business transaction: a row of its own and the record; `committed` after its commit. */
      async commit(claim: IdempotencyClaim, body = response.body): Promise<void> {
        await temp.database.transaction(async (trx) => {
          await trx.insertInto('kv').values({ key: `business:${claim.fingerprint}:${body}`, value: '1', expires_at: null }).execute();
          await idem.record(trx, claim, { ...response, body });
        });
        idem.committed(claim);
      },
    };
  }
  const businessRows = async () => (await temp.database.db.selectFrom('kv').select('key').where('key', 'like', 'business:%').execute()).map((row) => row.key);

  it('answers a repeat in flight in the same process as in flight, without touching the store', async () => {
    const api = process();
    await api.proceed('k', 'fp');
    expect(await api.idem.begin('user:1', 'k', 'fp')).toEqual({ kind: 'in_flight' });
    expect(await api.idem.begin('user:1', 'k', 'other')).toEqual({ kind: 'in_flight' });
    expect(await temp.database.db.selectFrom('kv').selectAll().execute()).toEqual([]);
  });

  it('frees the key once the request commits: a repeat is answered from the record its insert finds', async () => {
    const api = process();
    await api.commit(await api.proceed('k', 'fp'));
    expect(api.locks.size).toBe(0);
    for (const [fp, refusal] of [['fp', { kind: 'replay', response }], ['other', { kind: 'mismatch' }]] as const) {
      const repeat = await api.proceed('k', fp);
      const attempt = api.commit(repeat, 'second');
      await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyTaken);
      await expect(attempt).rejects.toMatchObject({ refusal });
      await api.idem.release(repeat);
    }
    expect(await businessRows()).toEqual([`business:fp:${response.body}`]);
  });

  it('frees the key at once on release, and after the lock expires for a request that never finished', async () => {
    const api = process();
    await api.idem.release(await api.proceed('k', 'fp'));
    await api.proceed('k', 'fp');
    clock.advance(LOCK_TTL - 1);
    expect((await api.idem.begin('user:1', 'k', 'fp')).kind).toBe('in_flight');
    clock.advance(1);
    await api.proceed('k', 'fp');
  });

  it('stores one of two processes repeating a key at once: the other is answered from its committed record', async () => {
    const [a, b] = [process(), process()];
    const [first, second] = [await a.proceed('k', 'fp'), await b.proceed('k', 'fp')];
    await a.commit(first);
    const late = b.commit(second, 'second');
    await expect(late).rejects.toMatchObject({ refusal: { kind: 'replay', response } });
    expect(await businessRows()).toEqual([`business:fp:${response.body}`]);
  });

  it('lets the other process store its request when the first one rolled back', async () => {
    const [a, b] = [process(), process()];
    const [first, second] = [await a.proceed('k', 'fp'), await b.proceed('k', 'fp')];
    await expect(
      temp.database.transaction(async (trx) => {
        await a.idem.record(trx, first, response);
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    await a.idem.release(first);
    await b.commit(second, 'second');
    expect(await b.idem.begin('user:1', 'k', 'fp')).toEqual({ kind: 'proceed', claim: { scope: 'user:1', key: 'k', fingerprint: 'fp' } });
    expect(await businessRows()).toEqual(['business:fp:second']);
  });

  it('drops the locks of requests that never finished once many are held and they expired', async () => {
    const locks = new ProcessLocks(clock);
    for (let i = 0; i < 1_000; i++) expect(await locks.take(`stale-${i}`, 'fp', LOCK_TTL)).toBe(true);
    clock.advance(LOCK_TTL);
    await locks.take('fresh', 'fp', LOCK_TTL);
    expect(locks.size).toBe(1);
  });
});
