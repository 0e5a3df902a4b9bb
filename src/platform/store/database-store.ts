import { sql } from 'kysely';
import { systemClock, type Clock } from '../clock.js';
import type { Database, Executor } from '../db/database.js';
import { tablesOf } from '../db/tables.js';
import { param, prepareQuery } from '../db/prepared-query.js';
import type { StoreTables } from './kv.table.js';
import type { Store } from './store.js';

const tables = tablesOf<StoreTables>();

/** Takes the key when absent or expired. Prepared: it guards every order. */
const takeKeyQuery = prepareQuery<{ key: string; value: string; expires_at: number; now: number }, never>((db) =>
  tables(db)
    .insertInto('kv')
    .values({ key: param('key'), value: param('value'), expires_at: param('expires_at') })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), expires_at: eb.ref('excluded.expires_at') }))
        .where('kv.expires_at', '<=', param<number>('now')),
    ),
);

/**
 * The store on the `kv` table. Expired rows read as absent and are swept by `sweepExpired`.
 * Writes go through `database.write`, so that on SQLite they share the commits of concurrent
 * requests instead of paying for one each.
 */
export class DatabaseStore implements Store {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const expiresAt = now + ttlMs;
    if (this.database.dialect === 'mysql') {
      const result = await this.database.write((db) =>
        sql`insert into kv (\`key\`, value, expires_at) values (${key}, ${value}, ${expiresAt})
          on duplicate key update
            value = if(expires_at <= ${now}, values(value), value),
            expires_at = if(expires_at <= ${now}, values(expires_at), expires_at)`.execute(db),
      );
      // MySQL reports 1 for an insert, 2 for an update that changed the row, 0 when untouched.
      return Number(result.numAffectedRows ?? 0) > 0;
    }
    const result = await this.database.write((db) => takeKeyQuery.execute(db, { key, value, expires_at: expiresAt, now }));
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const expiresAt = this.clock.now() + ttlMs;
    await this.database.write((db) => this.upsert(db, key, value, expiresAt));
  }

  async get(key: string): Promise<string | null> {
    const row = await tables(this.database.db)
      .selectFrom('kv')
      .select('value')
      .where('key', '=', key)
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst();
    return row?.value ?? null;
  }

  async delete(key: string): Promise<void> {
    await this.database.write((db) => tables(db).deleteFrom('kv').where('key', '=', key).execute());
  }

  async deleteIfValue(key: string, value: string): Promise<boolean> {
    const now = this.clock.now();
    // An expired key is absent: its old holder must learn that it lost the key, as on Redis.
    const result = await this.database.write((db) =>
      tables(db)
        .deleteFrom('kv')
        .where('key', '=', key)
        .where('value', '=', value)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .executeTakeFirst(),
    );
    return Number(result.numDeletedRows) > 0;
  }

  async extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const result = await this.database.write((db) =>
      tables(db)
        .updateTable('kv')
        .set({ expires_at: now + ttlMs })
        .where('key', '=', key)
        .where('value', '=', value)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) > 0;
  }

  async increment(key: string, ttlMs: number, by = 1): Promise<{ count: number; ttlMs: number }> {
    const now = this.clock.now();
    if (this.database.dialect === 'mysql') return this.incrementInTransaction(key, ttlMs, by, now);
    const expired = sql<boolean>`kv.expires_at <= ${now}`;
    const row = await this.database.write((db) =>
      tables(db)
        .insertInto('kv')
        .values({ key, value: String(by), expires_at: now + ttlMs })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            value: sql<string>`case when ${expired} then excluded.value else cast(cast(kv.value as integer) + ${by} as text) end`,
            expires_at: sql<number>`case when ${expired} then excluded.expires_at else kv.expires_at end`,
          }),
        )
        .returning(['value', 'expires_at'])
        .executeTakeFirstOrThrow(),
    );
    return { count: Number(row.value), ttlMs: Number(row.expires_at) - now };
  }

  /** Deletes up to `limit` expired keys; returns how many. Small chunks keep each write short. */
  async sweepExpired(limit = 5000): Promise<number> {
    const now = this.clock.now();
    const result = await this.database.write((db) =>
      this.database.dialect === 'mysql'
        ? tables(db).deleteFrom('kv').where('expires_at', '<=', now).limit(limit).executeTakeFirst()
        : tables(db)
            .deleteFrom('kv')
            .where('key', 'in', (eb) => eb.selectFrom('kv').select('key').where('expires_at', '<=', now).limit(limit))
            .executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }

  ping(): Promise<void> {
    return this.database.ping();
  }

  async close(): Promise<void> {}

  /** MySQL has no RETURNING: the upsert locks the row, and the same transaction reads it back. */
  private incrementInTransaction(key: string, ttlMs: number, by: number, now: number): Promise<{ count: number; ttlMs: number }> {
    return this.database.transaction(async (trx) => {
      // MySQL assigns left to right: `value` is set while `expires_at` still holds the old expiry.
      await sql`insert into kv (\`key\`, value, expires_at) values (${key}, ${String(by)}, ${now + ttlMs})
        on duplicate key update
          value = if(expires_at <= ${now}, values(value), cast(cast(value as unsigned) + ${by} as char)),
          expires_at = if(expires_at <= ${now}, values(expires_at), expires_at)`.execute(trx);
      const row = await tables(trx).selectFrom('kv').select(['value', 'expires_at']).where('key', '=', key).executeTakeFirstOrThrow();
      return { count: Number(row.value), ttlMs: row.expires_at === null ? ttlMs : Number(row.expires_at) - now };
    });
  }

  private async upsert(db: Executor, key: string, value: string, expiresAt: number): Promise<void> {
    if (this.database.dialect === 'mysql') {
      await sql`insert into kv (\`key\`, value, expires_at) values (${key}, ${value}, ${expiresAt})
        on duplicate key update value = values(value), expires_at = values(expires_at)`.execute(db);
      return;
    }
    await tables(db)
      .insertInto('kv')
      .values({ key, value, expires_at: expiresAt })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, expires_at: expiresAt }))
      .execute();
  }
}
