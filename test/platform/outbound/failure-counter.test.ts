import { describe, expect, it } from 'vitest';
import { FailureCounter } from '../../../src/platform/outbound/failure-counter.js';

const rule = { consecutiveFailures: 3, failureRatio: 0.5, minRequests: 10, windowMs: 10_000 };
const T0 = 1_700_000_000_000;

describe('FailureCounter', () => {
  it('trips on the n-th failure in a row, and a success in between starts the run again', () => {
    const counter = new FailureCounter(rule);
    expect(counter.failure(T0)).toBe(false);
    expect(counter.failure(T0)).toBe(false);
    counter.success(T0);
    expect(counter.failure(T0)).toBe(false);
    expect(counter.failure(T0)).toBe(false);
    expect(counter.failure(T0)).toBe(true);
  });

  it('trips when failures reach the ratio among at least the minimum of requests', () => {
    const counter = new FailureCounter(rule);
    // 4 successes and 4 failures, alternating: the ratio is met but there are only 8 requests.
    for (let i = 0; i < 4; i++) {
      counter.success(T0 + i);
      expect(counter.failure(T0 + i)).toBe(false);
    }
    counter.success(T0 + 5);
    expect(counter.failure(T0 + 5)).toBe(true);
  });

  it('forgets requests older than the window', () => {
    const counter = new FailureCounter(rule);
    for (let i = 0; i < 6; i++) counter.success(T0);
    for (let i = 0; i < 2; i++) counter.failure(T0);
    counter.success(T0);
    // 11 seconds later, the 9 old requests are out of the window: 2 + 1 requests, below the minimum.
    counter.success(T0 + 11_000);
    expect(counter.failure(T0 + 11_000)).toBe(false);
    expect(counter.failure(T0 + 11_000)).toBe(false);
    // Ratio tripping needs the minimum within the window: 6 more successes and failures alternate.
    for (let i = 0; i < 3; i++) {
      counter.success(T0 + 11_000);
      counter.failure(T0 + 11_000);
    }
    counter.success(T0 + 11_000);
    expect(counter.failure(T0 + 11_000)).toBe(true);
  });

  it('counts afresh after a reset', () => {
    const counter = new FailureCounter(rule);
    counter.failure(T0);
    counter.failure(T0);
    counter.reset();
    expect(counter.failure(T0)).toBe(false);
    expect(counter.failure(T0)).toBe(false);
    expect(counter.failure(T0)).toBe(true);
  });
});
