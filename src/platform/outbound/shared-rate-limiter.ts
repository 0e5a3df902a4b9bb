import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

/** The shortest window: shorter ones would cost a store write per request at any rate. */
const MIN_WINDOW_MS = 100;
/** A process takes at most this share of a window's tokens at once, so that others still find some. */
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

/**
 * A rate limit per destination shared by every process through the store: time is cut into
 * windows of at least 100 ms, each with `rate × window` tokens, counted by one key per window.
 * Every process takes tokens from the count in small leases and spends them locally, so the store
 * sees a write per lease, not per request. A window never grants more than its tokens: over any
 * second a destination sees at most its rate plus one window's tokens (10 % above 10/s).
 */
export class SharedRateLimiter {
  private readonly leases = new Map<string, { key: string; left: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async tryAcquire(destination: string, ratePerS: number): Promise<RateDecision> {
    const window = windowOf(ratePerS, this.clock.now());
    const key = `rate:${destination}:${ratePerS}:${window.index}`;
    const lease = this.leases.get(destination);
    if (lease?.key === key && lease.left > 0) {
      lease.left -= 1;
      return { granted: true };
    }
    const asked = Math.max(1, Math.floor(window.tokens / LEASE_SHARE));
    const { count } = await this.store.increment(key, Math.ceil(window.durationMs) * 2 + 1_000, asked);
    const granted = Math.min(asked, Math.max(0, window.tokens - (count - asked)));
    if (granted > 0) {
      this.leases.set(destination, { key, left: granted - 1 });
      return { granted: true };
    }
    this.leases.delete(destination);
    // The requests already over this window's tokens go first in the windows after it.
    const windowsAhead = Math.floor((count - asked - window.tokens) / window.tokens);
    const waitMs = window.endsAt - this.clock.now() + windowsAhead * window.durationMs;
    return { granted: false, waitMs: Math.min(MAX_WAIT_MS, Math.max(1, Math.ceil(waitMs))) };
  }
}
