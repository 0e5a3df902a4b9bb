import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOKEN_USE_INTERVAL_MS, TokenUsageRecorder } from '../../src/auth/token-usage.recorder.js';
import { insertToken } from '../../src/auth/tokens.repository.js';
import { insertUser } from '../../src/auth/users.repository.js';
import { captureLogs, type CapturedLogs } from '../support/log-capture.js';
import { manualClock, type ManualClock } from '../support/driver-clock.js';
import { createTempSqlite, type TempSqlite } from '../support/driver-sqlite.js';

let sqlite: TempSqlite;
let clock: ManualClock;
let logs: CapturedLogs;
let recorder: TokenUsageRecorder;
let tokens: number[];

beforeEach(async () => {
  sqlite = await createTempSqlite('intake-token-usage');
  clock = manualClock();
  logs = captureLogs();
  const logger = pino({ level: 'warn' }, logs.destination);
  recorder = new TokenUsageRecorder({ database: sqlite.database, clock, logger }, { flushEveryMs: 0 });
  const db = sqlite.database.db;
  const user = await insertUser(db, { name: 'u', email: 'u@example.test', password_hash: 'x', created_at: clock.now(), updated_at: clock.now() });
  const token = () => insertToken(db, { user_id: user.id, name: 't', token_hash: Math.random().toString(36), abilities: '["orders"]', last_used_at: null, expires_at: null, created_at: clock.now(), updated_at: clock.now() });
  tokens = [await token(), await token(), await token()];
});
afterEach(() => sqlite.cleanup());

async function lastUsed(id: number): Promise<number | null> {
  const row = await sqlite.database.db.selectFrom('personal_access_tokens').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
  return row.last_used_at === null ? null : Number(row.last_used_at);
}

describe('the token usage recorder', () => {
  it('writes nothing when a use is recorded, then the latest use of every token in one statement', async () => {
    const write = vi.spyOn(sqlite.database, 'write');
    const [a, b] = tokens as [number, number];
    const start = clock.now();
    recorder.record(a, start);
    recorder.record(b, start + 5);
    recorder.record(a, start + 10);
    expect(write).not.toHaveBeenCalled();
    expect([await lastUsed(a), await lastUsed(b)]).toEqual([null, null]);

    await recorder.flush();
    expect(write).toHaveBeenCalledTimes(1);
    expect([await lastUsed(a), await lastUsed(b)]).toEqual([start + 10, start + 5]);
    expect(recorder.pendingCount).toBe(0);
  });

  it('writes a token in constant use at most once per minute', async () => {
    const write = vi.spyOn(sqlite.database, 'write');
    const [a] = tokens as [number];
    const start = clock.now();
    // Three minutes of one use a second, flushed every five seconds.
    for (let second = 0; second < 180; second++) {
      recorder.record(a, clock.now());
      if (second % 5 === 0) await recorder.flush();
      clock.advance(1_000);
    }
    await recorder.flush();
    expect(write).toHaveBeenCalledTimes(3);
    expect(await lastUsed(a)).toBe(start + 2 * TOKEN_USE_INTERVAL_MS);
  });

  it('trusts a recent last_used_at read from the token row, as another process or an earlier run wrote it', async () => {
    const [recent, old] = tokens as [number, number];
    recorder.record(recent, clock.now(), clock.now() - TOKEN_USE_INTERVAL_MS + 1);
    expect(recorder.pendingCount).toBe(0);
    recorder.record(old, clock.now(), clock.now() - TOKEN_USE_INTERVAL_MS);
    expect(recorder.pendingCount).toBe(1);
  });

  it('never moves last_used_at backwards', async () => {
    const [a] = tokens as [number];
    const later = clock.now() + 5_000;
    await sqlite.database.db.updateTable('personal_access_tokens').set({ last_used_at: later }).where('id', '=', a).execute();
    recorder.record(a, clock.now());
    await recorder.flush();
    expect(await lastUsed(a)).toBe(later);
  });

  it('logs a failed write, never rejects, and writes the use at the next flush', async () => {
    const [a] = tokens as [number];
    vi.spyOn(sqlite.database, 'write').mockRejectedValueOnce(new Error('database is locked'));
    recorder.record(a, clock.now());
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(await lastUsed(a)).toBeNull();
    expect(logs.records()).toEqual([expect.objectContaining({ msg: 'could not record token use; will try again', tokens: 1 })]);

    await recorder.flush();
    expect(await lastUsed(a)).toBe(clock.now());
  });

  it('forgets a revoked token', async () => {
    const write = vi.spyOn(sqlite.database, 'write');
    const [a] = tokens as [number];
    recorder.record(a, clock.now());
    recorder.forget(a);
    await recorder.flush();
    expect(write).not.toHaveBeenCalled();
  });

  it('writes what is pending when closed', async () => {
    const [a, b, c] = tokens as [number, number, number];
    for (const id of [a, b, c]) recorder.record(id, clock.now());
    await recorder.close();
    expect([await lastUsed(a), await lastUsed(b), await lastUsed(c)]).toEqual([clock.now(), clock.now(), clock.now()]);
  });

  it('flushes on its own timer', async () => {
    const timed = new TokenUsageRecorder({ database: sqlite.database, clock, logger: pino({ level: 'silent' }) }, { flushEveryMs: 20 });
    const [a] = tokens as [number];
    timed.record(a, clock.now());
    await vi.waitFor(async () => expect(await lastUsed(a)).toBe(clock.now()), { timeout: 2_000, interval: 20 });
    await timed.close();
  });
});
