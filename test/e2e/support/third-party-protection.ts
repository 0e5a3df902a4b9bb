import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { expect } from 'vitest';
import { insertUser } from '../../../src/auth/users.repository.js';
import { createContainer, QUEUE_NAMES, type Container } from '../../../src/app/container.js';
import { startOutboxRelay } from '../../../src/app/roles.js';
import { orderIntegrationJob } from '../../../src/orders/orders.jobs.js';
import { findDestination } from '../../../src/platform/outbound/destinations.repository.js';
import { deleteJobQueues } from '../../platform/queue/amqp-fixture.js';
import { startFakeThirdParty, type Received, type Reply } from '../../orders/fake-third-party.js';
import { testConfig } from '../../support/app.js';
import { createEmptyDatabase } from '../../support/driver-databases.js';
import { sleep, waitFor } from '../../support/driver-wait.js';
import { createOrderAsApi } from '../../support/orders.js';
import { parsePrometheus } from '../../support/prometheus.js';
import { assertBuilt, freePort, killAll, MAIN_JS, spawnNode, waitUntilServing } from '../../support/processes.js';
import { serviceUrls } from '../../support/services.js';

const RATE = 100;
const TIERS = '100,1000,5000';
const CONCURRENCY = 8;
/** The circuit's first cool-down (doubling up to twice it) and the outage that shows one probe per cool-down. */
const COOLDOWN_MS = 500;
const OUTAGE_MS = 5_000;

/** The most requests that arrived within any span of `spanMs`. */
function busiest(received: readonly Received[], spanMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < received.length; i++) {
    while (received[i]!.at - received[j]!.at >= spanMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const label = (r: Received) => (r.body as { ProductName: string }).ProductName;

/**
 * Two worker processes on PostgreSQL and Redis, with `driver`'s queue, against a local third party:
 * the shared rate limit over 6 s, a 429 with Retry-After that every worker honours, and a 5 s
 * outage during which one probe per cool-down goes through, no job parks, and after which every
 * item completes, the max priority first.
 */
export async function thirdPartyProtectionScenario(driver: 'database' | 'amqp'): Promise<void> {
  assertBuilt();
  let responder: (index: number) => Reply = () => ({ status: 201 });
  const thirdParty = await startFakeThirdParty((_request, index) => responder(index));
  const { url } = await createEmptyDatabase('postgres');
  const prefix = `e2e-protect-${randomUUID().slice(0, 8)}.`;
  const shared = {
    DATABASE_URL: url,
    QUEUE_DRIVER: driver,
    ...(driver === 'amqp' && { AMQP_URL: serviceUrls.rabbitmq, AMQP_QUEUE_PREFIX: prefix, AMQP_RETRY_TIERS_MS: TIERS }),
    STORE_DRIVER: 'redis',
    REDIS_URL: serviceUrls.redis,
    REDIS_KEY_PREFIX: prefix,
    THIRD_PARTY_URL: thirdParty.url,
    JOB_MAX_ATTEMPTS: '3',
    JOB_BACKOFF_MS: '50',
    THIRD_PARTY_RATE_PER_S: String(RATE),
    CIRCUIT_FAILURE_THRESHOLD: '5',
    CIRCUIT_COOLDOWN_MS: String(COOLDOWN_MS),
    CIRCUIT_MAX_COOLDOWN_MS: String(2 * COOLDOWN_MS),
  };
  const container: Container = await createContainer(await testConfig({ ...shared, OUTBOX_POLL_MS: '50' }), { logger: pino({ level: 'silent' }) });
  const relay = container.outbox && startOutboxRelay(container, container.outbox);
  try {
    const now = Date.now();
    const user = await insertUser(container.database.db, { name: 'load', email: `protect-${driver}@example.test`, password_hash: 'x', created_at: now, updated_at: now });
    let orders = 0;
    const post = async (labels: string[]) => {
      for (let i = 0; i < labels.length; i += 50) {
        const contents = labels.slice(i, i + 50).map((name) => ({ label: name, kind: 'recurring', cost: 5, meta: { priority: name.startsWith('max') ? 'max' : 'low' } }));
        const created = await createOrderAsApi(container.orders, { principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: `c${orders++}`, contact_point: 'x@example.test' }, contents } });
        expect(created.statusCode).toBe(201);
      }
    };
    const completed = async () => Number((await container.database.db.selectFrom('order_items').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'completed').executeTakeFirstOrThrow()).n);

    const metricsPorts = [await freePort(), await freePort()];
    const workers = await Promise.all(
      metricsPorts.map(async (port, i) => {
        const worker = spawnNode(`worker-${i}`, MAIN_JS, { ...shared, ROLE: 'worker', MIGRATE_ON_START: 'false', METRICS_PORT: String(port), HOST: '127.0.0.1', WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'warn', FEED_INGEST_ON_START: 'false' });
        await waitUntilServing(worker, `http://127.0.0.1:${port}/ready`, 30_000);
        return worker;
      }),
    );

    const allCompleted = (count: number, timeoutMs: number) =>
      waitFor(async () => (await completed()) === count, timeoutMs, `${count} completed items`).catch(async (error: unknown) => {
        throw new Error(`${String(error)}: ${thirdParty.received.length} received, ${await completed()} completed\n${workers.map((w) => w.describe()).join('\n')}`);
      });

    // 1. The shared rate limit: 600 items at 100/s take 6 s. The limiter grants at most the rate plus one
    // 100 ms window's tokens in any second; the requests then reach the destination with the jitter of two
    // busy processes on two cores, which a single second shows (requests granted just before it, whose
    // sending a pause delayed, land in it: 66 at 50/s in one full test run) and five seconds smooth out.
    await post(Array.from({ length: 600 }, (_, i) => `low ${i}`));
    await allCompleted(600, 30_000);
    const limited = [...thirdParty.received];
    expect(limited).toHaveLength(600);
    expect(busiest(limited, 5_000)).toBeLessThanOrEqual(5 * RATE * 1.04);
    expect(busiest(limited, 1_000)).toBeLessThanOrEqual(RATE * 1.4);
    expect(limited.at(-1)!.at - limited[0]!.at).toBeGreaterThanOrEqual(((600 - RATE - 5) / RATE) * 1000);
    const attempts = await container.database.db.selectFrom('order_items').select('details').execute();
    expect(attempts.every((row) => (JSON.parse(row.details as string) as { attempts: number }).attempts === 1)).toBe(true);

    // 2. A 429 with Retry-After: 2 stops every worker for two seconds.
    const before429 = thirdParty.received.length;
    responder = (index) => (index === before429 + 5 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 201 });
    await post(Array.from({ length: 60 }, (_, i) => `low after 429 ${i}`));
    await allCompleted(660, 30_000);
    const throttledAt = thirdParty.received[before429 + 5]!.at;
    // The other process learns of the pause at its next read of the shared state (every
    // OUTBOUND_STATE_REFRESH_MS, 100 ms): requests it admitted before then may still arrive. 150 ms
    // more covers that read and their flight on two busy cores (158 ms was seen under the full suite).
    const propagationMs = 100 + 150;
    const duringPause = thirdParty.received.filter((r) => r.at > throttledAt + propagationMs && r.at < throttledAt + 2_000);
    expect(duringPause.map((r) => r.at - throttledAt)).toEqual([]);

    // 3. An outage of 5 s: one probe per cool-down, no job parked, then every item, the max priority first.
    responder = () => 'reset';
    const outageStart = thirdParty.received.length;
    await post([...Array.from({ length: 150 }, (_, i) => `low outage ${i}`), ...Array.from({ length: 30 }, (_, i) => `max outage ${i}`)]);
    await waitFor(async () => (await findDestination(container.database.db, 'third-party'))?.opened_at != null, 10_000, 'the circuit to open');
    const openedAt = Date.now();
    await sleep(500);
    const scraped = parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPorts[1]}/metrics`)).text());
    // 1 open, 2 half-open (its cool-down over, a probe going).
    expect([1, 2]).toContain(scraped.get('circuit_state{destination=third-party,role=worker}'));
    await sleep(OUTAGE_MS - 500);
    const probes = thirdParty.received.slice(outageStart).filter((r) => r.at > openedAt + 300);
    // Cool-downs of 500 ms to 1 s over 5 s: at least three probes, at most one per cool-down (100 ms for
    // the jitter of their flight, as with the cool-downs of 1-2 s over 10 s this scenario used to wait out).
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(probes.length).toBeLessThanOrEqual(OUTAGE_MS / COOLDOWN_MS);
    for (let i = 1; i < probes.length; i++) expect(probes[i]!.at - probes[i - 1]!.at).toBeGreaterThanOrEqual(COOLDOWN_MS - 100);
    expect((await container.queue.stats(orderIntegrationJob.queue)).counts.parked).toBe(0);

    const recoveredAt = thirdParty.received.length;
    responder = () => ({ status: 201 });
    await allCompleted(840, 60_000);
    expect((await container.queue.stats(orderIntegrationJob.queue)).counts.parked).toBe(0);
    // While the circuit was open or its probe in flight, the queue's claim gate kept every worker from
    // claiming: the jobs waited in the queue, which hands them out by priority once the circuit closes.
    // Jobs that wait for a token of the rate limit then wait in their worker's line, also by priority.
    // Each process's line is in order, but the two race for the tokens: once one process has claimed the
    // last max job, its slots fill with low ones, which take tokens beside the max ones still waiting in
    // the other's line, the more so when that process gets less of the CPU. On a quiet machine the last
    // max job went out 31st-32nd; under the full suite's load 41st and 51st. The queue itself hands the
    // jobs out strictly by priority: the first 22 were max in every run.
    const released = thirdParty.received.slice(recoveredAt).map(label);
    const maxPositions = released.flatMap((name, i) => (name.startsWith('max') ? [i] : []));
    expect(maxPositions).toHaveLength(30);
    expect(released.slice(0, 30 - CONCURRENCY).every((name) => name.startsWith('max'))).toBe(true);
    expect(maxPositions.filter((position) => position < 30 + CONCURRENCY).length).toBeGreaterThanOrEqual(27);
    expect(maxPositions.at(-1)).toBeLessThan(30 + 4 * CONCURRENCY);
    expect(workers.every((w) => !w.hasExited)).toBe(true);
  } finally {
    await killAll();
    await relay?.stop(1_000);
    await container.close();
    await thirdParty.close();
    if (driver === 'amqp') await deleteJobQueues(prefix, QUEUE_NAMES, TIERS.split(',').map(Number)).catch(() => undefined);
  }
}
