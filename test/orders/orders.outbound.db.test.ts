import { afterEach, describe, expect, it } from 'vitest';
import { orderIntegrationJob } from '../../src/orders/orders.jobs.js';
import { findDestination } from '../../src/platform/outbound/destinations.repository.js';
import { sleep, waitFor } from '../support/driver-wait.js';
import type { Received } from './fake-third-party.js';
import { closeHarness, start, type Harness } from './integration-harness.js';

afterEach(closeHarness);

const PRIORITIES = ['low', 'normal', 'high', 'critical', 'max'];
const rank = (received: Received) => PRIORITIES.indexOf((received.body as { ProductName: string }).ProductName);

async function allCompleted(h: Harness, ids: number[]): Promise<void> {
  await waitFor(async () => (await Promise.all(ids.map((id) => h.item(id)))).every((item) => item.status === 'completed'), 20_000, `${ids.length} completed items`);
}

/** The most requests that arrived within any one second. */
function busiestSecond(received: readonly Received[]): number {
  let most = 0;
  for (let i = 0, j = 0; i < received.length; i++) {
    while (received[i]!.at - received[j]!.at >= 1_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('the third party protected by its circuit, pause and rate limit', () => {
  it('holds every job through an outage without parking any, one probe per cool-down, then completes them by priority', async () => {
    let down = true;
    const h = await start(() => (down ? 'reset' : { status: 201 }), { CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_COOLDOWN_MS: '300', CIRCUIT_MAX_COOLDOWN_MS: '600' });
    const ids = await h.order(...Array.from({ length: 15 }, (_, i) => ({ label: PRIORITIES[i % 5], meta: { priority: PRIORITIES[i % 5] } })));
    h.startWorkers(2);
    await waitFor(async () => (await findDestination(h.container.database.db, 'third-party'))?.opened_at != null, 10_000, 'the circuit to open');
    const openedAt = Date.now();
    await sleep(2_500);
    const duringOutage = h.thirdParty.received.filter((r) => r.at > openedAt + 100);
    // Cool-downs of 300 then 600 ms: a probe at most every 300 ms, about four in 2.5 s.
    expect(duringOutage.length).toBeGreaterThanOrEqual(2);
    expect(duringOutage.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < duringOutage.length; i++) expect(duringOutage[i]!.at - duringOutage[i - 1]!.at).toBeGreaterThanOrEqual(250);

    const recoveredAt = Date.now();
    down = false;
    await allCompleted(h, ids);
    // JOB_MAX_ATTEMPTS is 3: only the failures before the circuit opened spent attempts, the holds and the probes none.
    expect((await h.container.queue.stats(orderIntegrationJob.queue)).counts.parked).toBe(0);
    const afterwards = h.thirdParty.received.filter((r) => r.at >= recoveredAt);
    // The probe goes first; the jobs it released then run highest priority first. With two jobs in flight, a
    // job whose hold was still being written when the others woke may run a place or two late, never more.
    const released = afterwards.slice(1).map(rank);
    const inversions = released.flatMap((priority, i) => released.slice(i + 3).filter((later) => later > priority).map((later) => `${priority} before ${later}`));
    expect(inversions, afterwards.map((r) => `${rank(r)}@${r.at - recoveredAt}`).join(' ')).toEqual([]);
  }, 30_000);

  it('keeps to THIRD_PARTY_RATE_PER_S, holding the jobs over it without counting an attempt', async () => {
    const h = await start(() => ({ status: 201 }), { THIRD_PARTY_RATE_PER_S: '20' });
    const ids = await h.order(...Array.from({ length: 45 }, () => ({})));
    h.startWorkers(8);
    await allCompleted(h, ids);
    const { received } = h.thirdParty;
    expect(received).toHaveLength(45);
    // 20/s in windows of 100 ms with 2 tokens each: at most one window's tokens above the rate.
    expect(busiestSecond(received)).toBeLessThanOrEqual(22);
    expect(received.at(-1)!.at - received[0]!.at).toBeGreaterThanOrEqual(1_800);
    expect((await Promise.all(ids.map((id) => h.item(id)))).every((item) => item.details!.attempts === 1)).toBe(true);
  }, 30_000);

  it('sends nothing, from any job, while a 429 Retry-After lasts', async () => {
    const h = await start((i) => (i === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 201 }));
    const ids = await h.order(...Array.from({ length: 20 }, () => ({})));
    h.startWorkers(4);
    await allCompleted(h, ids);
    const { received } = h.thirdParty;
    const throttledAt = received[2]!.at;
    const during = received.filter((r) => r.at > throttledAt + 50 && r.at < throttledAt + 1_000);
    expect(during).toEqual([]);
    // Then the rate climbs back from 10/s: the next second holds about ten, not all the rest at once.
    const nextSecond = received.filter((r) => r.at >= throttledAt + 1_000 && r.at < throttledAt + 2_000);
    expect(nextSecond.length).toBeGreaterThan(0);
    expect(nextSecond.length).toBeLessThanOrEqual(12);
  }, 30_000);
});
