import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorFor } from '../../src/app/api-app.js';
import { insertUser } from '../../src/auth/users.repository.js';
import { startRole, type RunningRole } from '../../src/app/roles.js';
import { SimulatorState } from '../../src/orders/simulator.state.js';
import type { Random } from '../../src/platform/clock.js';
import { createTestApp, testConfig, type TestApp } from '../support/app.js';

/** A seeded PRNG (mulberry32), so that a statistical check is the same on every run. */
function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Returns the given values in turn, then repeats the last. */
function scripted(...values: number[]): Random {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

const state = (failureRate: number, random: Random, maxKeys?: number) =>
  new SimulatorState({ delayMs: { min: 0, max: 0 }, failureRate, random, ...(maxKeys !== undefined && { maxKeys }) });

describe('simulator state', () => {
  it('applies a key once and answers a repeat with the same order id', () => {
    const sim = state(0, () => 0.5);
    const first = sim.receive('order-item-1');
    const second = sim.receive('order-item-1');
    expect(first).toEqual({ kind: 'applied', orderId: 1 });
    expect(second).toEqual({ kind: 'duplicate', orderId: 1 });
    expect(sim.receive('order-item-2')).toEqual({ kind: 'applied', orderId: 2 });
    expect(sim.snapshot(true)).toEqual({
      received: 3,
      applied: 2,
      duplicates: 1,
      failed: 0,
      distinct_keys: 2,
      keys: { 'order-item-1': { received: 2, applied: 1 }, 'order-item-2': { received: 1, applied: 1 } },
    });
  });

  it('fails when the random draw is below the failure rate, answering 500 or 503', () => {
    const sim = state(0.2, scripted(0.1, 0.4, 0.19, 0.6, 0.2));
    expect(sim.receive('k')).toEqual({ kind: 'failed', status: 500 });
    expect(sim.receive('k')).toEqual({ kind: 'failed', status: 503 });
    expect(sim.receive('k')).toEqual({ kind: 'applied', orderId: 1 });
    expect(sim.snapshot(true)).toMatchObject({ received: 3, failed: 2, applied: 1, keys: { k: { received: 3, applied: 1 } } });
  });

  it('never fails a key it has already applied', () => {
    const sim = state(0.5, scripted(0.9, 0.0));
    sim.receive('k');
    expect(sim.receive('k').kind).toBe('duplicate');
  });

  it('honours the failure rate over many requests', () => {
    const sim = state(0.2, seeded(42));
    for (let i = 0; i < 10_000; i++) sim.receive(`k${i}`);
    expect(sim.totals.failed / sim.totals.received).toBeGreaterThan(0.18);
    expect(sim.totals.failed / sim.totals.received).toBeLessThan(0.22);
  });

  it.each([0, 1])('fails never at rate 0 and always at rate 1 (rate %d)', (rate) => {
    const sim = state(rate, seeded(7));
    for (let i = 0; i < 200; i++) sim.receive(`k${i}`);
    expect(sim.totals.failed).toBe(rate * 200);
  });

  it('applies every request without a key, remembering none', () => {
    const sim = state(0, () => 0.5);
    expect(sim.receive(undefined).kind).toBe('applied');
    expect(sim.receive(undefined).kind).toBe('applied');
    expect(sim.snapshot(false)).toEqual({ received: 2, applied: 2, duplicates: 0, failed: 0, distinct_keys: 0 });
  });

  it('forgets the oldest keys beyond maxKeys', () => {
    const sim = state(0, () => 0.5, 2);
    sim.receive('a');
    sim.receive('b');
    sim.receive('c');
    expect(sim.snapshot(false).distinct_keys).toBe(2);
    expect(sim.receive('a').kind).toBe('applied');
    expect(sim.receive('c').kind).toBe('duplicate');
  });

  it('draws its delay within the configured range', () => {
    const random = scripted(0, 1, 0.5);
    const sim = new SimulatorState({ delayMs: { min: 5000, max: 30_000 }, failureRate: 0, random });
    expect([sim.delayMs(), sim.delayMs(), sim.delayMs()]).toEqual([5000, 30_000, 17_500]);
  });
});

describe('simulator routes', () => {
  let t: TestApp;
  afterEach(() => t.close());

  const order = { ProductName: 'Box', Price: 9.99, Timestamp: '2026-01-01T00:00:00.000Z' };
  const send = (key?: string, payload: object = order) =>
    t.simulator!.inject({ method: 'POST', url: '/simulator/orders', payload, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const stats = async (keys = false) => (await t.simulator!.inject({ method: 'GET', url: `/simulator/stats${keys ? '?keys=true' : ''}` })).json<Record<string, unknown>>();

  async function app(random: Random, failureRate = '0') {
    t = await createTestApp({ env: { SIMULATOR_DELAY_MS: '0', SIMULATOR_FAILURE_RATE: failureRate }, random, simulator: simulatorFor });
  }

  it('dedupes on Idempotency-Key: the second call answers 200 with the same id, applied once', async () => {
    await app(() => 0.5);
    const first = await send('order-item-1');
    const second = await send('order-item-1');
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({ id: 1, status: 'accepted' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ id: 1, status: 'accepted' });
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(await stats(true)).toEqual({
      received: 2,
      applied: 1,
      duplicates: 1,
      failed: 0,
      distinct_keys: 1,
      keys: { 'order-item-1': { received: 2, applied: 1 } },
    });
  });

  it('fails at the configured rate with the injected random', async () => {
    // Each request draws: delay, failure, then (for a failure) 500 or 503.
    await app(scripted(0, 0.1, 0.2, 0, 0.9), '0.5');
    const failed = await send('k');
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toEqual({ message: 'Simulated failure' });
    expect((await send('k')).statusCode).toBe(201);
    expect(await stats()).toMatchObject({ received: 2, failed: 1, applied: 1 });
  });

  it('counts requests without a key as applied each time', async () => {
    await app(() => 0.5);
    await send();
    await send();
    expect(await stats()).toEqual({ received: 2, applied: 2, duplicates: 0, failed: 0, distinct_keys: 0 });
  });

  it('refuses a malformed body with 422 and counts nothing', async () => {
    await app(() => 0.5);
    const res = await send('k', { ProductName: 1 });
    expect(res.statusCode).toBe(422);
    expect((await stats()).received).toBe(0);
  });

  it('refuses a body of more than SMALL_BODY_LIMIT_BYTES with 413, before parsing it', async () => {
    await app(() => 0.5);
    const res = await send('k', { ...order, ProductName: 'x'.repeat(t.config.smallBodyLimitBytes) });
    expect(res.statusCode).toBe(413);
    expect((await stats()).received).toBe(0);
  });

  it('is never mounted on the API app', async () => {
    await app(() => 0.5);
    expect((await t.inject({ method: 'POST', url: '/simulator/orders', payload: order })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/simulator/stats?keys=true' })).statusCode).toBe(404);
  });
});

describe('the simulator of ROLE=all', () => {
  let running: RunningRole | undefined;
  afterEach(async () => {
    await running?.stop();
    if (running) fs.rmSync(running.container.config.dataDir, { recursive: true, force: true });
    running = undefined;
  });

  it('listens on a loopback port of its own, where the in-process worker reaches it', async () => {
    const config = await testConfig({
      ROLE: 'all',
      PORT: '0',
      SIMULATOR_ENABLED: 'true',
      SIMULATOR_PORT: '0',
      SIMULATOR_DELAY_MS: '0',
      SIMULATOR_FAILURE_RATE: '0',
      FEED_INGEST_ON_START: 'false',
    });
    running = await startRole(config, { logger: pino({ level: 'silent' }) });
    const { url, simulatorUrl, container } = running;
    expect(simulatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(simulatorUrl).not.toBe(url);
    expect((await fetch(`${url}/simulator/stats?keys=true`)).status).toBe(404);

    const now = Date.now();
    const user = await insertUser(container.database.db, { name: 'all', email: 'all@example.test', password_hash: 'x', created_at: now, updated_at: now });
    const auth = { authorization: `Bearer ${await container.auth.createToken(user.id, 'test', ['orders'])}`, 'content-type': 'application/json' };
    const posted = await fetch(`${url}/api/orders`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ client: { identity: 'ACME', contact_point: 'ops@acme.test' }, contents: [{ label: 'Plan', kind: 'recurring', cost: 10 }] }),
    });
    expect(posted.status).toBe(201);
    const { order } = (await posted.json()) as { order: { id: number; contents: Array<{ id: number }> } };

    let status = '';
    for (let i = 0; i < 100 && status !== 'completed'; i++) {
      const read = (await (await fetch(`${url}/api/orders/${order.id}`, { headers: auth })).json()) as { order: { contents: Array<{ status: string }> } };
      status = read.order.contents[0]!.status;
      if (status !== 'completed') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('completed');
    const stats = (await (await fetch(`${simulatorUrl}/simulator/stats?keys=true`)).json()) as { keys: Record<string, unknown> };
    expect(stats.keys[`order-item-${order.contents[0]!.id}`]).toEqual({ received: 1, applied: 1 });
  });
});
