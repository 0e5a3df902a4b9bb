import { sha256Hex } from '../platform/canonical-json.js';
import type { Clock } from '../platform/clock.js';
import type { Store } from '../platform/store/store.js';

/** Structurally `config.loginThrottle`. */
export interface LoginThrottleOptions {
  /** Failed logins an account may have before it must wait. */
  freeAttempts: number;
  /** The first wait; each further failure doubles it. */
  lockoutMs: number;
  /** The longest wait. */
  maxLockoutMs: number;
}

/** Failures are forgotten this long after the first of them (or at a successful login). */
const FAILURE_MEMORY_MS = 60 * 60_000;

/**
 * Failed logins per account (by normalized email), in the shared store so that every process
 * counts them together. Past `freeAttempts`, each failure locks the account for a delay that
 * doubles, up to `maxLockoutMs`; an attempt during the lock is refused unchecked and does not
 * count. A successful login clears the account. Keyed on the account alone (not on the address as
 * well), so that guesses spread over many addresses count together; the per-address rate limit
 * stays in front. Keys hold a hash of the email, never the address itself.
 */
export class LoginThrottle {
  constructor(
    private readonly deps: { store: Store; clock: Clock },
    private readonly o: LoginThrottleOptions,
  ) {}

  /** How long the account must still wait before it may try again, in ms (0: it may). */
  async lockedFor(email: string): Promise<number> {
    const until = Number(await this.deps.store.get(this.key('lock', email)));
    return Number.isFinite(until) ? Math.max(0, until - this.deps.clock.now()) : 0;
  }

  /** Counts a failed login; returns the lock it set, in ms (0: none yet). */
  async failed(email: string): Promise<number> {
    const { count } = await this.deps.store.increment(this.key('failures', email), Math.max(FAILURE_MEMORY_MS, this.o.maxLockoutMs * 2));
    if (count < this.o.freeAttempts) return 0;
    const lockMs = Math.min(this.o.maxLockoutMs, this.o.lockoutMs * 2 ** Math.min(count - this.o.freeAttempts, 30));
    await this.deps.store.set(this.key('lock', email), String(this.deps.clock.now() + lockMs), lockMs);
    return lockMs;
  }

  async succeeded(email: string): Promise<void> {
    await Promise.all([this.deps.store.delete(this.key('failures', email)), this.deps.store.delete(this.key('lock', email))]);
  }

  private key(kind: 'failures' | 'lock', email: string): string {
    return `login:${kind}:${sha256Hex(email)}`;
  }
}
