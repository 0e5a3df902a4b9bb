import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateItems, type FeedItem } from '../../../dev/catalog/feed-generator.js';
import { validateFeedItem } from '../../../src/catalog/feed/feed-item.js';
import { listPornstars } from '../../../src/catalog/api/pornstars.repository.js';
import { FeedIngestService, type ImageClaimer } from '../../../src/catalog/feed/feed-ingest.service.js';
import { failInterruptedRuns } from '../../../src/catalog/feed/feed-runs.repository.js';
import { STAGE_TABLES } from '../../../src/catalog/feed/feed-stage.repository.js';
import { loadConfig } from '../../../src/config.js';
import { createContainer, type Container } from '../../../src/app/container.js';
import type { Executor } from '../../../src/platform/db/database.js';
import { searchKey } from '../../../src/platform/search-key.js';
import { testConfig } from '../../support/app.js';
import { testDialect } from '../../support/driver-databases.js';
import { catalogChecksum } from '../../support/catalog-checksum.js';
import { FEED100_FIXTURE } from '../../support/fixtures.js';
import { feedLayouts, layOutFeed, type FeedEnvelope } from '../../support/feed-layouts.js';
import { readCatalogVersion } from '../../../src/catalog/catalog-versions.repository.js';

const FIXTURE = FEED100_FIXTURE;

/** What may happen to an item between two runs. */
const ITEM_CHANGES = ['same', 'leaves', 'renamed', 'alias respelled', 'alias added', 'alias dropped', 'resized', 'new url', 'thumbnail dropped', 'views'] as const;

function changeItem(item: FeedItem, change: (typeof ITEM_CHANGES)[number]): FeedItem[] {
  const [thumbnail] = item.thumbnails;
  if (change === 'leaves') return [];
  if (change === 'renamed') item.name = `${item.name} Jr`;
  if (change === 'alias respelled') item.aliases = item.aliases.length > 0 ? [item.aliases[0]!.toUpperCase(), ...item.aliases.slice(1)] : ['Solo'];
  if (change === 'alias added') item.aliases = [...item.aliases, 'Another Alias'];
  if (change === 'alias dropped') item.aliases = item.aliases.slice(1);
  if (change === 'resized' && thumbnail) thumbnail.width += 10;
  if (change === 'new url' && thumbnail) thumbnail.urls = [...thumbnail.urls.slice(1), `${thumbnail.urls[0] ?? 'http://127.0.0.1/x.jpg'}?v=2`];
  if (change === 'thumbnail dropped') item.thumbnails = item.thumbnails.slice(1);
  if (change === 'views') item.attributes.stats.views += 1;
  return [item];
}

function feedOf(items: FeedItem[]): string[] {
  return JSON.stringify({ site: 'https://example.test', generationDate: new Date().toISOString(), items, itemsCount: items.length }, null, 1).split('\n');
}

class RecordingClaimer implements ImageClaimer {
  readonly urls = new Set<string>();
  async claim(_trx: Executor, urls: string[]): Promise<number> {
    const fresh = [...new Set(urls)].filter((u) => !this.urls.has(u));
    fresh.forEach((u) => this.urls.add(u));
    return fresh.length;
  }
}

describe('feed ingestion', () => {
  let container: Container;
  let images: RecordingClaimer;
  let dir: string;

  const service = (env: Record<string, string> = {}) => {
    const feed = loadConfig({ DATA_DIR: container.config.dataDir, ...env }).feed;
    return new FeedIngestService({ database: container.database, store: container.store, clock: container.clock, logger: container.logger, config: feed, images });
  };
  const ingest = async (url: string, env: Record<string, string> = {}) => {
    const result = await service(env).ingest({ url, trigger: 'cli' });
    if (result.kind !== 'finished') throw new Error('ingestion was locked');
    return result.run;
  };
  const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(container.database.db)).rows[0]!.n);
  /**
   * What tells that rows were written: SQLite counts every row change of the connection; on
   * PostgreSQL any write, even of equal values, gives a row a new `xmin`; MySQL shows no trace of
   * an equal-valued write, so there the rows themselves (with their updated_at) are compared.
   */
  const writeTrace = async () => {
    const db = container.database.db;
    if (container.database.dialect === 'sqlite') return Number((await sql<{ n: number }>`select total_changes() as n`.execute(db)).rows[0]!.n);
    if (container.database.dialect === 'postgres') {
      const tables = ['pornstars', 'pornstar_aliases', 'pornstar_thumbnails', 'pornstar_thumbnail_urls'];
      return Promise.all(tables.map(async (t) => (await sql<{ id: number; xmin: string }>`select id, xmin from ${sql.table(t)} order by id`.execute(db)).rows));
    }
    return snapshot();
  };
  const snapshot = async () => ({
    pornstars: await container.database.db.selectFrom('pornstars').selectAll().orderBy('id').execute(),
    aliases: await container.database.db.selectFrom('pornstar_aliases').selectAll().orderBy('id').execute(),
    urls: await container.database.db.selectFrom('pornstar_thumbnail_urls').selectAll().orderBy('id').execute(),
  });
  const feedLines = () => fs.readFileSync(FIXTURE, 'utf8').split('\n');
  const writeFeed = (name: string, lines: string[]) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, lines.join('\n'));
    return file;
  };

  beforeEach(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }) });
    images = new RecordingClaimer();
    dir = fs.mkdtempSync(path.join(container.config.dataDir, 'feeds-'));
  });
  afterEach(async () => {
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  it('ingests the real excerpt exactly, then writes nothing for the same feed', async () => {
    const expected = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { items: Array<{ aliases: string[]; thumbnails: Array<{ urls: string[] }> }> };
    const aliasCount = expected.items.reduce((n, item) => n + new Set(item.aliases.map((a) => a.trim().toLowerCase()).filter(Boolean)).size, 0);
    const distinctUrls = new Set(expected.items.flatMap((item) => item.thumbnails.flatMap((t) => t.urls)));

    const version = async () => (await readCatalogVersion(container.database.db)).version;
    const empty = await version();
    const first = await ingest(FIXTURE);
    expect(first).toMatchObject({ status: 'succeeded', items_seen: 100, created_count: 100, updated_count: 0, invalid_count: 0, images_enqueued: distinctUrls.size });
    // The readers' caches learn of the run from the catalog version it changed.
    const ingested = await version();
    expect(ingested).not.toBe(empty);
    expect(first.generation_date).toBe('2023-10-29T04:15:03Z');
    expect(await count('pornstars')).toBe(100);
    expect(await count('pornstar_aliases')).toBe(aliasCount);
    expect(await count('pornstar_thumbnails')).toBe(expected.items.reduce((n, item) => n + item.thumbnails.length, 0));
    expect(images.urls).toEqual(distinctUrls);

    const before = await writeTrace();
    expect(await ingest(FIXTURE)).toMatchObject({ status: 'not_modified' });
    const copy = writeFeed('copy.json', feedLines());
    expect(await ingest(copy)).toMatchObject({ status: 'unchanged', unchanged_count: 100, created_count: 0, updated_count: 0, removed_count: 0, images_enqueued: 0 });
    const after = await writeTrace();
    expect(await version()).toBe(ingested);
    // Each run writes only its bookkeeping: the lock taken and freed, the run row inserted, then
    // held and finished in the run's last transaction (the not_modified run has no such transaction).
    if (typeof before === 'number') expect((after as number) - before).toBe(4 + 5);
    else expect(after).toEqual(before);
  });

  it('refreshes the planner statistics after a run that wrote much of the catalog, and not after one that wrote nothing', async () => {
    const lines: string[] = [];
    const recording = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const run = (url: string) => new FeedIngestService({ database: container.database, store: container.store, clock: container.clock, logger: recording, config: loadConfig({ DATA_DIR: container.config.dataDir }).feed, images }).ingest({ url, trigger: 'cli' });
    const refreshed = () => lines.filter((line) => line.includes('catalog statistics refreshed')).length;
    const db = container.database.db;
    const estimatedRows = async () => Number((await sql<{ n: number }>`select reltuples as n from pg_class where relname = 'pornstars'`.execute(db)).rows[0]!.n);

    await run(FIXTURE);
    expect(lines.filter((line) => line.includes('could not refresh the catalog statistics'))).toEqual([]);
    const dialect = container.database.dialect;
    expect(refreshed()).toBe(dialect === 'sqlite' ? 0 : 1);
    if (dialect === 'postgres') expect(await estimatedRows()).toBe(100);
    if (dialect === 'sqlite') expect((await sql<{ n: number }>`select count(*) as n from sqlite_master where name = 'sqlite_stat1'`.execute(db)).rows[0]!.n).toBe(0);

    await run(writeFeed('copy.json', feedLines()));
    expect(refreshed()).toBe(dialect === 'sqlite' ? 0 : 1);
  });

  it('ingests exactly the items JSON.parse reads, whatever the valid layout, and sees the same feed laid out anew as unchanged', async () => {
    const items = [...(JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as FeedEnvelope).items, ...[...generateItems({ items: 40, seed: 5, startId: 900_000 })].map((g) => g.item)];
    const envelope = { site: 'https://example.test', generationDate: '2026-12-03T02:00:00Z', items };
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(feedLayouts, async (layout) => {
        const file = path.join(dir, `layout-${++runs}.json`);
        fs.writeFileSync(file, layOutFeed(envelope, layout));
        const run = await ingest(file);
        expect(run).toMatchObject({ items_seen: items.length, invalid_count: 0, repaired_count: 0, warning: null, created_count: runs === 1 ? items.length : 0, updated_count: 0 });
        expect(run.items_declared).toBe(layout.keyOrder.includes('itemsCount') ? items.length : null);
        const stored = await container.database.db.selectFrom('pornstars').select(['external_id', 'name']).orderBy('id').execute();
        expect(stored).toEqual(items.map((item) => ({ external_id: String((item as { id: number }).id), name: (item as { name: string }).name.trim() })));
      }),
      { numRuns: 6 },
    );
  });

  it('warns when itemsCount disagrees with the items seen, and fails without changing anything when too few could be ingested', async () => {
    const declaring = (count: number) => writeFeed(`declares-${count}.json`, feedLines().map((line) => line.replace(/"itemsCount": \d+/, `"itemsCount": ${count}`)));
    const near = await ingest(declaring(101));
    expect(near).toMatchObject({ status: 'succeeded', items_declared: 101, items_seen: 100, created_count: 100 });
    expect(near.warning).toMatch(/declares itemsCount 101 but holds 100 items/);
    const before = await snapshot();
    const far = await ingest(declaring(150));
    expect(far).toMatchObject({ status: 'failed', items_declared: 150, removed_count: 0 });
    expect(far.error).toMatch(/declares itemsCount 150 but only 100 items could be ingested/);
    expect(far.warning).toMatch(/declares itemsCount 150/);
    expect(await snapshot()).toEqual(before);
    expect(await ingest(declaring(100))).toMatchObject({ warning: null, items_declared: 100 });
  });

  it('updates an edited item, syncs its aliases, soft-removes an item that left, and touches nothing else', async () => {
    await ingest(FIXTURE);
    const lines = feedLines();
    const itemLines = lines.map((line, i) => ({ line, i })).filter(({ line }) => line.trim().startsWith('{"attributes"'));
    const edited = JSON.parse(itemLines[0]!.line.trim().replace(/,$/, '')) as { name: string; aliases: string[]; id: number };
    edited.name = 'Renamed Star';
    edited.aliases = [...edited.aliases.slice(1), 'Brand New Alias'];
    lines[itemLines[0]!.i] = `\t\t${JSON.stringify(edited)},`;
    const removed = JSON.parse(itemLines[1]!.line.trim().replace(/,$/, '')) as { id: number };
    lines.splice(itemLines[1]!.i, 1);
    const before = await snapshot();

    const run = await ingest(writeFeed('edited.json', lines));
    expect(run).toMatchObject({ status: 'succeeded', updated_count: 1, created_count: 0, unchanged_count: 98, removed_count: 1 });
    const after = await snapshot();
    const star = after.pornstars.find((p) => p.external_id === String(edited.id))!;
    expect(star.name).toBe('Renamed Star');
    const aliases = after.aliases.filter((a) => a.pornstar_id === star.id).map((a) => a.alias);
    expect(aliases).toContain('Brand New Alias');
    expect(aliases).not.toContain(JSON.parse(itemLines[0]!.line.trim().replace(/,$/, '')).aliases[0]);
    expect(after.pornstars.find((p) => p.external_id === String(removed.id))!.removed_at).not.toBeNull();
    const untouched = (rows: typeof before.pornstars) => rows.filter((p) => p.external_id !== String(edited.id) && p.external_id !== String(removed.id));
    expect(untouched(after.pornstars)).toEqual(untouched(before.pornstars));

    const back = await ingest(FIXTURE);
    expect(back.status).toBe('succeeded');
    expect((await snapshot()).pornstars.every((p) => p.removed_at === null)).toBe(true);
  });

  it('keeps the search keys of names and aliases, in the first run and in a later one', async () => {
    const lines = feedLines();
    const at = lines.findIndex((line) => line.trim().startsWith('{"attributes"'));
    const item = JSON.parse(lines[at]!.trim().replace(/,$/, '')) as { name: string; aliases: string[] };
    const write = (name: string, aliases: string[]) => {
      lines[at] = `\t\t${JSON.stringify({ ...item, name, aliases })},`;
      return writeFeed(`search-${name}.json`, lines);
    };
    const search = async (q: string) =>
      (await listPornstars(container.database.db, { includeRemoved: false, q: searchKey(q), text: [] }, { key: 'id', descending: false }, 10, 0)).map((p) => p.name);

    await ingest(write('Émilie Ångström', ['Zoë', 'Zoe']));
    expect(await search('EMILIE ANGSTROM')).toEqual(['Émilie Ångström']);
    expect(await search('zoë')).toEqual(['Émilie Ångström']);

    await ingest(write('Chloé Brûlé', ['ZOË', 'Søren']));
    expect(await search('emilie')).toEqual([]);
    expect(await search('chloe brule')).toEqual(['Chloé Brûlé']);
    expect(await search('soren')).toEqual(['Chloé Brûlé']);
    expect(await search('zoe')).toEqual(['Chloé Brûlé']);
  });

  it('skips and counts an invalid item while the items around it are stored', async () => {
    const lines = feedLines();
    const index = lines.findIndex((line) => line.includes('"id":2,'));
    lines[index] = lines[index]!.replace('"name":"Aaliyah Jolie"', '"name":""');
    const run = await ingest(writeFeed('one-invalid.json', lines), { FEED_MAX_INVALID_RATIO: '0.05' });
    expect(run).toMatchObject({ status: 'succeeded', invalid_count: 1, created_count: 99 });
    expect(JSON.parse(run.invalid_samples!)).toHaveLength(1);
  });

  describe('a broken feed fails the run and leaves the catalog as it was', () => {
    let server: http.Server;
    let reply: (res: http.ServerResponse) => void;
    let base: string;

    beforeEach(async () => {
      await ingest(FIXTURE);
      server = http.createServer((_req, res) => reply(res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.json`;
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const body = fs.readFileSync(FIXTURE, 'utf8');
    const faults: Array<[string, (res: http.ServerResponse) => void, Record<string, string>]> = [
      ['a 500', (res) => res.writeHead(500).end('oops'), {}],
      ['HTML instead of JSON', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'), {}],
      ['HTML with a JSON content type', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>'), {}],
      ['truncated JSON', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body.slice(0, Math.floor(body.length / 2))), {}],
      ['a body over FEED_MAX_BYTES', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body), { FEED_MAX_BYTES: '10000' }],
      ['a body slower than FEED_TIMEOUT_MS', (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(body.slice(0, 1000));
      }, { FEED_TIMEOUT_MS: '300' }],
      ['too many invalid items', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body.replace(/"name":"[^"]*"/g, (m, offset: number) => (offset % 3 === 0 ? '"name":""' : m))), {}],
      ['far fewer items than last time', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body.split('\n').filter((l, i) => !l.includes('"attributes"') || i < 20).join('\n').replace(/,\n\t\t\]/, '\n\t\t]')), {}],
    ];

    for (const [name, fault, env] of faults) {
      it(`on ${name}`, async () => {
        reply = fault;
        const before = await snapshot();
        const run = await ingest(base, env);
        expect(run.status).toBe('failed');
        expect(run.error).toBeTruthy();
        expect(await snapshot()).toEqual(before);
        for (const table of STAGE_TABLES) expect(await count(table)).toBe(0);
      });
    }

    it('answers 304 as a not_modified run when the server says the feed is unchanged', async () => {
      reply = (res) => res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(body);
      expect((await ingest(base)).status).toBe('unchanged');
      let conditional: string | undefined;
      server.removeAllListeners('request');
      server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        conditional = req.headers['if-none-match'];
        res.writeHead(304).end();
      });
      expect(await ingest(base)).toMatchObject({ status: 'not_modified', http_status: 304 });
      expect(conditional).toBe('"v1"');
    });
  });

  it('fails the run with a clear error when the feed file does not exist', async () => {
    const run = await ingest(path.join(dir, 'missing.json'));
    expect(run).toMatchObject({ status: 'failed', items_seen: 0 });
    expect(run.error).toMatch(/cannot read the feed file/);
    expect(await count('pornstars')).toBe(0);
  });

  describe('a run stopped before its commit (SIGTERM, a worker stopping) changes nothing', () => {
    for (const phase of ['reading', 'applying', 'removing'] as const) {
      it(`while ${phase}`, async () => {
        await ingest(FIXTURE);
        const lines = feedLines();
        const itemAt = lines.findIndex((line) => line.trim().startsWith('{"attributes"'));
        lines[itemAt] = lines[itemAt]!.replace(/"name":"[^"]*"/, '"name":"Renamed"').replace(/\.jpg/g, '.jpg?v=2');
        lines.splice(itemAt + 1, 1);
        const before = await catalogChecksum(container.database.db);
        const stop = new AbortController();
        const result = await service().ingest({
          url: writeFeed('changed.json', lines),
          trigger: 'cli',
          signal: stop.signal,
          onProgress: (progress) => progress.phase === phase && stop.abort(new Error('SIGTERM received')),
        });
        expect(result).toMatchObject({ kind: 'finished', run: { status: 'failed', error: 'interrupted: SIGTERM received' } });
        expect(await catalogChecksum(container.database.db)).toBe(before);
        for (const table of STAGE_TABLES) expect(await count(table)).toBe(0);
      });
    }
  });

  it('does not commit a run that another process interrupted meanwhile (its lease lost while it was paused)', async () => {
    await ingest(FIXTURE);
    const lines = feedLines();
    const itemAt = lines.findIndex((line) => line.trim().startsWith('{"attributes"'));
    lines[itemAt] = lines[itemAt]!.replace(/"name":"[^"]*"/, '"name":"Renamed"');
    const before = await catalogChecksum(container.database.db);
    let takeover: Promise<unknown> | undefined;
    const result = await service().ingest({
      url: writeFeed('changed.json', lines),
      trigger: 'cli',
      // What the next process does first when it finds the lease expired.
      onProgress: (progress) => void (progress.phase === 'applying' && (takeover ??= failInterruptedRuns(container.database.db, Date.now()))),
    });
    await takeover;
    expect(result).toMatchObject({ kind: 'finished', run: { status: 'failed', error: expect.stringMatching(/another process took the feed lease/) } });
    expect(await catalogChecksum(container.database.db)).toBe(before);
  });

  it('makes the catalog exactly the feed, and keeps the ids of the rows that stay, whatever changed between two runs', async () => {
    const config = { FEED_MIN_ITEMS_RATIO: '0', FEED_MAX_INVALID_RATIO: '1' };
    let startId = 1;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...ITEM_CHANGES), { minLength: 6, maxLength: 6 }), fc.integer({ min: 0, max: 2 }), async (changes, added) => {
        const base = [...generateItems({ items: 6 + added, seed: startId, startId })].map((g) => g.item);
        startId += 1_000;
        const first = base.slice(0, 6);
        const second = [...first.flatMap((item, i) => changeItem(structuredClone(item), changes[i]!)), ...base.slice(6)];
        expect((await ingest(writeFeed('first.json', feedOf(first)), config)).status).toBe('succeeded');
        const idsBefore = await catalogIds(first);
        const run = await ingest(writeFeed('second.json', feedOf(second)), config);
        expect(run.status, run.error ?? '').toMatch(/succeeded|unchanged/);
        await expectCatalogOf(second, first.filter((item) => !second.some((kept) => kept.id === item.id)));
        const idsAfter = await catalogIds(second);
        for (const [key, id] of idsAfter) if (idsBefore.has(key)) expect(id, key).toBe(idsBefore.get(key));
      }),
      // Two feed runs a case: 20 cases on SQLite; 10 on the server engines, where a case costs several
      // times as much, and whose 60 changes still draw each of the 10 kinds (the seed is fixed: fast-check-seed.ts).
      { numRuns: testDialect() === 'sqlite' ? 20 : 10 },
    );
  });

  /** The rows of `items` by what identifies them in the feed: pornstar, alias key, thumbnail type, URL. */
  const catalogIds = async (items: FeedItem[]) => {
    const ids = new Map<string, number>();
    const db = container.database.db;
    for (const item of items) {
      const star = await db.selectFrom('pornstars').select('id').where('external_id', '=', String(item.id)).executeTakeFirstOrThrow();
      ids.set(`p:${item.id}`, Number(star.id));
      for (const alias of await db.selectFrom('pornstar_aliases').select(['id', 'alias_key']).where('pornstar_id', '=', star.id).execute()) ids.set(`a:${item.id}:${alias.alias_key}`, Number(alias.id));
      const thumbnails = await db.selectFrom('pornstar_thumbnails').select(['id', 'type']).where('pornstar_id', '=', star.id).where('source', '=', 'feed').execute();
      for (const thumbnail of thumbnails) {
        ids.set(`t:${item.id}:${thumbnail.type}`, Number(thumbnail.id));
        for (const url of await db.selectFrom('pornstar_thumbnail_urls').select(['id', 'url']).where('thumbnail_id', '=', thumbnail.id).execute()) {
          ids.set(`u:${item.id}:${thumbnail.type}:${url.url}`, Number(url.id));
        }
      }
    }
    return ids;
  };

  /** The catalog holds each of `items` exactly as the feed has it (normalized), and `gone` as removed. */
  const expectCatalogOf = async (items: FeedItem[], gone: FeedItem[]) => {
    const db = container.database.db;
    for (const raw of items) {
      const checked = validateFeedItem(raw);
      if (!checked.ok) throw new Error(checked.errors.join('; '));
      const item = checked.item;
      const star = await db.selectFrom('pornstars').selectAll().where('external_id', '=', item.externalId).executeTakeFirstOrThrow();
      expect({ name: star.name, views: Number(star.views), removed_at: star.removed_at }).toEqual({ name: item.name, views: item.stats.views, removed_at: null });
      const aliases = await db.selectFrom('pornstar_aliases').select('alias').where('pornstar_id', '=', star.id).execute();
      expect(aliases.map((a) => a.alias).sort()).toEqual([...item.aliases].sort());
      const thumbnails = await db.selectFrom('pornstar_thumbnails').select(['id', 'type', 'width', 'height']).where('pornstar_id', '=', star.id).where('source', '=', 'feed').execute();
      const stored = await Promise.all(
        thumbnails.map(async (t) => ({
          type: t.type,
          width: t.width,
          height: t.height,
          urls: (await db.selectFrom('pornstar_thumbnail_urls').select('url').where('thumbnail_id', '=', t.id).execute()).map((u) => u.url).sort(),
        })),
      );
      const byType = (a: { type: string }, b: { type: string }) => a.type.localeCompare(b.type);
      expect(stored.sort(byType)).toEqual(item.thumbnails.map((t) => ({ ...t, urls: [...t.urls].sort() })).sort(byType));
    }
    for (const item of gone) {
      const star = await db.selectFrom('pornstars').select('removed_at').where('external_id', '=', String(item.id)).executeTakeFirstOrThrow();
      expect(star.removed_at).not.toBeNull();
    }
  };

  it('lets one ingestion run at a time', async () => {
    const [a, b] = await Promise.all([service().ingest({ url: FIXTURE, trigger: 'cli' }), service().ingest({ url: FIXTURE, trigger: 'cli' })]);
    expect([a.kind, b.kind].sort()).toEqual(['finished', 'locked']);
  });
});
