import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { DatabaseQueue } from '../src/platform/queue/database-queue.js';
import { sql } from 'kysely';
import { pino } from 'pino';
import { runCliInProcess } from './support/cli-in-process.js';
import { assertBuilt, CLI_JS, ROOT, runCliProcess } from './support/processes.js';

// A spawned command is a fresh Node process that loads the whole app: allow for a busy machine.
describe('intake CLI', { timeout: 90_000 }, () => {
  let dataDir: string;
  /**
   * The commands run in this process (the same program and error handling as the entry point).
   * `spawned` runs the real entry point, `node dist/src/cli.js`, where the process is what a test
   * is about: its exit code, everything it writes to stderr (the app's logs too), its stdout closing.
   */
  const cli = (...args: string[]) => runCliInProcess(args, { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const spawned = (...args: string[]) => runCliProcess(args, { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

  beforeAll(() => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-cli-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function withDatabase<T>(work: (database: ReturnType<typeof createDatabase>) => Promise<T>): Promise<T> {
    const database = createDatabase({ url: `sqlite:${path.join(dataDir, 'intake.db')}`, groupCommit: false });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  }

  /** The abilities stored for a token the CLI printed as id|secret. */
  const abilitiesOf = (token: string) =>
    withDatabase(async (database) => {
      const row = await sql<{ abilities: string }>`select abilities from personal_access_tokens where id = ${Number(token.split('|')[0])}`.execute(database.db);
      return JSON.parse(row.rows[0]!.abilities) as string[];
    });
  const tokenCount = () => withDatabase(async (database) => Number((await sql<{ n: number }>`select count(*) as n from personal_access_tokens`.execute(database.db)).rows[0]!.n));

  it('migrates, and a second migrate has nothing to do', async () => {
    const first = await spawned('migrate');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('applied');
    const second = await cli('migrate');
    expect(second.stdout).toContain('nothing to migrate');
  });

  it('creates a user, refuses the same email twice, and issues a token with abilities', async () => {
    const created = await cli('users:create', '--name', 'Op', '--email', 'op@example.com', '--password', 'secret123');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'Op', email: 'op@example.com' });

    const again = await cli('users:create', '--name', 'Op', '--email', 'op@example.com', '--password', 'secret123');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('error: The email has already been taken.\n');

    const token = await cli('tokens:create', '--email', 'op@example.com', '--ability', 'admin', '--ability', 'catalog:write');
    expect(token.code).toBe(0);
    expect(token.stdout.trim()).toMatch(/^\d+\|[A-Za-z0-9]{40}$/);
    expect(await abilitiesOf(token.stdout)).toEqual(['admin', 'catalog:write']);

    const unknown = await cli('tokens:create', '--email', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: no user with email nobody@example.com\n');
  });

  it('gives a token the default ability its help names, and refuses an unknown ability without creating a token', async () => {
    const help = await cli('tokens:create', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(choices: "orders", "catalog:write", "admin", "*", default: ["orders"])');

    await cli('users:create', '--name', 'Def', '--email', 'def@example.com', '--password', 'secret123');
    const plain = await cli('tokens:create', '--email', 'def@example.com');
    expect(plain.code).toBe(0);
    expect(await abilitiesOf(plain.stdout)).toEqual(['orders']);

    const before = await tokenCount();
    const bogus = await cli('tokens:create', '--email', 'def@example.com', '--ability', 'bogus');
    expect(bogus.code).not.toBe(0);
    expect(bogus.stderr).toBe("error: option '--ability <ability...>' argument 'bogus' is invalid. Allowed choices are orders, catalog:write, admin, *.\n");
    expect(bogus.stdout).toBe('');
    expect(await tokenCount()).toBe(before);

    const usersHelp = await cli('users:create', '--help');
    for (const option of ['--name', '--email', '--password']) expect(usersHelp.stdout).toMatch(new RegExp(`${option} <\\w+>\\s+\\S`));
  });

  it('lists, retries and purges parked jobs, asking before a purge of the whole queue', async () => {
    const database = createDatabase({ url: `sqlite:${path.join(dataDir, 'intake.db')}`, groupCommit: false });
    await migrateToLatest(database);
    const queue = new DatabaseQueue({ database, logger: pino({ level: 'silent' }), defaultMaxAttempts: 1, defaultBackoff: { baseMs: 10, maxMs: 10 }, leaseMs: 60_000 });
    for (const itemId of [1, 2, 3, 4]) await queue.enqueue('orders.integration', { itemId }, { priority: 4 });
    const worker = queue.work('orders.integration', async () => Promise.reject(new Error('third party down')), { concurrency: 4 });
    for (let i = 0; i < 100 && (await queue.stats('orders.integration')).counts.parked < 4; i++) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    await database.close();

    const stats = await cli('jobs:stats');
    expect(stats.stdout).toContain('parked=4');
    expect(stats.stdout).toMatch(/state\s+max\s+critical\s+high\s+normal\s+low\n/);
    const statsJson = JSON.parse((await cli('jobs:stats', '--json')).stdout) as { queue: string; byPriority: { parked: Record<string, number> } }[];
    expect(statsJson[0]).toMatchObject({ queue: 'orders.integration', byPriority: { parked: { critical: 4 } } });

    const parked = await cli('jobs:parked');
    expect(parked.stdout).toContain('third party down');
    expect(parked.stdout).toMatch(/^id\s+priority\s+attempts/);
    const listed = JSON.parse((await cli('jobs:parked', '--json')).stdout) as { id: string; priority: string; lastError: string }[];
    expect(listed).toHaveLength(4);
    expect(listed[0]).toMatchObject({ priority: 'critical', lastError: expect.stringContaining('third party down') });
    const ids = listed.map((job) => job.id);

    const retried = await cli('jobs:retry', ids[0]!);
    expect(retried.stdout).toBe('re-queued 1 job(s)\n');
    const missing = await cli('jobs:retry', '99999', ids[1]!);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('re-queued 1 job(s)\n');
    expect(missing.stderr).toBe('error: not found among the parked jobs of orders.integration: 99999\n');

    // Not on a terminal (stdin is not a TTY here): a purge of the whole queue needs --yes.
    const refused = await cli('jobs:purge');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('error: refusing to purge 2 parked job(s) of orders.integration without confirmation: stdin is not a terminal; pass --yes to go ahead, or --dry-run to see what it would do\n');
    const dryRun = await cli('jobs:purge', '--dry-run');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('dry run: would purge 2 parked job(s) of orders.integration; nothing changed');
    for (const id of ids.slice(2)) expect(dryRun.stdout).toMatch(new RegExp(`^${id}\\s`, 'm'));
    expect((await cli('jobs:stats')).stdout).toContain('parked=2');
    const purged = await cli('jobs:purge', '--yes');
    expect(purged.stdout).toBe('purged 2 job(s)\n');
    expect((await cli('jobs:stats')).stdout).toContain('ready=2 delayed=0 active=0 parked=0');

    expect((await cli('jobs:retry')).code).not.toBe(0);
    expect((await cli('jobs:purge')).stdout).toContain('purged 0 job(s)');
  });

  it('pauses and resumes a queue, shows the pause in jobs:stats, and lists no worker process', async () => {
    const paused = await cli('jobs:pause', 'images.download', '--reason', 'cdn down');
    expect(paused.stdout).toBe('images.download: paused; every worker stops claiming its jobs within QUEUE_PAUSE_POLL_MS\n');
    expect((await cli('jobs:stats')).stdout).toMatch(/^images\.download: ready=\d+ delayed=\d+ active=\d+ parked=\d+, paused since \S+ by cli \(cdn down\)$/m);
    expect((await cli('jobs:resume', 'images.download')).stdout).toBe('images.download: resumed\n');
    expect((await cli('jobs:stats')).stdout).not.toContain('paused since');
    expect((await cli('workers:list')).stdout).toBe('no worker process has been seen within the last hour\n');
  });

  it('checks integer options and prints listings as JSON', async () => {
    const limit = await cli('feed:runs', '--limit', 'abc');
    expect(limit.code).toBe(1);
    expect(limit.stderr).toBe("error: option '--limit <n>' argument 'abc' is invalid. Expected a whole number from 1 to 1000.\n");
    expect(JSON.parse((await cli('feed:runs', '--json')).stdout)).toEqual([]);
    expect(JSON.parse((await cli('images:stats', '--json')).stdout)).toMatchObject({ total: 0, byStatus: { cached: 0 } });
    expect(JSON.parse((await cli('images:failed', '--json')).stdout)).toEqual([]);
  });

  it('prints a failed command’s error once, on stderr, without a stack unless --verbose', async () => {
    const feedFile = path.join(dataDir, 'missing-feed.json');
    const failed = await spawned('feed:ingest', '--url', feedFile, '--json');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`error: cannot read the feed file ${feedFile}: ENOENT: no such file or directory, stat '${feedFile}'\n`);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'failed' });

    // With --verbose the app's own log line (JSON, on stderr) says it too, with its stack.
    const verbose = await spawned('--verbose', 'feed:ingest', '--url', feedFile, '--json');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toContain('"msg":"feed ingestion failed; the catalog keeps its previous state"');
    expect(verbose.stderr).toContain('"stack":"FeedFetchError');
    expect(JSON.parse(verbose.stdout)).toMatchObject({ status: 'failed' });

    const unreachable = await runCliProcess(['jobs:stats'], { DATA_DIR: dataDir, DATABASE_URL: 'postgres://intake@127.0.0.1:1/intake' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe('error: connect ECONNREFUSED 127.0.0.1:1\n');
    expect(unreachable.stdout).toBe('');
    const stacked = await runCliProcess(['jobs:stats', '--verbose'], { DATA_DIR: dataDir, DATABASE_URL: 'postgres://intake@127.0.0.1:1/intake' });
    expect(stacked.code).toBe(1);
    expect(stacked.stderr).toMatch(/^error: connect ECONNREFUSED 127\.0\.0\.1:1\nError: connect ECONNREFUSED 127\.0\.0\.1:1\n\s+at /);

    const usage = await spawned('jobs:stats', '--bogus');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe("error: unknown option '--bogus'\n");
  });

  it('ends quietly when its reader closes stdout early (| head)', async () => {
    const child = spawn(process.execPath, [CLI_JS, 'jobs:stats'], { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('names every bad variable and exits non-zero', async () => {
    const result = await runCliProcess(['jobs:stats'], { DATA_DIR: dataDir, PORT: 'eighty', JOB_MAX_ATTEMPTS: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: Invalid configuration:\n {2}- PORT .*\n {2}- JOB_MAX_ATTEMPTS .*\n$/);
    expect(result.stdout).toBe('');
  });
});
