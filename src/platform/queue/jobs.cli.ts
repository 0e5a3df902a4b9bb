import { Option, type Command } from 'commander';
import type { JobState, Queue } from './queue.js';

/** What the `jobs:*` commands ask of a queue. */
export type QueueOperations = Pick<Queue, 'stats' | 'parked' | 'retryParked' | 'purgeParked'>;

/** Runs `work` with the queue and releases whatever it was built on afterwards. */
export type WithQueue = <T>(work: (queue: QueueOperations) => Promise<T>) => Promise<T>;

/** Adds `jobs:stats`, `jobs:parked`, `jobs:retry` and `jobs:purge` to the CLI, over the queues the app declares. */
export function registerJobsCommands(program: Command, queueNames: readonly string[], withQueue: WithQueue, print: (text: string) => void): void {
  const queueOption = () => new Option('-q, --queue <name>', 'queue name').choices(queueNames).default(queueNames[0]);

  program
    .command('jobs:stats')
    .description('queue depth by state and priority')
    .action(async () => {
      await withQueue(async (queue) => {
        for (const name of queueNames) {
          const stats = await queue.stats(name);
          print(`${name}: ${Object.entries(stats.counts).map(([state, n]) => `${state}=${n}`).join(' ')}`);
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
      await withQueue(async (queue) => {
        const parked = await queue.parked(options.queue, { limit: options.limit });
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
      await withQueue(async (queue) => print(`re-queued ${await queue.retryParked(options.queue, options.all ? 'all' : ids)} job(s)`));
    });

  program
    .command('jobs:purge')
    .description('delete parked jobs')
    .argument('[ids...]', 'parked job ids (default: all)')
    .addOption(queueOption())
    .action(async (ids: string[], options: { queue: string }) => {
      await withQueue(async (queue) => print(`purged ${await queue.purgeParked(options.queue, ids.length > 0 ? ids : undefined)} job(s)`));
    });
}

function mapValues<V, W>(record: Record<string, V>, map: (value: V) => W): Record<string, W> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
