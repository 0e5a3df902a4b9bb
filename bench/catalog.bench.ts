/**
 * `npm run bench:catalog`: the catalog's read API under load (issue 15). A generated feed is
 * ingested into a temporary SQLite catalog (`node dist/src/cli.js feed:ingest --url <file>`), one
 * intake process serves it with ROLE=api, and autocannon (keeping no response bodies:
 * support/autocannon-bodies.ts) drives each row at the same connection
 * count, next to a bare Fastify hello-world in the same run for the ratio. The rows take turns,
 * BENCH_CATALOG_RUNS times, and the median of the runs is reported with every run's figure. A row
 * whose feature is not built yet (no ETag on the list, no `changed_since`, no image variants) is
 * reported as skipped with the reason. Prints a markdown table, writes bench/results/catalog-<time>.json.
 *
 * Environment: BENCH_CATALOG_ITEMS (21000), BENCH_CATALOG_DURATION_S (10 per row and run),
 * BENCH_CATALOG_WARMUP_S (2 per row and run), BENCH_CATALOG_RUNS (3; the median is reported),
 * BENCH_CATALOG_CONNECTIONS or BENCH_CONNECTIONS (50), BENCH_CATALOG_ROWS (1,…,10).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { writeFeedFile, type FeedOptions } from '../dev/catalog/index.js';
import { lastFeedRun } from './support/feed-db.js';
import { loadResultOf, type LoadResult } from './support/feed-load.js';
import { runNode, type Exit } from './support/feed-processes.js';
import { fmt, metric, missedTargets, newRow, note, printBanner, table, verifyIngest, type RowResult } from './support/feed-report.js';
import { discardAutocannonBodies } from './support/autocannon-bodies.js';
import { seedCachedImage } from './support/cached-image.js';
import { benchTempDir, runBench } from './support/lifecycle.js';
import { startServer, type Server } from './support/processes.js';
import { CLI_JS, MAIN_JS, RESULTS_DIR, ROOT, intEnv, intakeNodeOptions } from './support/settings.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
discardAutocannonBodies();
const HELLO_JS = path.join(HERE, 'support/hello-server.js');
const STATIC_BODY_JS = path.join(HERE, 'support/static-body-server.js');

const ITEMS = intEnv('BENCH_CATALOG_ITEMS', 21_000, 1);
const DURATION_S = intEnv('BENCH_CATALOG_DURATION_S', 10, 1);
const WARMUP_S = intEnv('BENCH_CATALOG_WARMUP_S', 2, 0);
const RUNS = intEnv('BENCH_CATALOG_RUNS', 3, 1);
const CONNECTIONS = intEnv('BENCH_CATALOG_CONNECTIONS', intEnv('BENCH_CONNECTIONS', 50, 1), 1);
const ALL_ROWS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const ROWS = new Set((process.env.BENCH_CATALOG_ROWS ?? ALL_ROWS.join(',')).split(',').map((n) => Number(n.trim())));
for (const n of ROWS) if (!ALL_ROWS.includes(n)) throw new Error(`BENCH_CATALOG_ROWS: unknown row "${n}" (rows: ${ALL_ROWS.join(', ')})`);

/** Issue 15, for the 2-core machine. */
const TARGET = { listToHello: 0.35, listP99Ms: 20, notModifiedToHello: 0.6, searchP99Ms: 30, changedSinceMs: 50, variantToHello: 0.5 };
/** Same seed, same feed: the second feed of row 6 differs from the first only where `mutate` says. */
const FEED: FeedOptions = { items: ITEMS, seed: 1 };
/** Row 6: every CHANGED_EVERY-th item of the second feed has other views (1 %). */
const CHANGED_EVERY = 100;
/** Row 4: a two-letter prefix that starts a word of many generated names (its share of the catalog is printed). */
const SEARCH = 'an';
/** Row 7: the width (one of IMAGE_VARIANT_WIDTHS' defaults) and the format asked of the image variant. */
const VARIANT_WIDTH = 320;
const VARIANT_FORMAT = 'webp';
const LIST = '/api/v1/pornstars';
/** intake has worked off the previous row's requests once it used at most IDLE_TICKS of CPU in SETTLE_WINDOW_MS (or, without /proc, its GET /health answers within SETTLED_MS). */
const SETTLE_WINDOW_MS = 250;
const IDLE_TICKS = 3;
const SETTLED_MS = 50;
const PAGE = 100;
/** Changes per `changed_since` page while reading to the end (the API's largest `limit`). */
const CHANGES_PAGE = 1_000;

interface RowDefinition {
  row: number;
  name: string;
  description: string;
  /** At least this × hello-world's req/s. */
  ratioTarget?: number;
  /** p99 at most this. */
  p99TargetMs?: number;
  /** The row that does the same work the cheapest known way: its req/s is reported beside this row's. */
  anchorRow?: number;
}

const DEFINITIONS: RowDefinition[] = [
  { row: 1, name: 'fastify hello-world', description: 'GET /health of bench/support/hello-server.ts: a bare Fastify app (no logger, schema or database), the anchor of every ratio' },
  {
    row: 2,
    name: `GET ${LIST}?per_page=15`,
    description: 'the first page of the public list, 15 pornstars with their aliases and thumbnails',
    ratioTarget: TARGET.listToHello,
    p99TargetMs: TARGET.listP99Ms,
    anchorRow: 8,
  },
  {
    row: 3,
    name: `GET ${LIST}?per_page=15, If-None-Match → 304`,
    description: "row 2 with If-None-Match: the list's own ETag, read once before the load; every response must be a 304",
    ratioTarget: TARGET.notModifiedToHello,
    anchorRow: 9,
  },
  { row: 4, name: `GET ${LIST}?q=${SEARCH}&per_page=15`, description: `a two-letter prefix, ranked by relevance (the default with q): "${SEARCH}" starts a word of many generated names or aliases`, p99TargetMs: TARGET.searchP99Ms, anchorRow: 8 },
  { row: 5, name: `GET ${LIST}?sort=-views&per_page=15`, description: "the most viewed first (no target; issue 15's outside probe measured it)", anchorRow: 8 },
  {
    row: 6,
    name: `GET ${LIST}?changed_since=<cursor>`,
    description: `a second feed with ${100 / CHANGED_EVERY} % of the items changed (views of every ${CHANGED_EVERY}th item) is ingested; one request with the cursor of before that run must return every changed item`,
  },
  {
    row: 7,
    name: `GET /images/<sha256>.<ext>?w=${VARIANT_WIDTH}&format=${VARIANT_FORMAT}`,
    description:
      'a cached variant of a cached image: the cached_url of a thumbnail URL with ?w=&format=, made by one request before the load. This bench runs no image worker: it caches one image itself (a 1280×720 JPEG, as a download stores it) before intake starts',
    ratioTarget: TARGET.variantToHello,
    anchorRow: 10,
  },
  {
    row: 8,
    name: "bare Fastify serving row 2's body from memory",
    description:
      "the same-work anchor of rows 2, 4 and 5 (bench/support/static-body-server.ts): GET answered with the very body row 2 answers (about 24 KB), kept in memory, with no logger, schema, database or cache lookup. When it too is below a row's ratio target, that target is out of this machine's reach for bodies of this size",
  },
  {
    row: 9,
    name: "bare Fastify answering row 3's 304",
    description:
      'the same-work anchor of row 3 (the same server as row 8): If-None-Match with its ETag answered 304 with the same validators intake sends (ETag, Last-Modified, Cache-Control), with no logger, schema, database or cache lookup',
  },
  {
    row: 10,
    name: "bare Fastify serving row 7's variant from memory",
    description:
      "the same-work anchor of row 7 (bench/support/static-body-server.ts with BODY_TYPE): GET answered with the very bytes of row 7's variant, with its content type and validators, kept in memory, with no logger, schema or lookup. When it too is below row 7's ratio target, that target is out of this machine's reach for an image of this size",
  },
];

/** One autocannon target: a URL, its headers and the one status every response must have. */
interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  expected: number;
}

/** Row 6, once `changed_since` answers: the cursor of before the second run and how many items that run changed. */
interface ChangedTarget {
  url: string;
  expectedItems: number;
}

/** `notes`: [name, text] lines of the row's table entry. */
type Prepared = { load: LoadTarget; notes?: Array<[string, string]> } | { changed: ChangedTarget; notes?: Array<[string, string]> } | { skipped: string; problems?: string[] };

interface LoadRun extends LoadResult {
  problems: string[];
}

interface ChangedRun {
  ms: number;
  /** The unmeasured request before it (another limit), when the rows are warmed up. */
  warmUpMs: number | null;
  status: number;
  items: number | null;
  problems: string[];
}

type RunResult = LoadRun | ChangedRun;

interface ListBody {
  data?: unknown[];
  meta?: { total?: number; next_cursor?: string | number | null };
  next_cursor?: string | number | null;
}

interface ThumbnailUrlsBody {
  data?: Array<{ cached_url?: string | null }>;
}

const say = (text: string) => process.stderr.write(`${text}\n`);
const dbFile = (dataDir: string) => path.join(dataDir, 'intake.db');
let rssFiles = 0;

function childEnv(dataDir: string): Record<string, string> {
  return { DATA_DIR: dataDir, DATABASE_URL: `sqlite:${dbFile(dataDir)}`, FEED_INGEST_ON_START: 'false', LOG_LEVEL: 'warn', METRICS_PORT: '0' };
}

function ingest(root: string, name: string, dataDir: string, file: string): Promise<Exit> {
  return runNode(name, CLI_JS, ['feed:ingest', '--url', file], childEnv(dataDir), path.join(root, `rss-${++rssFiles}`), 15 * 60_000);
}

/** Ingests `file` and throws unless the run read every item; returns the run. */
async function ingestChecked(root: string, name: string, dataDir: string, file: string) {
  const exit = await ingest(root, name, dataDir, file);
  const run = fs.existsSync(dbFile(dataDir)) ? lastFeedRun(dbFile(dataDir)) : undefined;
  const check = newRow(0, name, '');
  verifyIngest(check, name, exit, run, ['succeeded'], ITEMS);
  if (check.problems.length > 0) throw new Error(check.problems.join('; '));
  return { exit, run: run! };
}

function startIntake(dataDir: string): Promise<Server> {
  return startServer('intake ROLE=api', MAIN_JS, { ...childEnv(dataDir), ...intakeNodeOptions(), ROLE: 'api' });
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, ms: performance.now() - started };
}

function parse<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

const nextCursorOf = (body: ListBody | undefined) => body?.next_cursor ?? body?.meta?.next_cursor ?? null;

/** One request of a load row before the load: a broken setup fails loudly instead of producing a table of errors. */
async function sanity(url: string, headers: Record<string, string> = {}): Promise<{ ok: boolean; body: ListBody | undefined; why: string }> {
  const response = await get(url, headers);
  const ok = response.status === 200;
  return { ok, body: parse<ListBody>(response.text), why: ok ? '' : `${url} answered ${response.status}: ${response.text.slice(0, 300)}` };
}

/** Row 3: the list's ETag, and whether sending it back answers 304. */
async function prepareNotModified(base: string): Promise<Prepared> {
  const url = `${base}${LIST}?per_page=15`;
  const first = await get(url);
  if (first.status !== 200) return { skipped: 'failed', problems: [`${url} answered ${first.status}: ${first.text.slice(0, 300)}`] };
  const etag = first.headers.get('etag');
  if (!etag) return { skipped: 'no ETag on the list yet' };
  const again = await get(url, { 'if-none-match': etag });
  if (again.status !== 304) return { skipped: `answered ${again.status}, not 304` };
  return { load: { url, headers: { accept: 'application/json', 'if-none-match': etag }, expected: 304 }, notes: [['ETag', etag]] };
}

/**
 * The cursor a client holds once it has read every change: page through `changed_since` from 0,
 * following `next_cursor` (top level or in `meta`), until a page comes back empty or without a
 * new cursor. Undefined when the API does not page that way.
 */
async function cursorAtEnd(base: string): Promise<string | undefined> {
  let cursor = '0';
  for (let pages = 0; pages <= Math.ceil(ITEMS / CHANGES_PAGE) + 10; pages += 1) {
    const response = await get(`${base}${LIST}?changed_since=${encodeURIComponent(cursor)}&limit=${CHANGES_PAGE}`);
    if (response.status !== 200) throw new Error(`changed_since=${cursor} answered ${response.status}: ${response.text.slice(0, 300)}`);
    const body = parse<ListBody>(response.text);
    const next = nextCursorOf(body);
    if (next === null) return undefined;
    const done = (body?.data?.length ?? 0) === 0 || String(next) === cursor;
    cursor = String(next);
    if (done) return cursor;
  }
  throw new Error(`changed_since: still not at the end after ${Math.ceil(ITEMS / CHANGES_PAGE) + 10} pages of ${CHANGES_PAGE}`);
}

/**
 * Row 6. `changed_since` is not built yet in every checkout: the API is asked first (on the first
 * catalog, `changed_since=0`); a 422/400 means the parameter is refused, and a 200 without a
 * `next_cursor` means it is ignored: either way the row is skipped and nothing else happens. Once
 * it answers, the cursor of "before the second run" is read (the `next_cursor` after paging to the
 * end, {@link cursorAtEnd}), a second feed with 1 % of the items changed is ingested, and intake is
 * restarted (a cache of its own process would not see the CLI's write): `intake.server` is then
 * the new process. The measured request is `changed_since=<that cursor>`, without `limit`:
 * one request must return every changed item.
 */
async function prepareChanged(root: string, dataDir: string, intake: { server: Server }): Promise<Prepared> {
  const server = intake.server;
  const probe = await get(`${server.url}${LIST}?changed_since=0&limit=${CHANGES_PAGE}`);
  if (probe.status !== 200) return { skipped: `changed_since is not built yet (changed_since=0 answered ${probe.status})` };
  if (nextCursorOf(parse<ListBody>(probe.text)) === null) return { skipped: 'changed_since is not built yet (answered 200 with no next_cursor: the parameter is ignored)' };
  const cursor = await cursorAtEnd(server.url);
  if (cursor === undefined) return { skipped: 'failed', problems: ['changed_since answered a page with no next_cursor'] };

  const file = path.join(root, 'feed-changed.json');
  let changed = 0;
  say(`  writing the same feed with the views of every ${CHANGED_EVERY}th item changed`);
  await writeFeedFile(file, {
    ...FEED,
    mutate: (item, index) => {
      if (index % CHANGED_EVERY !== 0) return;
      item.attributes.stats.views += 1;
      changed += 1;
    },
  });
  await server.stop();
  say(`  ingesting it (${fmt(changed)} items changed)`);
  const { run } = await ingestChecked(root, 'second feed:ingest', dataDir, file);
  fs.rmSync(file, { force: true });
  intake.server = await startIntake(dataDir);
  if (run.updated_count !== changed) return { skipped: 'failed', problems: [`the second run updated ${run.updated_count} items, not the ${changed} changed`] };
  const notes: Array<[string, string]> = [
    ['cursor before the second run', cursor],
    ['second run', `${fmt(run.updated_count)} items updated, ${fmt(run.created_count)} created, ${fmt(run.removed_count)} removed`],
  ];
  return { changed: { url: `${intake.server.url}${LIST}?changed_since=${encodeURIComponent(cursor)}`, expectedItems: changed }, notes };
}

/** A row's preparation that throws is a failed row, not a failed bench. */
async function attempt(prepare: () => Promise<Prepared>): Promise<Prepared> {
  try {
    return await prepare();
  } catch (error) {
    return { skipped: 'failed', problems: [error instanceof Error ? error.message : String(error)] };
  }
}

/**
 * Row 7: an image variant needs a cached image, which main() caches before intake starts (this
 * bench runs no image worker). The row finds it through the API (a thumbnail URL with a
 * `cached_url`) and asks for its variant once, which makes it; the load then reads the made copy.
 */
async function prepareVariant(base: string): Promise<Prepared> {
  const response = await get(`${base}/api/v1/pornstar-thumbnail-urls?per_page=${PAGE}`);
  if (response.status !== 200) return { skipped: 'failed', problems: [`GET /api/v1/pornstar-thumbnail-urls answered ${response.status}: ${response.text.slice(0, 300)}`] };
  const cached = parse<ThumbnailUrlsBody>(response.text)?.data?.find((u) => typeof u.cached_url === 'string' && u.cached_url !== '')?.cached_url;
  if (!cached) return { skipped: 'failed', problems: ['no cached_url among the first thumbnail URLs, though the bench cached the first one'] };
  const url = `${base}${new URL(cached).pathname}?w=${VARIANT_WIDTH}&format=${VARIANT_FORMAT}`;
  const made = await get(url, { accept: 'image/*' });
  const type = made.headers.get('content-type') ?? '';
  if (made.status !== 200 || type !== `image/${VARIANT_FORMAT}`) return { skipped: 'failed', problems: [`${new URL(url).pathname}${new URL(url).search} answered ${made.status} ${type}: ${made.text.slice(0, 300)}`] };
  const served = await get(url, { accept: 'image/*' });
  const notes: Array<[string, string]> = [
    ['image', new URL(cached).pathname],
    ['first request (makes the variant)', `${fmt(made.ms, 1)} ms`],
    ['second request (reads it)', `${fmt(served.ms, 1)} ms, ${fmt(Number(served.headers.get('content-length')))} bytes`],
  ];
  return { load: { url, headers: { accept: 'image/*' }, expected: 200 }, notes };
}

function hit(target: LoadTarget, durationS: number): Promise<autocannon.Result> {
  return autocannon({ url: target.url, connections: CONNECTIONS, duration: durationS, timeout: 10, method: 'GET', headers: target.headers });
}

function toLoadResult(endpoint: string, result: autocannon.Result): LoadResult {
  return loadResultOf(endpoint, CONNECTIONS, result);
}

/** Responses of another status than `expected`, and connection errors: any makes the latencies meaningless (as loadProblems, for one expected status). */
function statusProblems(r: LoadResult, expected: number, warmup: boolean): string[] {
  const prefix = warmup ? 'warm-up: ' : '';
  const others = Object.entries(r.statusCodes).filter(([code, n]) => Number(code) !== expected && n > 0);
  const answered = Object.values(r.statusCodes).reduce((sum, n) => sum + n, 0);
  return [
    ...(others.length > 0 ? [`${prefix}${others.reduce((sum, [, n]) => sum + n, 0)} responses other than ${expected} ${JSON.stringify(r.statusCodes)}`] : []),
    ...(r.errors > 0 ? [`${prefix}${r.errors} connection errors (${r.timeouts} timeouts)`] : []),
    ...(answered === 0 && !warmup ? ['no response at all'] : []),
  ];
}

async function measureLoad(definition: RowDefinition, target: LoadTarget): Promise<LoadRun> {
  const problems: string[] = [];
  if (WARMUP_S > 0) problems.push(...statusProblems(toLoadResult(definition.name, await hit(target, WARMUP_S)), target.expected, true));
  const result = toLoadResult(definition.name, await hit(target, DURATION_S));
  problems.push(...statusProblems(result, target.expected, false));
  return { ...result, problems };
}

/**
 * Row 6's run: one request, timed from the request to the last byte of the body. Each round asks
 * with another `limit` (all above the changed count), so that no round is answered from intake's
 * answer cache, which keys by URL: every figure is the database's work. The process is warm from
 * the round's load rows.
 */
async function measureChanged(target: ChangedTarget, round: number): Promise<ChangedRun> {
  // The warm-up of a row that times one request: the same work with another limit, which the
  // answer cache keys apart from the measured one.
  const warmUp = WARMUP_S > 0 ? await get(`${target.url}&limit=${CHANGES_PAGE / 2 + 1 - round}`) : undefined;
  const response = await get(`${target.url}&limit=${CHANGES_PAGE + 1 - round}`);
  const problems: string[] = [];
  const items = parse<ListBody>(response.text)?.data?.length ?? null;
  if (response.status !== 200) problems.push(`answered ${response.status}: ${response.text.slice(0, 300)}`);
  else if (items !== target.expectedItems) problems.push(`returned ${items ?? 'no'} items of the ${target.expectedItems} changed`);
  if (warmUp && warmUp.status !== 200) problems.push(`the warm-up request answered ${warmUp.status}`);
  return { ms: response.ms, warmUpMs: warmUp?.ms ?? null, status: response.status, items, problems };
}

/** CPU time (user + system) of a live process in clock ticks (1/100 s), from /proc; undefined off Linux. */
function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/**
 * autocannon stops (and times out) with requests in flight that intake still answers, seconds of
 * them when a row is slow: the next row, hello-world's included, would share the machine with
 * them. Waits (60 s at most) until intake is idle: at most IDLE_TICKS of CPU over SETTLE_WINDOW_MS
 * (read from /proc), or, where /proc is not there, its GET /health answering within SETTLED_MS.
 */
async function settle(server: Server): Promise<void> {
  const started = performance.now();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = cpuTicks(server.child.pid);
    const { ms } = await get(`${server.url}/health`);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
    const after = cpuTicks(server.child.pid);
    const idle = before === undefined || after === undefined ? ms <= SETTLED_MS : after - before <= IDLE_TICKS;
    if (idle || Date.now() > deadline) break;
  }
  const waited = (performance.now() - started) / 1000;
  if (waited > 1) say(`  waited ${fmt(waited, 1)} s for intake to answer the previous row's requests`);
}

function median(values: Array<number | null | undefined>): number | null {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const isLoadRun = (run: RunResult): run is LoadRun => 'requestsPerSecond' in run;

function report(definition: RowDefinition, prepared: Prepared | undefined, runs: RunResult[], helloPerSecond: number | null | undefined, failure: string | undefined, anchors: ReadonlyMap<number, number>): RowResult {
  const row = newRow(definition.row, definition.name, definition.description);
  if (!prepared) return { ...row, skipped: failure ? 'failed' : 'not prepared', problems: failure ? [failure] : [] };
  if ('skipped' in prepared) return { ...row, skipped: prepared.skipped, problems: prepared.problems ?? [] };
  runs.forEach((run, i) => row.problems.push(...run.problems.map((p) => `run ${i + 1}: ${p}`)));
  if (failure) row.problems.push(failure);
  const loads = runs.filter(isLoadRun);
  const changed = runs.filter((run): run is ChangedRun => !isLoadRun(run));
  if ('load' in prepared) {
    const perSecond = median(loads.map((r) => r.requestsPerSecond));
    row.metrics.push(metric(`req/s, median of ${loads.length}`, perSecond, '', 0));
    if (definition.row !== 1) {
      const ratio = perSecond !== null && helloPerSecond ? perSecond / helloPerSecond : null;
      const target = definition.ratioTarget === undefined || helloPerSecond === undefined ? undefined : { min: definition.ratioTarget, text: `≥ ${fmt(definition.ratioTarget, 2)} ×` };
      row.metrics.push(metric('ratio to fastify hello-world (row 1)', ratio, '×', 3, target));
      if (helloPerSecond === undefined) row.metrics.push(note('hello-world', 'did not run: add 1 to BENCH_CATALOG_ROWS for the ratio'));
    }
    const anchor = definition.anchorRow === undefined ? undefined : anchors.get(definition.anchorRow);
    if (anchor !== undefined && perSecond !== null) row.metrics.push(metric(`ratio to the same-work anchor (row ${definition.anchorRow})`, perSecond / anchor, '×', 3));
    row.metrics.push(
      metric('p50, median', median(loads.map((r) => r.latencyMs.p50)), 'ms', 1),
      metric('p99, median', median(loads.map((r) => r.latencyMs.p99)), 'ms', 1, definition.p99TargetMs === undefined ? undefined : { max: definition.p99TargetMs }),
      note('req/s of each run', loads.map((r) => fmt(r.requestsPerSecond)).join(' · ') || 'n/a'),
      note('p99 of each run', loads.map((r) => `${fmt(r.latencyMs.p99, 1)} ms`).join(' · ') || 'n/a'),
    );
    const codes: Record<string, number> = {};
    for (const r of loads) for (const [code, n] of Object.entries(r.statusCodes)) codes[code] = (codes[code] ?? 0) + n;
    const errors = loads.reduce((sum, r) => sum + r.errors, 0);
    const statuses = Object.entries(codes).map(([code, n]) => `${code}: ${fmt(n)}`);
    row.metrics.push(note('responses (all runs)', [...statuses, `errors: ${fmt(errors)}`].join(', ')));
  } else {
    row.metrics.push(
      metric(`one request (to the last byte), median of ${changed.length}`, median(changed.map((r) => r.ms)), 'ms', 1, { max: TARGET.changedSinceMs }),
      metric('items returned (every changed item in one response)', median(changed.map((r) => r.items)), '', 0, { equals: prepared.changed.expectedItems }),
      note('each run', changed.map((r) => `${fmt(r.ms, 1)} ms`).join(' · ') || 'n/a'),
      note('its warm-up request, not counted', changed.map((r) => (r.warmUpMs === null ? 'none' : `${fmt(r.warmUpMs, 1)} ms`)).join(' · ') || 'n/a'),
    );
  }
  for (const [name, text] of prepared.notes ?? []) row.metrics.push(note(name, text));
  row.details = { prepared, runs };
  return row;
}

async function main(): Promise<void> {
  for (const file of [MAIN_JS, CLI_JS, HELLO_JS, STATIC_BODY_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (npm run bench:catalog does).`);
  }
  const startedAt = new Date();
  const root = benchTempDir('intake-catalog-bench-');
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const feedFile = path.join(root, 'feed.json');
  say(`▶ writing a ${fmt(ITEMS)}-item feed and ingesting it`);
  const summary = await writeFeedFile(feedFile, FEED);
  const first = await ingestChecked(root, 'feed:ingest', dataDir, feedFile);
  fs.rmSync(feedFile, { force: true });
  say(`  ingested in ${fmt(first.exit.wallMs / 1000, 1)} s`);
  if (ROWS.has(7)) {
    const seeded = await seedCachedImage(dataDir, dbFile(dataDir));
    say(`  row 7: cached a ${fmt(seeded.bytes)}-byte image for ${seeded.url}`);
  }

  const selected = DEFINITIONS.filter((d) => ROWS.has(d.row));
  const prepared = new Map<number, Prepared>();
  const runs = new Map<number, RunResult[]>(selected.map((d) => [d.row, []]));
  const failures = new Map<number, string>();
  const intake = { server: await startIntake(dataDir) };
  const hello = ROWS.has(1) ? await startServer('hello-world', HELLO_JS, {}) : undefined;
  let staticBody: Server | undefined;
  let variantBody: Server | undefined;
  const startStaticBody = async (): Promise<Server> => {
    if (staticBody) return staticBody;
    const bodyFile = path.join(root, 'list-body.json');
    fs.writeFileSync(bodyFile, (await get(`${intake.server.url}${LIST}?per_page=15`)).text);
    staticBody = await startServer('static body', STATIC_BODY_JS, { BODY_FILE: bodyFile });
    return staticBody;
  };
  try {
    say('▶ preparing the rows');
    const list = await sanity(`${intake.server.url}${LIST}?per_page=15`);
    if (!list.ok) throw new Error(list.why);
    if (list.body?.meta?.total !== ITEMS) throw new Error(`the list's meta.total is ${list.body?.meta?.total}, not the ${ITEMS} items ingested`);
    // Row 6 first: it may ingest a second feed and restart intake, which changes the list's ETag.
    if (ROWS.has(6)) {
      prepared.set(6, await attempt(() => prepareChanged(root, dataDir, intake)));
      if (intake.server.child.exitCode !== null || intake.server.child.signalCode !== null) intake.server = await startIntake(dataDir);
    }
    const base = intake.server.url;
    if (hello) prepared.set(1, { load: { url: `${hello.url}/health`, headers: { accept: 'application/json' }, expected: 200 } });
    if (ROWS.has(2)) prepared.set(2, { load: { url: `${base}${LIST}?per_page=15`, headers: { accept: 'application/json' }, expected: 200 } });
    if (ROWS.has(3)) prepared.set(3, await attempt(() => prepareNotModified(base)));
    if (ROWS.has(4)) {
      const url = `${base}${LIST}?q=${SEARCH}&per_page=15`;
      const search = await sanity(url);
      const total = search.body?.meta?.total;
      const share = typeof total === 'number' ? `${fmt(total)} of ${fmt(ITEMS)} (meta.total, ${fmt((100 * total) / ITEMS, 1)} %)` : 'no meta.total';
      if (search.ok) say(`  q=${SEARCH}: ${share} match`);
      // Ranked by default: the same page as with sort=relevance asked for.
      const ranked = search.ok ? await sanity(`${url}&sort=relevance`) : search;
      const idsOf = (body: ListBody | undefined) => JSON.stringify((body?.data as Array<{ id?: number }> | undefined)?.map((item) => item.id));
      const problem = !search.ok ? search.why : !ranked.ok ? ranked.why : idsOf(ranked.body) !== idsOf(search.body) ? `q=${SEARCH} is not ranked by default: sort=relevance answers another page` : '';
      prepared.set(4, problem ? { skipped: 'failed', problems: [problem] } : { load: { url, headers: { accept: 'application/json' }, expected: 200 }, notes: [[`matches of q=${SEARCH}`, share]] });
    }
    if (ROWS.has(5)) {
      const url = `${base}${LIST}?sort=-views&per_page=15`;
      const sorted = await sanity(url);
      prepared.set(5, sorted.ok ? { load: { url, headers: { accept: 'application/json' }, expected: 200 } } : { skipped: 'failed', problems: [sorted.why] });
    }
    if (ROWS.has(7)) prepared.set(7, await attempt(() => prepareVariant(base)));
    const variant = prepared.get(7);
    if (ROWS.has(10) && variant && 'load' in variant) {
      const bodyFile = path.join(root, 'variant-body');
      fs.writeFileSync(bodyFile, Buffer.from(await (await fetch(variant.load.url, { headers: variant.load.headers })).arrayBuffer()));
      variantBody = await startServer('variant body', STATIC_BODY_JS, { BODY_FILE: bodyFile, BODY_TYPE: `image/${VARIANT_FORMAT}` });
      prepared.set(10, { load: { url: `${variantBody.url}/list`, headers: { accept: 'image/*' }, expected: 200 }, notes: [['body', `${fmt(fs.statSync(bodyFile).size)} bytes`]] });
    } else if (ROWS.has(10)) prepared.set(10, { skipped: 'row 7 was not prepared: there is no variant to serve' });
    if (ROWS.has(8)) {
      const server = await startStaticBody();
      const listed = await get(`${server.url}/list`);
      prepared.set(8, { load: { url: `${server.url}/list`, headers: { accept: 'application/json' }, expected: 200 }, notes: [['body', `${fmt(Buffer.byteLength(listed.text))} bytes`]] });
    }
    if (ROWS.has(9)) {
      const server = await startStaticBody();
      const etag = (await get(`${server.url}/list`)).headers.get('etag') ?? '';
      prepared.set(9, { load: { url: `${server.url}/list`, headers: { accept: 'application/json', 'if-none-match': etag }, expected: 304 } });
    }
    for (const definition of selected) {
      const p = prepared.get(definition.row);
      if (p && 'skipped' in p) say(`  row ${definition.row} skipped: ${p.skipped}${p.problems ? ` (${p.problems.join('; ')})` : ''}`);
    }

    for (let round = 1; round <= RUNS; round += 1) {
      for (const definition of selected) {
        const p = prepared.get(definition.row);
        if (!p || 'skipped' in p || failures.has(definition.row)) continue;
        say(`▶ run ${round}/${RUNS}, row ${definition.row}: ${definition.name}`);
        try {
          await settle(intake.server);
          if ('load' in p) {
            const run = await measureLoad(definition, p.load);
            say(`  ${fmt(run.requestsPerSecond)} req/s, p50 ${fmt(run.latencyMs.p50, 1)} ms, p99 ${fmt(run.latencyMs.p99, 1)} ms${run.problems.length > 0 ? ` (${run.problems.join('; ')})` : ''}`);
            runs.get(definition.row)!.push(run);
          } else {
            const run = await measureChanged(p.changed, round);
            say(`  ${fmt(run.ms, 1)} ms, ${run.items ?? 'no'} items${run.problems.length > 0 ? ` (${run.problems.join('; ')})` : ''}`);
            runs.get(definition.row)!.push(run);
          }
        } catch (error) {
          failures.set(definition.row, `run ${round}: ${error instanceof Error ? error.message : String(error)}`);
          say(`  failed: ${failures.get(definition.row)}`);
        }
      }
    }
  } finally {
    await Promise.all([intake.server.stop(), hello?.stop(), staticBody?.stop(), variantBody?.stop()]);
  }

  const helloRuns = runs.get(1)?.filter(isLoadRun);
  const helloPerSecond = helloRuns ? median(helloRuns.map((r) => r.requestsPerSecond)) : undefined;
  // Each row's req/s median, for the rows that name it as their same-work anchor.
  const anchors = new Map<number, number>();
  for (const [row, results] of runs) {
    const perSecond = median(results.filter(isLoadRun).map((r) => r.requestsPerSecond));
    if (perSecond !== null) anchors.set(row, perSecond);
  }
  const rows = selected.map((d) => report(d, prepared.get(d.row), runs.get(d.row)!, helloPerSecond, failures.get(d.row), anchors));

  const cpus = os.cpus();
  const result = {
    bench: 'catalog',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      items: ITEMS,
      feedBytes: summary.bytes,
      seed: FEED.seed,
      durationS: DURATION_S,
      warmupS: WARMUP_S,
      runs: RUNS,
      connections: CONNECTIONS,
      rows: [...ROWS],
      search: SEARCH,
      changedEvery: CHANGED_EVERY,
      variantWidth: VARIANT_WIDTH,
      variantFormat: VARIANT_FORMAT,
    },
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    target: TARGET,
    rows,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `catalog-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  process.stdout.write(
    `\n## Catalog API: ${fmt(ITEMS)} items, ${CONNECTIONS} connections, ${DURATION_S} s per row (after ${WARMUP_S} s warm-up), median of ${RUNS} runs, ${cpus.length} × ${result.machine.cpuModel}, Node ${process.version}\n\n`,
  );
  process.stdout.write(`${table(rows)}\n\n`);
  const missed = missedTargets(rows);
  process.stdout.write(missed.length === 0 ? 'Every target of issue 15 that ran was met.\n' : `Targets NOT met (issue 15, 2-core machine):\n${missed.map((m) => `- ${m}`).join('\n')}\n`);
  process.stdout.write(`Results: ${path.relative(ROOT, file)}\n`);
  if (printBanner(rows, (text) => process.stderr.write(text))) process.exitCode = 1;
}

runBench('bench:catalog', main);
