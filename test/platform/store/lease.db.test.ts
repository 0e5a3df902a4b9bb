import { hostname } from 'node:os';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/platform/clock.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { Lease, readLease } from '../../../src/platform/store/lease.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';

const TTL = 300;
const options = { ttlMs: TTL, clock: systemClock, logger: pino({ level: 'silent' }) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Lease', () => {
  let temp: TempDatabase | undefined;
  afterEach(async () => {
    await temp?.cleanup();
    temp = undefined;
  });
  const store = async () => {
    temp = await createTempDatabase('intake-lease');
    return new DatabaseStore(temp.database, systemClock);
  };

  it('is held by one holder at a time, who is named to the others, until released', async () => {
    const kv = await store();
    const first = await Lease.acquire(kv, 'lock:x', options);
    expect('lease' in first).toBe(true);
    const second = await Lease.acquire(kv, 'lock:x', options);
    expect(second).toEqual({ heldBy: { holder: `${hostname()}:${process.pid}`, since: expect.any(Number) } });
    if (!('lease' in first)) throw new Error('not acquired');
    await first.lease.release();
    expect(await readLease(kv, 'lock:x')).toBeNull();
    const third = await Lease.acquire(kv, 'lock:x', options);
    if ('lease' in third) await third.lease.release();
    expect('lease' in third).toBe(true);
  });

  it('lives past its ttl while the holder renews it, and ends within one ttl of the renewals stopping', async () => {
    const kv = await store();
    const acquired = await Lease.acquire(kv, 'lock:x', options);
    if (!('lease' in acquired)) throw new Error('not acquired');
    await sleep(TTL * 3);
    expect(await readLease(kv, 'lock:x')).not.toBeNull();
    expect(acquired.lease.lost.aborted).toBe(false);
    // A holder that dies stops renewing: stand in for it by stopping the timer without releasing.
    clearInterval((acquired.lease as unknown as { timer: NodeJS.Timeout }).timer);
    await sleep(TTL + 50);
    expect(await readLease(kv, 'lock:x')).toBeNull();
  });

  it('tells its holder through `lost` when another process took it over', async () => {
    const kv = await store();
    const acquired = await Lease.acquire(kv, 'lock:x', options);
    if (!('lease' in acquired)) throw new Error('not acquired');
    await kv.set('lock:x', JSON.stringify({ token: 'other', holder: 'elsewhere:1', since: 1 }), 60_000);
    await sleep(TTL);
    expect(acquired.lease.lost.aborted).toBe(true);
    expect((acquired.lease.lost.reason as Error).message).toMatch(/taken over or expired/);
    await acquired.lease.release();
    expect(await readLease(kv, 'lock:x')).toEqual({ holder: 'elsewhere:1', since: 1 });
  });
});
