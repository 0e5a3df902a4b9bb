import { Argument, Option, type Command } from 'commander';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../cli/cli-io.js';
import { limitOption } from '../cli/int-option.js';
import { formatTable } from '../cli/table.js';
import { pauseView, type QueuePause, type QueuePauses } from './queue-pauses.js';
import type { WorkerProcesses, WorkerProcessView } from './worker-processes.js';

/** What the pause and worker commands ask of the app. */
export interface QueueControls {
  pauses: Pick<QueuePauses, 'pause' | 'resume' | 'get'>;
  workers: Pick<WorkerProcesses, 'list'>;
}

/** Runs `work` with the queue controls and releases whatever they were built on afterwards. */
export type WithQueueControls = <T>(work: (controls: QueueControls) => Promise<T>) => Promise<T>;

/** Who a pause from the CLI is by. */
export const CLI_OPERATOR = 'cli';

const jsonOption = () => new Option('--json', 'print JSON on stdout instead of text');

/** Adds `jobs:pause`, `jobs:resume` and `workers:list` to the CLI, over the queues the app declares. */
export function registerQueueControlCommands(program: Command, options: { queueNames: readonly string[] }, withControls: WithQueueControls, io: CliIo): void {
  const queueArgument = () => new Argument('<queue>', 'queue name').choices(options.queueNames);

  program
    .command('jobs:pause')
    .description('pause a queue: every worker stops claiming its jobs within QUEUE_PAUSE_POLL_MS (those running finish; enqueues go on and wait)')
    .addArgument(queueArgument())
    .option('--reason <text>', 'why, for the other operators')
    .addOption(jsonOption())
    .action(async (queue: string, flags: JsonFlag & { reason?: string }) => {
      const { pause, changed } = await withControls(({ pauses }) => pauses.pause(queue, CLI_OPERATOR, flags.reason?.trim() || null));
      if (flags.json) return printJson(io, { queue, paused: pauseView(pause), changed });
      printLine(io, changed ? `${queue}: paused; every worker stops claiming its jobs within QUEUE_PAUSE_POLL_MS` : `${queue}: already ${pausedText(pause)}`);
    });

  program
    .command('jobs:resume')
    .description('resume a paused queue: its workers claim jobs again within QUEUE_PAUSE_POLL_MS')
    .addArgument(queueArgument())
    .addOption(jsonOption())
    .action(async (queue: string, flags: JsonFlag) => {
      const changed = await withControls(({ pauses }) => pauses.resume(queue));
      if (flags.json) return printJson(io, { queue, paused: null, changed });
      printLine(io, changed ? `${queue}: resumed` : `${queue}: was not paused`);
    });

  program
    .command('workers:list')
    .description('the processes that run workers, alive first, with the jobs each runs now')
    .addOption(limitOption(50))
    .addOption(jsonOption())
    .action(async (flags: JsonFlag & { limit: number }) => {
      const { processes, total } = await withControls(({ workers }) => workers.list({ page: 1, perPage: flags.limit }));
      if (flags.json) return printJson(io, processes);
      if (processes.length === 0) return printLine(io, 'no worker process has been seen within the last hour');
      printLine(io, workersTable(processes, outputWidth(io.stdout)));
      if (total > processes.length) printLine(io, `(${processes.length} of ${total} processes; --limit shows more)`);
    });
}

/** "paused since … by … (reason)", for the stats and the pause commands. */
export function pausedText(pause: QueuePause): string {
  return `paused since ${new Date(pause.at).toISOString()} by ${pause.by}${pause.reason ? ` (${pause.reason})` : ''}`;
}

function workersTable(processes: WorkerProcessView[], width: number): string {
  const rows = processes.map((p) => ({
    id: p.id,
    role: p.role,
    state: p.alive ? 'alive' : 'gone',
    started: new Date(p.startedAt).toISOString(),
    seen: new Date(p.lastSeenAt).toISOString(),
    count: p.runningCount,
    jobs: p.running.map((job) => `${job.queue}#${job.id}`).join(' '),
  }));
  return formatTable(
    rows,
    [
      { key: 'id' },
      { key: 'role' },
      { key: 'state' },
      { key: 'started', dropOrder: 2 },
      { key: 'seen', header: 'last seen', dropOrder: 1 },
      { key: 'count', header: 'running', align: 'right' },
      { key: 'jobs', header: 'running now', flexible: true, minWidth: 12 },
    ],
    width,
  );
}
