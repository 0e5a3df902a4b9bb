import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateItems, type FeedItem } from '../../../dev/catalog/feed-generator.js';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { FeedIngestService } from '../../../src/catalog/feed/feed-ingest.service.js';
import { loadConfig } from '../../../src/config.js';
import { searchKey, searchWords } from '../../../src/platform/search-key.js';
import { testDialect } from '../../support/driver-databases.js';
import { body, createCatalogTestApp, createPornstar, type CatalogTestApp } from './catalog-app.js';

/**
 * Ranked search (`q`): every word of the query starts a word of the name, or every word starts a
 * word of one alias, folded for case and accents; the matches are ranked the same way on every
 * engine (exact name, name prefix, name words, exact alias, alias prefix, alias words; then rank,
 * none last; then id). The expectations are the same for all three engines.
 */
let t: CatalogTestApp;
const ids: Record<string, number> = {};

/** name, rank, aliases */
const PEOPLE: Array<[string, number | null, string[]]> = [
  ['Anna', 50, []],
  ['Annabelle Lee', 10, []],
  ['Lee Anna', 5, []],
  ['Anna Rose', 3, []],
  ['Anna Lynn', 3, ['Lee']],
  ['Anna Gray', null, []],
  ['Zoe Park', 1, ['Anna']],
  ['Kira Moss', null, ['Annabel']],
  ['Bella Stone', 2, ['Little Anna', 'B. S.']],
  // "anna" only inside words: never a match.
  ['Hanna Banana', 4, ['Joanna']],
  ['Renée Brûlé', 20, []],
  ["RENÉE O'Connor", 21, []],
  ['Marie-Anne Dupont', 7, ['Ann']],
  ['Dana Removed', 1, []],
  ['Anna Pending', 1, []],
];

beforeAll(async () => {
  t = await createCatalogTestApp();
  for (const [name, rank, aliases] of PEOPLE) ids[name] = (await createPornstar(t, { name, rank, aliases: aliases.map((alias) => ({ alias })), thumbnails: [] })).id;
  await t.db.updateTable('pornstars').set({ removed_at: t.clock.now() }).where('id', '=', ids['Dana Removed']!).execute();
  await t.db.updateTable('pornstars').set({ pending_run_id: 4242 }).where('id', '=', ids['Anna Pending']!).execute();
});
afterAll(() => t.close());

async function search(query: string): Promise<{ ids: number[]; total: number | undefined }> {
  const res = await t.get(`/pornstars?per_page=100&${query}`);
  expect(res.statusCode, res.body).toBe(200);
  const page = body<PornstarViewData[]>(res);
  return { ids: page.data.map((p) => p.id), total: page.meta?.total };
}

const idsOf = (names: string[]) => names.map((name) => ids[name]);

describe('ranked search', () => {
  it.each([
    ['q=anna', ['Anna', 'Anna Rose', 'Anna Lynn', 'Annabelle Lee', 'Anna Gray', 'Lee Anna', 'Zoe Park', 'Kira Moss', 'Bella Stone']],
    ['q=ann', ['Anna Rose', 'Anna Lynn', 'Annabelle Lee', 'Anna', 'Anna Gray', 'Lee Anna', 'Marie-Anne Dupont', 'Zoe Park', 'Kira Moss', 'Bella Stone']],
    ['q=annabel', ['Annabelle Lee', 'Kira Moss']],
    ['q=ANNA%20lee', ['Lee Anna', 'Annabelle Lee']],
    ['q=lee%20anna', ['Lee Anna', 'Annabelle Lee']],
    ['q=lee', ['Lee Anna', 'Annabelle Lee', 'Anna Lynn']],
    ['q=renee', ['Renée Brûlé', "RENÉE O'Connor"]],
    ['q=RENEE', ['Renée Brûlé', "RENÉE O'Connor"]],
    ['q=Ren%C3%A9e', ['Renée Brûlé', "RENÉE O'Connor"]],
    ['q=R%C3%89N%C3%89E%20o', ["RENÉE O'Connor"]],
    ["q=o'connor", ["RENÉE O'Connor"]],
    ['q=marie%20anne', ['Marie-Anne Dupont']],
    ['q=little', ['Bella Stone']],
    ['q=b.%20s.', ['Bella Stone']],
    ['q=zoe', ['Zoe Park']],
    // A repeated word says nothing more, but the whole query is what a name equals or starts with.
    ['q=anna%20anna', ['Anna Rose', 'Anna Lynn', 'Lee Anna', 'Annabelle Lee', 'Anna', 'Anna Gray', 'Zoe Park', 'Bella Stone', 'Kira Moss']],
  ])('%s gives the same order on every engine', async (query, expected) => {
    expect(await search(query)).toEqual({ ids: idsOf(expected), total: expected.length });
  });

  it('finds a word by its start only, and every word of the query in one text: the name, or one alias', async () => {
    // "Hanna Banana" and her alias "Joanna" hold "anna" inside words; "Anna Lynn" has "anna" in
    // her name and "lee" in an alias, which is no match for both.
    expect((await search('q=anna')).ids).not.toContain(ids['Hanna Banana']);
    expect((await search('q=anna%20lee')).ids).not.toContain(ids['Anna Lynn']);
    expect((await search('q=nna')).ids).toEqual([]);
  });

  it('ranks the whole name, then its start, then its words, then an alias likewise; ties by rank, none last, then id', async () => {
    // Tier by tier for "anna": name equal; name starts (ranks 3, 3 by id, 10, none); a word of
    // the name; an alias equal; an alias starts; a word of an alias.
    const { ids: order } = await search('q=anna');
    expect(order.indexOf(ids['Anna']!)).toBe(0);
    expect(order.indexOf(ids['Anna Rose']!)).toBeLessThan(order.indexOf(ids['Anna Lynn']!));
    expect(ids['Anna Rose']!).toBeLessThan(ids['Anna Lynn']!);
    expect(order.indexOf(ids['Zoe Park']!)).toBeLessThan(order.indexOf(ids['Kira Moss']!));
  });

  it('leaves out removed and pending pornstars, unless include_removed asks for the removed ones', async () => {
    expect((await search('q=dana')).ids).toEqual([]);
    expect((await search('q=dana&include_removed=true')).ids).toEqual(idsOf(['Dana Removed']));
    expect((await search('q=anna%20pending&include_removed=true')).ids).toEqual([]);
    expect((await search('q=pending')).total).toBe(0);
  });

  it('is relevance by default with q, and the other sorts order the same matches', async () => {
    expect(await search('q=anna&sort=relevance')).toEqual(await search('q=anna'));
    expect((await search('q=anna&sort=-rank')).ids).toEqual(
      idsOf(['Anna', 'Annabelle Lee', 'Lee Anna', 'Anna Lynn', 'Anna Rose', 'Bella Stone', 'Zoe Park', 'Kira Moss', 'Anna Gray']),
    );
    expect((await search('q=anna&sort=name')).ids).toEqual(
      idsOf(['Anna', 'Anna Gray', 'Anna Lynn', 'Anna Rose', 'Annabelle Lee', 'Bella Stone', 'Kira Moss', 'Lee Anna', 'Zoe Park']),
    );
  });

  it('pages through the ranking with the total of all matches', async () => {
    const res = body<PornstarViewData[]>(await t.get('/pornstars?q=anna&per_page=3&page=2'));
    expect(res.data.map((p) => p.id)).toEqual(idsOf(['Annabelle Lee', 'Anna Gray', 'Lee Anna']));
    expect(res.meta).toMatchObject({ total: 9, last_page: 3, from: 4, to: 6 });
    expect(res.links?.next).toBe('http://localhost:80/api/v1/pornstars?q=anna&page=3&per_page=3');
  });

  it('matches nothing for a q without a letter or digit, and everything for a blank one', async () => {
    expect(await search('q=%25%21')).toEqual({ ids: [], total: 0 });
    expect((await search('q=%20')).total).toBe(PEOPLE.length - 2);
  });

  it.each(['sort=relevance', 'q=&sort=relevance', 'q=%20%20&sort=relevance'])('answers 422 to %s: relevance needs a q', async (query) => {
    const res = await t.get(`/pornstars?${query}`);
    expect(res.statusCode).toBe(422);
    expect(body(res)).toMatchObject({ success: false, message: 'Validation failed.', data: null, errors: { sort: ['The sort relevance is only available with a q to rank by.'] } });
  });

  it.each(['q=anna&sort=-relevance', 'q=anna&sort=Relevance'])('answers 422 to %s', async (query) => {
    const res = await t.get(`/pornstars?${query}`);
    expect(res.statusCode).toBe(422);
    expect(Object.keys(body(res).errors ?? {})).toEqual(['sort']);
  });
});

/** What `q` must find, computed in JavaScript from the names and aliases as written. */
interface Row {
  id: number;
  rank: number | null;
  name: string;
  aliases: string[];
  visible: boolean;
}

function startsWords(key: string, words: string[]): boolean {
  const own = searchWords(key);
  return words.every((word) => own.some((w) => w.startsWith(word)));
}

function expectedOrder(rows: Row[], q: string): number[] {
  const key = searchKey(q);
  const words = searchWords(key);
  if (words.length === 0) return [];
  const tierOf = (row: Row): number => {
    const name = searchKey(row.name);
    const aliases = row.aliases.map(searchKey);
    if (name === key) return 0;
    if (name.startsWith(key)) return 1;
    if (startsWords(name, words)) return 2;
    if (aliases.some((alias) => alias === key)) return 3;
    if (aliases.some((alias) => alias.startsWith(key))) return 4;
    if (aliases.some((alias) => startsWords(alias, words))) return 5;
    return -1;
  };
  return rows
    .filter((row) => row.visible)
    .map((row) => ({ row, tier: tierOf(row) }))
    .filter(({ tier }) => tier >= 0)
    .sort((a, b) => a.tier - b.tier || (a.row.rank ?? Infinity) - (b.row.rank ?? Infinity) || a.row.id - b.row.id)
    .map(({ row }) => row.id);
}

/** Syllables from several scripts: accents, Cyrillic, CJK (one ideograph MariaDB's tables lack, one outside the BMP), kana, Devanagari with a vowel sign. */
const SYLLABLES = ['an', 'na', 'ann', 'le', 'lee', 'mi', 'ré', 'RÖ', 'bel', 'ka', 'é', 'ñ', 'Ол', 'ьга', '李', '花', 'が', 'कि', 'र', '龦', '𠀀', 'a', 'o', '7', 'ß'];
const SEPARATORS = [' ', ' ', '-', "'", ' . '];
const word = fc.array(fc.constantFrom(...SYLLABLES), { minLength: 1, maxLength: 3 }).map((s) => s.join(''));
const text = fc
  .tuple(fc.array(word, { minLength: 1, maxLength: 3 }), fc.array(fc.constantFrom(...SEPARATORS), { minLength: 2, maxLength: 2 }))
  .map(([words, [a, b]]) => words.reduce((all, w, i) => (i === 0 ? w : `${all}${i === 1 ? a : b}${w}`), ''));
/** A variant a reader might type: other case, accents added or dropped. */
const typed = (s: string, variant: number) => [s, s.toUpperCase(), s.normalize('NFD'), s.replace(/é/g, 'e').replace(/ß/g, 'ss')][variant % 4]!;

describe('search against a reference computed in JavaScript', () => {
  let rows: Row[];

  beforeAll(async () => {
    const people = fc.sample(fc.tuple(text, fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }), fc.array(text, { maxLength: 2 })), 30);
    for (const [name, rank, aliases] of people) {
      // The API keeps one alias per case-insensitive spelling.
      const unique = [...new Map(aliases.map((alias) => [alias.toLowerCase(), alias])).values()];
      await createPornstar(t, { name, rank, aliases: unique.map((alias) => ({ alias })), thumbnails: [] });
    }
    const stored = await t.db.selectFrom('pornstars').select(['id', 'name', 'rank', 'removed_at', 'pending_run_id']).orderBy('id').execute();
    const aliases = await t.db.selectFrom('pornstar_aliases').select(['pornstar_id', 'alias']).orderBy('id').execute();
    rows = stored.map((p) => ({
      id: Number(p.id),
      name: p.name,
      rank: p.rank === null ? null : Number(p.rank),
      aliases: aliases.filter((a) => Number(a.pornstar_id) === Number(p.id)).map((a) => a.alias),
      visible: p.removed_at === null && p.pending_run_id === null,
    }));
  });

  it('finds exactly the reference matches, in the reference order', async () => {
    const texts = rows.flatMap((row) => [row.name, ...row.aliases]);
    const prefixOfAWord = fc.tuple(fc.constantFrom(...texts), fc.nat(), fc.nat(), fc.nat()).map(([s, w, len, variant]) => {
      const words = s.split(/[^\p{L}\p{N}\p{M}]+/u).filter(Boolean);
      const chosen = Array.from(words[w % words.length] ?? s);
      return typed(chosen.slice(0, 1 + (len % chosen.length)).join(''), variant);
    });
    const query = fc.oneof(prefixOfAWord, fc.tuple(prefixOfAWord, prefixOfAWord).map(([a, b]) => `${a} ${b}`), text);
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const expected = expectedOrder(rows, q);
        expect(await search(`q=${encodeURIComponent(q)}`), q).toEqual({ ids: expected, total: expected.length });
      }),
      { numRuns: 60 },
    );
  });
});

describe('the index follows every write', () => {
  const found = async (q: string) => (await search(`q=${encodeURIComponent(q)}`)).ids;

  it('after a rename, alias changes and a deletion through the API', async () => {
    const star = await createPornstar(t, { name: 'Quillon Zyx', aliases: [{ alias: 'Qz Alpha' }], thumbnails: [] });
    expect(await found('quill')).toEqual([star.id]);
    expect(await found('qz alp')).toEqual([star.id]);

    expect((await t.send('PATCH', `/pornstars/${star.id}`, { name: 'Yusuf Zyx' })).statusCode).toBe(200);
    expect(await found('quill')).toEqual([]);
    expect(await found('yusuf')).toEqual([star.id]);

    expect((await t.send('PATCH', `/pornstars/${star.id}`, { aliases: [{ alias: 'Qz Beta' }] })).statusCode).toBe(200);
    expect(await found('qz alp')).toEqual([]);
    expect(await found('qz be')).toEqual([star.id]);

    const alias = await t.send('POST', '/pornstar-aliases', { pornstar_id: star.id, alias: 'Wren Qzq' });
    expect(alias.statusCode).toBe(201);
    expect(await found('wren')).toEqual([star.id]);
    const aliasId = body<{ id: number }>(alias).data.id;
    expect((await t.send('PUT', `/pornstar-aliases/${aliasId}`, { pornstar_id: star.id, alias: 'Vale Qzq' })).statusCode).toBe(200);
    expect(await found('wren')).toEqual([]);
    expect(await found('vale')).toEqual([star.id]);
    const other = await createPornstar(t, { name: 'Otto Vex', aliases: [], thumbnails: [] });
    expect((await t.send('PUT', `/pornstar-aliases/${aliasId}`, { pornstar_id: other.id, alias: 'Vale Qzq' })).statusCode).toBe(200);
    expect(await found('vale')).toEqual([other.id]);
    expect((await t.send('DELETE', `/pornstar-aliases/${aliasId}`)).statusCode).toBe(200);
    expect(await found('vale')).toEqual([]);

    expect((await t.send('DELETE', `/pornstars/${star.id}`)).statusCode).toBe(200);
    expect(await found('yusuf')).toEqual([]);
    expect(await found('qz')).toEqual([]);
    await expectSqliteIndexesIntact();
  });

  it('after feed runs that add, rename, re-alias and remove pornstars', async () => {
    const dir = t.container.config.dataDir;
    const [a, b, c] = [...generateItems({ items: 3, seed: 11, startId: 910_000 })].map(({ item }) => item);
    const feed = (name: string, items: FeedItem[]) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify({ site: 'https://example.test', generationDate: new Date().toISOString(), items, itemsCount: items.length }));
      return file;
    };
    const ingest = async (file: string) => {
      const config = loadConfig({ DATA_DIR: dir }).feed;
      const service = new FeedIngestService({ database: t.container.database, store: t.container.store, clock: t.container.clock, logger: t.container.logger, config, images: t.claimer });
      const result = await service.ingest({ url: file, trigger: 'cli' });
      if (result.kind !== 'finished') throw new Error('ingestion was locked');
      expect(result.run.status).toBe('succeeded');
    };
    const idOf = async (item: FeedItem) => Number((await t.db.selectFrom('pornstars').select('id').where('external_id', '=', String(item.id)).executeTakeFirstOrThrow()).id);

    await ingest(feed('first', [{ ...a!, name: 'Feedy Alpha', aliases: ['Fa One'] }, { ...b!, name: 'Feedy Beta', aliases: [] }]));
    const [alpha, beta] = [await idOf(a!), await idOf(b!)];
    expect((await found('feedy')).sort()).toEqual([alpha, beta].sort());
    expect(await found('fa one')).toEqual([alpha]);
    // The run soft-removed the pornstars made through the API, which are not in the feed.
    expect(await found('anna')).toEqual([]);

    await ingest(feed('second', [{ ...a!, name: 'Feedy Gamma', aliases: ['Fa Two'] }, { ...c!, name: 'Feedy Delta', aliases: ['Fa One'] }]));
    const delta = await idOf(c!);
    expect(await found('feedy gam')).toEqual([alpha]);
    expect(await found('feedy alpha')).toEqual([]);
    expect(await found('fa one')).toEqual([delta]);
    expect(await found('fa two')).toEqual([alpha]);
    expect(await found('feedy beta')).toEqual([]);
    expect((await search('q=feedy%20beta&include_removed=true')).ids).toEqual([beta]);
    await expectSqliteIndexesIntact();
  });
});

/** SQLite's FTS5 tables hold exactly the keys of their tables (and the index agrees with them: FTS5's own check). */
async function expectSqliteIndexesIntact(): Promise<void> {
  if (testDialect() !== 'sqlite') return;
  const copies = [
    { index: 'pornstars_fts', copy: 'rowid, name_search', table: 'pornstars', source: 'id, name_search' },
    { index: 'pornstar_aliases_fts', copy: 'rowid, alias_search, pornstar_id', table: 'pornstar_aliases', source: 'id, alias_search, pornstar_id' },
  ];
  for (const { index, copy, table, source } of copies) {
    await sql`insert into ${sql.table(index)} (${sql.ref(index)}) values ('integrity-check')`.execute(t.db);
    const [a, b] = [sql.raw(`select ${copy} from ${index}`), sql.raw(`select ${source} from ${table}`)];
    const differ = await sql<{ n: number }>`select (select count(*) from (${a} except ${b})) + (select count(*) from (${b} except ${a})) as n`.execute(t.db);
    expect(Number(differ.rows[0]!.n), index).toBe(0);
  }
}
