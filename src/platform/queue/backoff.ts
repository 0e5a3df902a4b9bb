import type { BackoffPolicy } from './queue.js';

/**
 * Delay before attempt `attempt + 1`, after `attempt` failures: exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so that a burst of failures
 * does not retry in lockstep. A `Retry-After` from the far side is honoured as a floor.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + random() * (exponential / 2);
  const floor = retryAfterMs !== undefined ? Math.min(retryAfterMs, policy.maxMs) : 0;
  return Math.round(Math.max(jittered, floor));
}
