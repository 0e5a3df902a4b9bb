import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isFinalFailure, JobOutcomePolicy } from '../../../src/platform/queue/job-outcome.js';
import { retryDelayMs } from '../../../src/platform/queue/backoff.js';
import { DeferredError, PermanentError, RetryableError, type ParkedNotice } from '../../../src/platform/queue/queue.js';
import { captureLogs } from '../../support/log-capture.js';

const BACKOFF = { baseMs: 100, maxMs: 10_000 };
const silent = pino({ level: 'silent' });

function policy(options: Partial<ConstructorParameters<typeof JobOutcomePolicy>[0]> = {}) {
  return new JobOutcomePolicy({ backoff: BACKOFF, random: () => 0.5, logger: silent, ...options });
}

describe('the job outcome policy', () => {
  it('parks at once on a PermanentError, whatever attempts are left', () => {
    expect(policy().afterFailure(new PermanentError('gone'), { id: 1, attempt: 1, maxAttempts: 5 })).toEqual({ kind: 'park', attempts: 1, reason: 'gone' });
  });

  it('parks a failure of the last attempt, retryable or not', () => {
    expect(policy().afterFailure(new RetryableError('busy', 50), { id: 'a', attempt: 3, maxAttempts: 3 })).toEqual({ kind: 'park', attempts: 3, reason: 'busy' });
    expect(policy().afterFailure('a string was thrown', { id: 'a', attempt: 3, maxAttempts: 3 })).toEqual({ kind: 'park', attempts: 3, reason: 'a string was thrown' });
  });

  it('retries any other failure after the exponential backoff with equal jitter', () => {
    // attempt 3: 100 * 2^2 = 400, half fixed and half 0.5 of random: 300.
    expect(policy().afterFailure(new Error('flaky'), { id: 1, attempt: 3, maxAttempts: 5 })).toEqual({ kind: 'retry', attempts: 3, delayMs: 300, reason: 'flaky' });
  });

  it('waits at least the retry-after of a RetryableError, capped by the backoff maximum', () => {
    expect(policy().afterFailure(new RetryableError('429', 2_000), { id: 1, attempt: 1, maxAttempts: 5 })).toMatchObject({ kind: 'retry', delayMs: 2_000 });
    expect(policy().afterFailure(new RetryableError('429', 60_000), { id: 1, attempt: 1, maxAttempts: 5 })).toMatchObject({ kind: 'retry', delayMs: 10_000 });
  });

  it('tells the owner of a parked job, and logs rather than throws when the owner fails', async () => {
    const logs = captureLogs();
    const told: Array<{ payload: unknown; notice: ParkedNotice }> = [];
    const notice = { id: '7', queue: 'q', attempts: 3, maxAttempts: 3, reason: 'out of attempts' };
    await policy({ onParked: async (payload, n) => void told.push({ payload, notice: n }) }).notifyParked({ itemId: 1 }, notice);
    expect(told).toEqual([{ payload: { itemId: 1 }, notice }]);

    const failing = policy({ logger: pino({ level: 'error' }, logs.destination), onParked: () => Promise.reject(new Error('owner down')) });
    await expect(failing.notifyParked({ itemId: 1 }, notice)).resolves.toBeUndefined();
    expect(logs.records()).toEqual([expect.objectContaining({ msg: 'the parked-job callback failed', jobId: '7' })]);
    await expect(policy().notifyParked({ itemId: 1 }, notice)).resolves.toBeUndefined();
  });

  it('calls the last attempt and a PermanentError final, and nothing else', () => {
    expect(isFinalFailure(new PermanentError('x'), 1, 3)).toBe(true);
    expect(isFinalFailure(new Error('x'), 3, 3)).toBe(true);
    expect(isFinalFailure(new RetryableError('x'), 2, 3)).toBe(false);
    expect(isFinalFailure(new DeferredError(100), 3, 3)).toBe(false);
  });

  it('defers a DeferredError by its own delay without counting the attempt, even on the last attempt', () => {
    expect(policy().afterFailure(new DeferredError(1_234, 'no free slot'), { id: 1, attempt: 1, maxAttempts: 5 })).toEqual({
      kind: 'retry',
      attempts: 0,
      delayMs: 1_234,
      reason: 'no free slot',
      deferred: true,
    });
    expect(policy().afterFailure(new DeferredError(50), { id: 1, attempt: 3, maxAttempts: 3 })).toMatchObject({ kind: 'retry', attempts: 2, delayMs: 50, deferred: true });
  });

  it('follows a schedule when the backoff has one: entry n after the n-th failure, the last entry repeated', () => {
    const scheduled = policy({ backoff: { baseMs: 100, maxMs: 10_000, scheduleMs: [100, 1_000, 5_000] } });
    const delays = [1, 2, 3, 4].map((attempt) => (scheduled.afterFailure(new Error('down'), { id: 1, attempt, maxAttempts: 9 }) as { delayMs: number }).delayMs);
    expect(delays).toEqual([100, 1_000, 5_000, 5_000]);
  });
});

describe('retry delays', () => {
  const exponential = { baseMs: 100, maxMs: 10_000 };
  const schedule = { baseMs: 100, maxMs: 7_200_000, scheduleMs: [5_000, 300_000, 7_200_000] };

  it('keeps the exponential backoff with equal jitter when there is no schedule', () => {
    expect([1, 2, 3, 8].map((attempt) => retryDelayMs(attempt, exponential, () => 0))).toEqual([50, 100, 200, 5_000]);
    expect([1, 2, 3, 8].map((attempt) => retryDelayMs(attempt, exponential, () => 1))).toEqual([100, 200, 400, 10_000]);
    expect(retryDelayMs(1, { ...exponential, scheduleMs: [] }, () => 1)).toBe(100);
  });

  it('jitters a scheduled wait by at most 10% either way', () => {
    expect(retryDelayMs(2, schedule, () => 0)).toBe(270_000);
    expect(retryDelayMs(2, schedule, () => 0.5)).toBe(300_000);
    expect(retryDelayMs(2, schedule, () => 1)).toBe(330_000);
  });

  it('takes a Retry-After as a floor over either, capped at the maximum', () => {
    expect(retryDelayMs(1, schedule, () => 0.5, 60_000)).toBe(60_000);
    expect(retryDelayMs(1, schedule, () => 0.5, 1_000)).toBe(5_000);
    expect(retryDelayMs(1, schedule, () => 0.5, 30 * 86_400_000)).toBe(7_200_000);
    expect(retryDelayMs(1, exponential, () => 0.5, 60_000)).toBe(10_000);
  });
});
