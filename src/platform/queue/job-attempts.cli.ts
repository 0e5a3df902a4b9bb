import { Argument, Option, type Command } from 'commander';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../cli/cli-io.js';
import { formatTable } from '../cli/table.js';
import type { JobAttemptsService, JobDetail } from './job-attempts.service.js';
import type { Priority } from './queue.js';

/** Runs `work` with the attempt log and releases whatever it was built on afterwards. */
export type WithJobAttempts = <T>(work: (jobs: Pick<JobAttemptsService, 'detail'>) => Promise<T>) => Promise<T>;

export interface JobShowOptions {
  queueNames: readonly string[];
  /** The name operators know a priority by (low … max); the number when absent. */
  priorityName?: (priority: Priority) => string;
}

/** Adds `jobs:show` to the CLI: one job, as the queue holds it and as its attempts were recorded. */
export function registerJobShowCommand(program: Command, options: JobShowOptions, withJobs: WithJobAttempts, io: CliIo): void {
  const label = options.priorityName ?? String;
  program
    .command('jobs:show')
    .description('a job: its state if the queue still holds it, payload, headers, trace id and every recorded attempt (JOB_ATTEMPT_LOG)')
    .addArgument(new Argument('<queue>', 'queue name').choices(options.queueNames))
    .argument('<id>', 'job id')
    .addOption(new Option('--json', 'print JSON on stdout instead of text'))
    .action(async (queue: string, id: string, flags: JsonFlag) => {
      const job = await withJobs((jobs) => jobs.detail(queue, id));
      if (flags.json) return printJson(io, job);
      printLine(io, describe(job, label));
      printLine(io, job.attempts.length === 0 ? 'no attempt recorded' : attemptsTable(job, outputWidth(io.stdout)));
    });
}

function iso(at: number | null): string {
  return at === null ? '–' : new Date(at).toISOString();
}

function describe(job: JobDetail, label: (priority: Priority) => string): string {
  const state = job.state ?? (job.searched === 'parked' ? 'not parked (finished, or waiting in the broker, which cannot be searched)' : 'finished, or unknown to the queue');
  const lines = [
    `job ${job.id} of ${job.queue}`,
    `state:       ${state}`,
    `priority:    ${job.priority === null ? '–' : label(job.priority as Priority)}`,
    `enqueued at: ${iso(job.enqueuedAt)}`,
    `trace id:    ${job.traceId ?? '–'}`,
  ];
  if (job.attemptsMade !== null) lines.push(`attempts:    ${job.attemptsMade} of ${job.maxAttempts}${job.lastError === null ? '' : `, last error: ${job.lastError}`}`);
  lines.push(`headers:     ${job.headers === null ? '–' : JSON.stringify(job.headers)}`, `payload:     ${JSON.stringify(job.payload)}`);
  return lines.join('\n');
}

function attemptsTable(job: JobDetail, width: number): string {
  const rows = job.attempts.map((attempt) => ({
    attempt: attempt.attempt,
    outcome: attempt.outcome,
    started_at: iso(attempt.startedAt),
    duration: attempt.durationMs === null ? '' : `${attempt.durationMs} ms`,
    process: attempt.process,
    error: attempt.error,
  }));
  return formatTable(
    rows,
    [{ key: 'attempt', align: 'right' }, { key: 'outcome' }, { key: 'started_at' }, { key: 'duration', align: 'right' }, { key: 'process', dropOrder: 1 }, { key: 'error', flexible: true, minWidth: 20 }],
    width,
  );
}
