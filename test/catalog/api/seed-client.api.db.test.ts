import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { validateFeedItem } from '../../../src/catalog/feed/feed-item.js';
import { body, createCatalogTestApp, type CatalogTestApp } from './catalog-app.js';

/**
 * The seed's Postman collection, request by request: the bodies its clients send, numbers where
 * the seed took numbers (a numeric `breast_size` among them), Laravel's usual numeric strings and
 * "1"/"0" flags, a second thumbnail of a type the pornstar already has, and a thumbnail moved to a
 * pornstar that has one of its type. Each answers 2xx, and reads back with one type per field.
 */

let t: CatalogTestApp;

beforeAll(async () => {
  t = await createCatalogTestApp();
});
afterAll(() => t.close());

interface Thumbnail {
  id: number;
  pornstar_id: number;
  type: string;
  source: string;
  width: number | null;
  height: number | null;
  urls: Array<{ id: number; thumbnail_id: number; url: string; local_path: string | null }>;
}

const CDN = 'https://ei.phncdn.com/pics/pornstars/000/271/901';

/** "Create Pornstar": the collection's example, as a JSON client sends it. */
const createPornstar = {
  external_id: '271901',
  name: 'Jane Doe',
  link: 'https://www.pornhub.com/pornstar/jane-doe',
  license: 'REGULAR',
  wl_status: true,
  hair_color: 'Blonde',
  ethnicity: 'White',
  has_tattoos: true,
  has_piercings: false,
  breast_size: 32,
  breast_type: 'Natural',
  gender: 'female',
  orientation: 'straight',
  age: 28,
  subscriptions: 1500,
  monthly_searches: 25000,
  views: 1000000,
  videos_count: 45,
  premium_videos_count: 10,
  white_label_video_count: 5,
  rank: 150,
  rank_premium: 120,
  rank_wl: 130,
  aliases: [{ alias: 'JD' }, { alias: 'Janie' }],
  thumbnails: [
    { type: 'pc', width: 234, height: 344, urls: [{ url: `${CDN}/thumb_1.jpg`, local_path: null }] },
    { type: 'mobile', width: 234, height: 344, urls: [{ url: `${CDN}/thumb_1.jpg`, local_path: null }] },
    { type: 'tablet', width: 234, height: 344, urls: [{ url: `${CDN}/thumb_1.jpg`, local_path: null }] },
  ],
};

/** The same request from a client that sends what a form gives: text numbers, "1"/"0" flags. */
const createPornstarFromForm = {
  external_id: 271902,
  name: 'Ann Other',
  link: 'https://www.pornhub.com/pornstar/ann-other',
  license: 'PREMIUM',
  wl_status: '0',
  hair_color: 'Brunette',
  ethnicity: 'Latin',
  has_tattoos: '1',
  has_piercings: 0,
  breast_size: '34',
  breast_type: 'Fake',
  gender: 'female',
  orientation: 'straight',
  age: '31',
  subscriptions: '200',
  monthly_searches: '3000',
  views: '250000',
  videos_count: '12',
  premium_videos_count: '0',
  white_label_video_count: '3',
  rank: '900',
  rank_premium: '',
  rank_wl: null,
  aliases: [{ alias: 'Annie' }],
  thumbnails: [{ type: 'pc', width: '234', height: '344', urls: [{ url: 'https://ei.phncdn.com/pics/pornstars/000/271/902/thumb_2.jpg', local_path: 'pornstars/271902/pc.jpg' }] }],
};

const pornstar = async (id: number) => body<PornstarViewData>(await t.get(`/pornstars/${id}`)).data;
const thumbnail = async (id: number) => body<Thumbnail>(await t.get(`/pornstar-thumbnails/${id}`)).data;

describe("the seed's Postman collection against intake", () => {
  let jane: PornstarViewData;
  let ann: PornstarViewData;

  it('Create Pornstar: a numeric breast_size is stored and read back as text, every other field in its type', async () => {
    const res = await t.send('POST', '/pornstars', createPornstar);
    expect(res.statusCode, res.body).toBe(201);
    jane = body<PornstarViewData>(res).data;
    expect(await pornstar(jane.id)).toEqual(jane);
    expect(jane).toMatchObject({
      external_id: '271901',
      wl_status: true,
      attributes: { has_tattoos: true, has_piercings: false, breast_size: '32', age: 28 },
      stats: { subscriptions: 1500, monthly_searches: 25000, views: 1000000, rank: 150, rank_premium: 120, rank_wl: 130 },
    });
    expect(jane.aliases.map((a) => a.alias)).toEqual(['JD', 'Janie']);
    expect(jane.thumbnails.map((th) => [th.type, th.width, th.height, th.source, th.urls.map((u) => u.url)])).toEqual(
      ['pc', 'mobile', 'tablet'].map((type) => [type, 234, 344, 'api', [`${CDN}/thumb_1.jpg`]]),
    );
    const row = await t.db.selectFrom('pornstars').select(['external_id', 'breast_size']).where('id', '=', jane.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ external_id: '271901', breast_size: '32' });
  });

  it("stores a number the way feed ingestion stores the feed's breastSize", () => {
    const checked = validateFeedItem({ id: 1, name: 'Feed Star', attributes: { breastSize: 32 } });
    expect(checked.ok && checked.item.breastSize).toBe(jane.attributes.breast_size);
  });

  it('Create Pornstar from a form: numeric strings, "1"/"0" flags, a numeric external_id and "" for a nullable number', async () => {
    const res = await t.send('POST', '/pornstars', createPornstarFromForm);
    expect(res.statusCode, res.body).toBe(201);
    ann = body<PornstarViewData>(res).data;
    expect(await pornstar(ann.id)).toEqual(ann);
    expect(ann).toMatchObject({
      external_id: '271902',
      wl_status: false,
      attributes: { has_tattoos: true, has_piercings: false, breast_size: '34', age: 31 },
      stats: {
        subscriptions: 200,
        monthly_searches: 3000,
        views: 250000,
        videos_count: 12,
        premium_videos_count: 0,
        white_label_video_count: 3,
        rank: 900,
        rank_premium: null,
        rank_wl: null,
      },
    });
    expect(ann.thumbnails[0]).toMatchObject({ type: 'pc', width: 234, height: 344, source: 'api' });
    expect(ann.thumbnails[0]!.urls[0]!.local_path).toBe('pornstars/271902/pc.jpg');
    for (const value of Object.values(ann.stats)) expect(value === null || typeof value === 'number').toBe(true);
  });

  it('Update Pornstar (PUT) and Patch Pornstar: numbers and numeric strings alike', async () => {
    const put = await t.send('PUT', `/pornstars/${jane.id}`, { ...createPornstar, breast_size: 36, age: '29', views: 1000500 });
    expect(put.statusCode, put.body).toBe(200);
    expect(body<PornstarViewData>(put).data).toMatchObject({ attributes: { breast_size: '36', age: 29 }, stats: { views: 1000500 } });

    const patch = await t.send('PATCH', `/pornstars/${jane.id}`, { breast_size: 'D', wl_status: '0', rank: '12', has_piercings: '' });
    expect(patch.statusCode, patch.body).toBe(200);
    jane = body<PornstarViewData>(patch).data;
    expect(jane).toMatchObject({ wl_status: false, attributes: { breast_size: 'D', age: 29, has_piercings: null }, stats: { rank: 12, views: 1000500 } });
    expect(await pornstar(jane.id)).toEqual(jane);
  });

  it('Create, Update and Patch Pornstar Alias, with pornstar_id as a number or as text', async () => {
    const created = await t.send('POST', '/pornstar-aliases', { pornstar_id: jane.id, alias: 'Jane D.' });
    expect(created.statusCode, created.body).toBe(201);
    const fromForm = await t.send('POST', '/pornstar-aliases', { pornstar_id: String(jane.id), alias: 'J. Doe' });
    expect(fromForm.statusCode, fromForm.body).toBe(201);
    const id = body<{ id: number }>(created).data.id;

    const put = await t.send('PUT', `/pornstar-aliases/${id}`, { pornstar_id: ann.id, alias: 'Jane D.' });
    expect(body(put).data).toEqual({ id, pornstar_id: ann.id, alias: 'Jane D.' });
    const patch = await t.send('PATCH', `/pornstar-aliases/${id}`, { pornstar_id: `${jane.id}`, alias: 'Jane Dee' });
    expect(body(patch).data).toEqual({ id, pornstar_id: jane.id, alias: 'Jane Dee' });
    expect(body(await t.get(`/pornstar-aliases/${id}`)).data).toEqual({ id, pornstar_id: jane.id, alias: 'Jane Dee' });
  });

  it('Create Pornstar Thumbnail of a type the pornstar already has', async () => {
    const res = await t.send('POST', '/pornstar-thumbnails', {
      pornstar_id: jane.id,
      type: 'pc',
      width: 468,
      height: 688,
      urls: [{ url: `${CDN}/thumb_1_large.jpg`, local_path: null }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = body<Thumbnail>(res).data;
    expect(created).toMatchObject({ pornstar_id: jane.id, type: 'pc', source: 'api', width: 468, height: 688 });
    expect(await thumbnail(created.id)).toEqual(created);
    const pcs = body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${jane.id}&type=pc`)).data;
    expect(pcs.map((th) => th.id)).toEqual([jane.thumbnails[0]!.id, created.id]);
    expect((await pornstar(jane.id)).thumbnails.filter((th) => th.type === 'pc')).toHaveLength(2);
  });

  it('Update Pornstar Thumbnail (PUT) moving it to a pornstar that has one of its type, then Patch it with text numbers', async () => {
    const moving = jane.thumbnails.find((th) => th.type === 'mobile')!;
    const res = await t.send('PUT', `/pornstar-thumbnails/${moving.id}`, { pornstar_id: ann.id, type: 'pc', width: 234, height: 344, urls: [{ url: `${CDN}/thumb_1.jpg` }] });
    expect(res.statusCode, res.body).toBe(200);
    expect(body<Thumbnail>(res).data).toMatchObject({ id: moving.id, pornstar_id: ann.id, type: 'pc', source: 'api', width: 234, height: 344 });
    // In id order, as ever: the moved one was made first.
    expect((await pornstar(ann.id)).thumbnails.map((th) => [th.id, th.type])).toEqual([
      [moving.id, 'pc'],
      [ann.thumbnails[0]!.id, 'pc'],
    ]);
    expect((await pornstar(jane.id)).thumbnails.some((th) => th.id === moving.id)).toBe(false);

    const patch = await t.send('PATCH', `/pornstar-thumbnails/${moving.id}`, { width: '300', height: null, pornstar_id: `${ann.id}` });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(await thumbnail(moving.id)).toMatchObject({ pornstar_id: ann.id, type: 'pc', width: 300, height: null });
  });

  it('Create, Update and Patch Pornstar Thumbnail URL', async () => {
    const thumbnailId = jane.thumbnails.find((th) => th.type === 'tablet')!.id;
    const created = await t.send('POST', '/pornstar-thumbnail-urls', { thumbnail_id: thumbnailId, url: `${CDN}/thumb_1_tablet.jpg`, local_path: 'pornstars/271901/tablet.jpg' });
    expect(created.statusCode, created.body).toBe(201);
    const id = body<{ id: number }>(created).data.id;

    const put = await t.send('PUT', `/pornstar-thumbnail-urls/${id}`, { thumbnail_id: String(thumbnailId), url: `${CDN}/thumb_1_tablet_v2.jpg`, local_path: null });
    expect(put.statusCode, put.body).toBe(200);
    expect(body(put).data).toMatchObject({ id, thumbnail_id: thumbnailId, url: `${CDN}/thumb_1_tablet_v2.jpg`, local_path: null });
    const patch = await t.send('PATCH', `/pornstar-thumbnail-urls/${id}`, { local_path: 'pornstars/271901/tablet-v2.jpg' });
    expect(patch.statusCode, patch.body).toBe(200);
    expect(body(await t.get(`/pornstar-thumbnail-urls/${id}`)).data).toMatchObject({
      id,
      thumbnail_id: thumbnailId,
      url: `${CDN}/thumb_1_tablet_v2.jpg`,
      local_path: 'pornstars/271901/tablet-v2.jpg',
    });
  });
});

describe('leniency stops at garbage: a 422 in the envelope, never a 500', () => {
  let pornstarId: number;
  let thumbnailId: number;
  beforeAll(async () => {
    const res = await t.send('POST', '/pornstars', { ...createPornstar, external_id: 'garbage-base' });
    const p = body<PornstarViewData>(res).data;
    pornstarId = p.id;
    thumbnailId = p.thumbnails[0]!.id;
  });

  it.each([
    [{ breast_size: true }, 'breast_size', 'The breast_size field must be a string or a number or null.'],
    [{ breast_size: 0 }, 'breast_size', 'The breast_size field must be greater than 0.'],
    [{ breast_size: -32 }, 'breast_size', 'The breast_size field must be greater than 0.'],
    [{ breast_size: 'x'.repeat(65) }, 'breast_size', 'The breast_size field must not be greater than 64 characters.'],
    [{ external_id: 1.5 }, 'external_id', 'The external_id field must be a string or an integer.'],
    [{ external_id: 2 ** 53 }, 'external_id', 'The external_id field must not be greater than 9007199254740991.'],
    [{ external_id: { id: 1 } }, 'external_id', 'The external_id field must be a string or an integer.'],
    [{ age: 'thirty' }, 'age', 'The age field must be an integer or null.'],
    [{ age: '30.5' }, 'age', 'The age field must be an integer or null.'],
    [{ age: '030' }, 'age', 'The age field must be an integer or null.'],
    [{ age: '1e2' }, 'age', 'The age field must be an integer or null.'],
    [{ age: '201' }, 'age', 'The age field must not be greater than 200.'],
    [{ views: '-1' }, 'views', 'The views field must be at least 0.'],
    [{ views: '99999999999999999999' }, 'views', 'The views field must not be greater than 9007199254740991.'],
    [{ rank: true }, 'rank', 'The rank field must be an integer or null.'],
    [{ wl_status: 'yes' }, 'wl_status', 'The selected wl_status is invalid.'],
    [{ wl_status: '' }, 'wl_status', 'The selected wl_status is invalid.'],
    [{ has_tattoos: 'true' }, 'has_tattoos', 'The selected has_tattoos is invalid.'],
    [{ name: 42 }, 'name', 'The name field must be a string.'],
    [{ thumbnails: [{ type: 'pc', width: 'wide' }] }, 'thumbnails.0.width', 'The thumbnails.0.width field must be an integer or null.'],
  ])('POST /pornstars answers 422 to %j', async (override, field, message) => {
    const res = await t.send('POST', '/pornstars', { ...createPornstar, external_id: 'garbage', ...override });
    expect(res.statusCode, res.body).toBe(422);
    expect(body(res)).toEqual({ success: false, message: 'Validation failed.', data: null, errors: { [field]: [message] } });
  });

  it.each([
    ['/pornstar-aliases', { pornstar_id: 'abc', alias: 'x' }, 'pornstar_id', 'The pornstar_id field must be an integer.'],
    ['/pornstar-aliases', { pornstar_id: '', alias: 'x' }, 'pornstar_id', 'The pornstar_id field must be an integer.'],
    ['/pornstar-aliases', { pornstar_id: 1, alias: 7 }, 'alias', 'The alias field must be a string.'],
    ['/pornstar-thumbnails', { pornstar_id: '0', type: 'pc' }, 'pornstar_id', 'The pornstar_id field must be at least 1.'],
    ['/pornstar-thumbnails', { pornstar_id: 1, type: 'pc', height: '-5' }, 'height', 'The height field must be at least 0.'],
    ['/pornstar-thumbnail-urls', { thumbnail_id: '1.0', url: 'https://cdn.test/a.jpg' }, 'thumbnail_id', 'The thumbnail_id field must be an integer.'],
    ['/pornstar-thumbnail-urls', { thumbnail_id: 1, url: 42 }, 'url', 'The url field must be a string.'],
  ])('POST %s answers 422 to %j', async (path, payload, field, message) => {
    const res = await t.send('POST', path, payload);
    expect(res.statusCode, res.body).toBe(422);
    expect(body(res).errors).toEqual({ [field]: [message] });
  });

  it('PUT and PATCH answer the same 422s as POST', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [`/pornstars/${pornstarId}`, { ...createPornstar, external_id: 'garbage-base', breast_size: false }, 'breast_size'],
      [`/pornstar-thumbnails/${thumbnailId}`, { pornstar_id: pornstarId, type: 'pc', width: '12px' }, 'width'],
      [`/pornstar-thumbnails/${thumbnailId}`, { pornstar_id: 'me', type: 'pc' }, 'pornstar_id'],
    ];
    for (const [path, payload, field] of cases) {
      for (const method of ['PUT', 'PATCH'] as const) {
        const res = await t.send(method, path, payload);
        expect(res.statusCode, `${method} ${path}: ${res.body}`).toBe(422);
        expect(Object.keys(body(res).errors ?? {})).toEqual([field]);
      }
    }
  });
});
