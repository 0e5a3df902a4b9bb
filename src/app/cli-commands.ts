import { Command, Option } from 'commander';
import { EmailTakenError } from '../auth/auth.service.js';
import { ingestFromCli, summarize } from '../catalog/feed/feed.cli.js';
import { listFeedRuns } from '../catalog/feed/feed-runs.repository.js';
import { registerImagesCommands } from '../catalog/images/images.cli.js';
import { loadConfigFromEnvironment, ROLES, type Role } from '../config.js';
import { createContainer, QUEUE_NAMES, type Container } from './container.js';
import { databaseOptions } from './drivers.js';
import { startTracingFromEnvironment } from './instrument.js';
import { createDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { limitHeapGrowth } from '../platform/heap.js';
import type { JobState } from '../platform/queue/queue.js';
import { createLogger } from '../platform/telemetry/logger.js';
import { VERSION } from './version.js';

async function withContainer<T>(work: (c: Container) => Promise<T>): Promise<T> {
  const config = loadConfigFromEnvironment();
  limitHeapGrowth(config.heapGrowthPercent);
  const container = await createContainer(config, { logger: createLogger({ level: config.cliLogLevel, role: 'cli', pretty: false }) });
  try {
    return await work(container);
  } finally {
    await container.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

function queueOption() {
  return new Option('-q, --queue <name>', 'queue name').choices(QUEUE_NAMES).default(QUEUE_NAMES[0]);
}

const program = new Command('intake').version(VERSION).description('intake: orders and catalog intake pipelines');

program
  .command('migrate')
  .description('apply pending database migrations (never destructive)')
  .action(async () => {
    const config = loadConfigFromEnvironment();
    const database = createDatabase(databaseOptions(config));
    try {
      const applied = await migrateToLatest(database);
      print(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to migrate');
    } finally {
      await database.close();
    }
  });

program
  .command('serve')
  .description('run a role until SIGTERM/SIGINT')
  .addOption(new Option('-r, --role <role>', 'which role to run').choices(ROLES))
  .action(async (options: { role?: Role }) => {
    // Started already by the entry (cli.ts), before this module loaded the libraries that tracing hooks into.
    const tracing = await startTracingFromEnvironment(options.role);
    const { run } = await import('./role-runner.js');
    await run(options.role, tracing);
  });

program
  .command('users:create')
  .description('create a user')
  .requiredOption('--name <name>')
  .requiredOption('--email <email>')
  .requiredOption('--password <password>')
  .action(async (options: { name: string; email: string; password: string }) => {
    await withContainer(async (c) => {
      try {
        print(await c.auth.createUser(options));
      } catch (error) {
        if (!(error instanceof EmailTakenError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      }
    });
  });

program
  .command('tokens:create')
  .description('issue a token for a user and print it as id|secret')
  .requiredOption('--email <email>')
  .option('--ability <ability>', 'an ability (orders, catalog:write, admin); repeatable', (value: string, all: string[]) => [...all, value], [] as string[])
  .option('--name <name>', 'token name', 'cli')
  .action(async (options: { email: string; ability: string[]; name: string }) => {
    await withContainer(async (c) => {
      const token = await c.auth.createTokenForEmail(options.email, options.ability.length > 0 ? options.ability : ['orders'], options.name);
      if (!token) {
        process.stderr.write(`no user with email ${options.email}\n`);
        process.exitCode = 1;
        return;
      }
      print(token);
    });
  });

program
  .command('jobs:stats')
  .description('queue depth by state and priority')
  .action(async () => {
    await withContainer(async (c) => {
      for (const queue of QUEUE_NAMES) {
        const stats = await c.queue.stats(queue);
        print(`${queue}: ${Object.entries(stats.counts).map(([state, n]) => `${state}=${n}`).join(' ')}`);
        // A broker cannot count every state by priority: those rows show "?" instead of zeros.
        const exact = stats.byPriorityExact;
        console.table(Object.fromEntries(Object.entries(stats.byPriority).map(([state, row]) => [state, exact?.[state as JobState] === false ? mapValues(row, () => '?') : row])));
      }
    });
  });

program
  .command('jobs:parked')
  .description('list parked (dead-lettered) jobs')
  .addOption(queueOption())
  .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 50)
  .action(async (options: { queue: string; limit: number }) => {
    await withContainer(async (c) => {
      const parked = await c.queue.parked(options.queue, { limit: options.limit });
      if (parked.length === 0) return print('no parked jobs');
      console.table(parked.map((j) => ({ id: j.id, priority: j.priority, attempts: j.attempts, parked_at: new Date(j.parkedAt).toISOString(), last_error: j.lastError, payload: JSON.stringify(j.payload) })));
    });
  });

program
  .command('jobs:retry')
  .description('move parked jobs back to the queue')
  .argument('[ids...]', 'parked job ids')
  .option('--all', 'every parked job of the queue')
  .addOption(queueOption())
  .action(async (ids: string[], options: { all?: boolean; queue: string }) => {
    if (!options.all && ids.length === 0) program.error('give job ids or --all');
    await withContainer(async (c) => print(`re-queued ${await c.queue.retryParked(options.queue, options.all ? 'all' : ids)} job(s)`));
  });

program
  .command('jobs:purge')
  .description('delete parked jobs')
  .argument('[ids...]', 'parked job ids (default: all)')
  .addOption(queueOption())
  .action(async (ids: string[], options: { queue: string }) => {
    await withContainer(async (c) => print(`purged ${await c.queue.purgeParked(options.queue, ids.length > 0 ? ids : undefined)} job(s)`));
  });

program
  .command('feed:ingest')
  .description('fetch and ingest the catalog feed now (one run at a time across all instances)')
  .option('--url <url>', 'an http(s) URL or a local file (default: FEED_URL)')
  .action(async (options: { url?: string }) => {
    await withContainer(async (c) => {
      process.exitCode = await ingestFromCli(c.feed, options.url);
    });
  });

program
  .command('feed:runs')
  .description('recent feed runs with their counts')
  .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
  .action(async (options: { limit: number }) => {
    await withContainer(async (c) => {
      const runs = await listFeedRuns(c.database.db, options.limit);
      if (runs.length === 0) return print('no feed runs yet');
      console.table(runs.map((run) => ({ ...summarize(run), started_at: new Date(run.started_at).toISOString(), error: run.error })));
    });
  });

function mapValues<V, W>(record: Record<string, V>, map: (value: V) => W): Record<string, W> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

registerImagesCommands(program, (work) => withContainer((c) => work(c.images)));

/** Runs the command that `argv` names. */
export async function runCli(argv: string[]): Promise<void> {
  await program.parseAsync(argv).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
