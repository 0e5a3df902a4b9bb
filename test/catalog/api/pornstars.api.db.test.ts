import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { sha256Hex } from '../../../src/platform/canonical-json.js';
import { body, createCatalogTestApp, createPornstar, pornstarBody, type CatalogTestApp } from './catalog-app.js';

let t: CatalogTestApp;

beforeAll(async () => {
  t = await createCatalogTestApp();
});
afterAll(() => t.close());
beforeEach(() => t.claimer.reset());

const count = async (table: 'pornstars' | 'pornstar_aliases' | 'pornstar_thumbnails' | 'pornstar_thumbnail_urls') =>
  Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

describe('POST /api/v1/pornstars', () => {
  it('stores the seed’s flat shape with nested aliases and thumbnails and answers 201 with the resource', async () => {
    const input = pornstarBody({
      external_id: 'seed-1',
      name: '  Jane Doe  ',
      wl_status: '1',
      has_tattoos: 1,
      has_piercings: '0',
      aliases: [{ alias: ' JD ' }, { alias: '' }, { alias: '   ' }, { alias: 'Janie' }],
      thumbnails: [
        { type: 'pc', width: 234, height: 344, urls: [{ url: 'https://cdn.test/jane.jpg', local_path: 'pc/jane.jpg' }] },
        { type: 'mobile', width: 100, height: 150, urls: [{ url: 'https://cdn.test/jane.jpg' }] },
      ],
    });
    const res = await t.send('POST', '/pornstars', input);
    expect(res.statusCode, res.body).toBe(201);
    const env = body<PornstarViewData>(res);
    expect(env).toMatchObject({ success: true, message: 'Pornstar created successfully', errors: null });
    const p = env.data;
    expect(res.headers.location).toBe(`/api/v1/pornstars/${p.id}`);
    expect(Object.keys(env).sort()).toEqual(['data', 'errors', 'message', 'success']);
    expect(p).toEqual({
      id: expect.any(Number),
      external_id: 'seed-1',
      name: 'Jane Doe',
      link: input.link,
      license: 'REGULAR',
      wl_status: true,
      attributes: {
        hair_color: 'Blonde',
        ethnicity: 'White',
        has_tattoos: true,
        has_piercings: false,
        breast_size: 'C',
        breast_type: 'Natural',
        gender: 'female',
        orientation: 'straight',
        age: 30,
      },
      stats: {
        subscriptions: 100,
        monthly_searches: 2000,
        views: 30000,
        videos_count: 10,
        premium_videos_count: 2,
        white_label_video_count: 1,
        rank: 50,
        rank_premium: 60,
        rank_wl: 70,
      },
      aliases: [
        { id: expect.any(Number), pornstar_id: p.id, alias: 'JD' },
        { id: expect.any(Number), pornstar_id: p.id, alias: 'Janie' },
      ],
      thumbnails: [
        {
          id: expect.any(Number),
          pornstar_id: p.id,
          type: 'pc',
          source: 'api',
          width: 234,
          height: 344,
          urls: [{ id: expect.any(Number), thumbnail_id: p.thumbnails[0]!.id, url: 'https://cdn.test/jane.jpg', local_path: 'pc/jane.jpg', cached_url: null, image_status: null, variants: null }],
        },
        {
          id: expect.any(Number),
          pornstar_id: p.id,
          type: 'mobile',
          source: 'api',
          width: 100,
          height: 150,
          urls: [{ id: expect.any(Number), thumbnail_id: p.thumbnails[1]!.id, url: 'https://cdn.test/jane.jpg', local_path: null, cached_url: null, image_status: null, variants: null }],
        },
      ],
      created_at: new Date(t.clock.now()).toISOString(),
      updated_at: new Date(t.clock.now()).toISOString(),
    });
    const show = await t.get(`/pornstars/${p.id}`);
    expect(body(show)).toEqual({ success: true, message: 'Pornstar retrieved successfully', data: p, errors: null });
  });

  it('hands every new URL, once, to the image pipeline inside the same transaction, with its sha256 stored', async () => {
    const p = await createPornstar(t, {
      thumbnails: [
        { type: 'pc', urls: [{ url: 'https://cdn.test/a.jpg' }, { url: 'https://cdn.test/b.jpg' }] },
        { type: 'tablet', urls: [{ url: 'https://cdn.test/a.jpg' }] },
      ],
    });
    expect(t.claimer.claims).toEqual([{ urls: ['https://cdn.test/a.jpg', 'https://cdn.test/b.jpg'], inTransaction: true }]);
    const hashes = await t.db.selectFrom('pornstar_thumbnail_urls').select(['url', 'url_hash']).where('thumbnail_id', '=', p.thumbnails[0]!.id).execute();
    for (const row of hashes) expect(row.url_hash).toBe(sha256Hex(row.url));
  });

  it('answers 422 to an external_id that is taken', async () => {
    await createPornstar(t, { external_id: 'taken' });
    const res = await t.send('POST', '/pornstars', pornstarBody({ external_id: 'taken' }));
    expect(res.statusCode).toBe(422);
    expect(body(res)).toEqual({ success: false, message: 'Validation failed.', data: null, errors: { external_id: ['The external_id has already been taken.'] } });
  });

  it('stores nothing and claims nothing when an alias repeats (case-insensitively)', async () => {
    const before = await Promise.all([count('pornstars'), count('pornstar_aliases'), count('pornstar_thumbnails')]);
    const res = await t.send('POST', '/pornstars', pornstarBody({ aliases: [{ alias: 'Dup' }, { alias: ' dUP ' }] }));
    expect(res.statusCode).toBe(422);
    expect(body(res).errors).toEqual({ 'aliases.1.alias': ['The aliases.1.alias field has a duplicate value.'] });
    expect(await Promise.all([count('pornstars'), count('pornstar_aliases'), count('pornstar_thumbnails')])).toEqual(before);
    expect(t.claimer.claims).toEqual([]);
  });

  it('rolls the pornstar, its aliases and thumbnails back when the image claim fails', async () => {
    const before = await Promise.all([count('pornstars'), count('pornstar_aliases'), count('pornstar_thumbnails'), count('pornstar_thumbnail_urls')]);
    t.claimer.failWith = new Error('queue down\n    at secret (/srv/app.js:1:1)');
    const res = await t.send('POST', '/pornstars', pornstarBody({ external_id: 'atomic-1' }));
    expect(res.statusCode).toBe(500);
    const env = body(res);
    expect(env).toMatchObject({ success: false, message: 'Server Error', data: null, errors: null });
    expect(res.body).not.toMatch(/queue down|secret|app\.js|stack/);
    expect(await Promise.all([count('pornstars'), count('pornstar_aliases'), count('pornstar_thumbnails'), count('pornstar_thumbnail_urls')])).toEqual(before);
    t.claimer.failWith = null;
    expect((await t.send('POST', '/pornstars', pornstarBody({ external_id: 'atomic-1' }))).statusCode).toBe(201);
  });

  it('answers 422 with Laravel dotted keys for every invalid field', async () => {
    const res = await t.send('POST', '/pornstars', {
      external_id: 1.5,
      name: '   ',
      wl_status: 'yes',
      age: -1,
      views: 1.5,
      aliases: [{ alias: 3 }],
      thumbnails: [{ type: 'pc', urls: [{ url: 'x'.repeat(3000) }] }],
    });
    expect(res.statusCode).toBe(422);
    const env = body(res);
    expect(env.message).toBe('Validation failed.');
    expect(Object.keys(env.errors!).sort()).toEqual(['age', 'aliases.0.alias', 'external_id', 'thumbnails.0.urls.0.url', 'views', 'wl_status']);
  });

  it.each([
    [{ name: '   ' }, 'name', 'The name field is required.'],
    [{ external_id: ' ' }, 'external_id', 'The external_id field is required.'],
    [{ thumbnails: [{ type: 'pc', urls: [{ url: 'ftp://cdn.test/a.jpg' }] }] }, 'thumbnails.0.urls.0.url', 'The thumbnails.0.urls.0.url field must be a valid URL.'],
    [{ thumbnails: [{ type: 'pc', urls: [{ url: 'not a url' }] }] }, 'thumbnails.0.urls.0.url', 'The thumbnails.0.urls.0.url field must be a valid URL.'],
    [{ thumbnails: [{ type: '' }] }, 'thumbnails.0.type', 'The thumbnails.0.type field is required.'],
  ])('answers 422 to %j', async (override, field, message) => {
    const res = await t.send('POST', '/pornstars', pornstarBody(override));
    expect(res.statusCode, res.body).toBe(422);
    expect(body(res).errors).toEqual({ [field]: [message] });
  });

  it('answers 422 to lone surrogates in any string, stored or not, naming each field, and stores nothing', async () => {
    const before = await count('pornstars');
    const res = await t.send(
      'POST',
      '/pornstars',
      pornstarBody({ name: 'Ann\ud800', link: 'https://example.test/\udfff', hair_color: '\ud83d', aliases: [{ alias: 'ok' }, { alias: 'x\ude00' }], thumbnails: [{ type: 'pc', urls: [{ url: 'https://cdn.test/a.jpg', local_path: 'a\ud800.jpg' }] }] }),
    );
    expect(res.statusCode, res.body).toBe(422);
    const env = body(res);
    expect(env.message).toBe('Validation failed.');
    expect(Object.keys(env.errors!)).toEqual(['name', 'link', 'hair_color', 'aliases.1.alias', 'thumbnails.0.urls.0.local_path']);
    expect(env.errors!.name).toEqual(['The name field must not contain NUL characters or unpaired surrogates.']);
    expect(await count('pornstars')).toBe(before);
    expect(t.claimer.claims).toEqual([]);
    const p = await createPornstar(t);
    for (const method of ['PUT', 'PATCH'] as const) {
      const update = await t.send(method, `/pornstars/${p.id}`, method === 'PUT' ? pornstarBody({ ethnicity: '\udc00' }) : { ethnicity: '\udc00' });
      expect(update.statusCode, method).toBe(422);
      expect(Object.keys(body(update).errors!)).toEqual(['ethnicity']);
    }
  });

  it('answers 400 in the envelope to malformed JSON and 415 to another content type', async () => {
    const bad = await t.inject({ method: 'POST', url: '/api/v1/pornstars', headers: { ...t.writer, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(bad.statusCode).toBe(400);
    expect(body(bad)).toEqual({ success: false, message: 'The request body is not valid JSON.', data: null, errors: null });
    const xml = await t.inject({ method: 'POST', url: '/api/v1/pornstars', headers: { ...t.writer, 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(body(xml).success).toBe(false);
  });
});

describe('PUT and PATCH /api/v1/pornstars/:id', () => {
  it('PATCH changes only the fields sent', async () => {
    const p = await createPornstar(t);
    t.claimer.reset();
    t.clock.advance(1000);
    const res = await t.send('PATCH', `/pornstars/${p.id}`, { name: 'Renamed', has_tattoos: null, views: 5 });
    expect(res.statusCode, res.body).toBe(200);
    const env = body<PornstarViewData>(res);
    expect(env.message).toBe('Pornstar updated successfully');
    expect(env.data).toEqual({
      ...p,
      name: 'Renamed',
      attributes: { ...p.attributes, has_tattoos: null },
      stats: { ...p.stats, views: 5 },
      updated_at: new Date(t.clock.now()).toISOString(),
    });
    expect(t.claimer.claims).toEqual([]);
  });

  it('PUT replaces the writable fields: the ones left out become null, false or empty', async () => {
    const p = await createPornstar(t);
    const res = await t.send('PUT', `/pornstars/${p.id}`, { external_id: p.external_id, name: 'Only Name' });
    expect(res.statusCode, res.body).toBe(200);
    const data = body<PornstarViewData>(res).data;
    expect(data).toMatchObject({ id: p.id, external_id: p.external_id, name: 'Only Name', link: null, license: null, wl_status: false, aliases: [], thumbnails: [] });
    expect(Object.values(data.attributes).every((v) => v === null)).toBe(true);
    expect(Object.values(data.stats).every((v) => v === null)).toBe(true);
    expect(await t.db.selectFrom('pornstar_thumbnails').select('id').where('pornstar_id', '=', p.id).execute()).toEqual([]);
  });

  it('PUT requires external_id and name', async () => {
    const p = await createPornstar(t);
    const res = await t.send('PUT', `/pornstars/${p.id}`, { name: 'No external id' });
    expect(res.statusCode).toBe(422);
    expect(body(res).errors).toEqual({ external_id: ['The external_id field is required.'] });
  });

  it('replaces nested aliases and thumbnails in place, keeping what stays and claiming only new URLs', async () => {
    const p = await createPornstar(t, {
      aliases: [{ alias: 'Keep' }, { alias: 'Drop' }],
      thumbnails: [{ type: 'pc', width: 1, height: 1, urls: [{ url: 'https://cdn.test/keep.jpg' }, { url: 'https://cdn.test/drop.jpg' }] }, { type: 'mobile' }],
    });
    t.claimer.reset();
    const res = await t.send('PATCH', `/pornstars/${p.id}`, {
      aliases: [{ alias: 'KEEP' }, { alias: 'New' }],
      thumbnails: [{ type: 'pc', width: 2, height: 2, urls: [{ url: 'https://cdn.test/keep.jpg', local_path: 'x/keep.jpg' }, { url: 'https://cdn.test/new.jpg' }] }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const data = body<PornstarViewData>(res).data;
    expect(data.aliases.map((a) => a.alias)).toEqual(['KEEP', 'New']);
    expect(data.aliases[0]!.id).toBe(p.aliases[0]!.id);
    expect(data.thumbnails).toHaveLength(1);
    expect(data.thumbnails[0]).toMatchObject({ id: p.thumbnails[0]!.id, type: 'pc', width: 2, height: 2 });
    expect(data.thumbnails[0]!.urls.map((u) => [u.url, u.local_path])).toEqual([
      ['https://cdn.test/keep.jpg', 'x/keep.jpg'],
      ['https://cdn.test/new.jpg', null],
    ]);
    expect(data.thumbnails[0]!.urls[0]!.id).toBe(p.thumbnails[0]!.urls[0]!.id);
    expect(t.claimer.claims).toEqual([{ urls: ['https://cdn.test/new.jpg'], inTransaction: true }]);
    expect(data.external_id).toBe(p.external_id);
  });

  it('matches nested thumbnails to existing ones of their type in id order, so a pornstar with two of one type reads back as it was written', async () => {
    const p = await createPornstar(t, {
      thumbnails: [
        { type: 'pc', width: 1, urls: [{ url: 'https://cdn.test/pc-1.jpg' }] },
        { type: 'pc', width: 2, urls: [{ url: 'https://cdn.test/pc-2.jpg' }] },
        { type: 'tablet', width: 3 },
      ],
    });
    expect(p.thumbnails.map((thumb) => [thumb.type, thumb.width, thumb.source])).toEqual([
      ['pc', 1, 'api'],
      ['pc', 2, 'api'],
      ['tablet', 3, 'api'],
    ]);
    // The feed's thumbnail keeps its source when a nested write updates it in place.
    await t.db.updateTable('pornstar_thumbnails').set({ source: 'feed' }).where('id', '=', p.thumbnails[0]!.id).execute();
    const res = await t.send('PATCH', `/pornstars/${p.id}`, {
      thumbnails: [
        { type: 'pc', width: 10, urls: [{ url: 'https://cdn.test/pc-1.jpg' }] },
        { type: 'pc', width: 20, urls: [{ url: 'https://cdn.test/pc-2.jpg' }] },
        { type: 'pc', width: 30 },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const data = body<PornstarViewData>(res).data;
    expect(data.thumbnails.map((thumb) => [thumb.id, thumb.type, thumb.width, thumb.source])).toEqual([
      [p.thumbnails[0]!.id, 'pc', 10, 'feed'],
      [p.thumbnails[1]!.id, 'pc', 20, 'api'],
      [expect.any(Number), 'pc', 30, 'api'],
    ]);
    const put = await t.send('PUT', `/pornstars/${p.id}`, { ...pornstarBody({ external_id: p.external_id }), thumbnails: data.thumbnails });
    expect(put.statusCode, put.body).toBe(200);
    expect(body<PornstarViewData>(put).data.thumbnails).toEqual(data.thumbnails);
  });

  it('answers 422 to an external_id that another pornstar has, and accepts its own', async () => {
    const a = await createPornstar(t);
    const b = await createPornstar(t);
    const res = await t.send('PATCH', `/pornstars/${b.id}`, { external_id: a.external_id });
    expect(res.statusCode).toBe(422);
    expect(body(res).errors).toEqual({ external_id: ['The external_id has already been taken.'] });
    expect((await t.send('PATCH', `/pornstars/${b.id}`, { external_id: b.external_id })).statusCode).toBe(200);
  });

  it('clears the content hash so that the next feed run writes the feed’s version again', async () => {
    const p = await createPornstar(t);
    await t.db.updateTable('pornstars').set({ content_hash: 'feed-hash' }).where('id', '=', p.id).execute();
    await t.send('PATCH', `/pornstars/${p.id}`, { views: 1 });
    const row = await t.db.selectFrom('pornstars').select('content_hash').where('id', '=', p.id).executeTakeFirstOrThrow();
    expect(row.content_hash).toBeNull();
  });

  it('answers 404 to an unknown id before looking at the body', async () => {
    for (const method of ['PUT', 'PATCH'] as const) {
      const res = await t.send(method, '/pornstars/999999', pornstarBody());
      expect(res.statusCode).toBe(404);
      expect(body(res)).toEqual({ success: false, message: 'Resource not found.', data: null, errors: null });
    }
  });
});

describe('DELETE /api/v1/pornstars/:id', () => {
  it('deletes the pornstar with its aliases, thumbnails and URLs', async () => {
    const p = await createPornstar(t);
    const res = await t.send('DELETE', `/pornstars/${p.id}`);
    expect(res.statusCode).toBe(200);
    expect(body(res)).toEqual({ success: true, message: 'Pornstar deleted successfully', data: null, errors: null });
    expect((await t.get(`/pornstars/${p.id}`)).statusCode).toBe(404);
    expect(await t.db.selectFrom('pornstar_aliases').select('id').where('pornstar_id', '=', p.id).execute()).toEqual([]);
    expect(await t.db.selectFrom('pornstar_thumbnail_urls').select('id').where('thumbnail_id', '=', p.thumbnails[0]!.id).execute()).toEqual([]);
    expect((await t.send('DELETE', `/pornstars/${p.id}`)).statusCode).toBe(404);
  });
});

describe('authentication of writes', () => {
  const writes = (id: number) =>
    [
      ['POST', '/pornstars'],
      ['PUT', `/pornstars/${id}`],
      ['PATCH', `/pornstars/${id}`],
      ['DELETE', `/pornstars/${id}`],
    ] as const;

  it('answers 401 without a token, or with a bad one, whatever the body', async () => {
    const p = await createPornstar(t);
    for (const [method, path] of writes(p.id)) {
      for (const headers of [{}, { authorization: 'Bearer 1|nope' }, { authorization: 'Basic abc' }] as Array<Record<string, string>>) {
        const res = await t.send(method, path, { name: 42 }, headers);
        expect(res.statusCode, `${method} ${path}`).toBe(401);
        expect(body(res)).toEqual({ success: false, message: 'Unauthenticated.', data: null, errors: null });
      }
    }
    expect((await t.get(`/pornstars/${p.id}`)).statusCode).toBe(200);
  });

  it('answers 403 to a token without the catalog:write ability', async () => {
    const p = await createPornstar(t);
    for (const [method, path] of writes(p.id)) {
      const res = await t.send(method, path, pornstarBody(), t.reader);
      expect(res.statusCode, `${method} ${path}`).toBe(403);
      expect(body(res)).toEqual({ success: false, message: 'This action is unauthorized.', data: null, errors: null });
    }
  });
});

describe('images joined into thumbnail URLs', () => {
  it('shows cached_url, local_path and image_status from the images row', async () => {
    const p = await createPornstar(t, {
      thumbnails: [{ type: 'pc', urls: [{ url: 'https://cdn.test/cached.jpg' }, { url: 'https://cdn.test/pending.jpg' }, { url: 'https://cdn.test/mine.jpg', local_path: 'own/path.jpg' }] }],
    });
    const sha = 'ab'.repeat(32);
    await t.image('https://cdn.test/cached.jpg', 'cached', sha, 'webp');
    await t.image('https://cdn.test/pending.jpg', 'pending');
    await t.image('https://cdn.test/mine.jpg', 'cached', 'cd'.repeat(32), 'png');
    const res = await t.inject({ method: 'GET', url: `/api/v1/pornstars/${p.id}`, headers: { host: 'catalog.test:8080' } });
    const urls = body<PornstarViewData>(res).data.thumbnails[0]!.urls;
    expect(urls.map(({ url, local_path, cached_url, image_status }) => ({ url, local_path, cached_url, image_status }))).toEqual([
      { url: 'https://cdn.test/cached.jpg', local_path: `images/ab/ab/${sha}.webp`, cached_url: `http://catalog.test:8080/images/${sha}.webp`, image_status: 'cached' },
      { url: 'https://cdn.test/pending.jpg', local_path: null, cached_url: null, image_status: 'pending' },
      { url: 'https://cdn.test/mine.jpg', local_path: 'own/path.jpg', cached_url: `http://catalog.test:8080/images/${'cd'.repeat(32)}.png`, image_status: 'cached' },
    ]);
  });
});

describe('errors in the envelope', () => {
  it.each(['abc', '0', '-1', '1.5', '1e3', '99999999999999999999', '%20'])('answers 404 "Resource not found." to the id %s', async (id) => {
    const res = await t.get(`/pornstars/${id}`);
    expect(res.statusCode).toBe(404);
    expect(body(res)).toEqual({ success: false, message: 'Resource not found.', data: null, errors: null });
  });

  it.each(['/api/v1/nope', '/api/v1/pornstars/1/extra', '/api/v1'])('answers 404 "Route not found." to %s', async (url) => {
    const res = await t.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(body(res)).toEqual({ success: false, message: 'Route not found.', data: null, errors: null });
  });

  it('answers 405 with Allow to a wrong method', async () => {
    const collection = await t.inject({ method: 'DELETE', url: '/api/v1/pornstars', headers: t.writer });
    expect(collection.statusCode).toBe(405);
    expect(collection.headers.allow).toBe('GET, HEAD, POST');
    expect(body(collection)).toEqual({ success: false, message: 'Method not allowed.', data: null, errors: null });
    const member = await t.inject({ method: 'POST', url: '/api/v1/pornstar-aliases/1' });
    expect(member.statusCode).toBe(405);
    expect(member.headers.allow).toBe('GET, HEAD, PUT, PATCH, DELETE');
  });
});

describe('health, version and docs', () => {
  it('answers GET /api/v1/health and /api/v1/version', async () => {
    expect(body(await t.get('/health'))).toEqual({ success: true, message: 'OK', data: { status: 'ok' }, errors: null });
    const version = body(await t.get('/version'));
    expect(version).toEqual({ success: true, message: 'OK', data: { name: 'intake', version: expect.stringMatching(/^\d+\.\d+\.\d+/) }, errors: null });
  });

  it('documents every catalog route with a summary, tags and response schemas', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: object }>> }>();
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1'))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    // health and version, six operations per resource, and a feed run's changes
    expect(operations.length).toBe(2 + 4 * 6 + 1);
    for (const { path, method, op } of operations) {
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      expect(Object.keys(op.responses ?? {}), `${method} ${path}`).toContain(method === 'post' ? '201' : '200');
    }
  });
});
