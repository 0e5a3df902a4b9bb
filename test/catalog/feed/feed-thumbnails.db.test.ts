import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { body, createCatalogTestApp, type CatalogTestApp } from '../api/catalog-app.js';

/**
 * The rule after a feed run: the feed keeps its own thumbnails (`source: feed`) in sync per
 * (pornstar, type), and never touches one made through the API (`source: api`), whatever the feed
 * does to that pornstar: changes its thumbnails, drops it, brings it back.
 */

interface Thumbnail {
  id: number;
  pornstar_id: number;
  type: string;
  source: 'feed' | 'api';
  width: number | null;
  height: number | null;
  urls: Array<{ url: string }>;
}

interface FeedThumbnail {
  type: string;
  width: number;
  url: string;
}

const CDN = 'https://ei.phncdn.com/pics/pornstars';
const feedThumbs = (id: number, version: number, types = ['pc', 'mobile', 'tablet']): FeedThumbnail[] =>
  types.map((type) => ({ type, width: 234, url: `${CDN}/${id}/v${version}.jpg` }));

function feedItem(id: number, thumbnails: FeedThumbnail[]) {
  return {
    attributes: { hairColor: 'Blonde', breastSize: 34, gender: 'female', age: 30, stats: { views: id * 10 } },
    id,
    name: `Feed Star ${id}`,
    license: 'REGULAR',
    wlStatus: '1',
    aliases: [],
    link: `https://www.pornhub.com/pornstar/${id}`,
    thumbnails: thumbnails.map((t) => ({ height: 344, width: t.width, type: t.type, urls: [t.url] })),
  };
}

let t: CatalogTestApp;
let runs = 0;

beforeAll(async () => {
  t = await createCatalogTestApp();
});
afterAll(() => t.close());

/** Writes a feed with one item per line, as the live feed is laid out, and ingests it. */
async function ingest(items: Array<ReturnType<typeof feedItem>>) {
  runs++;
  const file = path.join(t.container.config.dataDir, `feed-${runs}.json`);
  const lines = items.map((item, i) => `\t\t${JSON.stringify(item)}${i < items.length - 1 ? ',' : ''}`);
  fs.writeFileSync(file, [`{"site":"https://www.pornhub.com","generationDate":"2024-01-0${runs}T00:00:00Z","items":[`, ...lines, `],"itemsCount":${items.length}}`].join('\n'));
  const result = await t.container.feed.ingest({ url: file, trigger: 'cli' });
  if (result.kind !== 'finished') throw new Error('ingestion was locked');
  expect(result.run.status, result.run.error ?? '').toBe('succeeded');
  return result.run;
}

const idOf = async (externalId: number) =>
  (await t.db.selectFrom('pornstars').select('id').where('external_id', '=', String(externalId)).executeTakeFirstOrThrow()).id;

const thumbnailsOf = async (pornstarId: number) =>
  body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${pornstarId}&include_removed=true&per_page=100`)).data;

/** The feed's rows of a pornstar, as the feed describes them: type, width and URLs. */
const feedRowsOf = async (pornstarId: number) =>
  (await thumbnailsOf(pornstarId))
    .filter((th) => th.source === 'feed')
    .map((th) => ({ type: th.type, width: th.width, url: th.urls.map((u) => u.url).join(' ') }))
    .sort((a, b) => a.type.localeCompare(b.type));

const expected = (thumbnails: FeedThumbnail[]) => [...thumbnails].sort((a, b) => a.type.localeCompare(b.type));

/** What a client made, as it reads back: every field but the ids. */
const apiRowsOf = async (pornstarId: number) =>
  (await thumbnailsOf(pornstarId)).filter((th) => th.source === 'api').map(({ id, type, width, height, urls }) => ({ id, type, width, height, urls: urls.map((u) => u.url) }));

describe('feed runs and thumbnails made through the API', () => {
  const A = 9001;
  const B = 9002;
  const items = (version: number, a: FeedThumbnail[] | null) => [
    ...(a ? [feedItem(A, a)] : []),
    feedItem(B, feedThumbs(B, 1, ['pc'])),
    feedItem(9003, feedThumbs(9003, 1)),
    feedItem(9004, feedThumbs(9004, version)),
  ];
  let a: number;
  let b: number;
  let madeForA: Array<Awaited<ReturnType<typeof apiRowsOf>>[number]>;

  it('makes every thumbnail of the feed its own (source feed)', async () => {
    await ingest(items(1, feedThumbs(A, 1)));
    a = await idOf(A);
    b = await idOf(B);
    expect(await feedRowsOf(a)).toEqual(expected(feedThumbs(A, 1)));
    expect(await apiRowsOf(a)).toEqual([]);
  });

  it('lets the API add a second thumbnail of a type and move one to a pornstar that has its type', async () => {
    const added = await t.send('POST', '/pornstar-thumbnails', { pornstar_id: a, type: 'pc', width: 468, height: 688, urls: [{ url: `${CDN}/api/a-large.jpg` }] });
    expect(added.statusCode, added.body).toBe(201);
    // B's own feed thumbnail, moved to A (which has a feed pc): it becomes the API's.
    const bPc = (await thumbnailsOf(b))[0]!;
    const moved = await t.send('PUT', `/pornstar-thumbnails/${bPc.id}`, { pornstar_id: a, type: 'pc', width: 100, height: 100, urls: [{ url: `${CDN}/api/moved.jpg` }] });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(body<Thumbnail>(moved).data.source).toBe('api');
    // An edit of a feed thumbnail in its slot: still the feed's, so the next run writes the feed's version.
    const aMobile = (await thumbnailsOf(a)).find((th) => th.type === 'mobile' && th.source === 'feed')!;
    expect(body<Thumbnail>(await t.send('PATCH', `/pornstar-thumbnails/${aMobile.id}`, { width: 1 })).data).toMatchObject({ source: 'feed', width: 1 });

    madeForA = await apiRowsOf(a);
    expect(madeForA.map((th) => [th.type, th.width, th.urls])).toEqual([
      ['pc', 100, [`${CDN}/api/moved.jpg`]],
      ['pc', 468, [`${CDN}/api/a-large.jpg`]],
    ]);
    expect(await thumbnailsOf(b)).toEqual([]);
  });

  it("syncs the feed's own thumbnails per type on the next run, and leaves the API's alone", async () => {
    await ingest(items(2, feedThumbs(A, 1)));
    expect(await feedRowsOf(a)).toEqual(expected(feedThumbs(A, 1)));
    expect(await feedRowsOf(b)).toEqual(expected(feedThumbs(B, 1, ['pc'])));
    expect(await apiRowsOf(a)).toEqual(madeForA);
  });

  it("keeps the API's thumbnails when a run changes the pornstar's feed thumbnails", async () => {
    const changed = [
      { type: 'pc', width: 300, url: `${CDN}/${A}/v2.jpg` },
      { type: 'mobile', width: 150, url: `${CDN}/${A}/v2-mobile.jpg` },
    ];
    const run = await ingest(items(3, changed));
    expect(run.updated_count).toBeGreaterThanOrEqual(1);
    expect(await feedRowsOf(a)).toEqual(expected(changed));
    expect(await apiRowsOf(a)).toEqual(madeForA);
  });

  it('keeps them while the pornstar is out of the feed, and when it comes back', async () => {
    const gone = await ingest(items(4, null));
    expect(gone.removed_count).toBe(1);
    expect((await t.get(`/pornstars/${a}`)).statusCode).toBe(404);
    expect(await apiRowsOf(a)).toEqual(madeForA);

    const back = [{ type: 'tablet', width: 234, url: `${CDN}/${A}/v3.jpg` }];
    await ingest(items(5, back));
    const pornstar = body<PornstarViewData>(await t.get(`/pornstars/${a}`)).data;
    expect(pornstar.thumbnails.map((th) => [th.type, th.source])).toEqual([
      ['pc', 'api'],
      ['pc', 'api'],
      ['tablet', 'feed'],
    ]);
    expect(await feedRowsOf(a)).toEqual(expected(back));
    expect(await apiRowsOf(a)).toEqual(madeForA);
  });

  it('writes nothing when the same feed comes again', async () => {
    const before = await thumbnailsOf(a);
    const again = await ingest(items(5, [{ type: 'tablet', width: 234, url: `${CDN}/${A}/v3.jpg` }]));
    expect(again).toMatchObject({ updated_count: 0, created_count: 0 });
    expect(await thumbnailsOf(a)).toEqual(before);
  });
});
