/**
 * `npm run bench:orders`: POST /api/orders (auth, validation, idempotency key, insert and
 * enqueue, embedded SQLite) under autocannon, next to a bare Fastify hello-world on the same
 * machine in the same run. Prints a markdown table and writes bench/results/orders-<time>.json.
 *
 * Environment: BENCH_DURATION_S (20), BENCH_CONNECTIONS (50), BENCH_WARMUP_S (3).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Sqlite from 'better-sqlite3';
import { benchTempDir, runBench } from './support/lifecycle.js';
import { MAIN_JS, RESULTS_DIR, ROOT, intEnv } from './support/settings.js';
import { QUEUE_NAMES } from '../src/container.js';
import { startServer, type Server } from './support/processes.js';
import { prepareScaleOut } from './support/scale-out.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HELLO_JS = path.join(HERE, 'support/hello-server.js');


const DURATION_S = intEnv('BENCH_DURATION_S', 20, 1);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50, 1);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 3, 0);
const TARGET = { ordersPerSecond: 5_000, p99Ms: 25 };
const SCALE_OUT_TARGET = { ordersPerSecond: 2_500, p99Ms: 40 };
const SCALE_OUT_ROW = 'orders, scale-out ROLE=api';

/** One single and one recurring item, as a client would send them. */
const ORDER_BODY = JSON.stringify({
  client: { identity: 'Bench Client Ltd', contact_point: 'orders@bench.example' },
  contents: [
    { label: 'Starter kit', kind: 'single', cost: 49.9, meta: { priority: 'high', sku: 'KIT-1' } },
    { label: 'Monthly refill', kind: 'recurring', cost: 12.5, meta: { priority: 'normal', frequency: 'monthly' } },
  ],
});

interface Target {
  server: Server;
  token: string;
  /** Counts rows of an intake target's database (a query returning one `n`). */
  count?: (sql: string) => Promise<number>;
  /** Called after the row is measured, when the server has stopped. */
  cleanup?: () => Promise<void>;
}

interface ScenarioDefinition {
  name: string;
  description: string;
  start(): Promise<Target>;
}

interface ScenarioResult {
  name: string;
  description: string;
  requestsPerSecond: { mean: number; median: number; stddev: number; min: number; max: number };
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  requests: number;
  responses2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  durationS: number;
  ratioToHelloWorld: number | null;
  /** Orders rows written during the measured run; must equal responses2xx. */
  ordersStored?: number;
  /** For ROLE=all: recurring items the in-process worker completed by the end of the run. */
  pipeline?: { recurringItems: number; completed: number; pending: number };
  problems: string[];
}

const tempDir = () => benchTempDir('intake-bench-');

async function startIntake(name: string, env: Record<string, string>): Promise<Target> {
  const dataDir = tempDir();
  const server = await startServer(name, MAIN_JS, {
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

const SCENARIOS: ScenarioDefinition[] = [
  {
    name: 'fastify hello-world',
    description: 'bare Fastify, POST route that parses the same JSON body and answers 201 with a small JSON object',
    start: async () => ({ server: await startServer('hello-world', HELLO_JS, {}), token: 'anchor' }),
  },
  {
    name: 'orders, ROLE=api',
    description: 'POST /api/orders: bearer auth, validation, Idempotency-Key, order + items + job + idempotency record in one SQLite transaction',
    start: () => startIntake('intake ROLE=api', { ROLE: 'api' }),
  },
  {
    name: 'orders, ROLE=all',
    description: 'the same with the worker and the simulator in the same process (SIMULATOR_DELAY_MS=0-0, failure rate 0): the cost of the in-process worker',
    start: () => startIntake('intake ROLE=all', { ROLE: 'all', SIMULATOR_ENABLED: 'true', SIMULATOR_PORT: '0', SIMULATOR_DELAY_MS: '0-0', SIMULATOR_FAILURE_RATE: '0' }),
  },
  {
    name: SCALE_OUT_ROW,
    description: 'ROLE=api on PostgreSQL + Redis + RabbitMQ: order, items, idempotency record and outbox rows in one PostgreSQL transaction, the Idempotency-Key lock and the duplicate guard in Redis; the relay in the same process publishes with confirms',
    start: startScaleOut,
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

async function runScenario(definition: ScenarioDefinition): Promise<ScenarioResult> {
  process.stderr.write(`\n▶ ${definition.name}: starting\n`);
  const target = await definition.start();
  try {
    await sanityCheck(target);
    const problems: string[] = [];
    if (WARMUP_S > 0) {
      process.stderr.write(`  warm-up ${WARMUP_S} s\n`);
      const warmup = await postOrders(target, WARMUP_S);
      if (warmup.non2xx + warmup.errors > 0) problems.push(`warm-up: ${warmup.non2xx} non-2xx, ${warmup.errors} errors ${JSON.stringify(statusCodesOf(warmup))}`);
    }
    const ordersBefore = target.count ? await target.count('select count(*) as n from orders') : 0;
    process.stderr.write(`  measuring ${DURATION_S} s, ${CONNECTIONS} connections\n`);
    const result = await postOrders(target, DURATION_S);
    const scenario: ScenarioResult = {
      name: definition.name,
      description: definition.description,
      requestsPerSecond: { mean: result.requests.mean, median: result.requests.p50, stddev: result.requests.stddev, min: result.requests.min, max: result.requests.max },
      latencyMs: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      requests: result.requests.total,
      responses2xx: result['2xx'],
      non2xx: result.non2xx,
      statusCodes: statusCodesOf(result),
      errors: result.errors,
      timeouts: result.timeouts,
      durationS: result.duration,
      ratioToHelloWorld: null,
      problems,
    };
    if (result.non2xx > 0) problems.push(`${result.non2xx} non-2xx responses ${JSON.stringify(scenario.statusCodes)}`);
    if (result.errors > 0) problems.push(`${result.errors} connection errors (${result.timeouts} timeouts)`);
    if (target.count) {
      scenario.ordersStored = (await target.count('select count(*) as n from orders')) - ordersBefore;
      // autocannon stops with requests in flight, at the end of the warm-up and of the run: up to one
      // per connection each time may be stored without being counted.
      const uncounted = scenario.ordersStored - scenario.responses2xx;
      if (uncounted < 0 || uncounted > 2 * CONNECTIONS) problems.push(`${scenario.ordersStored} orders stored for ${scenario.responses2xx} 2xx responses`);
    }
    if (target.count) {
      const outboxLeft = await drained(() => target.count!('select count(*) as n from outbox'), 10_000);
      if (outboxLeft > 0) problems.push(`${outboxLeft} jobs still in the outbox 10 s after the run`);
    }
    if (definition.name.includes('ROLE=all') && target.count) {
      const recurringItems = await target.count("select count(*) as n from order_items where kind = 'recurring'");
      const completed = await target.count("select count(*) as n from order_items where kind = 'recurring' and status = 'completed'");
      scenario.pipeline = { recurringItems, completed, pending: recurringItems - completed };
    }
    return scenario;
  } finally {
    await target.server.stop();
    await target.cleanup?.();
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(results: ScenarioResult[]): string {
  const lines = [
    '| scenario | req/s mean | req/s median | p50 ms | p99 ms | 2xx | non-2xx | errors | ratio to hello-world |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ratio = r.ratioToHelloWorld === null ? '—' : `${(r.ratioToHelloWorld * 100).toFixed(1)} %`;
    const flag = r.non2xx + r.errors > 0 ? ' ⚠' : '';
    lines.push(
      `| ${r.name} | ${fmt(r.requestsPerSecond.mean)} | ${fmt(r.requestsPerSecond.median)} | ${fmt(r.latencyMs.p50, 1)} | ${fmt(r.latencyMs.p99, 1)} | ${fmt(r.responses2xx)} | ${fmt(r.non2xx)}${flag} | ${fmt(r.errors)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  for (const file of [MAIN_JS, HELLO_JS]) {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first (npm run bench:orders does).`);
  }
  const startedAt = new Date();
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) results.push(await runScenario(scenario));

  const anchor = results.find((r) => r.name === 'fastify hello-world');
  for (const r of results) {
    if (anchor && r !== anchor && anchor.requestsPerSecond.mean > 0) r.ratioToHelloWorld = r.requestsPerSecond.mean / anchor.requestsPerSecond.mean;
  }

  const cpus = os.cpus();
  const report = {
    bench: 'orders',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { durationS: DURATION_S, warmupS: WARMUP_S, connections: CONNECTIONS, body: JSON.parse(ORDER_BODY) as unknown },
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    target: TARGET,
    scaleOutTarget: SCALE_OUT_TARGET,
    scenarios: results,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `orders-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  const api = results.find((r) => r.name === 'orders, ROLE=api');
  process.stdout.write(`\n## POST /api/orders: ${CONNECTIONS} connections, ${DURATION_S} s per row (after ${WARMUP_S} s warm-up), ${cpus.length} × ${report.machine.cpuModel}, Node ${process.version}\n\n`);
  process.stdout.write(`${table(results)}\n\n`);
  for (const r of results) if (r.pipeline) process.stdout.write(`${r.name}: the worker completed ${fmt(r.pipeline.completed)} of ${fmt(r.pipeline.recurringItems)} recurring items by the end of the run (${fmt(r.pipeline.pending)} pending).\n`);
  if (api) {
    const meets = api.requestsPerSecond.mean >= TARGET.ordersPerSecond && api.latencyMs.p99 <= TARGET.p99Ms;
    process.stdout.write(`Target (design §7, 2-core machine): ≥ ${fmt(TARGET.ordersPerSecond)} orders/s, p99 ≤ ${TARGET.p99Ms} ms: ${meets ? 'met' : 'NOT met'} by ROLE=api.\n`);
  }
  const scaleOut = results.find((r) => r.name === SCALE_OUT_ROW);
  if (scaleOut) {
    const meets = scaleOut.requestsPerSecond.mean >= SCALE_OUT_TARGET.ordersPerSecond && scaleOut.latencyMs.p99 <= SCALE_OUT_TARGET.p99Ms;
    process.stdout.write(`Scale-out target (issue 4): ≥ ${fmt(SCALE_OUT_TARGET.ordersPerSecond)} orders/s, p99 ≤ ${SCALE_OUT_TARGET.p99Ms} ms: ${meets ? 'met' : 'NOT met'}.\n`);
  }
  process.stdout.write(`Results: ${path.relative(ROOT, file)}\n`);

  const failed = results.filter((r) => r.problems.length > 0);
  if (failed.length > 0) {
    const banner = '!'.repeat(78);
    process.stderr.write(`\n${banner}\n!! THESE NUMBERS ARE NOT VALID: some requests failed. Fix the errors before reading the table.\n`);
    for (const r of failed) for (const problem of r.problems) process.stderr.write(`!!   ${r.name}: ${problem}\n`);
    process.stderr.write(`${banner}\n`);
    process.exitCode = 1;
  }
}

runBench('bench:orders', main);
