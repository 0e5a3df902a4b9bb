import { describe, expect, it } from 'vitest';
import { SharedRateLimiter, windowOf } from '../../../src/platform/outbound/shared-rate-limiter.js';
import type { Store } from '../../../src/platform/store/store.js';
import type { ManualClock } from '../../support/driver-clock.js';

export interface LimiterFixture {
  /** One store as two processes would share it. */
  store: Store;
  clock: ManualClock;
}

/** The shared rate limit on a store driver: two limiters stand for two worker processes. */
export function sharedRateLimiterContract(name: string, setup: () => Promise<LimiterFixture>): void {
  describe(`shared rate limit on ${name}`, () => {
    it('grants at most the rate over a second, counted across processes, and tells the denied when to ask again', async () => {
      const { store, clock } = await setup();
      const processes = [new SharedRateLimiter(store, clock), new SharedRateLimiter(store, clock)];
      // Start at a window boundary, so that one second holds exactly ten windows of 100 ms.
      clock.advance(windowOf(50, clock.now()).endsAt - clock.now());
      let granted = 0;
      const waits: number[] = [];
      for (let tick = 0; tick < 100; tick++) {
        for (let i = 0; i < 4; i++) {
          const decision = await processes[i % 2]!.tryAcquire('third-party', 50);
          if (decision.granted) granted += 1;
          else waits.push(decision.waitMs);
        }
        clock.advance(10);
      }
      // 400 asked within one second at 50/s.
      expect(granted).toBe(50);
      expect(waits.length).toBe(350);
      expect(Math.min(...waits)).toBeGreaterThan(0);
      expect(Math.max(...waits)).toBeLessThanOrEqual(60_000);
    });

    it('serves concurrent requests of one process from shared leases, spreading the denied over the windows to come', async () => {
      const { store, clock } = await setup();
      const limiter = new SharedRateLimiter(store, clock);
      clock.advance(windowOf(50, clock.now()).endsAt - clock.now());
      const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.tryAcquire('third-party', 50)));
      expect(decisions.filter((d) => d.granted)).toHaveLength(5);
      const waits = decisions.flatMap((d) => (d.granted ? [] : [d.waitMs])).sort((a, b) => a - b);
      // 35 turned away, five per window: the first five wait for the next window, the last for the seventh.
      expect(waits[0]).toBe(100);
      expect(waits.at(-1)).toBe(700);
    });

    it('keeps destinations apart', async () => {
      const { store, clock } = await setup();
      const limiter = new SharedRateLimiter(store, clock);
      clock.advance(windowOf(1, clock.now()).endsAt - clock.now());
      expect(await limiter.tryAcquire('image-host:a.test', 1)).toEqual({ granted: true });
      expect((await limiter.tryAcquire('image-host:a.test', 1)).granted).toBe(false);
      expect(await limiter.tryAcquire('image-host:b.test', 1)).toEqual({ granted: true });
      clock.advance(1_000);
      expect(await limiter.tryAcquire('image-host:a.test', 1)).toEqual({ granted: true });
    });

    it('spreads the denied over the windows to come, by their place in the line', async () => {
      const { store, clock } = await setup();
      const limiter = new SharedRateLimiter(store, clock);
      clock.advance(windowOf(10, clock.now()).endsAt - clock.now());
      // 10/s: one token per 100 ms window. The first is granted, the next wait 100, 200, 300 ms.
      expect((await limiter.tryAcquire('webhook:1', 10)).granted).toBe(true);
      const waits = [];
      for (let i = 0; i < 3; i++) {
        const decision = await limiter.tryAcquire('webhook:1', 10);
        expect(decision.granted).toBe(false);
        if (!decision.granted) waits.push(decision.waitMs);
      }
      expect(waits).toEqual([100, 200, 300]);
    });
  });
}
