import fs from 'node:fs';
import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthTables } from '../../../../src/auth/auth.tables.js';
import { createDatabase, type Database } from '../../../../src/platform/db/database.js';
import { migrateToLatest } from '../../../../src/platform/db/migrate.js';
import { migrationsFor } from '../../../../src/platform/db/migrations/index.js';
import type { WebhooksTables } from '../../../../src/webhooks/webhooks.tables.js';
import { testConfig } from '../../../support/app.js';

/**
 * 012 on the run's engine: deliveries no longer need their event to exist on PostgreSQL and MySQL
 * (SQLite keeps its check), and a user's deliveries still go with the user, through the endpoint.
 */
describe('migration 012-delivery-event-key', () => {
  let database: Database;
  let dataDir: string;
  let db: Kysely<AuthTables & WebhooksTables>;
  let migrator: Migrator;
  let userId: number;
  let endpointId: number;
  let messages = 0;

  beforeAll(async () => {
    const config = await testConfig({}, { schema: 'empty' });
    dataDir = config.dataDir;
    database = createDatabase({ url: config.databaseUrl, poolMax: 2 });
    db = database.db as Kysely<AuthTables & WebhooksTables>;
    migrator = new Migrator({ db, provider: { getMigrations: async () => migrationsFor(database.dialect) } });
    expect((await migrator.migrateTo('011-webhooks')).error).toBeUndefined();
    await db.insertInto('users').values({ name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 1, updated_at: 1 }).execute();
    userId = Number((await db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id);
    await db.insertInto('webhook_endpoints').values({ user_id: userId, url: 'https://example.test/hook', events: '[]', secret: 's', enabled: 1, created_at: 1, updated_at: 1 }).execute();
    endpointId = Number((await db.selectFrom('webhook_endpoints').select('id').executeTakeFirstOrThrow()).id);
    await db.insertInto('webhook_events').values({ id: 'evt_1', user_id: userId, type: 'order.completed', body: '{}', created_at: 1 }).execute();
  });
  afterAll(async () => {
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const insertDelivery = (eventId: string) =>
    db
      .insertInto('webhook_deliveries')
      .values({ message_id: `msg_${++messages}`, endpoint_id: endpointId, event_id: eventId, status: 'pending', created_at: 1, updated_at: 1 })
      .execute()
      .then(
        () => true,
        () => false,
      );

  it('before 012, a delivery needs its event', async () => {
    expect(await insertDelivery('evt_missing')).toBe(false);
    expect(await insertDelivery('evt_1')).toBe(true);
  });

  it('after 012, only SQLite still checks the event', async () => {
    expect(await migrateToLatest(database)).toContain('012-delivery-event-key');
    expect(await insertDelivery('evt_missing')).toBe(database.dialect !== 'sqlite');
  });

  it('deleting the user still deletes its deliveries, through their endpoint', async () => {
    await db.deleteFrom('users').where('id', '=', userId).execute();
    const left = await db.selectFrom('webhook_deliveries').select('id').execute();
    expect(left).toEqual([]);
  });

  it('goes down to 011 with the key back, and up again', async () => {
    const down = await migrator.migrateTo('011-webhooks');
    expect(down.error).toBeUndefined();
    // Every later migration goes down first; 012 is the last to.
    expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('012-delivery-event-key');
    await db.insertInto('users').values({ id: userId, name: 'u', email: 'u@example.test', password_hash: 'x', created_at: 1, updated_at: 1 }).execute();
    await db.insertInto('webhook_endpoints').values({ id: endpointId, user_id: userId, url: 'https://example.test/hook', events: '[]', secret: 's', enabled: 1, created_at: 1, updated_at: 1 }).execute();
    expect(await insertDelivery('evt_missing')).toBe(false);
    expect(await migrateToLatest(database)).toContain('012-delivery-event-key');
  });
});
