export interface TripRule {
  /** Failures in a row that open the circuit. */
  consecutiveFailures: number;
  /** Or this share of failures (0..1) among at least `minRequests` requests within `windowMs`. */
  failureRatio: number;
  minRequests: number;
  windowMs: number;
}

const BUCKETS = 10;

/**
 * One process's count of a destination's failures: in a row, and over a sliding window of ten
 * buckets. Each process counts for itself and writes nothing until the rule trips, so a flaky but
 * working destination costs no write; the open circuit it trips is shared.
 */
export class FailureCounter {
  private consecutive = 0;
  private readonly starts = new Array<number>(BUCKETS).fill(-Infinity);
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);
  lastSeen = 0;

  constructor(private readonly rule: TripRule) {}

  success(now: number): void {
    this.consecutive = 0;
    this.count(now, 0);
  }

  /** Counts a failure; true when the rule trips. */
  failure(now: number): boolean {
    this.consecutive += 1;
    this.count(now, 1);
    if (this.consecutive >= this.rule.consecutiveFailures) return true;
    let requests = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (now - this.starts[i]! >= this.rule.windowMs) continue;
      requests += this.requests[i]!;
      failures += this.failures[i]!;
    }
    return requests >= this.rule.minRequests && failures >= this.rule.failureRatio * requests;
  }

  /** Starts counting afresh, e.g. once the circuit has opened. */
  reset(): void {
    this.consecutive = 0;
    this.starts.fill(-Infinity);
    this.requests.fill(0);
    this.failures.fill(0);
  }

  private count(now: number, failed: number): void {
    this.lastSeen = now;
    const width = this.rule.windowMs / BUCKETS;
    const start = Math.floor(now / width) * width;
    const i = Math.floor(now / width) % BUCKETS;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.requests[i] = 0;
      this.failures[i] = 0;
    }
    this.requests[i]! += 1;
    this.failures[i]! += failed;
  }
}
