import type { Logger } from 'pino';
import type { Random } from '../clock.js';
import { retryDelayMs } from './backoff.js';
import { DeferredError, PermanentError, RetryableError, type BackoffPolicy, type ParkedHandler, type ParkedNotice } from './queue.js';

/** What a failed attempt ends in; the driver carries it out (an SQL update, a publish to a retry or parked queue). */
export type FailureOutcome =
  /** `deferred`: the attempt is not counted, `attempts` is the count before it. `availableAt`, when set, wins over `delayMs`. */
  | { kind: 'retry'; attempts: number; delayMs: number; reason: string; deferred?: true; availableAt?: number }
  | { kind: 'park'; attempts: number; reason: string };

export interface FailedAttempt {
  id: string | number;
  /** 1 on the first delivery. */
  attempt: number;
  maxAttempts: number;
}

/** A PermanentError, or a failure of the last attempt, leaves the job no further try; a deferral never does. */
export function isFinalFailure(error: unknown, attempt: number, maxAttempts: number): boolean {
  if (error instanceof DeferredError) return false;
  return error instanceof PermanentError || attempt >= maxAttempts;
}

export interface JobOutcomePolicyOptions {
  backoff: BackoffPolicy;
  random: Random;
  logger: Logger;
  onParked?: ParkedHandler;
}

/**
 * What every queue driver does with a job that did not complete, whatever its mechanics: a final
 * failure parks the job, any other waits out the backoff (a RetryableError's `retryAfterMs` is its
 * floor) and runs again, and a DeferredError runs again after its delay without counting the
 * attempt; once a job is parked, its type's owner is told.
 */
export class JobOutcomePolicy {
  constructor(private readonly o: JobOutcomePolicyOptions) {}

  afterFailure(error: unknown, job: FailedAttempt): FailureOutcome {
    const reason = error instanceof Error ? error.message : String(error);
    const log = this.o.logger.child({ jobId: job.id, attempt: job.attempt });
    if (error instanceof DeferredError) {
      log.debug({ retryInMs: error.delayMs }, 'job deferred; the attempt is not counted');
      return { kind: 'retry', attempts: job.attempt - 1, delayMs: error.delayMs, reason, deferred: true, ...(error.untilMs !== undefined && { availableAt: error.untilMs }) };
    }
    // The worker's finished-job line (FinishedJobLog) reports the outcome; this adds the error's stack, at debug.
    if (isFinalFailure(error, job.attempt, job.maxAttempts)) {
      log.debug({ err: error }, error instanceof PermanentError ? 'job failed permanently; parked' : 'job out of attempts; parked');
      return { kind: 'park', attempts: job.attempt, reason };
    }
    const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
    const delayMs = retryDelayMs(job.attempt, this.o.backoff, this.o.random, retryAfterMs);
    log.debug({ err: error, retryInMs: delayMs }, 'job failed; will retry');
    return { kind: 'retry', attempts: job.attempt, delayMs, reason };
  }

  /** Call once the driver has parked the job. The owner's failure is logged: the job stays parked either way. */
  async notifyParked(payload: unknown, notice: ParkedNotice): Promise<void> {
    if (!this.o.onParked) return;
    await this.o.onParked(payload, notice).catch((error: unknown) => {
      this.o.logger.error({ err: error, jobId: notice.id }, 'the parked-job callback failed');
    });
  }
}
