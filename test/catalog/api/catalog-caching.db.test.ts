import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { sql } from 'kysely';
import { countCatalogChange } from '../../../src/catalog/catalog-versions.repository.js';
import { createDatabase } from '../../../src/platform/db/database.js';
import { testDialect } from '../../support/driver-databases.js';
import { sleep } from '../../support/driver-wait.js';
import { API_PREFIX } from '../../../src/catalog/api/index.js';
import { body, createCatalogTestApp, createPornstar, type CatalogTestApp } from './catalog-app.js';

let t: CatalogTestApp;
let first: PornstarViewData;
let second: PornstarViewData;

beforeAll(async () => {
  t = await createCatalogTestApp();
  first = await createPornstar(t, { name: 'Renée Caching', views: 10, thumbnails: [{ type: 'pc', urls: [{ url: 'https://cdn.test/renee.jpg' }] }] });
  second = await createPornstar(t, { name: 'Other One', views: 20 });
});
afterAll(() => t.close());

const get = (path: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url: `${API_PREFIX}${path}`, headers });

describe(`catalog reads' validators on ${testDialect()}`, () => {
  it('tags a list and a show with their content, and answers 304 to a current If-None-Match, weak or strong', async () => {
    for (const path of ['/pornstars?per_page=15', `/pornstars/${first.id}`, '/pornstar-aliases', '/pornstar-thumbnails', '/pornstar-thumbnail-urls']) {
      const fresh = await get(path);
      expect(fresh.statusCode, path).toBe(200);
      const tag = fresh.headers.etag as string;
      expect(tag, path).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(fresh.headers['cache-control']).toBe('public, max-age=5, stale-while-revalidate=30');
      // Remembered at this version: answered from one small query.
      const cached = await get(path, { 'if-none-match': tag });
      expect(cached.statusCode, path).toBe(304);
      expect(cached.body).toBe('');
      expect(cached.headers.etag).toBe(tag);
      expect((await get(path, { 'if-none-match': `"other", W/${tag}` })).statusCode).toBe(304);
      expect((await get(path, { 'if-none-match': '*' })).statusCode).toBe(304);
      expect((await get(path, { 'if-none-match': '"stale"' })).statusCode).toBe(200);
    }
  });

  it('changes the tag exactly when the answer changes, whatever else the catalog does meanwhile', async () => {
    const show = `/pornstars/${first.id}`;
    const before = (await get(show)).headers.etag as string;
    const list = (await get('/pornstars')).headers.etag as string;
    // Another pornstar changes: the catalog version moves, this answer does not.
    expect((await t.send('PATCH', `/pornstars/${second.id}`, { views: 21 })).statusCode).toBe(200);
    const unchanged = await get(show, { 'if-none-match': before });
    expect(unchanged.statusCode).toBe(304);
    expect((await get('/pornstars', { 'if-none-match': list })).statusCode).toBe(200);
    // Its image is downloaded: the answer shows it, so its tag changes.
    await t.image('https://cdn.test/renee.jpg', 'cached');
    const downloaded = await get(show, { 'if-none-match': before });
    expect(downloaded.statusCode).toBe(200);
    expect(downloaded.headers.etag).not.toBe(before);
    expect(body<PornstarViewData>(downloaded).data.thumbnails[0]!.urls[0]!.image_status).toBe('cached');
  });

  it('serves an answer from memory while the catalog version stands, and reads it anew once a write changes it', async () => {
    const path = `/pornstars/${second.id}`;
    const before = body<PornstarViewData>(await get(path)).data.stats.views;
    // A change that no writer counted (only a bug would do this): the remembered answer stands.
    await t.db.updateTable('pornstars').set({ views: 777 }).where('id', '=', second.id).execute();
    expect(body<PornstarViewData>(await get(path)).data.stats.views).toBe(before);
    await countCatalogChange(t.db, t.clock.now());
    expect(body<PornstarViewData>(await get(path)).data.stats.views).toBe(777);
  });

  it('counts a list\'s total once per catalog version, and again after a write', async () => {
    const total = async () => body(await get('/pornstars?per_page=1')).meta!.total;
    const before = await total();
    expect(await total()).toBe(before);
    const third = await createPornstar(t, { name: 'Third Counted' });
    expect(await total()).toBe(before + 1);
    expect((await t.send('DELETE', `/pornstars/${third.id}`)).statusCode).toBe(200);
    expect(await total()).toBe(before);
  });

  it('gives Last-Modified once the second of the last change is over, and 304 to If-Modified-Since', async () => {
    // The migration dated the catalog's versions now; the test clock starts in 2023.
    t.clock.advance(Date.now() - t.clock.now() + 2_000);
    expect((await t.send('PATCH', `/pornstars/${second.id}`, { views: 22 })).statusCode).toBe(200);
    // A date to the second cannot tell this change from another one in the same second: none yet.
    expect((await get('/pornstars')).headers['last-modified']).toBeUndefined();
    t.clock.advance(1_000);
    const dated = await get('/pornstars');
    const lastModified = dated.headers['last-modified'] as string;
    expect(new Date(lastModified).getTime()).toBe(Math.floor((t.clock.now() - 1_000) / 1000) * 1000);
    expect((await get('/pornstars', { 'if-modified-since': lastModified })).statusCode).toBe(304);
    expect((await get('/pornstars', { 'if-modified-since': 'not a date' })).statusCode).toBe(200);
    // If-None-Match wins over If-Modified-Since.
    expect((await get('/pornstars', { 'if-modified-since': lastModified, 'if-none-match': '"stale"' })).statusCode).toBe(200);
    t.clock.advance(1_000);
    expect((await t.send('PATCH', `/pornstars/${second.id}`, { views: 23 })).statusCode).toBe(200);
    t.clock.advance(1_000);
    expect((await get('/pornstars', { 'if-modified-since': lastModified })).statusCode).toBe(200);
  });
});

describe(`catalog writes' preconditions on ${testDialect()}`, () => {
  const tagOf = async (path: string) => (await get(path)).headers.etag as string;

  it('refuses a write whose If-Match is stale with 412, and lets a current one through', async () => {
    const path = `/pornstars/${second.id}`;
    const tag = await tagOf(path);
    expect((await t.send('PATCH', path, { views: 30 }, { ...t.writer, 'if-match': tag })).statusCode).toBe(200);
    const stale = await t.send('PATCH', path, { views: 31 }, { ...t.writer, 'if-match': tag });
    expect(stale.statusCode).toBe(412);
    expect(body(stale)).toMatchObject({ success: false, message: 'The resource has changed since the ETag in If-Match was read.', data: null });
    expect(body<PornstarViewData>(await get(path)).data.stats.views).toBe(30);
    expect((await t.send('PATCH', path, { views: 31 }, { ...t.writer, 'if-match': '*' })).statusCode).toBe(200);
    // A weak tag never matches If-Match.
    expect((await t.send('PATCH', path, { views: 32 }, { ...t.writer, 'if-match': `W/${await tagOf(path)}` })).statusCode).toBe(412);
  });

  it('guards every resource\'s update and delete the same way', async () => {
    const pornstar = await createPornstar(t, { name: 'Guarded', aliases: [{ alias: 'Guard' }], thumbnails: [{ type: 'pc', urls: [{ url: 'https://cdn.test/guarded.jpg' }] }] });
    const alias = pornstar.aliases[0]!;
    const thumbnail = pornstar.thumbnails[0]!;
    const url = thumbnail.urls[0]!;
    const cases: Array<[string, Record<string, unknown>]> = [
      [`/pornstar-aliases/${alias.id}`, { alias: 'Guardian' }],
      // The URL before its thumbnail, whose deletion takes it along.
      [`/pornstar-thumbnail-urls/${url.id}`, { local_path: 'guarded.jpg' }],
      [`/pornstar-thumbnails/${thumbnail.id}`, { width: 640 }],
    ];
    for (const [path, change] of cases) {
      const tag = await tagOf(path);
      expect((await t.send('PATCH', path, change, { ...t.writer, 'if-match': '"stale"' })).statusCode, path).toBe(412);
      expect((await t.send('PATCH', path, change, { ...t.writer, 'if-match': tag })).statusCode, path).toBe(200);
      expect((await t.send('DELETE', path, undefined, { ...t.writer, 'if-match': tag })).statusCode, path).toBe(412);
      expect((await t.send('DELETE', path, undefined, { ...t.writer, 'if-match': await tagOf(path) })).statusCode, path).toBe(200);
    }
    const path = `/pornstars/${pornstar.id}`;
    expect((await t.send('DELETE', path, undefined, { ...t.writer, 'if-match': '"stale"' })).statusCode).toBe(412);
    expect((await t.send('DELETE', path, undefined, { ...t.writer, 'if-match': await tagOf(path) })).statusCode).toBe(200);
    expect((await t.send('DELETE', path, undefined, { ...t.writer, 'if-match': '*' })).statusCode).toBe(404);
  });

  it.skipIf(testDialect() === 'sqlite')('locks the row while it checks the tag, so that a write committed meanwhile elsewhere is seen', async () => {
    const path = `/pornstars/${second.id}`;
    const tag = await tagOf(path);
    // Another API process, on a connection of its own, holds the row and changes it.
    const elsewhere = createDatabase({ url: t.container.config.databaseUrl });
    try {
      let pending: Promise<{ statusCode: number }> | undefined;
      await elsewhere.db.transaction().execute(async (trx) => {
        await sql`select id from pornstars where id = ${second.id} for update`.execute(trx);
        pending = t.send('PATCH', path, { views: 50 }, { ...t.writer, 'if-match': tag });
        await sleep(300);
        await sql`update pornstars set views = 99 where id = ${second.id}`.execute(trx);
        await countCatalogChange(trx, Date.now());
      });
      expect((await pending!).statusCode).toBe(412);
      expect(body<PornstarViewData>(await get(path)).data.stats.views).toBe(99);
    } finally {
      await elsewhere.close();
    }
  });

  it('lets one of two editors with the same tag win, and refuses the other', async () => {
    const path = `/pornstars/${second.id}`;
    const tag = await tagOf(path);
    const results = await Promise.all([40, 41].map((views) => t.send('PATCH', path, { views }, { ...t.writer, 'if-match': tag })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412]);
  });
});
