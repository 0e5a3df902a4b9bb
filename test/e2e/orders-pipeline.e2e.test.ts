/**
 * End to end, against the compiled app (`npm run build` first): the simulator and intake run as
 * real processes; intake is SIGKILLed while recurring items are in flight and restarted on the
 * same DATA_DIR, and every item must still reach the third party exactly once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAllOrders, readJobs, registerUser, requestJson, simulatorStats, startRole, type ItemView, type OrderView, type Served } from './support/intake.js';
import { assertBuilt, freePort, killAll, pollUntil, runCli } from '../support/processes.js';

const MAX_ATTEMPTS = 5;
const ORDER_COUNT = 200;
const BATCH = 20;
const PRIORITIES = ['low', 'normal', 'high', 'critical', 'max', undefined] as const;

interface PostedItem {
  kind: 'single' | 'recurring';
  priority: (typeof PRIORITIES)[number];
}

/** Order `i`: single only, recurring only (two items) or both, cycling through every priority and none. */
function orderBody(i: number): { body: unknown; items: PostedItem[] } {
  const shape = i % 3;
  const kinds: Array<'single' | 'recurring'> = shape === 0 ? ['single'] : shape === 1 ? ['recurring', 'recurring'] : ['single', 'recurring'];
  const items = kinds.map((kind, n) => ({ kind, priority: PRIORITIES[(i + n * 2) % PRIORITIES.length] }));
  return {
    items,
    body: {
      client: { identity: `client-${i}`, contact_point: `client-${i}@example.test` },
      contents: items.map((item, n) => ({
        label: `order ${i} item ${n}`,
        kind: item.kind,
        cost: Number(((i + 1) * 1.25 + n).toFixed(2)),
        ...(item.priority === undefined ? {} : { meta: { priority: item.priority, note: `e2e ${i}` } }),
      })),
    },
  };
}

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function intakeEnv(port: number, dataDir: string, thirdPartyUrl: string, extra: Record<string, string> = {}): Record<string, string> & { PORT: string } {
  return {
    ROLE: 'all',
    PORT: String(port),
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    THIRD_PARTY_URL: thirdPartyUrl,
    SIMULATOR_ENABLED: 'false',
    JOB_BACKOFF_MS: '20',
    JOB_BACKOFF_MAX_MS: '200',
    JOB_LEASE_MS: '1500',
    JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    WORKER_CONCURRENCY: '4',
    AUTH_RATE_LIMIT_PER_MINUTE: '100',
    ...extra,
  };
}

const recurringOf = (orders: OrderView[]): ItemView[] => orders.flatMap((o) => o.contents.filter((i) => i.kind === 'recurring'));
const byNumber = (a: number | undefined, b: number | undefined) => (a ?? 0) - (b ?? 0);
const isTerminal = (item: ItemView) => item.status === 'completed' || item.status === 'failed';

describe('orders pipeline end to end (real processes)', () => {
  let simulator: Served;

  beforeAll(async () => {
    assertBuilt();
    simulator = await startRole('simulator', {
      ROLE: 'simulator',
      PORT: String(await freePort()),
      SIMULATOR_DELAY_MS: '10-40',
      SIMULATOR_FAILURE_RATE: '0.3',
    });
  });

  afterAll(async () => {
    await killAll();
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('survives a kill -9 mid-pipeline: every recurring item ends completed (applied exactly once) or failed and parked', { timeout: 60_000 }, async () => {
    const dataDir = tempDir('intake-e2e-');
    const port = await freePort();
    const env = intakeEnv(port, dataDir, `${simulator.url}/simulator/orders`);
    let intake = await startRole('intake', env);
    const diagnostics = () => `${intake.process.describe()}\n${simulator.process.describe()}`;
    const token = await registerUser(intake.url, 'e2e-pipeline@example.test');

    // 200 orders, posted concurrently in batches; every other one with an Idempotency-Key.
    const posted = new Map<number, PostedItem[]>();
    const postingStarted = Date.now();
    for (let start = 0; start < ORDER_COUNT; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, ORDER_COUNT - start) }, (_, n) => start + n);
      const responses = await Promise.all(
        batch.map(async (i) => {
          const { body, items } = orderBody(i);
          const headers: Record<string, string> = i % 2 === 0 ? { 'idempotency-key': `e2e-order-${i}` } : {};
          const response = await requestJson<{ order: OrderView }>(`${intake.url}/api/orders`, { method: 'POST', token, body, headers });
          return { response, items };
        }),
      );
      for (const { response, items } of responses) {
        expect(response.status, JSON.stringify(response.body)).toBe(201);
        posted.set(response.body.order.id, items);
      }
    }
    expect(posted.size).toBe(ORDER_COUNT);
    const postingMs = Date.now() - postingStarted;
    const recurringPosted = [...posted.values()].flat().filter((i) => i.kind === 'recurring').length;

    // Partway through: some items have reached the third party, many have not.
    const appliedAtKill = await pollUntil(
      async () => {
        const { applied } = await simulatorStats(simulator.url);
        return applied >= 15 ? applied : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 20, what: 'the first items to reach the third party', diagnostics },
    );
    const exit = await intake.process.kill('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    const jobsAtKill = readJobs(dataDir);
    const pendingAtKill = jobsAtKill.filter((j) => j.state !== 'parked').length;
    expect(pendingAtKill, 'the kill came too late: no job was left pending').toBeGreaterThan(0);

    intake = await startRole('intake (restarted)', env);
    const finalOrders = await pollUntil(
      async () => {
        const orders = await listAllOrders(intake.url, token);
        if (!recurringOf(orders).every(isTerminal)) return undefined;
        // Nothing may be left ready or in flight once every item has its outcome.
        return readJobs(dataDir).every((job) => job.state === 'parked') ? orders : undefined;
      },
      {
        timeoutMs: 40_000,
        intervalMs: 150,
        what: 'every recurring item to be completed or failed',
        diagnostics: () => `jobs: ${JSON.stringify(readJobs(dataDir).filter((j) => j.state !== 'parked'))}\n${diagnostics()}`,
      },
    );

    // Every acknowledged order survived the crash, with its items as posted.
    expect(finalOrders.map((o) => o.id).sort(byNumber)).toEqual([...posted.keys()].sort(byNumber));
    for (const order of finalOrders) {
      const expected = posted.get(order.id)!;
      expect(order.contents.map((i) => ({ kind: i.kind, priority: i.priority }))).toEqual(expected.map((i) => ({ kind: i.kind, priority: i.priority ?? 'normal' })));
    }

    const items = finalOrders.flatMap((o) => o.contents);
    for (const single of items.filter((i) => i.kind === 'single')) expect(single.status).toBe('completed');

    const recurring = recurringOf(finalOrders);
    expect(recurring).toHaveLength(recurringPosted);
    const completed = recurring.filter((i) => i.status === 'completed');
    const failed = recurring.filter((i) => i.status === 'failed');
    expect(completed.length + failed.length).toBe(recurring.length);

    const parkedJobs = readJobs(dataDir).filter((j) => j.state === 'parked');
    for (const item of failed) {
      expect(item.details?.attempts, `failed item ${item.id}: ${JSON.stringify(item.details)}`).toBe(MAX_ATTEMPTS);
      expect(parkedJobs.some((job) => job.itemId === item.id), `a parked job for failed item ${item.id}`).toBe(true);
    }
    for (const item of completed) {
      expect(item.details?.status_code, `completed item ${item.id}`).toBeGreaterThanOrEqual(200);
      expect(item.details?.status_code, `completed item ${item.id}`).toBeLessThan(300);
    }
    // Only jobs of failed items are parked.
    expect(parkedJobs.map((j) => j.itemId).sort(byNumber)).toEqual(failed.map((i) => i.id).sort(byNumber));

    // Exactly-once effect at the third party: one applied key per completed item, none applied twice, none extra.
    const stats = await simulatorStats(simulator.url, true);
    const keys = stats.keys ?? {};
    for (const item of completed) expect(keys[`order-item-${item.id}`], `order-item-${item.id}`).toMatchObject({ applied: 1 });
    expect(Object.values(keys).filter((k) => k.applied !== 1)).toEqual([]);
    expect(stats.applied).toBe(Object.keys(keys).length);
    // A key without a completed item can only come from a kill during the item's last attempt:
    // the third party applied it, but the job was parked before the outcome was written.
    const completedKeys = new Set(completed.map((i) => `order-item-${i.id}`));
    const lostLastAttempts = new Set(failed.filter((i) => /lease expired/.test(i.details?.last_error ?? '')).map((i) => `order-item-${i.id}`));
    expect(Object.keys(keys).filter((key) => !completedKeys.has(key) && !lostLastAttempts.has(key))).toEqual([]);
    console.info(
      `e2e kill -9: posted ${ORDER_COUNT} orders in ${postingMs} ms; ${recurring.length} recurring items, applied ${appliedAtKill} before the kill (${pendingAtKill} jobs pending, ${jobsAtKill.filter((j) => j.state === 'active').length} in flight); ` +
        `${completed.length} completed, ${failed.length} failed; simulator received ${stats.received}, duplicates ${stats.duplicates}, failures ${stats.failed}`,
    );
  });

  it('fails the item of a job killed during its last attempt, and a retry of the parked job completes it once', { timeout: 40_000 }, async () => {
    const slowSimulator = await startRole('slow simulator (last attempt)', {
      ROLE: 'simulator',
      PORT: String(await freePort()),
      SIMULATOR_DELAY_MS: '1000',
      SIMULATOR_FAILURE_RATE: '0',
    });
    const dataDir = tempDir('intake-e2e-last-');
    const env = intakeEnv(await freePort(), dataDir, `${slowSimulator.url}/simulator/orders`, { JOB_MAX_ATTEMPTS: '1' });
    let intake = await startRole('intake (last attempt)', env);
    const token = await registerUser(intake.url, 'e2e-last-attempt@example.test');
    const created = await requestJson<{ order: OrderView }>(`${intake.url}/api/orders`, {
      method: 'POST',
      token,
      body: { client: { identity: 'last', contact_point: 'last@example.test' }, contents: [{ label: 'only try', kind: 'recurring', cost: 9.99 }] },
    });
    expect(created.status).toBe(201);
    const itemId = created.body.order.contents[0]!.id;
    const orderUrl = `${intake.url}/api/orders/${created.body.order.id}`;
    // The handler marks the item `processing` just before it calls the third party, which holds every call for a second.
    await pollUntil(
      async () => {
        const { body } = await requestJson<{ order: OrderView }>(orderUrl, { token });
        return body.order.contents[0]!.status === 'processing' ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10, what: 'the only attempt to start', diagnostics: () => intake.process.describe() },
    );
    expect(readJobs(dataDir)).toMatchObject([{ state: 'active', attempts: 1, itemId }]);
    await intake.process.kill('SIGKILL');

    intake = await startRole('intake (last attempt, restarted)', env);
    const failedItem = await pollUntil(
      async () => {
        const { body } = await requestJson<{ order: OrderView }>(orderUrl, { token });
        const item = body.order.contents[0]!;
        return item.status === 'failed' ? item : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the item of the parked job to be failed', diagnostics: () => intake.process.describe() },
    );
    expect(failedItem.details).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/lease expired/) });
    expect(readJobs(dataDir)).toMatchObject([{ state: 'parked', itemId }]);

    // The operator retries it. The killed call still reached the third party, which applies a key once.
    const retry = await runCli(['jobs:retry', '--all'], { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    expect(retry.stdout).toContain('re-queued 1 job(s)');
    await pollUntil(
      async () => {
        const { body } = await requestJson<{ order: OrderView }>(orderUrl, { token });
        return body.order.contents[0]!.status === 'completed' ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the retried item to complete', diagnostics: () => intake.process.describe() },
    );
    const stats = await simulatorStats(slowSimulator.url, true);
    expect(Object.keys(stats.keys ?? {})).toEqual([`order-item-${itemId}`]);
    expect(stats.keys?.[`order-item-${itemId}`]).toMatchObject({ applied: 1 });
    await intake.process.kill('SIGKILL');
    await slowSimulator.process.kill('SIGKILL');
  });

  it('exits 0 within the shutdown deadline on SIGTERM, leaving no job in flight', { timeout: 30_000 }, async () => {
    const slowSimulator = await startRole('slow simulator', {
      ROLE: 'simulator',
      PORT: String(await freePort()),
      SIMULATOR_DELAY_MS: '300-800',
      SIMULATOR_FAILURE_RATE: '0',
    });
    const dataDir = tempDir('intake-e2e-term-');
    const shutdownTimeoutMs = 5_000;
    const intake = await startRole(
      'intake (SIGTERM)',
      intakeEnv(await freePort(), dataDir, `${slowSimulator.url}/simulator/orders`, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) }),
    );
    const token = await registerUser(intake.url, 'e2e-sigterm@example.test');
    for (let i = 0; i < 6; i++) {
      const response = await requestJson(`${intake.url}/api/orders`, { method: 'POST', token, body: orderBody(3 * i + 1).body });
      expect(response.status).toBe(201);
    }
    await pollUntil(async () => (readJobs(dataDir).some((j) => j.state === 'active') ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: 'a job in flight',
    });

    const started = Date.now();
    intake.process.child.kill('SIGTERM');
    const exit = await intake.process.exitWithin(shutdownTimeoutMs + 3_000);
    expect(exit, `no exit within the deadline\n${intake.process.describe()}`).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(shutdownTimeoutMs + 3_000);

    // Graceful: what was in flight finished (or was given back); nothing is left holding a lease.
    expect(readJobs(dataDir).filter((j) => j.state === 'active')).toEqual([]);
    await slowSimulator.process.kill('SIGKILL');
  });
});
