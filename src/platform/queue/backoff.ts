import type { BackoffPolicy } from './queue.js';

/**
 * Delay before attempt `attempt + 1`, after `attempt` failures. With a schedule, its entry for
 * this failure with ±10% jitter; otherwise exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random). Either way a burst of failures does not retry in
 * lockstep, and a `Retry-After` from the far side is honoured as a floor (capped at `maxMs`).
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const jittered = policy.scheduleMs?.length ? scheduledDelayMs(attempt, policy.scheduleMs, random) : exponentialDelayMs(attempt, policy, random);
  const floor = retryAfterMs !== undefined ? Math.min(retryAfterMs, policy.maxMs) : 0;
  return Math.round(Math.max(jittered, floor));
}

function exponentialDelayMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return exponential / 2 + random() * (exponential / 2);
}

function scheduledDelayMs(attempt: number, scheduleMs: readonly number[], random: () => number): number {
  const planned = scheduleMs[Math.min(Math.max(1, attempt), scheduleMs.length) - 1]!;
  return planned * (0.9 + 0.2 * random());
}
