import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.js';
import { FEED100_FIXTURE } from '../support/fixtures.js';
import { assertBuilt, CLI_JS, killAll, pollUntil, runCliProcess, spawnNode } from '../support/processes.js';

const LEASE_MS = 2_000;

/** `feed:ingest` stopped mid-run: SIGTERM ends the run and frees the lock at once; SIGKILL leaves the lock for one lease at most. */
describe('an interrupted feed:ingest', { timeout: 90_000 }, () => {
  let dataDir: string;
  let server: http.Server;
  let stalledUrl: string;
  let database: Database;
  const env = () => ({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', FEED_LOCK_LEASE_MS: String(LEASE_MS), FEED_TIMEOUT_MS: '60000' });
  const body = fs.readFileSync(FEED100_FIXTURE);

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-feed-interrupted-'));
    // Half of the feed, then nothing: the run stays in its reading phase until it is stopped.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.subarray(0, body.length / 2));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stalledUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.json`;
    expect((await runCliProcess(['migrate'], env())).code).toBe(0);
    database = createDatabase({ url: `sqlite:${path.join(dataDir, 'intake.db')}`, groupCommit: false });
  });
  afterAll(async () => {
    await killAll();
    await database?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const runs = () => database.db.selectFrom('feed_runs').select(['id', 'status', 'error']).orderBy('id').execute();
  const lock = () => database.db.selectFrom('kv').select(['value', 'expires_at']).where('key', '=', 'lock:feed-ingest').executeTakeFirst();
  const startStalledRun = async () => {
    const before = (await runs()).length;
    const child = spawnNode('feed:ingest', CLI_JS, env(), ['feed:ingest', '--url', stalledUrl]);
    await pollUntil(async () => ((await runs()).length > before ? true : undefined), { timeoutMs: 20_000, what: 'the run to start', diagnostics: () => child.describe() });
    return child;
  };

  it('refuses a second run while one runs, naming the holder and when it started', async () => {
    const first = await startStalledRun();
    const second = await runCliProcess(['feed:ingest', '--url', FEED100_FIXTURE], env());
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`another ingestion is running \\(held by ${os.hostname()}:${first.pid} since \\d{4}-\\d\\d-\\d\\dT`));
    await first.kill('SIGTERM');
  });

  it('on SIGTERM, records the run as interrupted and releases the lock before exiting', async () => {
    const child = await startStalledRun();
    const exit = await child.kill('SIGTERM');
    expect(exit.code).toBe(1);
    expect((await runs()).at(-1)).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted: SIGTERM received/) });
    expect(await lock()).toBeUndefined();
  });

  it('after SIGKILL, refuses the next run for one lease at most, then runs and marks the killed run failed', async () => {
    const child = await startStalledRun();
    await child.kill('SIGKILL');
    const held = await lock();
    expect(held).toBeDefined();
    expect(Number(held!.expires_at) - Date.now()).toBeLessThanOrEqual(LEASE_MS);
    await pollUntil(async () => ((await lock()) === undefined || Number((await lock())!.expires_at) <= Date.now() ? true : undefined), { timeoutMs: LEASE_MS + 2_000, what: 'the lease to end' });
    const next = await runCliProcess(['feed:ingest', '--url', FEED100_FIXTURE], env());
    expect(next.code).toBe(0);
    const all = await runs();
    expect(all.at(-2)).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
    expect(all.at(-1)).toMatchObject({ status: 'succeeded' });
  });
});
