import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { describeHolder } from '../../platform/store/lease.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../../platform/cli/cli-io.js';
import { limitOption } from '../../platform/cli/int-option.js';
import { formatRecord, formatTable, type Column } from '../../platform/cli/table.js';
import type { FeedRunRow } from '../catalog.tables.js';
import type { FeedIngestService, IngestProgress } from './feed-ingest.service.js';

/** Runs `work` with a FeedIngestService and releases whatever it was built on afterwards. */
export type WithFeed = <T>(work: (feed: FeedIngestService) => Promise<T>) => Promise<T>;

/** Adds `feed:ingest` and `feed:runs` to the CLI. */
export function registerFeedCommands(program: Command, withFeed: WithFeed, io: CliIo): void {
  program
    .command('feed:ingest')
    .description('fetch and ingest the catalog feed now (one run at a time across all instances)')
    .option('--url <url>', 'an http(s) URL or a local file (default: FEED_URL)')
    .option('--json', 'print the run as JSON on stdout instead of a table')
    .action(async (options: JsonFlag & { url?: string }) => {
      await withFeed((feed) => ingestFromCli(io, feed, options));
    });

  program
    .command('feed:runs')
    .description('recent feed runs with their counts, the newest first')
    .addOption(limitOption(20))
    .option('--json', 'print every field of the runs as JSON on stdout instead of a table')
    .action(async (options: JsonFlag & { limit: number }) => {
      const runs = await withFeed((feed) => feed.runs(options.limit));
      if (options.json) return printJson(io, runs.map(runView));
      printLine(io, runs.length === 0 ? 'no feed runs yet' : runsTable(runs, outputWidth(io.stdout)));
    });
}

/** The columns an operator scans first; `--json` has every field. */
const RUN_COLUMNS: Column[] = [
  { key: 'run', align: 'right' },
  { key: 'status' },
  { key: 'started', header: 'started (UTC)' },
  { key: 'secs', align: 'right', dropOrder: 2 },
  { key: 'items', align: 'right' },
  { key: 'created', align: 'right', dropOrder: 3 },
  { key: 'updated', align: 'right', dropOrder: 3 },
  { key: 'removed', align: 'right', dropOrder: 4 },
  { key: 'invalid', align: 'right', dropOrder: 1 },
  { key: 'images', align: 'right', dropOrder: 5 },
  { key: 'error', flexible: true, minWidth: 16 },
];

function runsTable(runs: FeedRunRow[], width: number): string {
  const rows = runs.map((run) => ({
    run: run.id,
    status: run.status,
    started: new Date(run.started_at).toISOString().slice(0, 19).replace('T', ' '),
    secs: durationSeconds(run),
    items: run.items_seen,
    created: run.created_count,
    updated: run.updated_count,
    removed: run.removed_count,
    invalid: run.invalid_count,
    images: run.images_enqueued,
    error: run.error ?? run.warning,
  }));
  return formatTable(rows, RUN_COLUMNS, width);
}

function runView(run: FeedRunRow) {
  return {
    ...run,
    invalid_samples: run.invalid_samples === null ? null : (JSON.parse(run.invalid_samples) as unknown),
    started_at: new Date(run.started_at).toISOString(),
    finished_at: run.finished_at === null ? null : new Date(run.finished_at).toISOString(),
  };
}

/** `intake feed:ingest`: a progress bar on a terminal, then a summary table. Exit code 1 when the run failed. */
async function ingestFromCli(io: CliIo, feed: FeedIngestService, options: JsonFlag & { url?: string }): Promise<void> {
  const bar = io.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: '{phase} {bar} {items} items | {mb} MB | applied {applied}', hideCursor: true, stream: io.stderr as NodeJS.WritableStream },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(1, 0, { phase: 'reading', items: 0, mb: '0.0', applied: 0 });
  const onProgress = (p: IngestProgress) => {
    bar?.setTotal(Math.max(1, p.items));
    bar?.update(p.phase === 'reading' ? 0 : p.applied, { phase: p.phase.padEnd(10), items: p.items, mb: (p.bytes / 1e6).toFixed(1), applied: p.applied });
  };
  // SIGINT or SIGTERM stops the run: it is recorded as failed (interrupted) and the lock released.
  const interrupt = new AbortController();
  const stop = (signal: NodeJS.Signals) => interrupt.abort(new Error(`${signal} received`));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  let result;
  try {
    result = await feed.ingest({ url: options.url, trigger: 'cli', onProgress, signal: interrupt.signal });
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    bar?.stop();
  }
  if (result.kind === 'locked') {
    const by = result.heldBy ? ` (${describeHolder(result.heldBy)})` : '';
    throw new CliError(`another ingestion is running${by}; try again when it has finished`);
  }
  const { run } = result;
  if (options.json) printJson(io, runView(run));
  else printLine(io, formatRecord(summarize(run), outputWidth(io.stdout)));
  if (run.warning) io.stderr.write(`warning: ${run.warning}\n`);
  if (run.status === 'failed') throw new CliError(run.error ?? `feed run ${run.id} failed`);
}

function summarize(run: FeedRunRow): Record<string, string | number | null> {
  return {
    run: run.id,
    status: run.status,
    http_status: run.http_status,
    bytes: run.bytes,
    generation_date: run.generation_date,
    items: run.items_seen,
    declared: run.items_declared,
    created: run.created_count,
    updated: run.updated_count,
    unchanged: run.unchanged_count,
    removed: run.removed_count,
    invalid: run.invalid_count,
    repaired: run.repaired_count,
    images_enqueued: run.images_enqueued,
    duration_s: durationSeconds(run),
  };
}

function durationSeconds(run: FeedRunRow): number | null {
  return run.finished_at ? Number(((run.finished_at - run.started_at) / 1000).toFixed(2)) : null;
}
