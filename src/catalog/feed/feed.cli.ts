import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { describeHolder } from '../../platform/store/lease.js';
import type { FeedRunRow } from '../catalog.tables.js';
import type { FeedIngestService, IngestProgress } from './feed-ingest.service.js';

/** Runs `work` with a FeedIngestService and releases whatever it was built on afterwards. */
export type WithFeed = <T>(work: (feed: FeedIngestService) => Promise<T>) => Promise<T>;

/** Adds `feed:ingest` and `feed:runs` to the CLI. */
export function registerFeedCommands(program: Command, withFeed: WithFeed, print: (text: string) => void): void {
  program
    .command('feed:ingest')
    .description('fetch and ingest the catalog feed now (one run at a time across all instances)')
    .option('--url <url>', 'an http(s) URL or a local file (default: FEED_URL)')
    .action(async (options: { url?: string }) => {
      await withFeed(async (feed) => {
        process.exitCode = await ingestFromCli(feed, options.url);
      });
    });

  program
    .command('feed:runs')
    .description('recent feed runs with their counts')
    .option('--limit <n>', 'how many', (v) => Number.parseInt(v, 10), 20)
    .action(async (options: { limit: number }) => {
      await withFeed(async (feed) => {
        const runs = await feed.runs(options.limit);
        if (runs.length === 0) return print('no feed runs yet');
        console.table(runs.map((run) => ({ ...summarize(run), started_at: new Date(run.started_at).toISOString(), error: run.error })));
      });
    });
}

/** `intake feed:ingest`: a progress bar on a terminal, then a summary table. Exit code 1 when the run failed. */
async function ingestFromCli(feed: FeedIngestService, url: string | undefined): Promise<number> {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: '{phase} {bar} {items} items | {mb} MB | applied {applied}', hideCursor: true, stream: process.stderr },
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
    result = await feed.ingest({ url, trigger: 'cli', onProgress, signal: interrupt.signal });
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    bar?.stop();
  }
  if (result.kind === 'locked') {
    const by = result.heldBy ? ` (${describeHolder(result.heldBy)})` : '';
    process.stderr.write(`another ingestion is running${by}; try again when it has finished\n`);
    return 1;
  }
  console.table(summarize(result.run));
  if (result.run.warning) process.stderr.write(`warning: ${result.run.warning}\n`);
  if (result.run.error) process.stderr.write(`error: ${result.run.error}\n`);
  return result.run.status === 'failed' ? 1 : 0;
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
    duration_s: run.finished_at ? Number(((run.finished_at - run.started_at) / 1000).toFixed(2)) : null,
  };
}
