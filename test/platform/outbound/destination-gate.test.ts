import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/platform/clock.js';
import { DestinationGate, heldUntilOf } from '../../../src/platform/outbound/destination-gate.js';
import type { DestinationRow } from '../../../src/platform/outbound/outbound.tables.js';
import { waitFor } from '../../support/driver-wait.js';

const NOW = 1_700_000_000_000;

function row(fields: Partial<DestinationRow>): DestinationRow {
  return { destination: 'third-party', opened_at: null, open_until: null, cooldown_ms: null, probe_until: null, paused_until: null, release_at: null, forced: null, last_failure: null, last_failure_at: null, updated_at: NOW, ...fields };
}

describe('heldUntilOf: until when a destination row keeps its queue from claiming', () => {
  it('is open for no row, a closed circuit, and holds that have ended', () => {
    expect(heldUntilOf(undefined, NOW)).toBeNull();
    expect(heldUntilOf(row({}), NOW)).toBeNull();
    expect(heldUntilOf(row({ paused_until: NOW - 1, release_at: NOW }), NOW)).toBeNull();
    expect(heldUntilOf(row({ forced: 'closed', opened_at: NOW - 10, open_until: NOW + 1_000 }), NOW)).toBeNull();
  });

  it('holds until a Retry-After pause or the release after a closed circuit ends, whichever is later', () => {
    expect(heldUntilOf(row({ paused_until: NOW + 2_000 }), NOW)).toBe(NOW + 2_000);
    expect(heldUntilOf(row({ paused_until: NOW + 2_000, release_at: NOW + 3_000 }), NOW)).toBe(NOW + 3_000);
  });

  it('holds an open circuit until the end of its cool-down, on the grid its held jobs wake on', () => {
    expect(heldUntilOf(row({ opened_at: NOW - 100, open_until: NOW + 1_000 }), NOW)).toBe(NOW + 1_000);
    expect(heldUntilOf(row({ opened_at: NOW - 100, open_until: NOW + 1_010 }), NOW)).toBe(NOW + 1_250);
  });

  it('lets the half-open circuit probe, then holds while its probe is in flight or the circuit is forced open', () => {
    expect(heldUntilOf(row({ opened_at: NOW - 2_000, open_until: NOW - 1 }), NOW)).toBeNull();
    expect(heldUntilOf(row({ opened_at: NOW - 2_000, open_until: NOW - 1, probe_until: NOW + 30_000 }), NOW)).toBe(Infinity);
    expect(heldUntilOf(row({ forced: 'open' }), NOW)).toBe(Infinity);
  });
});

describe('destination gate', () => {
  const gates: Array<() => void> = [];
  afterEach(() => {
    for (const unsubscribe of gates.splice(0)) unsubscribe();
  });

  function gate(read: () => Promise<DestinationRow | undefined>) {
    const changes: boolean[] = [];
    const g = new DestinationGate({ destination: 'third-party', read, clock: systemClock, pollMs: 20, logger: pino({ level: 'silent' }) });
    gates.push(g.subscribe(() => changes.push(g.isOpen())));
    return { gate: g, changes };
  }

  it('follows the row while a worker follows it, and opens by itself when a hold ends', async () => {
    let current: DestinationRow | undefined;
    const { gate: g, changes } = gate(async () => current);
    expect(g.isOpen()).toBe(true);
    current = row({ paused_until: Date.now() + 150 });
    await waitFor(async () => !g.isOpen(), 1_000, 'the gate to close');
    // Opened at the end of the pause by its own timer, though the row still names the pause.
    await waitFor(async () => g.isOpen(), 1_000, 'the gate to open');
    current = row({ forced: 'open' });
    await waitFor(async () => !g.isOpen(), 1_000, 'the gate to close for a forced-open circuit');
    current = undefined;
    await waitFor(async () => g.isOpen(), 1_000, 'the gate to open when the override is lifted');
    expect(changes).toEqual([false, true, false, true]);
  });

  it('closes at once when the guard tells it of a hold, which a shorter one never shortens; the next read of the row has the last word', async () => {
    let current: DestinationRow | undefined = row({ paused_until: Date.now() + 10_000 });
    const { gate: g, changes } = gate(async () => current);
    await waitFor(async () => !g.isOpen(), 1_000, 'the gate to close');
    g.holdUntil(Date.now() + 20_000);
    g.holdUntil(Date.now() + 50);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(g.isOpen()).toBe(false);
    // An operator lifted the pause: the row says so at the next read.
    current = undefined;
    await waitFor(async () => g.isOpen(), 1_000, 'the gate to open');
    const { gate: told } = gate(async () => undefined);
    told.holdUntil(Date.now() + 10_000);
    expect(told.isOpen()).toBe(false);
    expect(changes).toEqual([false, true]);
  });

  it('keeps its last known state, and stops reading once no worker follows it', async () => {
    let reads = 0;
    let failing = false;
    const g = new DestinationGate({
      destination: 'third-party',
      read: async () => {
        reads += 1;
        if (failing) throw new Error('database down');
        return row({ forced: 'open' });
      },
      clock: systemClock,
      pollMs: 10,
      logger: pino({ level: 'silent' }),
    });
    const unsubscribe = g.subscribe(() => undefined);
    await waitFor(async () => !g.isOpen(), 1_000, 'the gate to close');
    failing = true;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(g.isOpen()).toBe(false);
    unsubscribe();
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reads - after).toBeLessThanOrEqual(1);
  });
});
