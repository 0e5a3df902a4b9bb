import { Option, type Command } from 'commander';
import { CliError } from '../cli/cli-error.js';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../cli/cli-io.js';
import { confirmOrRefuse } from '../cli/confirm.js';
import { limitOption } from '../cli/int-option.js';
import { formatTable, type Column } from '../cli/table.js';
import { PRIORITIES, type JobState, type ParkedJob, type Priority, type Queue, type QueueStats } from './queue.js';
import { pausedText } from './queue-controls.cli.js';
import { pauseView, type QueuePause, type QueuePauses } from './queue-pauses.js';

/** What the `jobs:*` commands ask of a queue. */
export type QueueOperations = Pick<Queue, 'stats' | 'parked' | 'retryParked' | 'purgeParked'>;

/** The paused queues, by name, where the app keeps them. */
export type PausedQueuesReader = Pick<QueuePauses, 'all'>;

/** Runs `work` with the queue (and the queues' pauses, where the app has them) and releases whatever it was built on afterwards. */
export type WithQueue = <T>(work: (queue: QueueOperations, pauses?: PausedQueuesReader) => Promise<T>) => Promise<T>;

export interface JobsCliOptions {
  /** The queues the app declares; the first is the default of `--queue`. */
  queueNames: readonly string[];
  /** The name operators know a priority by (low … max), as the dashboard shows it; the number when absent. */
  priorityName?: (priority: Priority) => string;
}

/** Above this many parked jobs, `jobs:retry --all` asks first, as `jobs:purge` of a whole queue always does. */
export const RETRY_ALL_CONFIRM_ABOVE = 100;
/** How many jobs a dry run of a whole queue lists (it counts them all). */
export const DRY_RUN_LISTED = 100;
const PARKED_PAGE = 500;
const STATES: readonly JobState[] = ['ready', 'delayed', 'active', 'parked'];

interface ActionFlags extends JsonFlag {
  queue: string;
  yes?: boolean;
  dryRun?: boolean;
}

/** One way of acting on parked jobs: what it is called, and how a queue does it. */
interface ParkedAction {
  verb: string;
  done: string;
  apply(queue: QueueOperations, name: string, ids: string[] | 'all'): Promise<number>;
  /** Whether acting on a whole queue of `count` parked jobs needs the operator's confirmation. */
  asksFor(count: number): boolean;
}

const RETRY: ParkedAction = {
  verb: 're-queue',
  done: 're-queued',
  apply: (queue, name, ids) => queue.retryParked(name, ids),
  asksFor: (count) => count > RETRY_ALL_CONFIRM_ABOVE,
};
const PURGE: ParkedAction = {
  verb: 'purge',
  done: 'purged',
  apply: (queue, name, ids) => queue.purgeParked(name, ids === 'all' ? undefined : ids),
  asksFor: () => true,
};

/** Adds `jobs:stats`, `jobs:parked`, `jobs:retry` and `jobs:purge` to the CLI, over the queues the app declares. */
export function registerJobsCommands(program: Command, options: JobsCliOptions, withQueue: WithQueue, io: CliIo): void {
  const { queueNames } = options;
  const label = options.priorityName ?? String;
  const queueOption = () => new Option('-q, --queue <name>', 'queue name').choices(queueNames).default(queueNames[0]);
  const jsonOption = () => new Option('--json', 'print JSON on stdout instead of a table');
  const guardOptions = (command: Command) =>
    command.option('-y, --yes', 'do it without asking (required when stdin is not a terminal)').option('--dry-run', 'show what would be done, and change nothing');

  program
    .command('jobs:stats')
    .description('queue depth by state and priority, and which queues are paused')
    .addOption(jsonOption())
    .action(async (flags: JsonFlag) => {
      const { all, paused } = await withQueue(async (queue, pauses) => ({ all: await Promise.all(queueNames.map((name) => queue.stats(name))), paused: await pauses?.all() }));
      if (flags.json) return printJson(io, all.map((stats) => ({ ...statsView(stats, label), ...(paused && { paused: pauseView(paused.get(stats.queue)) }) })));
      for (const stats of all) printStats(io, stats, label, paused?.get(stats.queue));
    });

  program
    .command('jobs:parked')
    .description('list parked (dead-lettered) jobs, the most recently parked first')
    .addOption(queueOption())
    .addOption(limitOption(50))
    .addOption(jsonOption())
    .action(async (flags: JsonFlag & { queue: string; limit: number }) => {
      const parked = await withQueue((queue) => queue.parked(flags.queue, { limit: flags.limit }));
      if (flags.json) return printJson(io, parked.map((job) => parkedView(job, label)));
      printLine(io, parked.length === 0 ? `no parked jobs in ${flags.queue}` : parkedTable(parked, label, outputWidth(io.stdout)));
    });

  guardOptions(
    program
      .command('jobs:retry')
      .description(`move parked jobs back to the queue with fresh attempts (--all asks first above ${RETRY_ALL_CONFIRM_ABOVE} jobs)`)
      .argument('[ids...]', 'parked job ids')
      .option('--all', 'every parked job of the queue')
      .addOption(queueOption()),
  )
    .addOption(jsonOption())
    .action(async (ids: string[], flags: ActionFlags & { all?: boolean }) => {
      if (Boolean(flags.all) === ids.length > 0) program.error('error: give parked job ids or --all (not both)');
      await withQueue((queue) => actOnParked(io, queue, RETRY, flags.all ? 'all' : ids, flags, label));
    });

  guardOptions(
    program
      .command('jobs:purge')
      .description('delete parked jobs (all of the queue without ids: asks first)')
      .argument('[ids...]', 'parked job ids (default: every parked job of the queue)')
      .addOption(queueOption()),
  )
    .addOption(jsonOption())
    .action(async (ids: string[], flags: ActionFlags) => {
      await withQueue((queue) => actOnParked(io, queue, PURGE, ids.length > 0 ? ids : 'all', flags, label));
    });
}

/**
 * Retries or purges parked jobs. A whole queue is counted first, and the count is what the
 * operator confirms. Given ids are handled one by one, so that the ones not parked can be named
 * (and make the command fail) while the others are still done.
 */
async function actOnParked(io: CliIo, queue: QueueOperations, action: ParkedAction, target: string[] | 'all', flags: ActionFlags, label: (p: Priority) => string): Promise<void> {
  const name = flags.queue;
  if (flags.dryRun) {
    const { count, jobs, missing } = target === 'all' ? await wholeQueue(queue, name) : await someJobs(queue, name, target);
    if (flags.json) printJson(io, { queue: name, action: action.verb, dryRun: true, count, jobs: jobs.map((job) => parkedView(job, label)), notFound: missing });
    else {
      if (jobs.length > 0) printLine(io, parkedTable(jobs, label, outputWidth(io.stdout)));
      const listed = jobs.length < count ? ` (the first ${jobs.length} listed)` : '';
      printLine(io, `dry run: would ${action.verb} ${count} parked job(s) of ${name}${listed}; nothing changed`);
    }
    return failOnMissing(name, missing);
  }

  let done = 0;
  const missing: string[] = [];
  if (target === 'all') {
    const count = (await queue.stats(name)).counts.parked;
    if (count > 0 && action.asksFor(count)) await confirmOrRefuse(io, { action: `${action.verb} ${count} parked job(s) of ${name}`, yes: flags.yes });
    done = count > 0 ? await action.apply(queue, name, 'all') : 0;
  } else {
    for (const id of new Set(target)) {
      if ((await action.apply(queue, name, [id])) > 0) done++;
      else missing.push(id);
    }
  }
  if (flags.json) printJson(io, { queue: name, action: action.verb, count: done, notFound: missing });
  else printLine(io, `${action.done} ${done} job(s)`);
  failOnMissing(name, missing);
}

function failOnMissing(queue: string, missing: string[]): void {
  if (missing.length > 0) throw new CliError(`not found among the parked jobs of ${queue}: ${missing.join(', ')}`);
}

async function wholeQueue(queue: QueueOperations, name: string) {
  const count = (await queue.stats(name)).counts.parked;
  const jobs = count > 0 ? await queue.parked(name, { limit: DRY_RUN_LISTED }) : [];
  return { count, jobs, missing: [] as string[] };
}

/** The given ids that are parked, found page by page (a queue offers no lookup by id). */
async function someJobs(queue: QueueOperations, name: string, ids: string[]) {
  const wanted = new Set(ids);
  const jobs: ParkedJob[] = [];
  for (let offset = 0; wanted.size > 0; offset += PARKED_PAGE) {
    const page = await queue.parked(name, { limit: PARKED_PAGE, offset });
    for (const job of page) if (wanted.delete(job.id)) jobs.push(job);
    if (page.length < PARKED_PAGE) break;
  }
  return { count: jobs.length, jobs, missing: [...wanted] };
}

function printStats(io: CliIo, stats: QueueStats, label: (p: Priority) => string, pause: QueuePause | undefined): void {
  printLine(io, `${stats.queue}: ${STATES.map((state) => `${state}=${stats.counts[state]}`).join(' ')}${pause ? `, ${pausedText(pause)}` : ''}`);
  // Highest priority first, as the dashboard shows them.
  const priorities = [...PRIORITIES].reverse();
  const columns: Column[] = [{ key: 'state' }, ...priorities.map((p): Column => ({ key: String(p), header: label(p), align: 'right' }))];
  // A broker cannot count every state by priority: those rows show "?" instead of zeros.
  const rows = STATES.map((state) => {
    const exact = stats.byPriorityExact?.[state] !== false;
    return { state, ...Object.fromEntries(priorities.map((p) => [String(p), exact ? stats.byPriority[state][p] : '?'])) };
  });
  printLine(io, formatTable(rows, columns, outputWidth(io.stdout)));
}

/** A queue's stats with priorities by name; `null` where a broker cannot count by priority. */
function statsView(stats: QueueStats, label: (p: Priority) => string) {
  const byPriority = Object.fromEntries(
    STATES.map((state) => {
      const exact = stats.byPriorityExact?.[state] !== false;
      return [state, Object.fromEntries(PRIORITIES.map((p) => [label(p), exact ? stats.byPriority[state][p] : null]))];
    }),
  );
  return { queue: stats.queue, counts: stats.counts, byPriority };
}

function parkedView(job: ParkedJob, label: (p: Priority) => string) {
  return {
    id: job.id,
    queue: job.queue,
    priority: label(job.priority),
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    lastError: job.lastError,
    createdAt: new Date(job.createdAt).toISOString(),
    parkedAt: new Date(job.parkedAt).toISOString(),
    payload: job.payload,
  };
}

function parkedTable(jobs: ParkedJob[], label: (p: Priority) => string, width: number): string {
  const rows = jobs.map((job) => ({
    id: job.id,
    priority: label(job.priority),
    attempts: job.attempts,
    parked_at: new Date(job.parkedAt).toISOString(),
    last_error: job.lastError,
    payload: JSON.stringify(job.payload),
  }));
  return formatTable(
    rows,
    [{ key: 'id' }, { key: 'priority' }, { key: 'attempts', align: 'right' }, { key: 'parked_at' }, { key: 'last_error', flexible: true, minWidth: 20 }, { key: 'payload', flexible: true, dropOrder: 1 }],
    width,
  );
}
