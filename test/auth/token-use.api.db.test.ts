import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TOKEN_USE_INTERVAL_MS } from '../../src/auth/token-usage.recorder.js';
import { testDialect } from '../support/driver-databases.js';
import { createTestApp, type TestApp, type TestUser } from '../support/app.js';

/** Authentication reads and never writes: a token's last use is written later, in the background. */
const dialect = testDialect();

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const me = (user: TestUser) => t.inject({ method: 'GET', url: '/api/user', headers: user.auth });
const tokenId = (user: TestUser) => Number(user.token.split('|')[0]);

async function lastUsed(user: TestUser): Promise<number | null> {
  const row = await t.container.database.db.selectFrom('personal_access_tokens').select('last_used_at').where('id', '=', tokenId(user)).executeTakeFirstOrThrow();
  return row.last_used_at === null ? null : Number(row.last_used_at);
}

/** Rows changed on the SQLite connection every request and write of the process goes through. */
async function sqliteChanges(): Promise<number> {
  const { rows } = await sql<{ changes: number }>`select total_changes() as changes`.execute(t.container.database.db);
  return rows[0]!.changes;
}

describe(`authentication on the request path (${dialect})`, () => {
  it('answers many authenticated requests, minutes apart, without writing last_used_at, then records the latest use in the background', async () => {
    const user = await t.user();
    const before = dialect === 'sqlite' ? await sqliteChanges() : undefined;
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => me(user)));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
      t.clock.advance(TOKEN_USE_INTERVAL_MS + 1_000);
    }
    if (before !== undefined) expect(await sqliteChanges()).toBe(before);
    expect(await lastUsed(user)).toBeNull();

    await t.container.tokenUsage.flush();
    expect(await lastUsed(user)).toBe(t.clock.now() - TOKEN_USE_INTERVAL_MS - 1_000);
    if (before !== undefined) expect(await sqliteChanges()).toBe(before + 1);
  });

  it('refuses a token revoked behind this instance’s back once its cache entry has expired, within 1 s', async () => {
    const user = await t.user();
    expect((await me(user)).statusCode).toBe(200);
    await t.container.database.db.deleteFrom('personal_access_tokens').where('id', '=', tokenId(user)).execute();
    // Still trusted for the cache's TTL (AUTH_TOKEN_CACHE_MS, 1000 by default) on this instance.
    expect((await me(user)).statusCode).toBe(200);
    t.clock.advance(1_000);
    expect((await me(user)).statusCode).toBe(401);
  });

  it('refuses a token at once on the instance that revoked it', async () => {
    const user = await t.user();
    expect((await me(user)).statusCode).toBe(200);
    expect((await t.inject({ method: 'POST', url: '/api/logout', headers: user.auth })).statusCode).toBe(200);
    expect((await me(user)).statusCode).toBe(401);
  });
});

describe(`reading token rows under load (${dialect})`, () => {
  afterEach(() => vi.restoreAllMocks());

  /** Counts the reads of personal_access_tokens from now on: those sent, and those answered. */
  const countTokenReads = () => {
    const reads = { count: 0, answered: 0 };
    const db = t.container.database.db;
    const executeQuery = db.executeQuery.bind(db);
    vi.spyOn(db, 'executeQuery').mockImplementation(async (query, ...rest) => {
      const text = 'sql' in query ? query.sql : '';
      if (!/^select .* from [`"]personal_access_tokens[`"]/.test(text)) return executeQuery(query, ...rest);
      reads.count++;
      try {
        return await executeQuery(query, ...rest);
      } finally {
        reads.answered++;
      }
    });
    return reads;
  };

  it('gives a burst of requests whose cache entry lapsed one read of the row between them', async () => {
    const user = await t.user();
    expect((await me(user)).statusCode).toBe(200);
    t.clock.advance(1_000);
    const reads = countTokenReads();
    const answers = await Promise.all(Array.from({ length: 20 }, () => me(user)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(reads.count).toBe(1);
  });

  it('reads a token in steady use again half-way through its entry, so that the entry never lapses', async () => {
    const user = await t.user();
    expect((await me(user)).statusCode).toBe(200);
    const reads = countTokenReads();
    t.clock.advance(400);
    expect((await me(user)).statusCode).toBe(200);
    expect(reads.count).toBe(0);
    t.clock.advance(200);
    expect((await me(user)).statusCode).toBe(200);
    await vi.waitFor(() => expect(reads.answered).toBe(1));
    // 1 s after the first read, when its entry would have lapsed: the one read at 0.6 s serves it.
    t.clock.advance(400);
    expect((await me(user)).statusCode).toBe(200);
    expect(reads.count).toBe(1);
  });

  it('refuses a token revoked elsewhere as soon as the background read finds its row gone', async () => {
    const user = await t.user();
    expect((await me(user)).statusCode).toBe(200);
    await t.container.database.db.deleteFrom('personal_access_tokens').where('id', '=', tokenId(user)).execute();
    const reads = countTokenReads();
    t.clock.advance(600);
    expect((await me(user)).statusCode).toBe(200);
    await vi.waitFor(() => expect(reads.answered).toBe(1));
    // 0.6 s after the first read, long before its entry would have lapsed.
    expect((await me(user)).statusCode).toBe(401);
  });
});

describe(`with AUTH_TOKEN_CACHE_MS=0 (${dialect})`, () => {
  it('reads the token row on every request', async () => {
    const uncached = await createTestApp({ env: { AUTH_TOKEN_CACHE_MS: '0' } });
    try {
      const user = await uncached.user();
      const headers = user.auth;
      expect((await uncached.inject({ method: 'GET', url: '/api/user', headers })).statusCode).toBe(200);
      await uncached.container.database.db.deleteFrom('personal_access_tokens').where('id', '=', Number(user.token.split('|')[0])).execute();
      expect((await uncached.inject({ method: 'GET', url: '/api/user', headers })).statusCode).toBe(401);
    } finally {
      await uncached.close();
    }
  });
});
