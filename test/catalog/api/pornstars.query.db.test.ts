import path from 'node:path';
import { Migrator, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../../src/platform/db/database.js';
import { listPornstars } from '../../../src/catalog/api/pornstars.repository.js';
import { PornstarsService } from '../../../src/catalog/api/pornstars.service.js';
import { createDatabase } from '../../../src/platform/db/database.js';
import { migrateToLatest } from '../../../src/platform/db/migrate.js';
import { migrationsFor } from '../../../src/platform/db/migrations/index.js';
import { searchKey } from '../../../src/platform/search-key.js';
import { createEmptyDatabase, testDialect } from '../../support/driver-databases.js';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { body, createCatalogTestApp, createPornstar, type CatalogTestApp } from './catalog-app.js';

let t: CatalogTestApp;
const ids: Record<string, number> = {};

const profile = (name: string, fields: Record<string, unknown>, aliases: string[] = []) => ({
  name,
  hair_color: null,
  ethnicity: null,
  has_tattoos: null,
  has_piercings: null,
  age: null,
  rank: null,
  views: null,
  subscriptions: null,
  aliases: aliases.map((alias) => ({ alias })),
  thumbnails: [{ type: 'pc', urls: [{ url: `https://cdn.test/${encodeURIComponent(name)}.jpg` }] }],
  ...fields,
});

beforeAll(async () => {
  t = await createCatalogTestApp();
  const people = [
    profile('Alice Ray', { gender: 'female', orientation: 'straight', license: 'REGULAR', hair_color: 'Blonde|Brunette', ethnicity: 'White', has_tattoos: true, has_piercings: false, age: 25, rank: 3, views: 100, subscriptions: 10 }, ['Ally']),
    profile('bob stone', { gender: 'male', orientation: 'gay', license: 'PREMIUM', hair_color: 'Black', ethnicity: 'Black', has_tattoos: false, has_piercings: true, age: 40, rank: 1, views: 300 }, ['Bobby_%']),
    profile('Carla Zed', { gender: 'female', orientation: 'bisexual', license: 'REGULAR', ethnicity: 'Latin|White', views: 200, subscriptions: 30 }, ['Alicia']),
    profile('Dana', { gender: 'female', orientation: 'straight', license: 'PREMIUM', hair_color: 'blonde', ethnicity: 'Asian', has_tattoos: true, has_piercings: true, age: 33, rank: 2, views: 100, subscriptions: 20 }),
    profile('Eve Removed', { gender: 'female', orientation: 'straight', license: 'REGULAR', hair_color: 'Blonde', age: 28, rank: 0, views: 1 }, ['Evie']),
  ];
  for (const p of people) ids[p.name] = (await createPornstar(t, p)).id;
  await t.db.updateTable('pornstars').set({ removed_at: t.clock.now() }).where('id', '=', ids['Eve Removed']!).execute();
});
afterAll(() => t.close());

async function names(query: string): Promise<string[]> {
  const res = await t.get(`/pornstars?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return body<PornstarViewData[]>(res).data.map((p) => p.name);
}

describe('pagination of GET /api/v1/pornstars', () => {
  it('gives Laravel’s links and meta on the first, middle and last page, and an empty page beyond', async () => {
    const base = 'http://localhost:80/api/v1/pornstars';
    const first = body<unknown[]>(await t.get('/pornstars?per_page=2'));
    expect(first.links).toEqual({ first: `${base}?page=1&per_page=2`, last: `${base}?page=2&per_page=2`, prev: null, next: `${base}?page=2&per_page=2` });
    expect(first.meta).toEqual({ current_page: 1, from: 1, last_page: 2, path: base, per_page: 2, to: 2, total: 4 });
    expect(first.data).toHaveLength(2);

    const last = body(await t.get('/pornstars?per_page=3&page=2'));
    expect(last.meta).toEqual({ current_page: 2, from: 4, last_page: 2, path: base, per_page: 3, to: 4, total: 4 });
    expect(last.links).toMatchObject({ prev: `${base}?page=1&per_page=3`, next: null });

    const beyond = body(await t.get('/pornstars?per_page=3&page=9'));
    expect(beyond.data).toEqual([]);
    expect(beyond.meta).toMatchObject({ current_page: 9, from: null, to: null, last_page: 2, total: 4 });
    expect(beyond.links).toMatchObject({ prev: `${base}?page=2&per_page=3`, next: null });

    const huge = await t.get('/pornstars?page=1000000000&per_page=100');
    expect(huge.statusCode).toBe(200);
    expect(body(huge).data).toEqual([]);
  });

  it('defaults to 15 per page in id order', async () => {
    const res = body<PornstarViewData[]>(await t.get('/pornstars'));
    expect(res.meta).toMatchObject({ per_page: 15, current_page: 1, total: 4 });
    expect(res.data.map((p) => p.id)).toEqual([ids['Alice Ray'], ids['bob stone'], ids['Carla Zed'], ids['Dana']]);
    expect(res.links?.first).toBe('http://localhost:80/api/v1/pornstars?page=1');
  });

  it('keeps the filters in the links', async () => {
    const res = body(await t.get('/pornstars?gender=female&sort=-views&per_page=1'));
    expect(res.links?.next).toBe('http://localhost:80/api/v1/pornstars?gender=female&sort=-views&page=2&per_page=1');
  });

  it.each(['per_page=0', 'per_page=101', 'per_page=abc', 'per_page=-1', 'per_page=1.5', 'per_page=', 'page=0', 'page=-3', 'page=abc', 'page=1000000001', 'page=1e12', 'page=1&page=2'])(
    'answers 422 "Validation failed." to %s',
    async (query) => {
      const res = await t.get(`/pornstars?${query}`);
      expect(res.statusCode).toBe(422);
      const env = body(res);
      expect(env).toMatchObject({ success: false, message: 'Validation failed.', data: null });
      expect(Object.keys(env.errors ?? {})).toEqual([query.split('=')[0]]);
    },
  );

  it('accepts per_page=100 and per_page=1', async () => {
    expect(body(await t.get('/pornstars?per_page=100')).meta?.per_page).toBe(100);
    expect(body(await t.get('/pornstars?per_page=1')).meta?.last_page).toBe(4);
  });
});

describe('filters', () => {
  it.each([
    ['q=ali', ['Alice Ray', 'Carla Zed']],
    ['q=ALLY', ['Alice Ray']],
    // A q without a letter or digit has no word to search for: it matches nothing.
    ['q=%25', []],
    ['q=_', []],
    ['q=%20%20', ['Alice Ray', 'bob stone', 'Carla Zed', 'Dana']],
    ['q=ray%20', ['Alice Ray']],
    ['q=evie', []],
    ['gender=FEMALE', ['Alice Ray', 'Carla Zed', 'Dana']],
    ['gender=male|female', ['Alice Ray', 'bob stone', 'Carla Zed', 'Dana']],
    ['hair_color=blonde', ['Alice Ray', 'Dana']],
    ['hair_color=Brunette', ['Alice Ray']],
    ['hair_color=brun', []],
    ['ethnicity=white', ['Alice Ray', 'Carla Zed']],
    ['ethnicity=latin|asian', ['Carla Zed', 'Dana']],
    ['license=premium', ['bob stone', 'Dana']],
    ['orientation=straight', ['Alice Ray', 'Dana']],
    ['has_tattoos=true', ['Alice Ray', 'Dana']],
    ['has_tattoos=0', ['bob stone']],
    ['has_piercings=1', ['bob stone', 'Dana']],
    ['has_piercings=false', ['Alice Ray']],
    ['min_age=30', ['bob stone', 'Dana']],
    ['max_age=30', ['Alice Ray']],
    ['min_age=30&max_age=35', ['Dana']],
    ['gender=female&has_tattoos=true&license=regular', ['Alice Ray']],
    ['gender=', ['Alice Ray', 'bob stone', 'Carla Zed', 'Dana']],
  ])('%s', async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });

  it.each(['has_tattoos=yes', 'min_age=abc', 'max_age=-1', 'sort=height', 'sort=--name', 'include_removed=maybe', `q=${'x'.repeat(256)}`, 'gender=a&gender=b'])(
    'answers 422 to %s',
    async (query) => {
      const res = await t.get(`/pornstars?${query}`);
      expect(res.statusCode).toBe(422);
      expect(body(res).message).toBe('Validation failed.');
    },
  );
});

describe('sort', () => {
  it.each([
    ['sort=name', ['Alice Ray', 'bob stone', 'Carla Zed', 'Dana']],
    ['sort=-name', ['Dana', 'Carla Zed', 'bob stone', 'Alice Ray']],
    ['sort=rank', ['bob stone', 'Dana', 'Alice Ray', 'Carla Zed']],
    ['sort=-rank', ['Alice Ray', 'Dana', 'bob stone', 'Carla Zed']],
    ['sort=views', ['Alice Ray', 'Dana', 'Carla Zed', 'bob stone']],
    // Alice Ray and Dana have the same views: descending, the later id goes first.
    ['sort=-views', ['bob stone', 'Carla Zed', 'Dana', 'Alice Ray']],
    ['sort=subscriptions', ['Alice Ray', 'Dana', 'Carla Zed', 'bob stone']],
    ['sort=-subscriptions', ['Carla Zed', 'Dana', 'Alice Ray', 'bob stone']],
    ['sort=age', ['Alice Ray', 'Dana', 'bob stone', 'Carla Zed']],
    ['sort=-age', ['bob stone', 'Dana', 'Alice Ray', 'Carla Zed']],
  ])('%s puts missing values last and breaks ties by id, in the direction of the sort', async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });

  it('pages through a sort with ties without repeating or skipping anyone', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 4; page++) seen.push(...(await names(`sort=views&per_page=1&page=${page}`)));
    expect(seen).toEqual(['Alice Ray', 'Dana', 'Carla Zed', 'bob stone']);
  });
});

describe('soft-removed pornstars', () => {
  const eve = () => ids['Eve Removed']!;

  it('are hidden from the index, show and writes unless include_removed=true', async () => {
    expect(await names('q=eve')).toEqual([]);
    expect(await names('include_removed=true&q=eve')).toEqual(['Eve Removed']);
    expect(body(await t.get('/pornstars?include_removed=1')).meta?.total).toBe(5);
    expect((await t.get(`/pornstars/${eve()}`)).statusCode).toBe(404);
    expect((await t.get(`/pornstars/${eve()}?include_removed=true`)).statusCode).toBe(200);
    expect((await t.send('PATCH', `/pornstars/${eve()}`, { views: 2 })).statusCode).toBe(404);
    expect((await t.send('PATCH', `/pornstars/${eve()}?include_removed=true`, { views: 2 })).statusCode).toBe(200);
  });

  it('hide their aliases, thumbnails and URLs too', async () => {
    const aliases = body<Array<{ pornstar_id: number }>>(await t.get('/pornstar-aliases?per_page=100')).data;
    expect(aliases.some((a) => a.pornstar_id === eve())).toBe(false);
    const all = body<Array<{ pornstar_id: number }>>(await t.get('/pornstar-aliases?per_page=100&include_removed=true')).data;
    expect(all.some((a) => a.pornstar_id === eve())).toBe(true);
    expect(body(await t.get(`/pornstar-thumbnails?pornstar_id=${eve()}`)).meta?.total).toBe(0);
    expect(body(await t.get(`/pornstar-thumbnails?pornstar_id=${eve()}&include_removed=true`)).meta?.total).toBe(1);
    expect(body(await t.get('/pornstar-thumbnail-urls')).meta?.total).toBe(4);
    expect(body(await t.get('/pornstar-thumbnail-urls?include_removed=true')).meta?.total).toBe(5);
  });
});

describe('queries per list', () => {
  it('loads a page with a fixed number of queries, whatever its size (no N+1)', async () => {
    let queries = 0;
    const counter: KyselyPlugin = {
      transformQuery: (args: PluginTransformQueryArgs) => {
        queries++;
        return args.node;
      },
      transformResult: async (args: PluginTransformResultArgs) => args.result,
    };
    const counted = t.container.database.db.withPlugin(counter);
    const database = { ...t.container.database, db: counted, readStale: <T>(work: (db: Executor) => Promise<T>) => work(counted) };
    const service = new PornstarsService({ database, images: t.claimer, clock: t.clock });
    const filter = { includeRemoved: true, text: [] };
    const small = await service.list(filter, { key: 'id', descending: false }, { page: 1, perPage: 1 });
    const perSmall = queries;
    queries = 0;
    const large = await service.list(filter, { key: 'id', descending: false }, { page: 1, perPage: 100 });
    expect(small.items).toHaveLength(1);
    expect(large.items.length).toBeGreaterThan(4);
    expect(large.items.every((g) => g.thumbnails.length === 1 && g.thumbnails[0]!.urls.length === 1)).toBe(true);
    expect(queries).toBe(perSmall);
    expect(queries).toBe(5);
  });
});

/**
 * `q` folds case and accents the same way on every engine (SQLite's lower() folds ASCII only, and
 * MySQL's collations fold more than PostgreSQL's): a name or alias matches when the folded query
 * is a substring of its folded text.
 */
describe('search across cases, accents and scripts', () => {
  const created: Record<string, number> = {};

  beforeAll(async () => {
    const people = [
      profile('ÉMILIE Durand', {}, ['Zoë', 'Zoe']),
      profile('Émilie Rousseau', {}),
      profile('emilie plain', {}),
      profile('Ольга Søren', {}, ['Straße']),
      profile('Łucja', {}, ['ΟΔΥΣΣΕΥΣ']),
    ];
    for (const p of people) created[p.name] = (await createPornstar(t, p)).id;
  });
  afterAll(async () => {
    await t.db.deleteFrom('pornstars').where('id', 'in', Object.values(created)).execute();
  });

  const EMILIES = ['ÉMILIE Durand', 'Émilie Rousseau', 'emilie plain'];
  it.each([
    ['q=émilie', EMILIES],
    ['q=%C3%89MILIE', EMILIES],
    ['q=emilie', EMILIES],
    ['q=%C3%89milie', EMILIES],
    // The same letter decomposed (e + U+0301) as some keyboards and macOS file names send it.
    ['q=e%CC%81milie%20d', ['ÉMILIE Durand']],
    ['q=zoe', ['ÉMILIE Durand']],
    ['q=ZO%C3%8B', ['ÉMILIE Durand']],
    ['q=%D0%BE%D0%BB%D1%8C%D0%B3%D0%B0', ['Ольга Søren']],
    ['q=soren', ['Ольга Søren']],
    ['q=STRASSE', ['Ольга Søren']],
    ['q=lucja', ['Łucja']],
    ['q=%CE%BF%CE%B4%CF%85%CF%83%CF%83%CE%B5%CF%8D%CF%82', ['Łucja']],
  ])('%s', async (query, expected) => {
    expect(await names(query)).toEqual(expected);
  });

  it('keeps two aliases that differ only by an accent', async () => {
    const res = body<PornstarViewData>(await t.get(`/pornstars/${created['ÉMILIE Durand']}`));
    expect(res.data.aliases.map((a) => a.alias)).toEqual(['Zoë', 'Zoe']);
  });

  it('finds a pornstar by the name and the aliases it was given later through the API', async () => {
    const id = created['Émilie Rousseau']!;
    expect((await t.send('PATCH', `/pornstars/${id}`, { name: 'Renée Brûlé' })).statusCode).toBe(200);
    expect(await names('q=renee%20brule')).toEqual(['Renée Brûlé']);
    expect(await names('q=rousseau')).toEqual([]);

    const alias = await t.send('POST', '/pornstar-aliases', { pornstar_id: id, alias: 'Añita' });
    expect(alias.statusCode).toBe(201);
    expect(await names('q=ANITA')).toEqual(['Renée Brûlé']);
    expect((await t.send('PUT', `/pornstar-aliases/${body<{ id: number }>(alias).data.id}`, { pornstar_id: id, alias: 'Bjørk' })).statusCode).toBe(200);
    expect(await names('q=bjork')).toEqual(['Renée Brûlé']);
    expect(await names('q=anita')).toEqual([]);
  });
});

describe('search keys of the rows stored before search folded accents, or searched words', () => {
  it('are written by the migration that adds them (009), and rewritten as words and indexed by 019', async () => {
    const dialect = testDialect();
    const url = dialect === 'sqlite' ? `sqlite:${path.join(t.container.config.dataDir, 'before-search.db')}` : (await createEmptyDatabase(dialect)).url;
    const database = createDatabase({ url, poolMax: 2 });
    const migrateBefore = async (name: string) => {
      const earlier = Object.fromEntries(Object.entries(migrationsFor(dialect)).filter(([migration]) => migration < name));
      const result = await new Migrator({ db: database.db, provider: { getMigrations: async () => earlier } }).migrateToLatest();
      expect(result.error).toBeUndefined();
    };
    try {
      await migrateBefore('009-catalog-search');
      const db = database.db;
      const now = 1;
      for (const [id, name] of [[1, 'ÉMILIE'], [2, 'Søren'], [3, 'Anne-Marie']] as const) {
        await db.insertInto('pornstars').values({ id, external_id: String(id), name, wl_status: 0, created_at: now, updated_at: now }).execute();
      }
      await db.insertInto('pornstar_aliases').values({ pornstar_id: 2, alias: 'Zoë', alias_key: 'zoë', created_at: now, updated_at: now }).execute();
      await db.insertInto('pornstar_aliases').values({ pornstar_id: 3, alias: "D'Arcy", alias_key: "d'arcy", created_at: now, updated_at: now }).execute();

      await migrateBefore('019-catalog-fulltext');
      // As 009 wrote them before keys were words: punctuation kept.
      await db.updateTable('pornstars').set({ name_search: 'anne-marie' }).where('id', '=', 3).execute();
      await db.updateTable('pornstar_aliases').set({ alias_search: "d'arcy" }).where('alias', '=', "D'Arcy").execute();

      await migrateToLatest(database);
      expect(await db.selectFrom('pornstars').select(['id', 'name_search']).orderBy('id').execute()).toEqual([
        { id: 1, name_search: 'emilie' },
        { id: 2, name_search: 'soren' },
        { id: 3, name_search: 'anne marie' },
      ]);
      expect(await db.selectFrom('pornstar_aliases').select('alias_search').orderBy('id').execute()).toEqual([{ alias_search: 'zoe' }, { alias_search: 'd arcy' }]);
      const find = async (q: string) => (await listPornstars(db, { includeRemoved: false, q: searchKey(q), text: [] }, { key: 'relevance', descending: false }, 10, 0)).map((p) => p.name);
      expect(await find('zoe')).toEqual(['Søren']);
      expect(await find('marie')).toEqual(['Anne-Marie']);
      expect(await find('arcy')).toEqual(['Anne-Marie']);
      expect(await find('emil')).toEqual(['ÉMILIE']);
    } finally {
      await database.close();
    }
  });
});
