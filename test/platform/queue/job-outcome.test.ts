import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { isFinalFailure, JobOutcomePolicy } from '../../../src/platform/queue/job-outcome.js';
import { PermanentError, RetryableError, type ParkedNotice } from '../../../src/platform/queue/queue.js';
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
  });
});
