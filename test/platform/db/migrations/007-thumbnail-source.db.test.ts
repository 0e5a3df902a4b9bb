import fs from 'node:fs';
import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogTables } from '../../../../src/catalog/catalog.tables.js';
import { createDatabase, type Database } from '../../../../src/platform/db/database.js';
import { isUniqueViolation } from '../../../../src/platform/db/errors.js';
import { migrateToLatest } from '../../../../src/platform/db/migrate.js';
import { migrationsFor } from '../../../../src/platform/db/migrations/index.js';
import { testConfig } from '../../../support/app.js';

/** 007 on the run's engine: existing thumbnails become the feed's, and only the feed's are unique per (pornstar, type). */
describe('migration 007-thumbnail-source', () => {
  let database: Database;
  let dataDir: string;
  let db: Kysely<CatalogTables>;
  let migrator: Migrator;
  let pornstarId: number;

  beforeAll(async () => {
    const config = await testConfig({}, { schema: 'empty' });
    dataDir = config.dataDir;
    database = createDatabase({ url: config.databaseUrl, poolMax: 2 });
    db = database.db as Kysely<CatalogTables>;
    migrator = new Migrator({ db, provider: { getMigrations: async () => migrationsFor(database.dialect) } });
    const before = await migrator.migrateTo('006-outbox');
    expect(before.error).toBeUndefined();
    // A row as 005 made it, without the columns of later migrations (hence the cast: the table type is today's).
    await db.insertInto('pornstars').values({ external_id: '1', name: 'Before 007', wl_status: 0, created_at: 1, updated_at: 1 } as never).execute();
    pornstarId = Number((await db.selectFrom('pornstars').select('id').executeTakeFirstOrThrow()).id);
    // Rows as 005 made them, without a source (hence the cast: the table type is today's).
    const before007 = ['pc', 'mobile', 'tablet'].map((type) => ({ pornstar_id: pornstarId, type, width: 234, height: 344, created_at: 1, updated_at: 1 }));
    await db.insertInto('pornstar_thumbnails').values(before007 as never).execute();
  });
  afterAll(async () => {
    await database.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const thumbnail = (type: string, source: 'feed' | 'api') => ({ pornstar_id: pornstarId, type, source, width: null, height: null, created_at: 2, updated_at: 2 });
  const insertFails = async (values: object) => {
    const error = await db
      .insertInto('pornstar_thumbnails')
      .values(values as never)
      .execute()
      .then(() => undefined, (e: unknown) => e);
    return isUniqueViolation(error);
  };

  it('marks every existing thumbnail as the feed’s', async () => {
    expect(await migrateToLatest(database)).toContain('007-thumbnail-source');
    const rows = await db.selectFrom('pornstar_thumbnails').select(['type', 'source']).orderBy('id').execute();
    expect(rows).toEqual([
      { type: 'pc', source: 'feed' },
      { type: 'mobile', source: 'feed' },
      { type: 'tablet', source: 'feed' },
    ]);
  });

  it('refuses a second feed thumbnail of a type, and takes any number of api ones', async () => {
    expect(await insertFails(thumbnail('pc', 'feed'))).toBe(true);
    expect(await insertFails(thumbnail('pc', 'api'))).toBe(false);
    expect(await insertFails(thumbnail('pc', 'api'))).toBe(false);
    expect(await insertFails(thumbnail('tv', 'feed'))).toBe(false);
    // An api row that becomes the feed's takes the feed's slot, so it must be free.
    const api = await db.selectFrom('pornstar_thumbnails').select('id').where('type', '=', 'pc').where('source', '=', 'api').executeTakeFirstOrThrow();
    const error = await db.updateTable('pornstar_thumbnails').set({ source: 'feed' }).where('id', '=', api.id).execute().then(() => undefined, (e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('goes down once the duplicates are gone, and up again', async () => {
    await db.deleteFrom('pornstar_thumbnails').where('source', '=', 'api').execute();
    // Down to 006: the later migrations go first, 007 last.
    const down = await migrator.migrateTo('006-outbox');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('007-thumbnail-source');
    expect(await insertFails({ pornstar_id: pornstarId, type: 'pc', width: null, height: null, created_at: 3, updated_at: 3 })).toBe(true);
    expect(await migrateToLatest(database)).toContain('007-thumbnail-source');
    expect(await insertFails(thumbnail('pc', 'api'))).toBe(false);
  });
});
