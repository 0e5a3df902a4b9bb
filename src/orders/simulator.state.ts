import type { Random } from '../platform/clock.js';
import type { Range } from '../config.js';

export interface SimulatorSettings {
  delayMs: Range;
  failureRate: number;
  random: Random;
  /** How many applied keys are remembered for de-duplication. */
  maxKeys?: number;
}

interface KeyCounts {
  received: number;
  applied: number;
  orderId: number;
}

export type SimulatorOutcome =
  | { kind: 'applied'; orderId: number }
  | { kind: 'duplicate'; orderId: number }
  | { kind: 'failed'; status: number };

/**
 * The third party's memory: it applies each Idempotency-Key once, fails at the configured rate
 * and counts everything, so that tests can prove exactly-once effects.
 */
export class SimulatorState {
  private readonly keys = new Map<string, KeyCounts>();
  private readonly pendingFailures = new Map<string, number>();
  private nextOrderId = 1;
  readonly totals = { received: 0, applied: 0, duplicates: 0, failed: 0 };

  constructor(readonly settings: SimulatorSettings) {}

  delayMs(): number {
    const { min, max } = this.settings.delayMs;
    return Math.round(min + this.settings.random() * (max - min));
  }

  /** Decides and records the outcome of one request. A key already applied is never applied again. */
  receive(key: string | undefined): SimulatorOutcome {
    this.totals.received++;
    const known = key === undefined ? undefined : this.keys.get(key);
    if (known) {
      known.received++;
      this.totals.duplicates++;
      return { kind: 'duplicate', orderId: known.orderId };
    }
    if (this.settings.random() < this.settings.failureRate) {
      this.totals.failed++;
      if (key !== undefined) this.pendingFailures.set(key, (this.pendingFailures.get(key) ?? 0) + 1);
      return { kind: 'failed', status: this.settings.random() < 0.5 ? 500 : 503 };
    }
    const orderId = this.nextOrderId++;
    this.totals.applied++;
    if (key !== undefined) {
      const failedBefore = this.pendingFailures.get(key) ?? 0;
      this.pendingFailures.delete(key);
      this.keys.set(key, { received: failedBefore + 1, applied: 1, orderId });
      this.forgetOldest();
    }
    return { kind: 'applied', orderId };
  }

  snapshot(includeKeys: boolean) {
    return {
      ...this.totals,
      distinct_keys: this.keys.size,
      ...(includeKeys ? { keys: Object.fromEntries([...this.keys].map(([k, v]) => [k, { received: v.received, applied: v.applied }])) } : {}),
    };
  }

  private forgetOldest(): void {
    const max = this.settings.maxKeys ?? 1_000_000;
    while (this.keys.size > max) {
      const oldest = this.keys.keys().next().value;
      if (oldest === undefined) return;
      this.keys.delete(oldest);
    }
  }
}
