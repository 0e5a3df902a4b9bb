import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

/** The shortest window: shorter ones would cost a store write per request at any rate. */
const MIN_WINDOW_MS = 100;
/** A process asks for at least this share of a window's tokens at once, so that a busy one asks seldom. */
const LEASE_SHARE = 8;
/** A denied request never waits longer than this before it asks again. */
const MAX_WAIT_MS = 60_000;

export type RateDecision = { granted: true } | { granted: false; waitMs: number };

interface Window {
  /** The window's tokens, at least one. */
  tokens: number;
  durationMs: number;
  index: number;
  endsAt: number;
}

/** The window that `now` falls in, for `ratePerS`: as short as 100 ms allows, with whole tokens. */
export function windowOf(ratePerS: number, now: number): Window {
  const tokens = Math.max(1, Math.ceil((ratePerS * MIN_WINDOW_MS) / 1000));
  const durationMs = (tokens * 1000) / ratePerS;
  const index = Math.floor(now / durationMs);
  return { tokens, durationMs, index, endsAt: (index + 1) * durationMs };
}

/** Tokens this process took from one window's count, and the requests it turned away since. */
interface Lease {
  key: string;
  left: number;
  /** The window's count in the store beyond its tokens, as of the last ask, plus this process's denials since. */
  overflow: number;
}

/**
 * A rate limit per destination shared by every process through the store: time is cut into
 * windows of at least 100 ms, each with `rate × window` tokens, counted by one key per window.
 * Each process takes tokens from the count in leases, one ask at a time per destination, sized to
 * the requests waiting for it, and spends them locally: the store sees a write per lease, not per
 * request. A window never grants more than its tokens: over any second a destination sees at most
 * its rate plus one window's tokens (10 % above 10/s).
 */
export class SharedRateLimiter {
  private readonly leases = new Map<string, Lease>();
  private readonly asking = new Map<string, { done: Promise<void>; waiting: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** One token; `demand` is how many requests of this process want one now, which sizes a lease taken for them. */
  async tryAcquire(destination: string, ratePerS: number, demand = 1): Promise<RateDecision> {
    for (;;) {
      const window = windowOf(ratePerS, this.clock.now());
      const key = `rate:${destination}:${ratePerS}:${window.index}`;
      const lease = this.leases.get(destination);
      if (lease?.key === key) {
        if (lease.left > 0) {
          lease.left -= 1;
          return { granted: true };
        }
        if (lease.overflow >= 0) {
          // This window is spent: the request goes after the ones already turned away.
          const windowsAhead = Math.floor(lease.overflow / window.tokens);
          lease.overflow += 1;
          const waitMs = window.endsAt - this.clock.now() + windowsAhead * window.durationMs;
          return { granted: false, waitMs: Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(waitMs))) };
        }
      }
      const ask = this.asking.get(destination);
      if (ask) {
        ask.waiting += demand;
        await ask.done;
        continue;
      }
      const asked = { done: Promise.resolve(), waiting: demand };
      asked.done = this.takeLease(destination, key, window, () => asked.waiting).finally(() => this.asking.delete(destination));
      this.asking.set(destination, asked);
      await asked.done;
    }
  }

  /** Asks the store for tokens of the window: enough for the requests waiting, at least an eighth of the window. */
  private async takeLease(destination: string, key: string, window: Window, waiting: () => number): Promise<void> {
    const asked = Math.min(window.tokens, Math.max(Math.ceil(window.tokens / LEASE_SHARE), waiting()));
    const { count } = await this.store.increment(key, Math.ceil(window.durationMs) * 2 + 1_000, asked);
    const granted = Math.min(asked, Math.max(0, window.tokens - (count - asked)));
    // A lease with tokens left is spent first; once empty, its overflow (-1: unknown) tells whether to ask again.
    this.leases.set(destination, { key, left: granted, overflow: granted > 0 ? -1 : count - asked - window.tokens });
  }
}
