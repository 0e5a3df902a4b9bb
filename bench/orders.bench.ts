/**
 * `npm run bench:orders`: POST /api/orders (auth, validation, idempotency key, insert and
 * enqueue) under autocannon, next to same-run anchors on the same machine (DESIGN.md §7,
 * issue 11): a bare Fastify hello-world, a bare Fastify + better-sqlite3 single-INSERT route, and
 * pgbench's ceilings for the scale-out row (bench/pgbench/order.sql, one order per transaction,
 * and order-batch16.sql, 16 per transaction). The "ROLE=all sustained" row steps a paced order
 * rate up until the worker's backlog grows. The rows take turns, BENCH_ORDERS_RUNS times, and the
 * median of the runs is reported. Prints a markdown table and writes bench/results/orders-<time>.json.
 *
 * Environment: BENCH_DURATION_S (20), BENCH_CONNECTIONS (50), BENCH_WARMUP_S (3),
 * BENCH_ORDERS_RUNS (3), BENCH_ORDERS_ROWS (hello,insert,api,all,sustained,scale-out,scale-out-anchor,scale-out-anchor-layers,pgbench),
 * BENCH_PGBENCH_S (15), BENCH_PGBENCH_CLIENTS (= BENCH_CONNECTIONS), BENCH_PGBENCH_BATCH_CLIENTS (= BENCH_PGBENCH_CLIENTS),
 * BENCH_PGBENCH_THREADS (2),
 * BENCH_SUSTAINED_RATES (1000,1250,1500,1750,2000,2500,3000), BENCH_SUSTAINED_LEVEL_S (10),
 * BENCH_SUSTAINED_SETTLE_S (2), BENCH_SUSTAINED_TOLERANCE_PCT (2), BENCH_SUSTAINED_DRAIN_S (15),
 * BENCH_POSTGRES_URL, BENCH_AMQP_URL, BENCH_REDIS_URL; BENCH_CPU_PROF_DIR: each server writes a --cpu-prof profile there.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import autocannon from 'autocannon';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { benchTempDir, runBench } from './support/lifecycle.js';
import { MAIN_JS, RESULTS_DIR, ROOT, intEnv, intakeNodeOptions } from './support/settings.js';
import { QUEUE_NAMES } from '../src/app/container.js';
import { preparePgbenchDatabase, type PgbenchDatabase, type PgbenchRun, type PgbenchScript } from './support/pgbench.js';
import { startServer, type Server } from './support/processes.js';
import { prepareScaleOut, SCALE_OUT_URLS } from './support/scale-out.js';
import { BACKLOG_SQL, pacedOrders, sustainedRamp, type SustainedRun, type SustainedSettings } from './support/sustained.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HELLO_JS = path.join(HERE, 'support/hello-server.js');
const INSERT_JS = path.join(HERE, 'support/sqlite-insert-server.js');
const SCALE_OUT_ANCHOR_JS = path.join(HERE, 'support/scale-out-anchor-server.js');

const DURATION_S = intEnv('BENCH_DURATION_S', 20, 1);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50, 1);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 3, 0);
const RUNS = intEnv('BENCH_ORDERS_RUNS', 3, 1);
/** How far under its offered rate a paced level's delivered rate may fall and still count as that level. */
const PACING_TOLERANCE = 0.01;
const ALL_ROWS = ['hello', 'insert', 'api', 'all', 'sustained', 'scale-out', 'scale-out-anchor', 'scale-out-anchor-layers', 'pgbench'] as const;
const SCALE_OUT_ANCHOR = 'hand-written batched scale-out server';
const SCALE_OUT_LAYERED_ANCHOR = 'hand-written batched scale-out server + layers';
type RowKey = (typeof ALL_ROWS)[number];
const ROWS = new Set((process.env.BENCH_ORDERS_ROWS ?? ALL_ROWS.join(',')).split(',').map((key) => key.trim()).filter(Boolean));
for (const key of ROWS) if (!(ALL_ROWS as readonly string[]).includes(key)) throw new Error(`BENCH_ORDERS_ROWS: unknown row "${key}" (rows: ${ALL_ROWS.join(', ')})`);
const PGBENCH = { durationS: intEnv('BENCH_PGBENCH_S', 15, 1), clients: intEnv('BENCH_PGBENCH_CLIENTS', CONNECTIONS, 1), threads: intEnv('BENCH_PGBENCH_THREADS', 2, 1) };
/** Clients of the 16-per-transaction script; issue 11 measured it with 50 and with 8. */
const PGBENCH_BATCH_CLIENTS = intEnv('BENCH_PGBENCH_BATCH_CLIENTS', PGBENCH.clients, 1);

function ratesEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const rates = raw.split(',').map((r) => Number(r.trim()));
  if (rates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error(`${name} must be a comma-separated list of whole numbers >= 1, got "${raw}"`);
  return [...rates].sort((a, b) => a - b);
}
const SUSTAINED: SustainedSettings = {
  rates: ratesEnv('BENCH_SUSTAINED_RATES', [1_000, 1_250, 1_500, 1_750, 2_000, 2_500, 3_000]),
  levelS: intEnv('BENCH_SUSTAINED_LEVEL_S', 10, 2),
  settleS: intEnv('BENCH_SUSTAINED_SETTLE_S', 2, 0),
  connections: CONNECTIONS,
  tolerancePct: intEnv('BENCH_SUSTAINED_TOLERANCE_PCT', 2, 0),
  toleranceMin: 50,
  drainS: intEnv('BENCH_SUSTAINED_DRAIN_S', 15, 0),
  deliveredShare: 0.95,
};
if (SUSTAINED.settleS >= SUSTAINED.levelS) throw new Error('BENCH_SUSTAINED_SETTLE_S must be less than BENCH_SUSTAINED_LEVEL_S');

/** DESIGN.md §7 and issue 11, for the 2-core machine. */
const TARGETS = {
  api: { ratioToInsertRoute: 0.75, p99Ms: 25 },
  scaleOut: { ordersPerSecond: 2_500, p99Ms: 40, ratioToOrderSql: 2.5 },
  sustained: { ordersPerSecond: 1_500 },
};

const ORDER_SQL: PgbenchScript = { file: 'order.sql', ordersPerTransaction: 1 };
const BATCH_SQL: PgbenchScript = { file: 'order-batch16.sql', ordersPerTransaction: 16 };

/** One single and one recurring item, as a client would send them. */
const ORDER_BODY = JSON.stringify({
  client: { identity: 'Bench Client Ltd', contact_point: 'orders@bench.example' },
  contents: [
    { label: 'Starter kit', kind: 'single', cost: 49.9, meta: { priority: 'high', sku: 'KIT-1' } },
    { label: 'Monthly refill', kind: 'recurring', cost: 12.5, meta: { priority: 'normal', frequency: 'monthly' } },
  ],
});

const ROLE_ALL_ENV = { ROLE: 'all', SIMULATOR_ENABLED: 'true', SIMULATOR_PORT: '0', SIMULATOR_DELAY_MS: '0-0', SIMULATOR_FAILURE_RATE: '0' };

interface Target {
  server: Server;
  token: string;
  /** Counts rows of an intake target's database (a query returning one `n`). */
  count?: (sql: string) => Promise<number>;
  /** Called after the row is measured, when the server has stopped. */
  cleanup?: () => Promise<void>;
}

type RowDefinition =
  | { key: RowKey; kind: 'load'; name: string; description: string; start(): Promise<Target> }
  | { key: RowKey; kind: 'sustained'; name: string; description: string }
  | { key: RowKey; kind: 'pgbench'; name: string; description: string; script: PgbenchScript };

/** One autocannon measurement of a load row. */
interface LoadRun {
  requestsPerSecond: { mean: number; median: number; stddev: number; min: number; max: number };
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  requests: number;
  responses2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  /** Orders rows written during the measured run; must equal responses2xx. */
  ordersStored?: number;
  /** For ROLE=all: recurring items the in-process worker completed by the end of the run. */
  pipeline?: { recurringItems: number; completed: number; pending: number };
  problems: string[];
}

type RunResult = { kind: 'load'; run: LoadRun } | { kind: 'sustained'; run: SustainedRun; problems: string[] } | { kind: 'pgbench'; run: PgbenchRun };

interface RowReport {
  key: RowKey;
  name: string;
  description: string;
  unit: 'req/s' | 'orders/s';
  /** The row's figure, the median of its runs. */
  value: number | null;
  perRun: number[];
  p50Ms: number | null;
  p99Ms: number | null;
  non2xx: number;
  errors: number;
  ratioToHelloWorld: number | null;
  /** The row's own same-run anchor(s) and its ratio to each. */
  anchors: Array<{ name: string; ratio: number | null }>;
  target?: string;
  met?: boolean;
  notes: string[];
  /** Anything that makes the row's numbers invalid: non-2xx, errors, failed runs. */
  problems: string[];
  /** The sustained row: the median offered rate of each run's highest flat level (0 for a run with none). */
  flatLevel?: number | null;
  runs: unknown[];
}

const say = (text: string) => process.stderr.write(`${text}\n`);
const tempDir = () => benchTempDir('intake-bench-');

async function startIntake(name: string, env: Record<string, string>): Promise<Target> {
  const dataDir = tempDir();
  const server = await startServer(name, MAIN_JS, {
    ...intakeNodeOptions(),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
    FEED_INGEST_ON_START: 'false',
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
    ...env,
  });
  const password = 'bench password 123';
  const response = await fetch(`${server.url}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: `bench-${randomUUID()}@bench.example`, password, password_confirmation: password }),
  });
  const body = (await response.json()) as { token?: string };
  if (response.status !== 201 || !body.token) {
    await server.stop();
    throw new Error(`${name}: POST /api/register answered ${response.status}: ${JSON.stringify(body)}`);
  }
  const dbFile = env.DATABASE_URL ? undefined : path.join(dataDir, 'intake.db');
  return { server, token: body.token, count: dbFile ? async (sql) => countInSqlite(dbFile, sql) : undefined };
}

/** ROLE=api on PostgreSQL + Redis + RabbitMQ, its outbox relay publishing in the same process. */
async function startScaleOut(): Promise<Target> {
  const scaleOut = await prepareScaleOut();
  try {
    const target = await startIntake('intake ROLE=api, scale-out', { ROLE: 'api', ...scaleOut.env });
    return { ...target, count: scaleOut.count, cleanup: () => scaleOut.cleanup(QUEUE_NAMES) };
  } catch (error) {
    await scaleOut.cleanup(QUEUE_NAMES);
    throw error;
  }
}

/** The scale-out row's same-work anchor: the work by hand, batched, on the tables of bench/pgbench/setup.sql. */
async function startScaleOutAnchor(layers: boolean): Promise<Target> {
  const name = `bench_anchor_${process.pid}_${randomUUID().slice(0, 8)}`;
  const database = await preparePgbenchDatabase(SCALE_OUT_URLS.postgres, name);
  const queue = `${name}.orders`;
  // The server deletes its queue on a clean exit; this also covers one that was killed.
  const deleteQueue = async () => {
    const connection = await connect(SCALE_OUT_URLS.amqp);
    try {
      await (await connection.createChannel()).deleteQueue(queue);
    } finally {
      await connection.close();
    }
  };
  try {
    const server = await startServer(layers ? SCALE_OUT_LAYERED_ANCHOR : SCALE_OUT_ANCHOR, SCALE_OUT_ANCHOR_JS, {
      ANCHOR_LAYERS: String(layers),
      DATABASE_URL: database.url,
      REDIS_URL: SCALE_OUT_URLS.redis,
      AMQP_URL: SCALE_OUT_URLS.amqp,
      ANCHOR_QUEUE: queue,
    });
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    return {
      server,
      token: 'anchor',
      count: async (sql) => Number((await pool.query<{ n: string }>(sql.replace(/\borders\b/, 'o').replace(/\boutbox\b/, 'ob'))).rows[0]?.n ?? 0),
      cleanup: async () => {
        await pool.end();
        await database.drop();
        await deleteQueue();
      },
    };
  } catch (error) {
    await database.drop();
    await deleteQueue();
    throw error;
  }
}

/** The anchor: one better-sqlite3 INSERT per request, WAL and synchronous=FULL as intake's SQLite. */
async function startInsertRoute(): Promise<Target> {
  const dataDir = tempDir();
  const dbFile = path.join(dataDir, 'anchor.db');
  const server = await startServer('fastify + better-sqlite3 INSERT', INSERT_JS, { DATA_DIR: dataDir });
  return { server, token: 'anchor', count: async (sql) => countInSqlite(dbFile, sql) };
}

const DEFINITIONS: RowDefinition[] = [
  {
    key: 'hello',
    kind: 'load',
    name: 'fastify hello-world',
    description: 'bare Fastify, POST route that parses the same JSON body and answers 201 with a small JSON object',
    start: async () => ({ server: await startServer('hello-world', HELLO_JS, {}), token: 'anchor' }),
  },
  {
    key: 'insert',
    kind: 'load',
    name: 'fastify + better-sqlite3 single-INSERT route',
    description: 'bare Fastify, POST route that parses the same JSON body and stores it with one better-sqlite3 INSERT (autocommit, WAL, synchronous=FULL), then answers 201: the anchor of ROLE=api',
    start: startInsertRoute,
  },
  {
    key: 'api',
    kind: 'load',
    name: 'orders, ROLE=api',
    description: 'POST /api/orders: bearer auth, validation, Idempotency-Key, order + items + job + idempotency record in one SQLite transaction',
    start: () => startIntake('intake ROLE=api', { ROLE: 'api' }),
  },
  {
    key: 'all',
    kind: 'load',
    name: 'orders, ROLE=all',
    description: 'the same with the worker and the simulator in the same process (SIMULATOR_DELAY_MS=0-0, failure rate 0): the cost of the in-process worker',
    start: () => startIntake('intake ROLE=all', ROLE_ALL_ENV),
  },
  {
    key: 'sustained',
    kind: 'sustained',
    name: 'orders, ROLE=all sustained',
    description:
      'ROLE=all (simulator instant), orders with one recurring item each at a paced rate (autocannon overallRate) stepped through BENCH_SUSTAINED_RATES: the highest delivered rate at which the backlog of unfinished recurring items stays flat',
  },
  {
    key: 'scale-out',
    kind: 'load',
    name: 'orders, scale-out ROLE=api',
    description:
      'ROLE=api on PostgreSQL + Redis + RabbitMQ: order, items, idempotency record and outbox rows in one PostgreSQL transaction, the Idempotency-Key lock and the duplicate guard in Redis; the relay in the same process publishes with confirms',
    start: startScaleOut,
  },
  {
    key: 'scale-out-anchor',
    kind: 'load',
    name: SCALE_OUT_ANCHOR,
    description:
      "the scale-out row's writes by hand, the fastest known way (bench/support/scale-out-anchor-server.ts): Redis SET NX for the key, then the requests that arrived meanwhile in one PostgreSQL transaction of multi-row INSERTs (orders, items, outbox, idempotency records), up to 4 at once; a relay publishes with confirms and deletes. No auth, validation, request ids, metrics or job headers",
    start: () => startScaleOutAnchor(false),
  },
  {
    key: 'scale-out-anchor-layers',
    kind: 'load',
    name: SCALE_OUT_LAYERED_ANCHOR,
    description:
      "the same, plus by hand the per-request work DESIGN.md requires of intake, each the cheapest known way (ANCHOR_LAYERS=true): bearer token against an in-process cache, body checked by intake's JSON schema, x-request-id, a Prometheus histogram per request, messages with intake's job properties",
    start: () => startScaleOutAnchor(true),
  },
  {
    key: 'pgbench',
    kind: 'pgbench',
    name: 'pgbench order.sql (1 order/transaction)',
    description: "the database's ceiling for one order per transaction: bench/pgbench/order.sql (token and idempotency SELECTs, then BEGIN, 4 INSERTs, END)",
    script: ORDER_SQL,
  },
  {
    key: 'pgbench',
    kind: 'pgbench',
    name: 'pgbench order-batch16.sql (16 orders/transaction)',
    description: "the database's ceiling with batching: bench/pgbench/order-batch16.sql, 16 orders' rows as multi-row INSERTs in one statement; orders/s = tps × 16",
    script: BATCH_SQL,
  },
];

function postOrders(target: Target, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url: target.server.url,
    connections: CONNECTIONS,
    duration: durationS,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${target.token}` },
    body: ORDER_BODY,
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        // A fresh key per request: every request stores a new order (no replay, no duplicate guard).
        setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }),
      },
    ],
  });
}

/** One request before the load, so that a broken setup fails loudly instead of producing a table of errors. */
async function sanityCheck(target: Target): Promise<void> {
  const response = await fetch(`${target.server.url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}`, 'idempotency-key': randomUUID() },
    body: ORDER_BODY,
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`${target.server.name}: the sanity request answered ${response.status}: ${text.slice(0, 500)}`);
}

function countInSqlite(dbFile: string, sql: string): number {
  const db = new Sqlite(dbFile, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare(sql).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

/** Polls `remaining` until it is 0 or `timeoutMs` passed; returns the last count. */
async function drained(remaining: () => Promise<number>, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await remaining();
    if (left === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function statusCodesOf(result: autocannon.Result): Record<string, number> {
  return Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]));
}

async function measureLoad(definition: Extract<RowDefinition, { kind: 'load' }>): Promise<LoadRun> {
  const target = await definition.start();
  try {
    await sanityCheck(target);
    const problems: string[] = [];
    if (WARMUP_S > 0) {
      say(`  warm-up ${WARMUP_S} s`);
      const warmup = await postOrders(target, WARMUP_S);
      if (warmup.non2xx + warmup.errors > 0) problems.push(`warm-up: ${warmup.non2xx} non-2xx, ${warmup.errors} errors ${JSON.stringify(statusCodesOf(warmup))}`);
    }
    const ordersBefore = target.count ? await target.count('select count(*) as n from orders') : 0;
    say(`  measuring ${DURATION_S} s, ${CONNECTIONS} connections`);
    const result = await postOrders(target, DURATION_S);
    const run: LoadRun = {
      requestsPerSecond: { mean: result.requests.mean, median: result.requests.p50, stddev: result.requests.stddev, min: result.requests.min, max: result.requests.max },
      latencyMs: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      requests: result.requests.total,
      responses2xx: result['2xx'],
      non2xx: result.non2xx,
      statusCodes: statusCodesOf(result),
      errors: result.errors,
      timeouts: result.timeouts,
      durationS: result.duration,
      problems,
    };
    if (result.non2xx > 0) problems.push(`${result.non2xx} non-2xx responses ${JSON.stringify(run.statusCodes)}`);
    if (result.errors > 0) problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
    if (target.count) {
      run.ordersStored = (await target.count('select count(*) as n from orders')) - ordersBefore;
      // autocannon stops with requests in flight, at the end of the warm-up and of the run: up to one
      // per connection each time may be stored without being counted.
      const uncounted = run.ordersStored - run.responses2xx;
      if (uncounted < 0 || uncounted > 2 * CONNECTIONS) problems.push(`${run.ordersStored} orders stored for ${run.responses2xx} 2xx responses`);
    }
    if (target.count && definition.key !== 'insert') {
      const outboxLeft = await drained(() => target.count!('select count(*) as n from outbox'), 10_000);
      if (outboxLeft > 0) problems.push(`${outboxLeft} jobs still in the outbox 10 s after the run`);
    }
    if (definition.key === 'all' && target.count) {
      const recurringItems = await target.count("select count(*) as n from order_items where kind = 'recurring'");
      const completed = await target.count("select count(*) as n from order_items where kind = 'recurring' and status = 'completed'");
      run.pipeline = { recurringItems, completed, pending: recurringItems - completed };
    }
    return run;
  } finally {
    await target.server.stop();
    await target.cleanup?.();
  }
}

async function measureSustained(): Promise<{ run: SustainedRun; problems: string[] }> {
  const target = await startIntake('intake ROLE=all sustained', ROLE_ALL_ENV);
  try {
    await sanityCheck(target);
    const backlog = () => target.count!(BACKLOG_SQL);
    const problems: string[] = [];
    if (WARMUP_S > 0) {
      say(`  warm-up ${WARMUP_S} s at ${SUSTAINED.rates[0]}/s`);
      const warmup = await pacedOrders(target.server.url, target.token, SUSTAINED.rates[0]!, WARMUP_S, CONNECTIONS);
      if (warmup.non2xx + warmup.errors > 0) problems.push(`warm-up: ${warmup.non2xx} non-2xx, ${warmup.errors} errors ${JSON.stringify(statusCodesOf(warmup))}`);
    }
    say(`  stepping ${SUSTAINED.rates.join(', ')} orders/s, ${SUSTAINED.levelS} s each`);
    const run = await sustainedRamp({ url: target.server.url, token: target.token, backlog }, SUSTAINED, say);
    for (const level of run.levels) {
      if (level.non2xx + level.errors > 0) problems.push(`at ${level.offeredPerSecond}/s: ${level.non2xx} non-2xx, ${level.errors} connection errors`);
    }
    return { run, problems };
  } finally {
    await target.server.stop();
  }
}

let pgbenchDatabase: PgbenchDatabase | undefined;

const pgbenchClients = (script: PgbenchScript) => (script.ordersPerTransaction > 1 ? PGBENCH_BATCH_CLIENTS : PGBENCH.clients);

async function measurePgbench(script: PgbenchScript): Promise<PgbenchRun> {
  pgbenchDatabase ??= await preparePgbenchDatabase(SCALE_OUT_URLS.postgres, `bench_pgbench_${process.pid}`);
  await pgbenchDatabase.vacuum();
  const clients = pgbenchClients(script);
  const threads = Math.min(PGBENCH.threads, clients);
  say(`  pgbench ${script.file}: ${clients} clients, ${threads} threads, ${PGBENCH.durationS} s`);
  const run = await pgbenchDatabase.run(script, { ...PGBENCH, clients, threads });
  say(`  ${fmt(run.tps)} tps = ${fmt(run.ordersPerSecond)} orders/s, latency average ${fmt(run.latencyAverageMs, 1)} ms`);
  return run;
}

async function runOnce(definition: RowDefinition): Promise<RunResult> {
  switch (definition.kind) {
    case 'load':
      return { kind: 'load', run: await measureLoad(definition) };
    case 'sustained':
      return { kind: 'sustained', ...(await measureSustained()) };
    case 'pgbench':
      return { kind: 'pgbench', run: await measurePgbench(definition.script) };
  }
}

function median(values: Array<number | null | undefined>): number | null {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtOr = (n: number | null, digits = 0) => (n === null ? 'n/a' : fmt(n, digits));

function summarize(definition: RowDefinition, results: RunResult[], failure: string | undefined): RowReport {
  const row: RowReport = {
    key: definition.key,
    name: definition.name,
    description: definition.description,
    unit: definition.kind === 'load' && (definition.key === 'hello' || definition.key === 'insert') ? 'req/s' : 'orders/s',
    value: null,
    perRun: [],
    p50Ms: null,
    p99Ms: null,
    non2xx: 0,
    errors: 0,
    ratioToHelloWorld: null,
    anchors: [],
    notes: [],
    problems: failure ? [failure] : [],
    runs: results.map((r) => r.run),
  };
  const loads = results.flatMap((r) => (r.kind === 'load' ? [r.run] : []));
  const ramps = results.flatMap((r) => (r.kind === 'sustained' ? [r] : []));
  const pgbench = results.flatMap((r) => (r.kind === 'pgbench' ? [r.run] : []));
  if (loads.length > 0) {
    row.perRun = loads.map((r) => r.requestsPerSecond.mean);
    row.p50Ms = median(loads.map((r) => r.latencyMs.p50));
    row.p99Ms = median(loads.map((r) => r.latencyMs.p99));
    row.non2xx = loads.reduce((sum, r) => sum + r.non2xx, 0);
    row.errors = loads.reduce((sum, r) => sum + r.errors, 0);
    loads.forEach((r, i) => row.problems.push(...r.problems.map((p) => `run ${i + 1}: ${p}`)));
    loads.forEach((r, i) => {
      if (r.pipeline) row.notes.push(`run ${i + 1}: the worker completed ${fmt(r.pipeline.completed)} of ${fmt(r.pipeline.recurringItems)} recurring items by the end of the run (${fmt(r.pipeline.pending)} pending)`);
    });
  }
  if (ramps.length > 0) {
    row.perRun = ramps.map((r) => r.run.sustainedPerSecond);
    row.flatLevel = median(ramps.map((r) => r.run.sustainedLevel ?? 0));
    const bestLevels = ramps.map(({ run }) => run.levels.find((l) => l.flat && l.offeredPerSecond === run.sustainedLevel));
    row.p50Ms = median(bestLevels.map((l) => l?.latencyMs.p50));
    row.p99Ms = median(bestLevels.map((l) => l?.latencyMs.p99));
    for (const { run } of ramps) {
      for (const level of run.levels) {
        row.non2xx += level.non2xx;
        row.errors += level.errors;
      }
    }
    ramps.forEach((r, i) => {
      row.problems.push(...r.problems.map((p) => `run ${i + 1}: ${p}`));
      const steps = r.run.levels.map((l) => `${fmt(l.offeredPerSecond)}/s ${l.flat ? 'flat' : `not flat (${l.why})`}, backlog ${fmt(l.backlogAtStart)} → ${fmt(l.backlogAtEnd)}`).join('; ');
      row.notes.push(`run ${i + 1}: ${steps}${r.run.everyLevelFlat ? ' (every level flat: the figure is a lower bound; add higher BENCH_SUSTAINED_RATES)' : ''}`);
    });
    if (ramps.some((r) => r.run.sustainedLevel === null)) row.notes.push(`a run with no flat level counts as 0: even ${fmt(SUSTAINED.rates[0]!)}/s grew the backlog`);
  }
  if (pgbench.length > 0) {
    row.perRun = pgbench.map((r) => r.ordersPerSecond);
    row.notes.push(`tps of each run: ${pgbench.map((r) => fmt(r.tps)).join(' · ')}; latency average ${fmtOr(median(pgbench.map((r) => r.latencyAverageMs)), 1)} ms (median); ${definition.kind === 'pgbench' ? pgbenchClients(definition.script) : '?'} clients`);
    const failed = pgbench.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) row.problems.push(`${failed} failed pgbench transactions`);
  }
  row.value = median(row.perRun);
  return row;
}

/** Ratios to the same-run anchors, and the targets of DESIGN.md §7 / issue 11. */
function judge(rows: RowReport[]): void {
  const byName = (name: string) => rows.find((r) => r.name === name);
  const ratio = (row: RowReport, anchor: RowReport | undefined) => (anchor?.value && row.value !== null ? row.value / anchor.value : null);
  const hello = byName('fastify hello-world');
  const insert = byName('fastify + better-sqlite3 single-INSERT route');
  const orderSql = rows.find((r) => r.name.startsWith('pgbench order.sql'));
  const batchSql = rows.find((r) => r.name.startsWith('pgbench order-batch16.sql'));
  for (const row of rows) {
    if (row !== hello && row.key !== 'pgbench' && row.key !== 'sustained') row.ratioToHelloWorld = ratio(row, hello);
    const p99 = (max: number) => row.p99Ms !== null && row.p99Ms <= max;
    switch (row.key) {
      case 'api': {
        const r = ratio(row, insert);
        row.anchors.push({ name: 'INSERT route', ratio: r });
        row.target = `≥ ${TARGETS.api.ratioToInsertRoute} × INSERT route, p99 ≤ ${TARGETS.api.p99Ms} ms`;
        row.met = r !== null && r >= TARGETS.api.ratioToInsertRoute && p99(TARGETS.api.p99Ms);
        if (r === null) row.notes.push('the INSERT route did not run: add "insert" to BENCH_ORDERS_ROWS');
        break;
      }
      case 'sustained':
        row.target = `≥ ${fmt(TARGETS.sustained.ordersPerSecond)} orders/s, backlog flat`;
        // autocannon paces a little under the rate it is given (0.2-0.5 % here): a level counts at its
        // offered rate when the delivered one is within PACING_TOLERANCE of it.
        row.met = row.value !== null && row.flatLevel != null && row.flatLevel >= TARGETS.sustained.ordersPerSecond && row.value >= row.flatLevel * (1 - PACING_TOLERANCE);
        if (row.flatLevel != null) row.notes.push(`median highest flat level: ${fmt(row.flatLevel)}/s offered, ${fmtOr(row.value)}/s delivered`);
        break;
      case 'scale-out': {
        const r = ratio(row, orderSql);
        row.anchors.push({ name: 'order.sql', ratio: r }, { name: '16/tx', ratio: ratio(row, batchSql) });
        row.target = `≥ ${fmt(TARGETS.scaleOut.ordersPerSecond)} orders/s, p99 ≤ ${TARGETS.scaleOut.p99Ms} ms, ≥ ${TARGETS.scaleOut.ratioToOrderSql} × order.sql`;
        row.anchors.push(
          { name: 'hand-written', ratio: ratio(row, byName(SCALE_OUT_ANCHOR)) },
          { name: 'hand-written + layers', ratio: ratio(row, byName(SCALE_OUT_LAYERED_ANCHOR)) },
        );
        row.met = row.value !== null && row.value >= TARGETS.scaleOut.ordersPerSecond && p99(TARGETS.scaleOut.p99Ms) && r !== null && r >= TARGETS.scaleOut.ratioToOrderSql;
        if (r === null) row.notes.push('pgbench did not run: add "pgbench" to BENCH_ORDERS_ROWS');
        for (const anchor of [byName(SCALE_OUT_ANCHOR), byName(SCALE_OUT_LAYERED_ANCHOR)]) {
          if (!row.met && anchor?.value != null) row.notes.push(anchorVersusTarget(anchor));
        }
        break;
      }
      default:
        break;
    }
  }
  if (batchSql && orderSql) batchSql.anchors.push({ name: 'order.sql', ratio: ratio(batchSql, orderSql) });
}

/** Whether a same-work anchor of the scale-out row reached the row's target in this run: if not, the target is out of this machine's reach today. */
function anchorVersusTarget(anchor: RowReport): string {
  const { ordersPerSecond, p99Ms } = TARGETS.scaleOut;
  const reached = anchor.value !== null && anchor.value >= ordersPerSecond && anchor.p99Ms !== null && anchor.p99Ms <= p99Ms;
  return `${anchor.name} in the same run: ${fmtOr(anchor.value)} orders/s, p99 ${fmtOr(anchor.p99Ms, 1)} ms: it ${reached ? 'reaches' : 'misses'} ≥ ${fmt(ordersPerSecond)} orders/s with p99 ≤ ${p99Ms} ms`;
}

function table(rows: RowReport[]): string {
  const lines = [
    `| row | figure (median of ${RUNS}) | each run | p50 ms | p99 ms | non-2xx | errors | × hello-world | × same-run anchor | target | met |`,
    '|---|---:|---|---:|---:|---:|---:|---:|---|---|---|',
  ];
  for (const r of rows) {
    const flag = r.non2xx + r.errors > 0 ? ' ⚠' : '';
    const anchors = r.anchors.map((a) => `${a.ratio === null ? 'n/a' : a.ratio.toFixed(2)} × ${a.name}`).join(' · ') || '—';
    const latency = r.key === 'pgbench' ? ['—', '—'] : [fmtOr(r.p50Ms, 1), fmtOr(r.p99Ms, 1)];
    const counts = r.key === 'pgbench' ? ['—', '—'] : [`${fmt(r.non2xx)}${flag}`, fmt(r.errors)];
    lines.push(
      [
        '',
        ` ${r.name} `,
        ` ${fmtOr(r.value)} ${r.unit} `,
        ` ${r.perRun.map((v) => fmt(v)).join(' · ') || 'n/a'} `,
        ` ${latency[0]} `,
        ` ${latency[1]} `,
        ` ${counts[0]} `,
        ` ${counts[1]} `,
        ` ${r.ratioToHelloWorld === null ? '—' : `${(r.ratioToHelloWorld * 100).toFixed(1)} %`} `,
        ` ${anchors} `,
        ` ${r.target ?? '—'} `,
        ` ${r.met === undefined ? '—' : r.met ? 'yes' : 'NO'} `,
        '',
      ].join('|'),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  for (const file of [MAIN_JS, HELLO_JS, INSERT_JS, SCALE_OUT_ANCHOR_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (npm run bench:orders does).`);
  }
  const startedAt = new Date();
  const selected = DEFINITIONS.filter((d) => ROWS.has(d.key));
  const results = new Map<RowDefinition, RunResult[]>(selected.map((d) => [d, []]));
  const failures = new Map<RowDefinition, string>();
  try {
    for (let round = 1; round <= RUNS; round += 1) {
      for (const definition of selected) {
        if (failures.has(definition)) continue;
        say(`\n▶ run ${round}/${RUNS}: ${definition.name}`);
        try {
          results.get(definition)!.push(await runOnce(definition));
        } catch (error) {
          failures.set(definition, `run ${round}: ${error instanceof Error ? error.message : String(error)}`);
          say(`  failed: ${failures.get(definition)}`);
        }
      }
    }
  } finally {
    await pgbenchDatabase?.drop();
  }
  const rows = selected.map((d) => summarize(d, results.get(d)!, failures.get(d)));
  judge(rows);

  const cpus = os.cpus();
  const report = {
    bench: 'orders',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { runs: RUNS, durationS: DURATION_S, warmupS: WARMUP_S, connections: CONNECTIONS, rows: [...ROWS], pgbench: { ...PGBENCH, batchClients: PGBENCH_BATCH_CLIENTS }, sustained: SUSTAINED, body: JSON.parse(ORDER_BODY) as unknown },
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    targets: TARGETS,
    rows,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `orders-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(
    `\n## POST /api/orders: ${CONNECTIONS} connections, ${DURATION_S} s per row (after ${WARMUP_S} s warm-up), median of ${RUNS} runs, ${cpus.length} × ${report.machine.cpuModel}, Node ${process.version}\n` +
      `Sustained: ${SUSTAINED.rates.join(', ')} orders/s, ${SUSTAINED.levelS} s per level. pgbench: ${PGBENCH.durationS} s per run, ${PGBENCH.clients} clients (16/tx: ${PGBENCH_BATCH_CLIENTS}).\n\n`,
  );
  process.stdout.write(`${table(rows)}\n\n`);
  for (const r of rows) for (const note of r.notes) process.stdout.write(`- ${r.name}: ${note}\n`);
  const missed = rows.filter((r) => r.met === false);
  process.stdout.write(
    missed.length === 0 ? '\nEvery target (DESIGN.md §7, issue 11) that ran was met.\n' : `\nTargets NOT met (DESIGN.md §7, issue 11, 2-core machine): ${missed.map((r) => r.name).join('; ')}.\n`,
  );
  process.stdout.write(`Results: ${path.relative(ROOT, file)}\n`);

  const failed = rows.filter((r) => r.problems.length > 0);
  if (failed.length > 0) {
    const banner = '!'.repeat(78);
    process.stderr.write(`\n${banner}\n!! THESE NUMBERS ARE NOT VALID: some requests or runs failed. Fix the errors before reading the table.\n`);
    for (const r of failed) for (const problem of r.problems) process.stderr.write(`!!   ${r.name}: ${problem}\n`);
    process.stderr.write(`${banner}\n`);
    process.exitCode = 1;
  }
}

runBench('bench:orders', main);
