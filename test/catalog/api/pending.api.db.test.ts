import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateItems } from '../../../dev/catalog/feed-generator.js';
import { contentHash, validateFeedItem, type NormalizedItem } from '../../../src/catalog/feed/feed-item.js';
import { takeChangeSeq } from '../../../src/catalog/catalog-changes.repository.js';
import { insertPendingPornstars, publishPending } from '../../../src/catalog/feed/feed-pending.repository.js';
import { countCatalogChange } from '../../../src/catalog/catalog-versions.repository.js';
import { body, createCatalogTestApp, type CatalogTestApp } from './catalog-app.js';

/**
 * A pornstar a feed run has inserted but not finished (`pending_run_id`) is seen by no reader, nor
 * are its aliases, thumbnails and URLs, whatever the filters, and no write reaches it, until the
 * run's last transaction publishes it.
 */
const RUN_ID = 4242;

describe('a pornstar pending in an unfinished feed run', () => {
  let t: CatalogTestApp;
  let item: NormalizedItem;
  let id: number;
  let thumbnailId: number;
  let urlId: number;
  let aliasId: number;

  beforeAll(async () => {
    t = await createCatalogTestApp();
    const [generated] = [...generateItems({ items: 1, seed: 7, startId: 777_000 })];
    const checked = validateFeedItem(generated!.item);
    if (!checked.ok) throw new Error(checked.errors.join('; '));
    const thumbnails = [{ type: 'pc', width: 234, height: 344, urls: ['https://cdn.example.test/pending.jpg'] }];
    item = { ...checked.item, name: 'Pendingname Unique', aliases: ['Pendalias Unique'], thumbnails };
    await t.container.database.transaction((trx) => insertPendingPornstars(trx, RUN_ID, [{ item, contentHash: contentHash(item) }], t.clock.now()));
    const star = await t.db.selectFrom('pornstars').select('id').where('external_id', '=', item.externalId).executeTakeFirstOrThrow();
    id = star.id;
    aliasId = (await t.db.selectFrom('pornstar_aliases').select('id').where('pornstar_id', '=', id).executeTakeFirstOrThrow()).id;
    thumbnailId = (await t.db.selectFrom('pornstar_thumbnails').select('id').where('pornstar_id', '=', id).executeTakeFirstOrThrow()).id;
    urlId = (await t.db.selectFrom('pornstar_thumbnail_urls').select('id').where('thumbnail_id', '=', thumbnailId).executeTakeFirstOrThrow()).id;
  });
  afterAll(() => t.close());

  const listed = async (path: string) => {
    const res = await t.get(path);
    expect(res.statusCode, res.body).toBe(200);
    return body<Array<{ id: number }>>(res);
  };

  it('is in no listing, search or count, removed ones included', async () => {
    for (const path of ['/pornstars', '/pornstars?include_removed=true', '/pornstars?q=pendingname', '/pornstars?q=pendalias']) {
      const page = await listed(path);
      expect(page.data.map((row) => row.id), path).not.toContain(id);
    }
    expect((await listed('/pornstars?q=pendingname')).meta).toMatchObject({ total: 0 });
    expect((await listed('/pornstar-aliases?include_removed=true')).data.map((row) => row.id)).not.toContain(aliasId);
    expect((await listed('/pornstar-thumbnails?include_removed=true')).data.map((row) => row.id)).not.toContain(thumbnailId);
    expect((await listed('/pornstar-thumbnail-urls?include_removed=true')).data.map((row) => row.id)).not.toContain(urlId);
  });

  it('is not found by id, nor its children, and cannot be written to', async () => {
    for (const path of [`/pornstars/${id}`, `/pornstars/${id}?include_removed=true`, `/pornstar-aliases/${aliasId}`, `/pornstar-thumbnails/${thumbnailId}`, `/pornstar-thumbnail-urls/${urlId}`]) {
      expect((await t.get(path)).statusCode, path).toBe(404);
    }
    expect((await t.send('PATCH', `/pornstars/${id}`, { name: 'Edited' })).statusCode).toBe(404);
    expect((await t.send('DELETE', `/pornstars/${id}`)).statusCode).toBe(404);
    expect((await t.send('POST', '/pornstar-aliases', { pornstar_id: id, alias: 'Sneaky' })).statusCode).toBe(422);
    expect((await t.send('DELETE', `/pornstar-aliases/${aliasId}`)).statusCode).toBe(404);
  });

  it('is seen everywhere once its run publishes it', async () => {
    // As the run's last transaction does: publish, and count the change for the readers' caches.
    await t.container.database.transaction(async (trx) => {
      await publishPending(trx, RUN_ID, await takeChangeSeq(trx));
      await countCatalogChange(trx, t.clock.now());
    });
    expect((await t.get(`/pornstars/${id}`)).statusCode).toBe(200);
    expect((await listed('/pornstars?q=pendingname')).data.map((row) => row.id)).toEqual([id]);
    expect((await t.get(`/pornstar-aliases/${aliasId}`)).statusCode).toBe(200);
    expect((await t.get(`/pornstar-thumbnail-urls/${urlId}`)).statusCode).toBe(200);
  });
});
