/**
 * `npm run bench:feed`: catalog feed ingestion and image downloads (DESIGN.md §7). Generated feeds
 * are served over loopback HTTP with their thumbnails on a mock CDN; every ingestion, the API and
 * the worker run as child processes. Prints a markdown table, writes bench/results/feed-<time>.json.
 *
 * Environment: BENCH_FEED_ITEMS (21000), BENCH_FEED_BIG (1; 0 skips row 3), BENCH_FEED_BIG_ITEMS
 * (210000), BENCH_FEED_CONNECTIONS (5 per endpoint in row 4), BENCH_CDN_LATENCY_MS (20),
 * BENCH_IMAGE_CONCURRENCY (16), BENCH_FEED_ROWS (all; e.g. `1,2,5` — rows 2 and 5 need row 1).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveFeed, startMockCdn, writeFeedFile, type FeedServer, type MockCdn } from '../dev/catalog/index.js';
import { catalogChecksum, checksumChanges, countRows, imageState, lastFeedRun, waitForNoPendingImage } from './support/feed-db.js';
import { loadApi, loadProblems, registerUser, sanityCheck } from './support/feed-load.js';
import { exitProblem, runNode, spawnNode, type Exit } from './support/feed-processes.js';
import { check, fmt, mb, metric, missedTargets, newRow, note, printBanner, runSeconds, table, verifyIngest, type RowResult } from './support/feed-report.js';
import { benchTempDir, runBench } from './support/lifecycle.js';
import { CLI_JS, MAIN_JS, RESULTS_DIR, ROOT, intEnv, intakeNodeOptions } from './support/settings.js';
import { startServer } from './support/processes.js';



const ITEMS = intEnv('BENCH_FEED_ITEMS', 21_000, 1);
const BIG = !['0', 'false', 'no', 'off'].includes((process.env.BENCH_FEED_BIG ?? '1').trim().toLowerCase());
const BIG_ITEMS = intEnv('BENCH_FEED_BIG_ITEMS', 210_000, 1);
const CONNECTIONS = intEnv('BENCH_FEED_CONNECTIONS', 5, 1);
const CDN_LATENCY_MS = intEnv('BENCH_CDN_LATENCY_MS', 20, 0);
const IMAGE_CONCURRENCY = intEnv('BENCH_IMAGE_CONCURRENCY', 16, 1);
const ROWS = new Set((process.env.BENCH_FEED_ROWS ?? '1,2,3,4,5').split(',').map((n) => Number(n.trim())));
const BASELINE_S = 5;
const TARGET = { firstIngestS: 3, rerunS: 1, rerunRowsWritten: 0, bigPeakRssMb: 200, apiP99Ms: 100, imagesPerSecond: 600, downloadsPerUrl: 1 };

interface Context {
  root: string;
  cdn: MockCdn;
  feed: FeedServer;
  feedFile: string;
  /** Row 1's DATA_DIR, once its catalog holds the feed (row 5 downloads its images). */
  firstDir?: string;
}

let rssFiles = 0;
const dbFile = (dataDir: string) => path.join(dataDir, 'intake.db');
const say = (text: string) => process.stderr.write(`${text}\n`);

function childEnv(dataDir: string, feedUrl: string): Record<string, string> {
  return { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${dbFile(dataDir)}`, FEED_URL: feedUrl, FEED_INGEST_ON_START: 'false', LOG_LEVEL: 'warn', METRICS_PORT: '0' };
}

function ingest(ctx: Context, name: string, dataDir: string, url: string, timeoutMs: number): Promise<Exit> {
  return runNode(name, CLI_JS, ['feed:ingest', '--url', url], childEnv(dataDir, url), path.join(ctx.root, `rss-${++rssFiles}`), timeoutMs);
}

function dataDirIn(ctx: Context, name: string): string {
  const dir = path.join(ctx.root, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

async function rowFirstIngest(ctx: Context): Promise<RowResult> {
  const row = newRow(1, `first ingest, ${fmt(ITEMS)} items`, 'node dist/src/cli.js feed:ingest into an empty SQLite catalog (fresh DATA_DIR); image downloads are only enqueued');
  const dataDir = dataDirIn(ctx, 'first');
  const exit = await ingest(ctx, 'row 1 feed:ingest', dataDir, ctx.feed.url, 15 * 60_000);
  const run = fs.existsSync(dbFile(dataDir)) ? lastFeedRun(dbFile(dataDir)) : undefined;
  verifyIngest(row, 'feed:ingest', exit, run, ['succeeded'], ITEMS);
  if (run && run.created_count !== ITEMS) row.problems.push(`${run.created_count} items created of ${ITEMS}`);
  if (row.problems.length === 0) ctx.firstDir = dataDir;
  row.metrics.push(
    metric('ingestion (run finished_at − started_at)', runSeconds(run), 's', 2, { max: TARGET.firstIngestS }),
    metric('process wall time (start, migrations, ingestion, exit)', exit.wallMs / 1000, 's', 2),
    metric('items/s', run && runSeconds(run) ? run.items_seen / runSeconds(run)! : null, '', 0),
    metric('peak RSS', mb(exit.peakRssBytes), 'MB', 0),
    metric('image downloads enqueued', run?.images_enqueued ?? null, '', 0),
  );
  return row;
}

async function rowRerun(ctx: Context): Promise<RowResult> {
  const row = newRow(2, 'the same feed again', 'same DATA_DIR, same bytes under a new ETag: the body is read and diffed against the stored hashes');
  if (!ctx.firstDir) return { ...row, skipped: 'row 1 failed' };
  const db = dbFile(ctx.firstDir);
  ctx.feed.setSource(ctx.feedFile, { etag: `"bench-rerun-${Date.now()}"` });
  const before = catalogChecksum(db);
  const exit = await ingest(ctx, 'row 2 feed:ingest', ctx.firstDir, ctx.feed.url, 10 * 60_000);
  const after = catalogChecksum(db);
  const run = lastFeedRun(db);
  verifyIngest(row, 'feed:ingest', exit, run, ['unchanged', 'succeeded'], ITEMS);
  const answered = ctx.feed.requests().at(-1)?.status;
  if (answered !== 200) row.problems.push(`the feed server answered ${answered ?? 'nothing'}, not 200: the body was not read`);
  const changes = checksumChanges(before, after);
  row.details = { ...row.details, checksumBefore: before, checksumAfter: after, changes };
  row.metrics.push(
    metric('re-run (run finished_at − started_at)', runSeconds(run), 's', 2, { max: TARGET.rerunS }),
    metric('process wall time', exit.wallMs / 1000, 's', 2),
    metric('items written (created + updated + removed)', run ? run.created_count + run.updated_count + run.removed_count : null, '', 0, { equals: TARGET.rerunRowsWritten }),
    check('catalog tables unchanged (count, max id, Σ created_at, Σ updated_at)', changes.length === 0),
    note('run status', run?.status ?? 'n/a'),
    metric('peak RSS', mb(exit.peakRssBytes), 'MB', 0),
  );
  return row;
}

async function rowBig(ctx: Context): Promise<RowResult> {
  const row = newRow(3, `big feed, ${fmt(BIG_ITEMS)} items`, 'a fresh DATA_DIR; memory must stay flat whatever the feed size');
  if (!BIG) return { ...row, skipped: 'BENCH_FEED_BIG=0' };
  const file = path.join(ctx.root, 'feed-big.json');
  say(`  writing a ${fmt(BIG_ITEMS)}-item feed`);
  const summary = await writeFeedFile(file, { items: BIG_ITEMS, imageBaseUrl: ctx.cdn.url });
  const server = await serveFeed(file, { conditional: false });
  const dataDir = dataDirIn(ctx, 'big');
  try {
    say(`  ingesting ${fmt(summary.bytes / 1e6)} MB`);
    const exit = await ingest(ctx, 'row 3 feed:ingest', dataDir, server.url, 60 * 60_000);
    const run = fs.existsSync(dbFile(dataDir)) ? lastFeedRun(dbFile(dataDir)) : undefined;
    verifyIngest(row, 'feed:ingest', exit, run, ['succeeded'], BIG_ITEMS);
    const seconds = runSeconds(run);
    row.metrics.push(
      metric('peak RSS', mb(exit.peakRssBytes), 'MB', 0, { max: TARGET.bigPeakRssMb }),
      metric('items/s', run && seconds ? run.items_seen / seconds : null, '', 0),
      metric('ingestion (run finished_at − started_at)', seconds, 's', 1),
      metric('feed size', summary.bytes / 1e6, 'MB', 0),
    );
  } finally {
    await server.close();
    fs.rmSync(file, { force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return row;
}

/** The feed file, served only once `open()` is called: the ingestion waits on the request until then. */
async function gatedFeed(file: string): Promise<{ server: FeedServer; open: () => void }> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const server = await serveFeed(async function* () {
    await gate;
    yield* fs.createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>;
  });
  return { server, open };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rowApiWhileIngesting(ctx: Context): Promise<RowResult> {
  const row = newRow(
    4,
    'the API while ingesting',
    `ROLE=all ingests the ${fmt(ITEMS)}-item feed on start (never ingested before) in the same process as the API, worker and simulator; ${CONNECTIONS} connections per endpoint for the ingestion's duration`,
  );
  const dataDir = dataDirIn(ctx, 'api');
  const feed = await gatedFeed(ctx.feedFile);
  const server = await startServer('row 4 ROLE=all', MAIN_JS, {
    ...childEnv(dataDir, feed.server.url),
    ...intakeNodeOptions(),
    FEED_INGEST_ON_START: 'true',
    ROLE: 'all',
    SIMULATOR_ENABLED: 'true',
    SIMULATOR_PORT: '0',
    SIMULATOR_DELAY_MS: '0-0',
    SIMULATOR_FAILURE_RATE: '0',
    IMAGE_ALLOW_PRIVATE_HOSTS: 'true',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
  });
  try {
    const token = await registerUser(server.url);
    await sanityCheck(server.url, token);
    await waitFor('the ingestion on start to request the feed', 60_000, () => (feed.server.requests().length > 0 ? true : undefined));
    // The same load for a few seconds first, while the ingestion waits for the feed's body: the API's latency without an ingestion, to compare.
    const idle = await loadApi(server.url, token, CONNECTIONS).stopAfter(BASELINE_S * 1000);
    const load = loadApi(server.url, token, CONNECTIONS);
    const openedAt = Date.now();
    feed.open();
    const run = await waitFor('the feed run to finish', 15 * 60_000, () => {
      const last = lastFeedRun(dbFile(dataDir));
      return last && last.status !== 'running' ? last : undefined;
    });
    const results = await load.stopAfter(0);
    if (run.status !== 'succeeded') row.problems.push(`the feed run ended ${run.status}${run.error ? `: ${run.error}` : ''}`);
    if (run.created_count !== ITEMS) row.problems.push(`${run.created_count} items created of ${ITEMS}`);
    row.problems.push(...loadProblems(idle, 'without ingestion: '), ...loadProblems(results));
    results.forEach((r, i) => {
      row.metrics.push(
        metric(`${r.endpoint} p50`, r.latencyMs.p50, 'ms', 1),
        metric(`${r.endpoint} p99`, r.latencyMs.p99, 'ms', 1, { max: TARGET.apiP99Ms }),
        metric(`${r.endpoint} req/s`, r.requestsPerSecond, '', 0),
        note(`${r.endpoint} without ingestion (${BASELINE_S} s before)`, `p50 ${fmt(idle[i]!.latencyMs.p50, 1)} ms, p99 ${fmt(idle[i]!.latencyMs.p99, 1)} ms, ${fmt(idle[i]!.requestsPerSecond)} req/s`),
      );
    });
    const images = imageState(dbFile(dataDir));
    row.metrics.push(
      metric('ingestion under load (body released → run finished_at)', run.finished_at ? (run.finished_at - openedAt) / 1000 : null, 's', 2),
      note('images the in-process worker downloaded meanwhile', `${fmt(images.cached)} (${fmt(images.pending)} pending)`),
    );
    row.details = { ...row.details, load: results, loadWithoutIngestion: idle, ordersStored: countRows(dbFile(dataDir), 'orders'), images };
  } finally {
    await server.stop();
    await feed.server.close();
  }
  return row;
}

async function rowImages(ctx: Context): Promise<RowResult> {
  const row = newRow(5, 'image downloads', `ROLE=worker, IMAGE_CONCURRENCY=${IMAGE_CONCURRENCY}, on row 1's catalog; mock CDN with ${CDN_LATENCY_MS} ms latency`);
  if (!ctx.firstDir) return { ...row, skipped: 'row 1 failed' };
  const db = dbFile(ctx.firstDir);
  const start = imageState(db);
  if (start.pending === 0) row.problems.push('no image was pending before the worker started');
  ctx.cdn.reset();
  let firstRequestAt: number | null = null;
  const watch = setInterval(() => {
    if (firstRequestAt === null && ctx.cdn.total() > 0) firstRequestAt = Date.now();
  }, 2);
  const worker = spawnNode('row 5 ROLE=worker', MAIN_JS, [], {
    ...childEnv(ctx.firstDir, ctx.feed.url),
    ...intakeNodeOptions(),
    ROLE: 'worker',
    IMAGE_ALLOW_PRIVATE_HOSTS: 'true',
    IMAGE_CONCURRENCY: String(IMAGE_CONCURRENCY),
  }, path.join(ctx.root, `rss-${++rssFiles}`));
  let workerExited = false;
  void worker.exited.then(() => (workerExited = true));
  const { state, timedOut } = await waitForNoPendingImage(db, 10 * 60_000, () => workerExited);
  if (state.pending > 0) row.problems.push(`${fmt(state.pending)} images still pending ${timedOut ? 'after 10 minutes' : 'when the worker exited'}`);
  const drainedAt = performance.now();
  clearInterval(watch);
  const exit = await worker.stop();
  const failed = exitProblem('ROLE=worker', exit);
  if (failed) row.problems.push(failed);
  if (state.failed > 0) row.problems.push(`${fmt(state.failed)} images failed`);
  const counts = [...ctx.cdn.counts().values()];
  const maxPerUrl = counts.length > 0 ? Math.max(...counts) : null;
  const refetched = counts.filter((n) => n > 1).length;
  if (counts.length !== start.pending) row.problems.push(`${fmt(counts.length)} distinct paths requested for ${fmt(start.pending)} pending images`);
  const seconds = firstRequestAt !== null && state.lastFetchedAt !== null ? (state.lastFetchedAt - firstRequestAt) / 1000 : null;
  row.metrics.push(
    metric('images/s (first CDN request → last image stored)', seconds ? state.cached / seconds : null, '', 0, { min: TARGET.imagesPerSecond }),
    metric('images downloaded', state.cached, '', 0),
    metric('distinct URLs requested', counts.length, '', 0),
    metric('max downloads of one URL', maxPerUrl, '', 0, { equals: TARGET.downloadsPerUrl }),
    metric('URLs downloaded more than once', refetched, '', 0, { equals: 0 }),
    metric('time from worker spawn to no pending image', (drainedAt - worker.startedAt) / 1000, 's', 1),
    metric('worker peak RSS', mb(exit.peakRssBytes), 'MB', 0),
  );
  const { output: _output, ...rest } = exit;
  row.details = { process: rest, before: start, after: state, cdnRequests: ctx.cdn.total(), firstRequestAt, seconds };
  return row;
}

async function main(): Promise<void> {
  for (const file of [MAIN_JS, CLI_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (npm run bench:feed does).`);
  }
  const startedAt = new Date();
  const root = benchTempDir('intake-feed-bench-');
  const cdn = await startMockCdn({ latencyMs: CDN_LATENCY_MS });
  const feedFile = path.join(root, 'feed.json');
  say(`▶ writing a ${fmt(ITEMS)}-item feed (thumbnails on ${cdn.url})`);
  const summary = await writeFeedFile(feedFile, { items: ITEMS, imageBaseUrl: cdn.url });
  const feed = await serveFeed(feedFile);
  const ctx: Context = { root, cdn, feed, feedFile };
  const rows: RowResult[] = [];
  try {
    const steps: Array<[number, string, (c: Context) => Promise<RowResult>]> = [
      [1, 'first ingest', rowFirstIngest],
      [2, 're-run', rowRerun],
      [5, "image downloads (row 1's catalog)", rowImages],
      [4, 'the API while ingesting', rowApiWhileIngesting],
      [3, 'big feed', rowBig],
    ];
    for (const [n, label, step] of steps) {
      if (!ROWS.has(n)) continue;
      say(`\n▶ row ${n}: ${label}`);
      rows.push(
        await step(ctx).catch((error: unknown) => ({ ...newRow(n, label, ''), skipped: 'failed', problems: [error instanceof Error ? error.message : String(error)] })),
      );
    }
  } finally {
    await Promise.all([feed.close(), cdn.close()]);
  }
  rows.sort((a, b) => a.row - b.row);

  const cpus = os.cpus();
  const report = {
    bench: 'feed',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { items: ITEMS, feedBytes: summary.bytes, big: BIG, bigItems: BIG_ITEMS, connections: CONNECTIONS, cdnLatencyMs: CDN_LATENCY_MS, imageConcurrency: IMAGE_CONCURRENCY },
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    target: TARGET,
    rows,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `feed-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`\n## Catalog feed: ${fmt(ITEMS)} items (${fmt(summary.bytes / 1e6, 1)} MB), ${cpus.length} × ${report.machine.cpuModel}, Node ${process.version}\n\n`);
  process.stdout.write(`${table(rows)}\n\n`);
  const missed = missedTargets(rows);
  process.stdout.write(missed.length === 0 ? 'Every target of DESIGN.md §7 (2-core machine) was met.\n' : `Targets NOT met (DESIGN.md §7, 2-core machine):\n${missed.map((m) => `- ${m}`).join('\n')}\n`);
  process.stdout.write(`Results: ${path.relative(ROOT, file)}\n`);
  if (printBanner(rows, (text) => process.stderr.write(text))) process.exitCode = 1;
}

runBench('bench:feed', main);
