/**
 * `npm run bench:pipeline`: recurring order items through queue → worker → an instant local third
 * party → item status written, for each queue driver, next to two anchors doing the same work with
 * the same handler: BullMQ on Redis (row 4) and pg-boss on the same PostgreSQL (row 6) (DESIGN.md
 * §7: the database queue on PostgreSQL is to reach ≥ 1.0 × both). Each row is a configuration of
 * the app; a row whose driver the configuration does not accept yet is reported as skipped. Rows 8
 * and 9 are rows 1 and 2 with one webhook endpoint (on the same instant local server) subscribed to
 * every item's outcome: their cost to the pipeline is the ratio to the row without (issue 17: at
 * most 15 % fewer jobs/s), and they report the webhooks delivered per second. Rows 10 and 11 are
 * their floor: rows 1 and 2 whose worker POSTs each webhook itself, with nothing recorded; rows 12
 * and 13 also write a delivery row per webhook, the least a durable design writes. Rows 14 and 15
 * send to a third party with a capacity (BENCH_PIPELINE_CAPACITY requests/s, 429 with Retry-After:
 * 1 above it): row 14 without the outbound guard (OUTBOUND_PROTECTION=false), row 15 with it and
 * THIRD_PARTY_RATE_PER_S set to the capacity (issue 14: at least 80 % fewer 429s, at most 10 % fewer
 * jobs/s). Prints a markdown table, writes bench/results/pipeline-<time>.json.
 *
 * Environment: BENCH_PIPELINE_JOBS (20000), BENCH_PIPELINE_RUNS (3; the median is reported),
 * BENCH_PIPELINE_CONCURRENCY (32), BENCH_PIPELINE_BATCH (500 jobs per enqueue batch),
 * BENCH_PIPELINE_TIMEOUT_S (300 per run), BENCH_PIPELINE_ROWS (1,…,15), BENCH_PIPELINE_CAPACITY (1500: rows 14 and 15), BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/intake_bench, created if missing),
 * BENCH_PIPELINE_PGBOSS_BATCH (32: row 6's batchSize, lowered to a divisor of the concurrency), BENCH_AMQP_URL, BENCH_REDIS_URL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { pgBossLayout, startPgBossPipeline } from './support/pgboss-pipeline.js';
import { startAmqpAnchorPipeline } from './support/amqp-anchor-pipeline.js';
import { laneLayout, startPostgresAnchorPipeline } from './support/postgres-anchor-pipeline.js';
import { startBullmqPipeline, startIntakePipeline, type Pipeline } from './support/pipeline-drivers.js';
import { removeSeededItems, seedRecurringItems, vacuumBeforeRun, waitForItems, type SeededItems } from './support/pipeline-items.js';
import { startInlineWebhookPipeline, subscribeEndpoint } from './support/pipeline-webhooks.js';
import { fmt, metric, missedTargets, newRow, note, printBanner, table, type RowResult } from './support/feed-report.js';
import { benchTempDir, runBench } from './support/lifecycle.js';
import { ensurePostgresDatabase } from './support/postgres.js';
import { startServer } from './support/processes.js';
import { RESULTS_DIR, ROOT, intEnv } from './support/settings.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const THIRD_PARTY_JS = path.join(HERE, 'support/instant-third-party.js');

const JOBS = intEnv('BENCH_PIPELINE_JOBS', 20_000, 1);
const RUNS = intEnv('BENCH_PIPELINE_RUNS', 3, 1);
const CONCURRENCY = intEnv('BENCH_PIPELINE_CONCURRENCY', 32, 1);
const BATCH = intEnv('BENCH_PIPELINE_BATCH', 500, 1);
const TIMEOUT_S = intEnv('BENCH_PIPELINE_TIMEOUT_S', 300, 1);
const ROWS = new Set((process.env.BENCH_PIPELINE_ROWS ?? '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16').split(',').map((n) => Number(n.trim())));
const CAPACITY = intEnv('BENCH_PIPELINE_CAPACITY', 1_500, 1);
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/intake_bench';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET = { databaseJobsPerSecond: 2_000, amqpJobsPerSecond: 5_000, postgresDatabaseQueueToAnchors: 1.0, amqpToBullmq: 1.5, withWebhooksToWithout: 0.85, guardedToUnguarded: 0.9, throttledCut: 0.8 };
const ANCHORS = [
  { row: 4, label: 'BullMQ' },
  { row: 6, label: 'pg-boss' },
  { row: 7, label: 'amqplib by hand' },
  { row: 16, label: 'PostgreSQL by hand' },
] as const;
type AnchorLabel = (typeof ANCHORS)[number]['label'];
const PGBOSS = pgBossLayout(CONCURRENCY, intEnv('BENCH_PIPELINE_PGBOSS_BATCH', 32, 1));
const PG_ANCHOR = laneLayout(CONCURRENCY, intEnv('BENCH_PIPELINE_PG_ANCHOR_LANES', 1, 1));

interface RowDefinition {
  row: number;
  name: string;
  description: string;
  /** jobs/s to reach (DESIGN.md §7); the anchors have none. */
  target?: number;
  /** At least this × the named anchors' jobs/s (DESIGN.md §7, issue 11); the ratios to the others are only reported. */
  anchorRatioTargets?: Partial<Record<AnchorLabel, number>>;
  /** The row's configuration, on top of the settings every row shares. */
  env: (dataDir: string) => Record<string, string>;
  /** Every item's outcome also sends a webhook; the row is compared with this one, which does the same without. */
  webhooksOf?: number;
  /** A webhook row whose webhooks go to an endpoint of the seeded user (not inline): compared with these floor rows too. */
  floorRows?: number[];
  /** The floor itself (an anchor): its ratio is reported, with no target. */
  isFloor?: true;
  /** Where the third party takes the items: `/orders` (instant), or `/limited-orders` (a capacity, 429 above it). */
  thirdPartyPath?: '/orders' | '/limited-orders';
  /** A row with the outbound guard, compared with this one, which sends to the same capacity without it. */
  unguardedRow?: number;
  start: (config: Config) => Promise<Pipeline>;
}

const sqliteIn = (dataDir: string) => ({ DATABASE_URL: `sqlite:${path.join(dataDir, 'intake.db')}` });
// One endpoint on 127.0.0.1 takes every webhook: it may have as many in flight as the worker has slots.
const webhooksOn = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true', WEBHOOK_CONCURRENCY: String(CONCURRENCY), WEBHOOK_ENDPOINT_CONCURRENCY: String(CONCURRENCY) };

const DEFINITIONS: RowDefinition[] = [
  {
    row: 1,
    name: 'database queue, SQLite',
    description: 'ROLE=worker, QUEUE_DRIVER=database on embedded SQLite (synchronous=FULL, group commit)',
    target: TARGET.databaseJobsPerSecond,
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database' }),
    start: startIntakePipeline,
  },
  {
    row: 2,
    name: 'database queue, PostgreSQL',
    description: 'ROLE=worker, QUEUE_DRIVER=database on PostgreSQL (BENCH_POSTGRES_URL)',
    target: TARGET.databaseJobsPerSecond,
    anchorRatioTargets: { BullMQ: TARGET.postgresDatabaseQueueToAnchors, 'pg-boss': TARGET.postgresDatabaseQueueToAnchors },
    env: () => ({ DATABASE_URL: POSTGRES_URL, QUEUE_DRIVER: 'database' }),
    start: startIntakePipeline,
  },
  {
    row: 3,
    name: 'amqp queue, RabbitMQ',
    description: 'ROLE=worker, QUEUE_DRIVER=amqp (BENCH_AMQP_URL) with the outbox on PostgreSQL',
    target: TARGET.amqpJobsPerSecond,
    anchorRatioTargets: { BullMQ: TARGET.amqpToBullmq },
    env: () => ({ DATABASE_URL: POSTGRES_URL, QUEUE_DRIVER: 'amqp', AMQP_URL, AMQP_QUEUE_PREFIX: `bench-${process.pid}.` }),
    start: startIntakePipeline,
  },
  {
    row: 5,
    name: 'amqp queue, RabbitMQ, SQLite',
    description: 'ROLE=worker, QUEUE_DRIVER=amqp with the outbox and the item writes on embedded SQLite, as the anchor writes them: the broker path without PostgreSQL round trips',
    target: TARGET.amqpJobsPerSecond,
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'amqp', AMQP_URL, AMQP_QUEUE_PREFIX: `bench-${process.pid}.` }),
    start: startIntakePipeline,
  },
  {
    row: 4,
    name: 'BullMQ 6.7.0 on Redis (anchor)',
    description: "BullMQ Queue.addBulk + Worker (BENCH_REDIS_URL) running intake's order handler on SQLite as row 1",
    env: sqliteIn,
    start: (config) => startBullmqPipeline(config, REDIS_URL),
  },
  {
    row: 6,
    name: 'pg-boss 10.4.2 on PostgreSQL (anchor)',
    description:
      `pg-boss insert (one statement per batch) + ${PGBOSS.workers} × work() with batchSize ${PGBOSS.batchSize}, a batch's jobs run at once (${CONCURRENCY} in flight), ` +
      'polling every 0.5 s (its minimum) but woken by notifyWorker after each insert and after a full batch, ' +
      "in a fresh schema of BENCH_POSTGRES_URL dropped after the run, running intake's order handler on PostgreSQL as row 2",
    env: () => ({ DATABASE_URL: POSTGRES_URL }),
    start: (config) => startPgBossPipeline(config, PGBOSS),
  },
  {
    row: 7,
    name: 'amqplib by hand on RabbitMQ (anchor)',
    description:
      "row 3's broker work written with bare amqplib, and less of it: each batch published straight to a durable priority queue with one wait for its confirms (no outbox, no relay), one consumer with prefetch = concurrency running intake's order handler on PostgreSQL as row 3, ack after it; no retry tiers, parking or trace headers",
    env: () => ({ DATABASE_URL: POSTGRES_URL }),
    start: (config) => startAmqpAnchorPipeline(config, AMQP_URL),
  },
  {
    row: 16,
    name: 'PostgreSQL by hand (anchor)',
    description:
      `row 2's work written by hand on the same PostgreSQL in the fewest round trips known: ${PG_ANCHOR.lanes} loops of up to ${PG_ANCHOR.batch} jobs (${CONCURRENCY} in flight), each claiming from a table of its own in one statement, marking and reading its items in one, POSTing them at once, and writing the outcomes in one transaction of four round trips ` +
      '(BEGIN; the orders locked and read; one statement updating the items and finished orders, inserting the events, deleting the jobs and reading the webhook endpoints; COMMIT); no leases, retries, parking, attempt log or trace headers',
    env: () => ({ DATABASE_URL: POSTGRES_URL }),
    start: (config) => startPostgresAnchorPipeline(config, PG_ANCHOR),
  },
  {
    row: 8,
    name: 'database queue, SQLite, + webhooks',
    description: `row 1, and every item's outcome also sends a signed webhook (order.item.completed) to one endpoint on the same instant local server; ${CONCURRENCY} deliveries in flight`,
    webhooksOf: 1,
    floorRows: [10, 12],
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: startIntakePipeline,
  },
  {
    row: 9,
    name: 'database queue, PostgreSQL, + webhooks',
    description: `row 2, and every item's outcome also sends a signed webhook (order.item.completed) to one endpoint on the same instant local server; ${CONCURRENCY} deliveries in flight`,
    webhooksOf: 2,
    floorRows: [11, 13],
    env: () => ({ DATABASE_URL: POSTGRES_URL, QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: startIntakePipeline,
  },
  {
    row: 10,
    name: 'SQLite, + a bare POST per item (the floor; anchor)',
    description: `row 1, and every item's outcome also POSTs its signed webhook at once through intake's sender, from the worker: no delivery row, job, retry or result written (a crash loses it). Less work than any durable design, so its ratio to row 1 is the least a webhook per item can cost`,
    webhooksOf: 1,
    isFloor: true,
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: (config) => startInlineWebhookPipeline(config, false),
  },
  {
    row: 11,
    name: 'PostgreSQL, + a bare POST per item (the floor; anchor)',
    description: "row 2 with row 10's inline POST per item",
    webhooksOf: 2,
    isFloor: true,
    env: () => ({ DATABASE_URL: POSTGRES_URL, QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: (config) => startInlineWebhookPipeline(config, false),
  },
  {
    row: 12,
    name: 'SQLite, + a POST per item with its delivery row (the durable floor; anchor)',
    description:
      "row 10, plus the least a durable design writes: a pending delivery row inserted in the outcome's transaction (with the events, one multi-row insert), and its success written after the POST (batched, one UPDATE by message id per batch). No job, no claim, no retry",
    webhooksOf: 1,
    isFloor: true,
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: (config) => startInlineWebhookPipeline(config, true),
  },
  {
    row: 13,
    name: 'PostgreSQL, + a POST per item with its delivery row (the durable floor; anchor)',
    description: "row 2 with row 12's inline POST and delivery row per item",
    webhooksOf: 2,
    isFloor: true,
    env: () => ({ DATABASE_URL: POSTGRES_URL, QUEUE_DRIVER: 'database', ...webhooksOn }),
    start: (config) => startInlineWebhookPipeline(config, true),
  },
  {
    row: 14,
    name: 'SQLite, third party at capacity, without the outbound guard',
    description: `row 1 against a third party that takes ${fmt(CAPACITY)} requests/s and answers 429 with Retry-After: 1 above it; OUTBOUND_PROTECTION=false: each job waits out its own Retry-After, as before issue 14`,
    thirdPartyPath: '/limited-orders',
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database', OUTBOUND_PROTECTION: 'false', JOB_MAX_ATTEMPTS: '100' }),
    start: startIntakePipeline,
  },
  {
    row: 15,
    name: 'SQLite, third party at capacity, with the outbound guard',
    description: `row 14 with the outbound guard and THIRD_PARTY_RATE_PER_S=${CAPACITY} (the third party's published capacity): the shared rate limit, and a 429 pauses every job`,
    thirdPartyPath: '/limited-orders',
    unguardedRow: 14,
    env: (dataDir) => ({ ...sqliteIn(dataDir), QUEUE_DRIVER: 'database', THIRD_PARTY_RATE_PER_S: String(CAPACITY), JOB_MAX_ATTEMPTS: '100' }),
    start: startIntakePipeline,
  },
];

const isAnchor = (definition: RowDefinition) => ANCHORS.some((anchor) => anchor.row === definition.row);

interface ThirdPartyStats {
  requests: number;
  distinctKeys: number;
  webhooks: number;
  distinctWebhookIds: number;
  lastWebhookAt: number | null;
  /** 429s of `/limited-orders`. */
  throttled: number;
}

interface ThirdParty {
  baseUrl: string;
  webhookUrl: string;
  reset(): Promise<void>;
  stats(): Promise<ThirdPartyStats>;
}

interface RunResult {
  jobsPerSecond: number | null;
  totalS: number | null;
  enqueueS: number;
  drainS: number | null;
  /** Webhook rows: webhooks delivered per second, first enqueue → last webhook received. */
  webhooksPerSecond?: number | null;
  /** 429s the third party answered. */
  throttled: number;
  problems: string[];
}

const say = (text: string) => process.stderr.write(`${text}\n`);

function configFor(definition: RowDefinition, dataDir: string, thirdPartyBase: string): Config {
  return loadConfig({
    ...process.env,
    ROLE: 'worker',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    METRICS_PORT: '0',
    WORKER_CONCURRENCY: String(CONCURRENCY),
    THIRD_PARTY_URL: `${thirdPartyBase}${definition.thirdPartyPath ?? '/orders'}`,
    SIMULATOR_ENABLED: 'false',
    FEED_INGEST_ON_START: 'false',
    ...definition.env(dataDir),
  });
}

/** Why the configuration refuses this row (its driver is not supported yet), or undefined. */
function unsupported(definition: RowDefinition, thirdPartyBase: string): string | undefined {
  try {
    configFor(definition, os.tmpdir(), thirdPartyBase);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('; ');
    throw error;
  }
}

async function settle(pipeline: Pipeline): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await pipeline.leftovers();
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the receiver has every item's webhook, or `timeoutMs` passed. */
async function waitForWebhooks(thirdParty: ThirdParty, timeoutMs: number): Promise<ThirdPartyStats & { timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await thirdParty.stats();
    if (stats.distinctWebhookIds >= JOBS) return { ...stats, timedOut: false };
    if (Date.now() > deadline) return { ...stats, timedOut: true };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function measure(pipeline: Pipeline, seeded: SeededItems, thirdParty: ThirdParty, webhooks: boolean): Promise<RunResult> {
  await thirdParty.reset();
  const startedAt = Date.now();
  for (let i = 0; i < seeded.items.length; i += BATCH) await pipeline.enqueue(seeded.items.slice(i, i + BATCH));
  const enqueuedAt = Date.now();
  const progress = await waitForItems(pipeline.container.database.db, seeded, TIMEOUT_S * 1000);
  const posts = await thirdParty.stats();
  const problems: string[] = [];
  if (progress.timedOut) problems.push(`${fmt(progress.completed)} of ${fmt(JOBS)} items completed after ${TIMEOUT_S} s`);
  if (posts.requests !== JOBS || posts.distinctKeys !== JOBS) {
    problems.push(`the third party got ${fmt(posts.requests)} POSTs for ${fmt(posts.distinctKeys)} distinct items, expected ${fmt(JOBS)} of each`);
  }
  let webhooksPerSecond: number | null | undefined;
  if (webhooks) {
    const received = await waitForWebhooks(thirdParty, TIMEOUT_S * 1000);
    if (received.timedOut) problems.push(`${fmt(received.distinctWebhookIds)} of ${fmt(JOBS)} webhooks received after ${TIMEOUT_S} s`);
    if (received.webhooks !== received.distinctWebhookIds) problems.push(`${fmt(received.webhooks - received.distinctWebhookIds)} webhooks were received twice`);
    webhooksPerSecond = received.timedOut || received.lastWebhookAt === null ? null : JOBS / ((received.lastWebhookAt - startedAt) / 1000);
  }
  problems.push(...(await settle(pipeline)));
  const end = progress.timedOut ? null : progress.lastWrittenAt;
  const totalS = end === null ? null : (end - startedAt) / 1000;
  return {
    jobsPerSecond: totalS ? JOBS / totalS : null,
    totalS,
    enqueueS: (enqueuedAt - startedAt) / 1000,
    drainS: end === null ? null : Math.max(0, end - enqueuedAt) / 1000,
    ...(webhooksPerSecond !== undefined && { webhooksPerSecond }),
    throttled: (await thirdParty.stats()).throttled,
    problems,
  };
}

async function runOnce(definition: RowDefinition, thirdParty: ThirdParty): Promise<RunResult> {
  const dataDir = benchTempDir('intake-pipeline-bench-');
  try {
    const pipeline = await definition.start(configFor(definition, dataDir, thirdParty.baseUrl));
    try {
      // A shared database (BENCH_POSTGRES_URL) may hold jobs of an aborted earlier run: they would be counted as this run's leftovers.
      const stale = await pipeline.leftovers();
      if (stale.length > 0) throw new Error(`the queue is not empty before the run (${stale.join('; ')}): empty it, or point BENCH_POSTGRES_URL at a fresh database`);
      const seeded = await seedRecurringItems(pipeline.container, JOBS);
      if (definition.webhooksOf !== undefined && !definition.isFloor) await subscribeEndpoint(pipeline.container, seeded.userId, thirdParty.webhookUrl);
      await pipeline.seeded?.(seeded.userId);
      await vacuumBeforeRun(pipeline.container.database);
      try {
        return await measure(pipeline, seeded, thirdParty, definition.webhooksOf !== undefined);
      } finally {
        await removeSeededItems(pipeline.container.database, seeded);
      }
    } finally {
      await pipeline.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: Array<number | null>): number | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each anchor that was selected, with its median jobs/s (null when it did not run to the end). */
type AnchorFigures = Array<{ label: AnchorLabel; jobsPerSecond: number | null }>;

/** What a guarded row is compared with: the unguarded row's median jobs/s and 429s. */
interface Unguarded {
  jobsPerSecond: number | null;
  throttled: number | null;
}

function report(definition: RowDefinition, runs: RunResult[], anchors: AnchorFigures, withoutWebhooks?: number | null, floors: Array<[number, number | null]> = [], unguarded?: Unguarded): RowResult {
  const row = newRow(definition.row, definition.name, definition.description);
  runs.forEach((run, i) => row.problems.push(...run.problems.map((p) => `run ${i + 1}: ${p}`)));
  const jobsPerSecond = median(runs.map((r) => r.jobsPerSecond));
  row.metrics.push(
    metric(`jobs/s (first enqueue → last status written), median of ${runs.length}`, jobsPerSecond, '', 0, definition.target ? { min: definition.target } : undefined),
  );
  if (definition.webhooksOf !== undefined) {
    const ratio = jobsPerSecond !== null && withoutWebhooks ? jobsPerSecond / withoutWebhooks : null;
    const target = definition.isFloor ? undefined : { min: TARGET.withWebhooksToWithout, text: `≥ ${fmt(TARGET.withWebhooksToWithout, 2)} ×` };
    row.metrics.push(metric(`ratio to row ${definition.webhooksOf} (the same without webhooks)`, ratio, '×', 2, target));
    for (const [floorRow, floorJobsPerSecond] of floors) {
      row.metrics.push(metric(`ratio to row ${floorRow} (a floor)`, jobsPerSecond !== null && floorJobsPerSecond ? jobsPerSecond / floorJobsPerSecond : null, '×', 2));
    }
    row.metrics.push(metric('webhooks delivered/s (first enqueue → last webhook received), median', median(runs.map((r) => r.webhooksPerSecond ?? null)), '', 0));
  } else if (definition.thirdPartyPath === '/limited-orders') {
    const throttled = median(runs.map((r) => r.throttled));
    row.metrics.push(
      metric(`429s received (third party at ${fmt(CAPACITY)}/s), median`, throttled, '', 0),
      metric('429s among all requests', throttled === null ? null : (throttled / (throttled + JOBS)) * 100, '%', 1),
    );
    if (unguarded) {
      const ratio = jobsPerSecond !== null && unguarded.jobsPerSecond ? jobsPerSecond / unguarded.jobsPerSecond : null;
      row.metrics.push(metric(`jobs/s ratio to row ${definition.unguardedRow} (no guard)`, ratio, '×', 2, { min: TARGET.guardedToUnguarded, text: `≥ ${fmt(TARGET.guardedToUnguarded, 2)} ×` }));
      const cut = throttled !== null && unguarded.throttled ? 1 - throttled / unguarded.throttled : null;
      row.metrics.push(metric(`429s cut against row ${definition.unguardedRow}`, cut === null ? null : cut * 100, '%', 1, { min: TARGET.throttledCut * 100, text: `≥ ${fmt(TARGET.throttledCut * 100)} %` }));
    }
  } else if (isAnchor(definition)) {
    // How far the hand-written anchors get against BullMQ: where one is below a target's ratio, so is the machine.
    const bullmq = anchors.find((anchor) => anchor.label === 'BullMQ');
    if (definition.row !== 4 && bullmq?.jobsPerSecond && jobsPerSecond !== null) row.metrics.push(metric('ratio to BullMQ', jobsPerSecond / bullmq.jobsPerSecond, '×', 2));
  } else {
    for (const anchor of anchors) {
      const target = definition.anchorRatioTargets?.[anchor.label];
      const ratio = jobsPerSecond !== null && anchor.jobsPerSecond ? jobsPerSecond / anchor.jobsPerSecond : null;
      row.metrics.push(metric(`ratio to ${anchor.label}`, ratio, '×', 2, target === undefined ? undefined : { min: target, text: `≥ ${fmt(target, 1)} ×` }));
    }
  }
  row.metrics.push(
    metric(`enqueue (${fmt(JOBS)} jobs in batches of ${BATCH})`, median(runs.map((r) => r.enqueueS)), 's', 2),
    metric('drain after the last enqueue', median(runs.map((r) => r.drainS)), 's', 2),
    metric('first enqueue → last status written', median(runs.map((r) => r.totalS)), 's', 2),
    note('jobs/s of each run', runs.map((r) => (r.jobsPerSecond === null ? 'n/a' : fmt(r.jobsPerSecond))).join(' · ')),
  );
  row.details = { runs };
  return row;
}

async function main(): Promise<void> {
  if (!fs.existsSync(THIRD_PARTY_JS)) throw new Error(`${path.relative(ROOT, THIRD_PARTY_JS)} is missing: run \`npm run build\` first (npm run bench:pipeline does).`);
  const startedAt = new Date();
  const server = await startServer('instant third party', THIRD_PARTY_JS, { CAPACITY_PER_S: String(CAPACITY) });
  const thirdParty: ThirdParty = {
    baseUrl: server.url,
    webhookUrl: `${server.url}/webhooks`,
    reset: async () => void (await (await fetch(`${server.url}/reset`, { method: 'POST' })).arrayBuffer()),
    stats: async () => (await (await fetch(`${server.url}/stats`)).json()) as ThirdPartyStats,
  };
  const selected = DEFINITIONS.filter((d) => ROWS.has(d.row));
  const skipped = new Map(selected.map((d) => [d.row, unsupported(d, thirdParty.baseUrl)]));
  if (selected.some((d) => d.env('').DATABASE_URL === POSTGRES_URL)) await ensurePostgresDatabase(POSTGRES_URL);
  const runs = new Map<number, RunResult[]>(selected.map((d) => [d.row, []]));
  const failures = new Map<number, string[]>();
  try {
    for (let round = 1; round <= RUNS; round += 1) {
      for (const definition of selected) {
        if (skipped.get(definition.row) || failures.has(definition.row)) continue;
        say(`▶ run ${round}/${RUNS}, row ${definition.row}: ${definition.name}`);
        try {
          const result = await runOnce(definition, thirdParty);
          say(`  ${result.jobsPerSecond === null ? 'n/a' : fmt(result.jobsPerSecond)} jobs/s${result.problems.length > 0 ? ` (${result.problems.join('; ')})` : ''}`);
          runs.get(definition.row)!.push(result);
        } catch (error) {
          failures.set(definition.row, [`run ${round}: ${error instanceof Error ? error.message : String(error)}`]);
        }
      }
    }
  } finally {
    await server.stop();
  }

  const anchors: AnchorFigures = ANCHORS.filter((anchor) => runs.has(anchor.row)).map((anchor) => ({
    label: anchor.label,
    jobsPerSecond: median(runs.get(anchor.row)!.map((r) => r.jobsPerSecond)),
  }));
  const rows = selected.map((definition) => {
    const reason = skipped.get(definition.row);
    if (reason) return { ...newRow(definition.row, definition.name, definition.description), skipped: reason };
    const baseline = definition.webhooksOf === undefined ? undefined : runs.get(definition.webhooksOf);
    const floors = (definition.floorRows ?? []).filter((floorRow) => runs.has(floorRow)).map((floorRow): [number, number | null] => [floorRow, median(runs.get(floorRow)!.map((r) => r.jobsPerSecond))]);
    const unguardedRuns = definition.unguardedRow === undefined ? undefined : runs.get(definition.unguardedRow);
    const unguarded = unguardedRuns && { jobsPerSecond: median(unguardedRuns.map((r) => r.jobsPerSecond)), throttled: median(unguardedRuns.map((r) => r.throttled)) };
    const row = report(definition, runs.get(definition.row)!, anchors, baseline && median(baseline.map((r) => r.jobsPerSecond)), floors, unguarded);
    row.problems.push(...(failures.get(definition.row) ?? []));
    return row;
  });

  const cpus = os.cpus();
  const result = {
    bench: 'pipeline',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: { jobs: JOBS, runs: RUNS, concurrency: CONCURRENCY, batch: BATCH, timeoutS: TIMEOUT_S, capacity: CAPACITY },
    machine: { node: process.version, platform: `${os.platform()} ${os.release()}`, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    target: TARGET,
    rows,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `pipeline-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  process.stdout.write(`\n## Pipeline: ${fmt(JOBS)} recurring items, concurrency ${CONCURRENCY}, ${cpus.length} × ${result.machine.cpuModel}, Node ${process.version}\n\n`);
  process.stdout.write(`${table(rows)}\n\n`);
  const missed = missedTargets(rows);
  process.stdout.write(missed.length === 0 ? 'Every target of DESIGN.md §7 that ran was met.\n' : `Targets NOT met (DESIGN.md §7, 2-core machine):\n${missed.map((m) => `- ${m}`).join('\n')}\n`);
  process.stdout.write(`Results: ${path.relative(ROOT, file)}\n`);
  if (printBanner(rows, (text) => process.stderr.write(text))) process.exitCode = 1;
}

runBench('bench:pipeline', main);
