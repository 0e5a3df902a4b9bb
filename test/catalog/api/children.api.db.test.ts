import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { sha256Hex } from '../../../src/platform/canonical-json.js';
import { body, createCatalogTestApp, createPornstar, type CatalogTestApp } from './catalog-app.js';

let t: CatalogTestApp;

beforeAll(async () => {
  t = await createCatalogTestApp();
});
afterAll(() => t.close());
beforeEach(() => t.claimer.reset());

interface Alias {
  id: number;
  pornstar_id: number;
  alias: string;
}
interface Url {
  id: number;
  thumbnail_id: number;
  url: string;
  local_path: string | null;
  cached_url: string | null;
  image_status: string | null;
  variants: Array<{ width: number; url: string }> | null;
}
interface Thumbnail {
  id: number;
  pornstar_id: number;
  type: string;
  source: 'feed' | 'api';
  width: number | null;
  height: number | null;
  urls: Url[];
}

const bare = (overrides: Record<string, unknown> = {}) => createPornstar(t, { aliases: [], thumbnails: [], ...overrides });
const contentHash = async (id: number) => (await t.db.selectFrom('pornstars').select('content_hash').where('id', '=', id).executeTakeFirstOrThrow()).content_hash;

describe('/api/v1/pornstar-aliases', () => {
  let p: PornstarViewData;
  beforeAll(async () => {
    p = await bare();
  });

  it('stores a trimmed alias (201), shows, lists by pornstar, updates and deletes it', async () => {
    await t.db.updateTable('pornstars').set({ content_hash: 'feed' }).where('id', '=', p.id).execute();
    const created = await t.send('POST', '/pornstar-aliases', { pornstar_id: p.id, alias: '  Nick  ' });
    expect(created.statusCode, created.body).toBe(201);
    const alias = body<Alias>(created).data;
    expect(body(created)).toEqual({ success: true, message: 'Pornstar alias created successfully', data: { id: alias.id, pornstar_id: p.id, alias: 'Nick' }, errors: null });
    expect(created.headers.location).toBe(`/api/v1/pornstar-aliases/${alias.id}`);
    expect(await contentHash(p.id)).toBeNull();

    expect(body(await t.get(`/pornstar-aliases/${alias.id}`))).toEqual({ success: true, message: 'Pornstar alias retrieved successfully', data: alias, errors: null });
    const list = body<Alias[]>(await t.get(`/pornstar-aliases?pornstar_id=${p.id}`));
    expect(list.data).toEqual([alias]);
    expect(list.meta).toMatchObject({ total: 1, per_page: 15 });
    expect(list.links?.first).toContain(`pornstar_id=${p.id}`);

    const patched = await t.send('PATCH', `/pornstar-aliases/${alias.id}`, { alias: 'Nicky' });
    expect(body(patched)).toMatchObject({ message: 'Pornstar alias updated successfully', data: { id: alias.id, alias: 'Nicky', pornstar_id: p.id } });
    const row = await t.db.selectFrom('pornstar_aliases').select('alias_key').where('id', '=', alias.id).executeTakeFirstOrThrow();
    expect(row.alias_key).toBe('nicky');

    const put = await t.send('PUT', `/pornstar-aliases/${alias.id}`, { alias: 'Only alias' });
    expect(put.statusCode).toBe(422);
    expect(body(put).errors).toEqual({ pornstar_id: ['The pornstar_id field is required.'] });

    const deleted = await t.send('DELETE', `/pornstar-aliases/${alias.id}`);
    expect(body(deleted)).toEqual({ success: true, message: 'Pornstar alias deleted successfully', data: null, errors: null });
    expect((await t.get(`/pornstar-aliases/${alias.id}`)).statusCode).toBe(404);
  });

  it('answers 422 to an alias the pornstar already has, whatever its case', async () => {
    await t.send('POST', '/pornstar-aliases', { pornstar_id: p.id, alias: 'Twin' });
    const res = await t.send('POST', '/pornstar-aliases', { pornstar_id: p.id, alias: ' tWIN ' });
    expect(res.statusCode).toBe(422);
    expect(body(res)).toEqual({ success: false, message: 'Validation failed.', data: null, errors: { alias: ['The alias has already been taken.'] } });
    const other = await bare();
    expect((await t.send('POST', '/pornstar-aliases', { pornstar_id: other.id, alias: 'twin' })).statusCode).toBe(201);
  });

  it('moves an alias to another pornstar, unless that one already has it', async () => {
    const a = await bare({ aliases: [{ alias: 'Mover' }] });
    const b = await bare({ aliases: [{ alias: 'MOVER' }] });
    const c = await bare();
    const id = a.aliases[0]!.id;
    expect(body((await t.send('PATCH', `/pornstar-aliases/${id}`, { pornstar_id: b.id }))).errors).toEqual({ alias: ['The alias has already been taken.'] });
    const moved = await t.send('PUT', `/pornstar-aliases/${id}`, { pornstar_id: c.id, alias: 'Mover' });
    expect(body<Alias>(moved).data).toEqual({ id, pornstar_id: c.id, alias: 'Mover' });
  });

  it.each([
    [{ pornstar_id: 999999, alias: 'x' }, { pornstar_id: ['The selected pornstar_id is invalid.'] }],
    [{ pornstar_id: 1, alias: '   ' }, { alias: ['The alias field is required.'] }],
    [{ alias: 'x' }, { pornstar_id: ['The pornstar_id field is required.'] }],
    [{ pornstar_id: 'one', alias: 'x' }, { pornstar_id: ['The pornstar_id field must be an integer.'] }],
    [{ pornstar_id: '1.0', alias: 'x' }, { pornstar_id: ['The pornstar_id field must be an integer.'] }],
    [{ pornstar_id: 0, alias: 'x'.repeat(256) }, { pornstar_id: ['The pornstar_id field must be at least 1.'], alias: ['The alias field must not be greater than 255 characters.'] }],
  ])('answers 422 to %j', async (payload, errors) => {
    const res = await t.send('POST', '/pornstar-aliases', payload);
    expect(res.statusCode).toBe(422);
    expect(body(res).errors).toEqual(errors);
  });

  it('answers 422 to a pornstar_id of a removed pornstar', async () => {
    const gone = await bare();
    await t.db.updateTable('pornstars').set({ removed_at: 1 }).where('id', '=', gone.id).execute();
    const res = await t.send('POST', '/pornstar-aliases', { pornstar_id: gone.id, alias: 'ghost' });
    expect(body(res).errors).toEqual({ pornstar_id: ['The selected pornstar_id is invalid.'] });
  });

  it('answers 401 and 403 to writes without the right token, and 404 to unknown ids', async () => {
    expect((await t.send('POST', '/pornstar-aliases', { pornstar_id: p.id, alias: 'x' }, {})).statusCode).toBe(401);
    expect((await t.send('DELETE', '/pornstar-aliases/1', undefined, t.reader)).statusCode).toBe(403);
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      expect((await t.send(method, '/pornstar-aliases/999999', { pornstar_id: p.id, alias: 'x' })).statusCode).toBe(404);
    }
    expect((await t.get('/pornstar-aliases/x')).statusCode).toBe(404);
  });
});

describe('/api/v1/pornstar-thumbnails', () => {
  it('stores a thumbnail with its URLs (claimed in the transaction), shows, lists and deletes it', async () => {
    const p = await bare();
    const res = await t.send('POST', '/pornstar-thumbnails', { pornstar_id: p.id, type: 'mobile', width: 10, height: 20, urls: [{ url: 'https://cdn.test/t1.jpg', local_path: 'm/t1.jpg' }] });
    expect(res.statusCode, res.body).toBe(201);
    const thumb = body<Thumbnail>(res).data;
    expect(body(res).message).toBe('Pornstar thumbnail created successfully');
    expect(thumb).toEqual({
      id: thumb.id,
      pornstar_id: p.id,
      type: 'mobile',
      source: 'api',
      width: 10,
      height: 20,
      urls: [{ id: expect.any(Number), thumbnail_id: thumb.id, url: 'https://cdn.test/t1.jpg', local_path: 'm/t1.jpg', cached_url: null, image_status: null, variants: null }],
    });
    expect(t.claimer.claims).toEqual([{ urls: ['https://cdn.test/t1.jpg'], inTransaction: true }]);
    expect(body(await t.get(`/pornstar-thumbnails/${thumb.id}`)).data).toEqual(thumb);
    expect(body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${p.id}&type=mobile`)).data).toEqual([thumb]);
    expect(body(await t.get(`/pornstar-thumbnails?pornstar_id=${p.id}&type=pc`)).meta?.total).toBe(0);

    const deleted = await t.send('DELETE', `/pornstar-thumbnails/${thumb.id}`);
    expect(body(deleted)).toEqual({ success: true, message: 'Pornstar thumbnail deleted successfully', data: null, errors: null });
    expect(await t.db.selectFrom('pornstar_thumbnail_urls').select('id').where('thumbnail_id', '=', thumb.id).execute()).toEqual([]);
  });

  it('stores a second thumbnail of a type the pornstar already has, and gives one another type, as the seed did', async () => {
    const p = await bare({ thumbnails: [{ type: 'pc' }] });
    const res = await t.send('POST', '/pornstar-thumbnails', { pornstar_id: p.id, type: 'pc' });
    expect(res.statusCode, res.body).toBe(201);
    const other = await t.send('POST', '/pornstar-thumbnails', { pornstar_id: p.id, type: 'tablet' });
    const retyped = await t.send('PATCH', `/pornstar-thumbnails/${body<Thumbnail>(other).data.id}`, { type: 'pc' });
    expect(retyped.statusCode, retyped.body).toBe(200);
    const list = body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${p.id}&type=pc`)).data;
    expect(list.map((thumb) => [thumb.type, thumb.source])).toEqual([
      ['pc', 'api'],
      ['pc', 'api'],
      ['pc', 'api'],
    ]);
  });

  it("keeps a feed thumbnail the feed's while it stays in its slot, and makes it the API's once moved or retyped", async () => {
    const a = await bare({ thumbnails: [{ type: 'pc' }, { type: 'mobile' }] });
    const b = await bare({ thumbnails: [{ type: 'pc' }] });
    // As the feed would have made them.
    await t.db.updateTable('pornstar_thumbnails').set({ source: 'feed' }).where('pornstar_id', 'in', [a.id, b.id]).execute();
    const [pc, mobile] = a.thumbnails;
    const edited = body<Thumbnail>(await t.send('PUT', `/pornstar-thumbnails/${pc!.id}`, { pornstar_id: a.id, type: 'pc', width: 9 })).data;
    expect(edited).toMatchObject({ pornstar_id: a.id, type: 'pc', source: 'feed', width: 9 });
    const moved = body<Thumbnail>(await t.send('PATCH', `/pornstar-thumbnails/${pc!.id}`, { pornstar_id: b.id })).data;
    expect(moved).toMatchObject({ pornstar_id: b.id, type: 'pc', source: 'api' });
    const retyped = body<Thumbnail>(await t.send('PATCH', `/pornstar-thumbnails/${mobile!.id}`, { type: 'tablet' })).data;
    expect(retyped).toMatchObject({ pornstar_id: a.id, type: 'tablet', source: 'api' });
    expect(body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${b.id}&source=feed`)).data.map((thumb) => thumb.id)).toEqual([b.thumbnails[0]!.id]);
    expect(body<Thumbnail[]>(await t.get(`/pornstar-thumbnails?pornstar_id=${b.id}&source=api`)).data.map((thumb) => thumb.id)).toEqual([pc!.id]);
  });

  it('PATCH keeps what is not sent; PUT resets width, height and urls', async () => {
    const p = await bare({ thumbnails: [{ type: 'pc', width: 1, height: 2, urls: [{ url: 'https://cdn.test/keep1.jpg' }] }] });
    const id = p.thumbnails[0]!.id;
    t.claimer.reset();
    const patched = body<Thumbnail>(await t.send('PATCH', `/pornstar-thumbnails/${id}`, { width: 5 })).data;
    expect(patched).toMatchObject({ width: 5, height: 2, type: 'pc' });
    expect(patched.urls.map((u) => u.url)).toEqual(['https://cdn.test/keep1.jpg']);
    const withUrls = body<Thumbnail>(await t.send('PATCH', `/pornstar-thumbnails/${id}`, { urls: [{ url: 'https://cdn.test/keep1.jpg' }, { url: 'https://cdn.test/new1.jpg' }] })).data;
    expect(withUrls.urls.map((u) => u.url)).toEqual(['https://cdn.test/keep1.jpg', 'https://cdn.test/new1.jpg']);
    expect(t.claimer.urls).toEqual(['https://cdn.test/new1.jpg']);
    const put = await t.send('PUT', `/pornstar-thumbnails/${id}`, { pornstar_id: p.id, type: 'pc' });
    expect(body<Thumbnail>(put).data).toEqual({ id, pornstar_id: p.id, type: 'pc', source: 'api', width: null, height: null, urls: [] });
  });

  it('answers 422 to an unknown pornstar and to invalid URLs', async () => {
    expect(body(await t.send('POST', '/pornstar-thumbnails', { pornstar_id: 999999, type: 'pc' })).errors).toEqual({ pornstar_id: ['The selected pornstar_id is invalid.'] });
    const p = await bare();
    const res = await t.send('POST', '/pornstar-thumbnails', { pornstar_id: p.id, type: 'pc', urls: [{ url: 'javascript:alert(1)' }, { url: 'https://user:pw@cdn.test/a.jpg' }] });
    expect(body(res).errors).toEqual({ 'urls.0.url': ['The urls.0.url field must be a valid URL.'], 'urls.1.url': ['The urls.1.url field must be a valid URL.'] });
  });
});

describe('/api/v1/pornstar-thumbnail-urls', () => {
  let thumbnailId: number;
  beforeAll(async () => {
    thumbnailId = (await bare({ thumbnails: [{ type: 'pc' }] })).thumbnails[0]!.id;
  });

  it('stores a URL (claimed in the transaction, with its hash), shows it with its image, lists by thumbnail, updates and deletes it', async () => {
    const res = await t.send('POST', '/pornstar-thumbnail-urls', { thumbnail_id: thumbnailId, url: ' https://cdn.test/u1.jpg ', local_path: '' });
    expect(res.statusCode, res.body).toBe(201);
    const url = body<Url>(res).data;
    expect(url).toEqual({ id: url.id, thumbnail_id: thumbnailId, url: 'https://cdn.test/u1.jpg', local_path: null, cached_url: null, image_status: null, variants: null });
    expect(t.claimer.claims).toEqual([{ urls: ['https://cdn.test/u1.jpg'], inTransaction: true }]);
    const row = await t.db.selectFrom('pornstar_thumbnail_urls').select('url_hash').where('id', '=', url.id).executeTakeFirstOrThrow();
    expect(row.url_hash).toBe(sha256Hex('https://cdn.test/u1.jpg'));

    const sha = '0f'.repeat(32);
    await t.image('https://cdn.test/u1.jpg', 'cached', sha, 'jpg');
    const shown = body<Url>(await t.inject({ method: 'GET', url: `/api/v1/pornstar-thumbnail-urls/${url.id}`, headers: { host: 'img.test' } })).data;
    expect(shown).toMatchObject({ cached_url: `http://img.test/images/${sha}.jpg`, local_path: `images/0f/0f/${sha}.jpg`, image_status: 'cached' });
    // One resized copy per IMAGE_VARIANT_WIDTHS, ready for srcset; each negotiates its format from Accept.
    expect(shown.variants).toEqual([160, 320, 640].map((width) => ({ width, url: `http://img.test/images/${sha}.jpg?w=${width}` })));
    expect(body<Url[]>(await t.get(`/pornstar-thumbnail-urls?thumbnail_id=${thumbnailId}`)).data.map((u) => u.id)).toEqual([url.id]);

    t.claimer.reset();
    const local = body<Url>(await t.send('PATCH', `/pornstar-thumbnail-urls/${url.id}`, { local_path: 'mine.jpg' })).data;
    expect(local).toMatchObject({ url: 'https://cdn.test/u1.jpg', local_path: 'mine.jpg' });
    expect(t.claimer.claims).toEqual([]);
    const moved = body<Url>(await t.send('PATCH', `/pornstar-thumbnail-urls/${url.id}`, { url: 'https://cdn.test/u2.jpg' })).data;
    expect(moved).toMatchObject({ url: 'https://cdn.test/u2.jpg', local_path: 'mine.jpg', image_status: null, cached_url: null, variants: null });
    expect(t.claimer.claims).toEqual([{ urls: ['https://cdn.test/u2.jpg'], inTransaction: true }]);
    const hash = await t.db.selectFrom('pornstar_thumbnail_urls').select('url_hash').where('id', '=', url.id).executeTakeFirstOrThrow();
    expect(hash.url_hash).toBe(sha256Hex('https://cdn.test/u2.jpg'));
    const put = body<Url>(await t.send('PUT', `/pornstar-thumbnail-urls/${url.id}`, { thumbnail_id: thumbnailId, url: 'https://cdn.test/u2.jpg' })).data;
    expect(put.local_path).toBeNull();

    expect(body(await t.send('DELETE', `/pornstar-thumbnail-urls/${url.id}`))).toEqual({
      success: true,
      message: 'Pornstar thumbnail URL deleted successfully',
      data: null,
      errors: null,
    });
    expect((await t.get(`/pornstar-thumbnail-urls/${url.id}`)).statusCode).toBe(404);
  });

  it.each([
    [{ thumbnail_id: 999999, url: 'https://cdn.test/x.jpg' }, { thumbnail_id: ['The selected thumbnail_id is invalid.'] }],
    [{ url: 'https://cdn.test/x.jpg' }, { thumbnail_id: ['The thumbnail_id field is required.'] }],
    [{ thumbnail_id: 1, url: 'cdn.test/x.jpg' }, { url: ['The url field must be a valid URL.'] }],
    [{ thumbnail_id: 1, url: 'https://cdn.test/x.jpg', local_path: 5 }, { local_path: ['The local_path field must be a string or null.'] }],
  ])('answers 422 to %j', async (payload, errors) => {
    const res = await t.send('POST', '/pornstar-thumbnail-urls', payload);
    expect(res.statusCode).toBe(422);
    expect(body(res).errors).toEqual(errors);
  });

  it('answers 422 to a URL the thumbnail already has', async () => {
    await t.send('POST', '/pornstar-thumbnail-urls', { thumbnail_id: thumbnailId, url: 'https://cdn.test/twice.jpg' });
    const res = await t.send('POST', '/pornstar-thumbnail-urls', { thumbnail_id: thumbnailId, url: 'https://cdn.test/twice.jpg' });
    expect(body(res).errors).toEqual({ url: ['The url has already been taken.'] });
  });
});

describe('lone surrogates in the writes of aliases, thumbnails and thumbnail URLs', () => {
  it('answers 422 naming the field, and stores nothing', async () => {
    const p = await bare({ thumbnails: [{ type: 'pc' }] });
    const thumbnailId = p.thumbnails[0]!.id;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['/pornstar-aliases', { pornstar_id: p.id, alias: 'Anna\ud800' }, 'alias'],
      ['/pornstar-thumbnails', { pornstar_id: p.id, type: 'tab\udfff' }, 'type'],
      ['/pornstar-thumbnails', { pornstar_id: p.id, type: 'tablet', urls: [{ url: 'https://cdn.test/t.jpg', local_path: '\ud83d' }] }, 'urls.0.local_path'],
      ['/pornstar-thumbnail-urls', { thumbnail_id: thumbnailId, url: 'https://cdn.test/u.jpg', local_path: 'x\ude00' }, 'local_path'],
    ];
    for (const [path, payload, field] of cases) {
      const res = await t.send('POST', path, payload);
      expect(res.statusCode, `${path} ${res.body}`).toBe(422);
      expect(body(res).errors).toEqual({ [field]: [`The ${field} field must not contain NUL characters or unpaired surrogates.`] });
    }
    const shown = body<PornstarViewData>(await t.get(`/pornstars/${p.id}`)).data;
    expect(shown.aliases).toEqual([]);
    expect(shown.thumbnails.map((th) => [th.type, th.urls.length])).toEqual([['pc', 0]]);
    expect(t.claimer.claims).toEqual([]);
  });
});
