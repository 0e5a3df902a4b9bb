import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/platform/clock.js';
import { DeferredError } from '../../../src/platform/queue/queue.js';
import { forceCircuit, listDestinations } from '../../../src/platform/outbound/destinations.repository.js';
import { OutboundGuard, type Admission, type OutboundSettings } from '../../../src/platform/outbound/outbound-guard.js';
import { windowOf } from '../../../src/platform/outbound/shared-rate-limiter.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { manualClock, type ManualClock } from '../../support/driver-clock.js';
import { createTempDatabase, testDialect, type TempDatabase } from '../../support/driver-databases.js';

const settings: OutboundSettings = {
  consecutiveFailures: 3,
  failureRatio: 0.5,
  minRequests: 100,
  windowMs: 30_000,
  cooldownMs: 1_000,
  maxCooldownMs: 4_000,
  refreshMs: 100,
  defaultPauseMs: 1_000,
  maxPauseMs: 60_000,
  recoveryMs: 10_000,
};
const limits = { ratePerS: undefined, probeLeaseMs: 5_000 };
const DEST = 'third-party';

const opened: TempDatabase[] = [];
afterAll(async () => {
  for (const database of opened) await database.cleanup();
});

/** Two guards on one database and store: two worker processes. */
async function twoProcesses(overrides: Partial<OutboundSettings> = {}): Promise<{ a: OutboundGuard; b: OutboundGuard; clock: ManualClock; temp: TempDatabase }> {
  const temp = await createTempDatabase('intake-outbound');
  opened.push(temp);
  const clock = manualClock();
  const store = new DatabaseStore(temp.database, clock);
  const guard = () => new OutboundGuard({ database: temp.database, store, clock, logger: pino({ level: 'silent' }), settings: { ...settings, ...overrides } });
  return { a: guard(), b: guard(), clock, temp };
}

/** The delay of the DeferredError that `admit` holds the job with; undefined when it admits. */
async function heldFor(guard: OutboundGuard, ratePerS?: number): Promise<number | undefined> {
  try {
    await guard.admit(DEST, { ...limits, ratePerS });
    return undefined;
  } catch (error) {
    if (error instanceof DeferredError) return error.delayMs;
    throw error;
  }
}

async function fail(guard: OutboundGuard, admission?: Admission): Promise<{ holdUntil?: number }> {
  return guard.report(admission ?? (await guard.admit(DEST, limits)), { kind: 'failure', error: 'connect ECONNREFUSED' });
}

describe(`outbound guard on ${testDialect()}`, () => {
  it('opens the circuit after failures in a row, and holds the jobs of every process until the cool-down ends', async () => {
    const { a, b, clock, temp } = await twoProcesses();
    expect(await fail(a)).toEqual({});
    expect(await fail(a)).toEqual({});
    // The third failure in a row trips it: this job is held, not retried.
    expect((await fail(a)).holdUntil! - clock.now()).toBe(1_000);
    expect(await heldFor(a)).toBe(1_000);
    clock.advance(settings.refreshMs);
    // The other process sees it within its refresh.
    expect(await heldFor(b)).toBe(900);
    const [row] = await listDestinations(temp.database.db);
    expect(row).toMatchObject({ destination: DEST, cooldown_ms: 1_000, last_failure: 'connect ECONNREFUSED' });
  });

  it('lets one probe through after the cool-down; its failure doubles the cool-down, its success closes the circuit', async () => {
    const { a, b, clock } = await twoProcesses();
    for (let i = 0; i < 3; i++) await fail(a);
    clock.advance(1_000);
    const probe = await a.admit(DEST, limits);
    expect(probe.probe).toBe(true);
    // The other process finds the probe in flight.
    expect(await heldFor(b)).toBe(1_000);
    expect((await fail(a, probe)).holdUntil! - clock.now()).toBe(2_000);
    clock.advance(1_999);
    expect(await heldFor(b)).toBe(1);
    clock.advance(1);
    const second = await b.admit(DEST, limits);
    expect(second.probe).toBe(true);
    expect(await b.report(second, { kind: 'success' })).toEqual({});
    // The jobs it held run together once the last hold for the probe has ended, by priority.
    clock.advance(settings.refreshMs);
    expect(await heldFor(a)).toBe(1_150);
    clock.advance(1_150);
    expect(await a.admit(DEST, limits)).toEqual({ destination: DEST, probe: false });
    // Failures start counting afresh, and the next opening has the first cool-down again.
    for (let i = 0; i < 2; i++) expect(await fail(a)).toEqual({});
    expect((await fail(a)).holdUntil! - clock.now()).toBe(1_000);
  });

  it('pauses the destination for every process for as long as Retry-After says, then climbs back', async () => {
    const { a, b, clock } = await twoProcesses();
    const admission = await a.admit(DEST, limits);
    expect(await a.report(admission, { kind: 'throttled', retryAfterMs: 2_000 })).toEqual({});
    expect(await heldFor(a)).toBe(2_000);
    clock.advance(settings.refreshMs);
    expect(await heldFor(b)).toBe(1_900);
    clock.advance(1_900);
    // Just after the pause a destination without a limit gets 10/s: one per 100 ms window.
    expect(await heldFor(b)).toBeUndefined();
    expect(await heldFor(b)).toBeGreaterThan(0);
    // Four seconds later it is at 160/s, and after the recovery period it has no limit again.
    clock.advance(4_000);
    let admitted = 0;
    for (let i = 0; i < 40; i++) if ((await heldFor(b)) === undefined) admitted += 1;
    expect(admitted).toBe(16);
    clock.advance(settings.recoveryMs);
    for (let i = 0; i < 100; i++) expect(await heldFor(b)).toBeUndefined();
  });

  it('takes a 429 without Retry-After as a pause of the default length, and a pause never shortens one already set', async () => {
    const { a, clock } = await twoProcesses();
    await a.report(await a.admit(DEST, limits), { kind: 'throttled', retryAfterMs: 5_000 });
    clock.advance(10);
    await a.report({ destination: DEST, probe: false }, { kind: 'throttled' });
    expect(await heldFor(a)).toBe(4_990);
  });

  it('holds every job of a circuit forced open, and lets every job through one forced closed', async () => {
    const { a, clock, temp } = await twoProcesses();
    await forceCircuit(temp.database.db, DEST, 'open', clock.now());
    clock.advance(settings.refreshMs);
    expect(await heldFor(a)).toBe(1_000);
    await forceCircuit(temp.database.db, DEST, 'closed', clock.now());
    clock.advance(settings.refreshMs);
    for (let i = 0; i < 6; i++) expect(await fail(a)).toEqual({});
    // Given back to its breaker, the circuit opens on the next run of failures.
    await forceCircuit(temp.database.db, DEST, null, clock.now());
    clock.advance(settings.refreshMs);
    for (let i = 0; i < 2; i++) expect(await fail(a)).toEqual({});
    expect((await fail(a)).holdUntil! - clock.now()).toBeGreaterThanOrEqual(1_000);
  });

  it('a success of a request sent before the circuit opened closes it', async () => {
    const { a, b, clock } = await twoProcesses();
    const early = await b.admit(DEST, limits);
    for (let i = 0; i < 3; i++) await fail(a);
    clock.advance(settings.refreshMs);
    expect(await b.report(early, { kind: 'success' })).toEqual({});
    clock.advance(1_500);
    expect(await heldFor(b)).toBeUndefined();
  });

  it('gives back a probe that was not sent, so that another job probes at once', async () => {
    const { a, b, clock } = await twoProcesses();
    for (let i = 0; i < 3; i++) await fail(a);
    clock.advance(1_000);
    const probe = await a.admit(DEST, limits);
    await a.unused(probe);
    expect((await b.admit(DEST, limits)).probe).toBe(true);
  });

  it('fails the admission when it cannot read the circuits, rather than sending past a circuit it cannot see', async () => {
    const { a, temp } = await twoProcesses();
    await temp.database.close();
    const admitted = a.admit(DEST, limits);
    await expect(admitted).rejects.toThrow();
    await expect(admitted).rejects.not.toBeInstanceOf(DeferredError);
  });

  it('lets a gated caller\'s held job go back to its queue soon, and closes the destination\'s gate for the whole hold', async () => {
    const { a, b, clock } = await twoProcesses();
    const gate = a.gateOf(DEST);
    expect(a.gateOf(DEST)).toBe(gate);
    const gated = { ...limits, gated: true };
    for (let i = 0; i < 2; i++) await fail(a);
    const tripped = await fail(a);
    expect(tripped.holdUntil! - clock.now()).toBe(1_000);
    // Its queue's claims stop at once: the gate is closed for the cool-down, not only for the job.
    expect(gate.isOpen()).toBe(false);
    const error = a.heldError(DEST, gated, tripped.holdUntil!, 'the circuit is open');
    expect(error.delayMs).toBe(2 * settings.refreshMs);
    expect(a.heldError(DEST, limits, tripped.holdUntil!, 'the circuit is open').delayMs).toBe(1_000);
    clock.advance(settings.refreshMs);
    const held = await b.admit(DEST, gated).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(DeferredError);
    // b has no gate for the destination: nothing keeps the job in its queue, so it is held the whole time.
    expect((held as DeferredError).delayMs).toBe(900);
  });

  it('serves the jobs that wait in line for a token by priority, however they arrived', async () => {
    const temp = await createTempDatabase('intake-outbound-line');
    opened.push(temp);
    const guard = new OutboundGuard({ database: temp.database, store: new DatabaseStore(temp.database, systemClock), clock: systemClock, logger: pino({ level: 'silent' }), settings });
    // 10/s: one token per 100 ms window.
    const inLine = { ratePerS: 10, probeLeaseMs: 5_000, waitInLineMs: 2_000 };
    const served: string[] = [];
    const admit = (name: string, priority: number) => guard.admit(DEST, inLine, { priority, readySince: 0 }).then(() => served.push(name));
    // At the start of a window, so that every job below meets a spent one and waits in line.
    await new Promise((resolve) => setTimeout(resolve, windowOf(10, Date.now()).endsAt - Date.now() + 1));
    await admit('first', 1);
    await Promise.all([admit('low', 1), admit('max', 5), admit('normal', 2), admit('critical', 4)]);
    expect(served).toEqual(['first', 'max', 'critical', 'normal', 'low']);
    // A wait longer than waitInLineMs holds the job off the worker instead.
    const rare = { ratePerS: 0.01, probeLeaseMs: 5_000, waitInLineMs: 100 };
    await guard.admit('rare', rare, { priority: 3, readySince: 0 });
    await expect(guard.admit('rare', rare, { priority: 3, readySince: 0 })).rejects.toBeInstanceOf(DeferredError);
  });

  it('holds a job over the shared rate limit for its place in the line', async () => {
    const { a, b } = await twoProcesses();
    expect(await heldFor(a, 5)).toBeUndefined();
    expect(await heldFor(b, 5)).toBeGreaterThan(0);
  });
});
