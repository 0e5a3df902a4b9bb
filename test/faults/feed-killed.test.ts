import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeFeedFile, type FeedItem } from '../../dev/catalog/feed-generator.js';
import { STAGE_TABLES } from '../../src/catalog/feed/feed-stage.repository.js';
import { createDatabase, type Database, type Dialect } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { catalogChecksum } from '../support/catalog-checksum.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { createEmptyDatabase, dialectServices } from '../support/driver-databases.js';
import { assertBuilt, CLI_JS, killAll, pollUntil, sleep, spawnNode, type ManagedProcess } from '../support/processes.js';
import { describeWithServices } from '../support/services.js';

/**
 * `kill -9` of `feed:ingest` at several points of a run, on each database: the catalog's checksum
 * after the kill equals the one before the run (DESIGN.md §8: a feed run's writes become visible
 * all at once or not at all). To kill at a known point, the feed's last bytes are held back until
 * the run has staged every item, and the database is made to hold the run's next write (a write
 * lock on SQLite, a table lock elsewhere), so that the run is stopped inside the phase it logged.
 */
/**
 * 500 items stay after every 11th leaves the feed: a multiple of the run's lookup batch (100) and of
 * its write batch (500), so the last one is read and written before the feed's end. Each kill point
 * is held by the held-back feed or a database lock, not reached by a race against the number of
 * items: more items only make every run longer.
 */
const ITEMS = 550;
const leaves = (index: number) => index % 11 === 10;
/** Items the second feed brings that the first had not: the run inserts them pending. */
const arrives = (index: number) => index % 13 === 12;
const indexes = [...Array(ITEMS).keys()];
const KEPT = indexes.filter((i) => !leaves(i)).length;
const CREATED = indexes.filter((i) => !leaves(i) && arrives(i)).length;
const REMOVED = indexes.filter((i) => leaves(i) && !arrives(i)).length;
const DIALECTS: Dialect[] = ['sqlite', 'postgres', 'mysql'];

const original = (item: FeedItem, index: number) => (arrives(index) ? null : undefined);

/**
 * Every item changed, some new, every 11th left out. With `newImages`, every thumbnail URL is new;
 * without, no image is new (the new items come without thumbnails): the run then writes nothing
 * between reading and its commit.
 */
const changed = (newImages: boolean) => (item: FeedItem, index: number) => {
  if (leaves(index)) return null;
  if (!newImages && arrives(index)) item.thumbnails = [];
  item.attributes.stats.views += 1;
  if (newImages) for (const thumbnail of item.thumbnails) thumbnail.urls = thumbnail.urls.map((url) => `${url}?v=2`);
};

/** Serves a feed file without its end (the close of `items` and `itemsCount`) until `release()`. */
async function heldBackFeed(file: string) {
  const body = fs.readFileSync(file, 'utf8');
  const cut = body.lastIndexOf('\n\t\t]') + 1;
  let releaseTail: () => void = () => undefined;
  const tail = new Promise<void>((resolve) => (releaseTail = resolve));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body.slice(0, cut));
    void tail.then(() => res.end(body.slice(cut)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.json`,
    release: () => releaseTail(),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Makes the database hold every other session's writes to `table` (on SQLite: to any table) until the returned function runs. */
async function holdWrites(dialect: Dialect, url: string, table: string): Promise<() => Promise<void>> {
  if (dialect === 'sqlite') {
    const connection = new Sqlite(url.slice('sqlite:'.length));
    connection.exec('begin immediate');
    return async () => {
      connection.exec('rollback');
      connection.close();
    };
  }
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('begin');
    await client.query(`lock table ${table} in exclusive mode`);
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  }
  const connection = await mysql.createConnection({ uri: url });
  await connection.query(`lock tables ${table} read`);
  return async () => {
    await connection.query('unlock tables');
    await connection.end();
  };
}

/**
 * The three feeds, the same for every database: written once for the file, in a directory of its own
 * (each database's DATA_DIR stays its own).
 */
let feedFiles: Promise<{ dir: string; original: string; changed: string; changedWithNewImages: string }> | undefined;
function writeFeeds() {
  feedFiles ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-feed-killed-feeds-'));
    const files = { dir, original: path.join(dir, 'original.json'), changed: path.join(dir, 'changed.json'), changedWithNewImages: path.join(dir, 'changed-new-images.json') };
    await writeFeedFile(files.original, { items: ITEMS, mutate: original });
    await writeFeedFile(files.changed, { items: ITEMS, mutate: changed(false) });
    await writeFeedFile(files.changedWithNewImages, { items: ITEMS, mutate: changed(true) });
    return files;
  })();
  return feedFiles;
}
afterAll(async () => {
  if (feedFiles) fs.rmSync((await feedFiles).dir, { recursive: true, force: true });
});

for (const dialect of DIALECTS) {
  await describeWithServices(dialectServices(dialect), `feed:ingest killed with SIGKILL mid-run, on ${dialect}`, () => {
    let dataDir: string;
    let url: string;
    let database: Database;
    const feeds = { original: '', changed: '', changedWithNewImages: '' };
    // --verbose: the command's log lines (at LOG_LEVEL) on stderr, which name the phase to kill it in.
    const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: url, LOG_LEVEL: 'info', FEED_TIMEOUT_MS: '60000' });

    beforeAll(async () => {
      assertBuilt();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `intake-feed-killed-${dialect}-`));
      url = dialect === 'sqlite' ? `sqlite:${path.join(dataDir, 'intake.db')}` : (await createEmptyDatabase(dialect)).url;
      Object.assign(feeds, await writeFeeds());
      // The schema is set up in this process: `intake migrate` has tests of its own (test/cli.test.ts).
      database = createDatabase({ url, groupCommit: false });
      await migrateToLatest(database);
      // The catalog the kills must leave as it is: the command run in this process (the same program
      // as `node dist/src/cli.js`, without a Node start); the runs killed below are processes of their own.
      const first = await runCliInProcess(['feed:ingest', '--url', feeds.original], env());
      expect(first.code, first.stderr).toBe(0);
    }, 120_000);
    afterAll(async () => {
      await killAll();
      await database?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const lastRun = () => database.db.selectFrom('feed_runs').select(['id', 'status', 'error']).orderBy('id', 'desc').executeTakeFirstOrThrow();
    const count = async (table: string) => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(database.db)).rows[0]!.n);
    const pending = async () => Number((await sql<{ n: number }>`select count(*) as n from pornstars where pending_run_id is not null`.execute(database.db)).rows[0]!.n);
    const pendingOf = async (runId: number) => Number((await sql<{ n: number }>`select count(*) as n from pornstars where pending_run_id = ${runId}`.execute(database.db)).rows[0]!.n);
    const logged = (child: ManagedProcess, message: string) =>
      pollUntil(async () => (child.output().includes(`"msg":"${message}"`) ? true : undefined), { timeoutMs: 20_000, what: `"${message}" in the log`, diagnostics: () => child.describe() });

    /** Starts a run of `feedFile` and lets it read and stage every item, holding back the feed's end. */
    const startRun = async (feedFile: string, rows: number) => {
      await releaseKilledLease();
      const feed = await heldBackFeed(feedFile);
      const previous = (await lastRun()).id;
      const child = spawnNode(`feed:ingest on ${dialect}`, CLI_JS, env(), ['--verbose', 'feed:ingest', '--url', feed.url]);
      let staged = 0;
      const allStaged = async () => {
        const run = await lastRun();
        // The killed run's leftovers are gone (the new run discards them before it reads) and the new run's rows are all there.
        if (run.id <= previous || (await pending()) !== (await pendingOf(run.id))) return undefined;
        return (staged = (await count('feed_stage_pornstars')) + (await pendingOf(run.id))) === rows ? true : undefined;
      };
      await pollUntil(allStaged, { timeoutMs: 30_000, what: 'every item to be staged or inserted pending', diagnostics: () => `${staged} staged; ${child.describe()}` });
      return { child, feed };
    };

    /** A killed run's lease ends on its own within one lease (test/faults/feed-interrupted.test.ts shows it); here it is let go at once. */
    const releaseKilledLease = () => database.db.deleteFrom('kv').where('key', '=', 'lock:feed-ingest').execute();

    const expectKilledWithoutTrace = async (child: ManagedProcess, before: string) => {
      expect((await child.kill('SIGKILL')).signal).toBe('SIGKILL');
      expect(await lastRun()).toMatchObject({ status: 'running' });
      expect(await catalogChecksum(database.db)).toBe(before);
    };

    it('while reading: the items it inserted pending or staged are not in the catalog', { timeout: 60_000 }, async () => {
      const before = await catalogChecksum(database.db);
      const { child, feed } = await startRun(feeds.changedWithNewImages, KEPT);
      await expectKilledWithoutTrace(child, before);
      await feed.close();
    });

    it('while claiming the new images (applying)', { timeout: 60_000 }, async () => {
      const before = await catalogChecksum(database.db);
      const { child, feed } = await startRun(feeds.changedWithNewImages, KEPT);
      const release = await holdWrites(dialect, url, 'images');
      try {
        feed.release();
        await logged(child, 'feed run applying');
        await sleep(300);
        expect(child.output()).not.toContain('"msg":"feed run removing"');
        await expectKilledWithoutTrace(child, before);
      } finally {
        await release();
        await feed.close();
      }
    });

    it('after finding the items to remove, in its commit', { timeout: 60_000 }, async () => {
      const before = await catalogChecksum(database.db);
      const { child, feed } = await startRun(feeds.changed, KEPT);
      const release = await holdWrites(dialect, url, 'pornstars');
      try {
        feed.release();
        await logged(child, 'feed run removing');
        await logged(child, 'feed run committing');
        await sleep(300);
        await expectKilledWithoutTrace(child, before);
      } finally {
        await release();
        await feed.close();
      }
    });

    it('then the next run applies the whole feed, records the killed runs as interrupted and empties the stage', { timeout: 60_000 }, async () => {
      const before = await catalogChecksum(database.db);
      await releaseKilledLease();
      // In this process: what is tested is what the killed runs left behind, which the next run finds in the database.
      const next = await runCliInProcess(['feed:ingest', '--url', feeds.changedWithNewImages], env());
      expect(next.code, next.stderr).toBe(0);
      const runs = await database.db.selectFrom('feed_runs').select(['status', 'error', 'created_count', 'updated_count', 'removed_count']).orderBy('id').execute();
      expect(runs.slice(1, 4).map((run) => run.status)).toEqual(['failed', 'failed', 'failed']);
      for (const run of runs.slice(1, 4)) expect(run.error).toMatch(/interrupted/);
      expect(runs.at(-1)).toMatchObject({ status: 'succeeded', created_count: CREATED, updated_count: KEPT - CREATED, removed_count: REMOVED });
      expect(await catalogChecksum(database.db)).not.toBe(before);
      for (const table of STAGE_TABLES) expect(await count(table), table).toBe(0);
      expect(await pending()).toBe(0);
    });
  });
}
