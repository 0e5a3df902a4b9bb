import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateItems, type FeedItem } from '../../../dev/catalog/feed-generator.js';
import { encodeCursor } from '../../../src/catalog/api/change-cursor.js';
import { pruneChangeHistory, readChangeHead } from '../../../src/catalog/catalog-changes.repository.js';
import { FeedIngestService, type ImageClaimer } from '../../../src/catalog/feed/feed-ingest.service.js';
import { ImageChangeStamper } from '../../../src/catalog/image-change-stamper.js';
import { markImageCached } from '../../../src/catalog/images/images.repository.js';
import { sha256Hex } from '../../../src/platform/canonical-json.js';
import { loadConfig } from '../../../src/config.js';
import { createCatalogTestApp, pornstarBody, type CatalogTestApp } from './catalog-app.js';

type Item = { id: number; external_id: string; name?: string; removed?: true; aliases?: Array<{ alias: string }>; thumbnails?: Array<{ urls: Array<{ url: string; cached_url: string | null }> }> };
interface ChangesBody {
  data: Item[];
  meta: { changed_since: string; next_cursor: string; has_more: boolean; limit: number };
  links: { next: string };
}

const claimNothing: ImageClaimer = { claim: async () => 0 };

function feedItems(count: number, seed: number): FeedItem[] {
  return [...generateItems({ items: count, seed, imageBaseUrl: 'http://127.0.0.1:9/img' })].map(({ item }) => item);
}

describe('delta sync: GET /pornstars?changed_since', () => {
  let t: CatalogTestApp;
  let dir: string;

  beforeEach(async () => {
    t = await createCatalogTestApp();
    dir = fs.mkdtempSync(path.join(t.container.config.dataDir, 'feeds-'));
  });
  afterEach(() => t.close());

  let feeds = 0;
  const ingest = async (items: FeedItem[]) => {
    const file = path.join(dir, `feed-${++feeds}.json`);
    fs.writeFileSync(file, JSON.stringify({ site: 'https://example.test', generationDate: `2026-12-0${feeds}`, items, itemsCount: items.length }));
    const feed = loadConfig({ DATA_DIR: t.container.config.dataDir }).feed;
    const service = new FeedIngestService({ database: t.container.database, store: t.container.store, clock: t.clock, logger: t.container.logger, config: feed, images: claimNothing });
    const result = await service.ingest({ url: file, trigger: 'cli' });
    if (result.kind !== 'finished') throw new Error('ingestion was locked');
    t.clock.advance(1000);
    return result.run;
  };
  const changes = async (cursor: string, limit = 500) => {
    const response = await t.get(`/pornstars?changed_since=${encodeURIComponent(cursor)}&limit=${limit}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<ChangesBody>();
  };
  /** Every pornstar as a reader sees it now: shown ones by their GET, removed ones as tombstones. */
  const truth = async () => {
    const rows = await t.db.selectFrom('pornstars').select(['id', 'removed_at']).where('pending_run_id', 'is', null).orderBy('id').execute();
    const state = new Map<number, unknown>();
    for (const row of rows) {
      if (row.removed_at !== null) state.set(Number(row.id), 'removed');
      else state.set(Number(row.id), (await t.get(`/pornstars/${row.id}`)).json<{ data: unknown }>().data);
    }
    return state;
  };

  /** Follows next_cursor from `cursor` to the end, applying each page to `replica`; `between` runs after each page. */
  async function syncFrom(cursor: string, limit: number, replica: Map<number, unknown>, between: (page: number) => Promise<void> = async () => {}) {
    const deliveries: number[] = [];
    for (let page = 1; page <= 500; page++) {
      const body = await changes(cursor, limit);
      for (const item of body.data) {
        deliveries.push(item.id);
        if (item.removed) replica.set(item.id, 'removed');
        else replica.set(item.id, item);
      }
      expect(body.data.length).toBeLessThanOrEqual(limit);
      cursor = body.meta.next_cursor;
      await between(page);
      if (!body.meta.has_more) return { cursor, deliveries };
    }
    throw new Error('delta sync did not end within 500 pages');
  }

  it('pages from 0 through a feed run and API writes committed between pages, missing nothing and repeating only what changed again', async () => {
    const items = feedItems(40, 3);
    await ingest(items);
    const before = (await readChangeHead(t.db)).seq;
    const deletedThroughApi = (await t.db.selectFrom('pornstars').select('id').where('external_id', '=', String(items[20]!.id)).executeTakeFirstOrThrow()).id;

    const next = items.slice(5).map((item, i) => (i < 6 ? { ...item, name: `${item.name} Renamed` } : item));
    const added = feedItems(4, 99).map((item, i) => ({ ...item, id: 900_000 + i }));
    const touched = new Set<number>();
    const replica = new Map<number, unknown>();
    const { cursor, deliveries } = await syncFrom('0', 7, replica, async (page) => {
      if (page === 2) {
        await ingest([...next, ...added]);
        const changed = await t.db.selectFrom('pornstars').select('id').where('change_seq', '>', before).execute();
        changed.forEach((row) => touched.add(Number(row.id)));
      }
      if (page === 3) {
        expect((await t.send('DELETE', `/pornstars/${deletedThroughApi}`)).statusCode).toBe(200);
        touched.add(deletedThroughApi);
        const [someone] = await t.db.selectFrom('pornstars').select('id').where('removed_at', 'is', null).orderBy('id', 'desc').limit(1).execute();
        expect((await t.send('POST', '/pornstar-aliases', { pornstar_id: someone!.id, alias: 'Fresh Alias' })).statusCode).toBe(201);
        touched.add(Number(someone!.id));
      }
    });

    const state = await truth();
    state.set(deletedThroughApi, 'removed');
    expect(new Map([...replica].sort(([a], [b]) => a - b))).toEqual(new Map([...state].sort(([a], [b]) => a - b)));
    // An item comes once, and once more only if it changed after it came.
    const counts = new Map<number, number>();
    for (const id of deliveries) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) expect(count, `pornstar ${id}`).toBeLessThanOrEqual(touched.has(id) ? 2 : 1);
    expect(replica.get(deletedThroughApi)).toBe('removed');
    expect([...replica.values()].filter((value) => value === 'removed')).toHaveLength(5 + 1);

    const quiet = await changes(cursor);
    expect(quiet.data).toEqual([]);
    expect(quiet.meta).toMatchObject({ next_cursor: cursor, has_more: false });
  });

  it('keeps every change while API writers commit concurrently with the paging', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await t.send('POST', '/pornstars', pornstarBody())).json<{ data: { id: number } }>().data.id);
    const replica = new Map<number, unknown>();
    let { cursor } = await syncFrom('0', 100, replica);
    let writing = true;
    const writers = ids.map(async (id, w) => {
      for (let round = 0; writing && round < 15; round++) {
        const response = await t.send('PATCH', `/pornstars/${id}`, { name: `Writer ${w} round ${round}` });
        expect(response.statusCode).toBe(200);
      }
    });
    const done = Promise.all(writers).then(() => (writing = false));
    for (let polls = 0; polls < 400 && writing; polls++) cursor = (await syncFrom(cursor, 3, replica)).cursor;
    await done;
    cursor = (await syncFrom(cursor, 3, replica)).cursor;
    expect(new Map([...replica].sort(([a], [b]) => a - b))).toEqual(await truth());
  });

  it('shows tombstones for removals, refuses malformed cursors with 422 and stale ones with 410', async () => {
    const id = (await t.send('POST', '/pornstars', pornstarBody({ external_id: 'gone-1' }))).json<{ data: { id: number } }>().data.id;
    const first = await changes('0');
    expect(first.data.map((item) => item.id)).toEqual([id]);
    t.clock.advance(1000);
    expect((await t.send('DELETE', `/pornstars/${id}`)).statusCode).toBe(200);
    const after = await changes(first.meta.next_cursor);
    expect(after.data).toEqual([{ id, external_id: 'gone-1', removed: true, removed_at: new Date(t.clock.now()).toISOString() }]);
    expect(after.links.next).toContain(`changed_since=${after.meta.next_cursor}`);

    for (const bad of ['abc', Buffer.from('v2.abcd.1.1').toString('base64url'), Buffer.from('v1.zz.1.1').toString('base64url'), '-1', '']) {
      const response = await t.get(`/pornstars?changed_since=${encodeURIComponent(bad)}`);
      expect(response.statusCode, bad).toBe(422);
      expect(response.json()).toMatchObject({ success: false, errors: { changed_since: [expect.stringContaining('malformed')] } });
    }
    const head = await readChangeHead(t.db);
    const foreign = await t.get(`/pornstars?changed_since=${encodeCursor('0123456789abcdef', { seq: head.seq, id: 1 })}`);
    expect(foreign.statusCode).toBe(410);
    expect(foreign.json()).toMatchObject({ success: false, message: expect.stringContaining('another catalog') });
    expect((await t.get('/pornstars?changed_since=0&q=an')).statusCode).toBe(422);
    expect((await t.get('/pornstars?changed_since=0&page=2')).statusCode).toBe(422);
    expect((await t.get('/pornstars?limit=5')).statusCode).toBe(422);
    expect((await t.get('/pornstars?changed_since=0&limit=1001')).statusCode).toBe(422);

    // Once the tombstone is pruned, a cursor from before it may have missed it: 410, while 0 still works.
    await t.container.database.transaction((trx) => pruneChangeHistory(trx, t.clock.now() + 1));
    const expired = await t.get(`/pornstars?changed_since=${first.meta.next_cursor}`);
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({ message: expect.stringContaining('expired') });
    expect((await changes('0')).data).toEqual([]);
  });

  it("brings a pornstar again when its image's state changes, once the stamper has run", async () => {
    const url = 'https://cdn.example.test/stamped/pc.jpg';
    const body = pornstarBody({ thumbnails: [{ type: 'pc', width: 1, height: 1, urls: [{ url, local_path: null }] }] });
    const id = (await t.send('POST', '/pornstars', body)).json<{ data: { id: number } }>().data.id;
    await t.image(url, 'pending');
    const stamper = new ImageChangeStamper({ database: t.container.database, clock: t.clock, logger: t.container.logger });
    await stamper.stampAll();
    const { meta } = await changes('0');

    await markImageCached(t.db, { url_hash: sha256Hex(url), sha256: 'a'.repeat(64), ext: 'jpg', content_type: 'image/jpeg', bytes: 10, attempts: 1, fetched_at: t.clock.now() });
    expect((await changes(meta.next_cursor)).data).toEqual([]);
    expect(await stamper.stampAll()).toBe(1);
    const after = await changes(meta.next_cursor);
    expect(after.data.map((item) => item.id)).toEqual([id]);
    expect(after.data[0]!.thumbnails![0]!.urls[0]!.cached_url).toMatch(/\/images\/a{64}\.jpg$/);
    expect(await stamper.stampAll()).toBe(0);
  });

  it('lists what each feed run changed at /feed-runs/{id}/changes', async () => {
    const items = feedItems(12, 5);
    const first = await ingest(items);
    const created = (await t.get(`/feed-runs/${first.id}/changes?per_page=100`)).json<{ data: Array<{ change: string; content_hash: string | null }>; meta: { total: number } }>();
    expect(created.meta.total).toBe(12);
    expect(created.data.every((row) => row.change === 'created' && /^[0-9a-f]{64}$/.test(row.content_hash ?? ''))).toBe(true);

    const second = await ingest([{ ...items[0]!, name: 'Someone Else' }, ...items.slice(1, 11)]);
    const listed = (await t.get(`/feed-runs/${second.id}/changes`)).json<{ data: Array<{ external_id: string; change: string; content_hash: string | null }> }>().data;
    const stored = await t.db.selectFrom('pornstars').select('content_hash').where('external_id', '=', String(items[0]!.id)).executeTakeFirstOrThrow();
    expect(listed).toEqual([
      { pornstar_id: expect.any(Number), external_id: String(items[0]!.id), change: 'updated', content_hash: stored.content_hash },
      { pornstar_id: expect.any(Number), external_id: String(items[11]!.id), change: 'removed', content_hash: null },
    ]);
    const unchanged = await ingest([{ ...items[0]!, name: 'Someone Else' }, ...items.slice(1, 11)]);
    expect((await t.get(`/feed-runs/${unchanged.id}/changes`)).json()).toMatchObject({ data: [], meta: { total: 0 } });
    expect((await t.get('/feed-runs/999999/changes')).statusCode).toBe(404);
    expect((await t.get('/feed-runs/abc/changes')).statusCode).toBe(404);
  });
});
