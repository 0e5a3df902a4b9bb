import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ImageChangeStamper } from '../../src/catalog/image-change-stamper.js';
import type { Database } from '../../src/platform/db/database.js';
import { createCatalogTestApp, type CatalogTestApp } from './api/catalog-app.js';

describe('ImageChangeStamper on its timer', () => {
  let t: CatalogTestApp;
  beforeEach(async () => {
    t = await createCatalogTestApp();
  });
  afterEach(() => t.close());

  const unstamped = async () => (await t.db.selectFrom('images').select('id').where('state_seq', 'is', null).execute()).length;

  it('logs a failed stamp, stamps on a later tick, and stamps nothing once stopped', async () => {
    await t.image('https://cdn.example.test/a.jpg', 'cached');
    let failures = 1;
    const database = t.container.database;
    const flaky = {
      ...database,
      db: database.db,
      transaction: (work: Parameters<Database['transaction']>[0]) => (failures-- > 0 ? Promise.reject(new Error('database went away')) : database.transaction(work)),
    } as Database;
    const warn = vi.fn();
    const stamper = new ImageChangeStamper({ database: flaky, clock: t.clock, logger: { warn } as never, everyMs: 10 }).start();
    await vi.waitFor(async () => expect(await unstamped()).toBe(0), { timeout: 5_000, interval: 20 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![1]).toMatch(/could not stamp image changes/);

    await stamper.stop();
    await t.image('https://cdn.example.test/b.jpg', 'cached');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await unstamped()).toBe(1);
  });
});
