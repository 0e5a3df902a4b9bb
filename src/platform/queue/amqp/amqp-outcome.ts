import type { Logger } from 'pino';
import type { Random } from '../../clock.js';
import { retryDelayMs } from '../backoff.js';
import { PermanentError, RetryableError, type BackoffPolicy, type JobHandler } from '../queue.js';
import type { JobMessage } from './amqp-message.js';

/** What a delivery ends in, decided before anything is published or acknowledged. */
export type Outcome =
  | { kind: 'completed' }
  | { kind: 'retry'; attempts: number; delayMs: number; reason: string }
  | { kind: 'park'; attempts: number; reason: string }
  /** Its follow-up was already published; only the acknowledgement is left. */
  | { kind: 'settled' };

export interface HandlerRun {
  queue: string;
  handler: JobHandler;
  backoff: BackoffPolicy;
  random: Random;
  signal: AbortSignal;
  logger: Logger;
}

/** Runs the handler for the job's next attempt and classifies the result as the database worker does. */
export async function runHandler(job: JobMessage, run: HandlerRun): Promise<Outcome> {
  const attempt = job.attempts + 1;
  try {
    await run.handler(job.payload, { id: job.id, queue: run.queue, attempt, maxAttempts: job.maxAttempts, headers: job.headers, signal: run.signal });
    return { kind: 'completed' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const log = run.logger.child({ jobId: job.id, attempt });
    if (error instanceof PermanentError || attempt >= job.maxAttempts) {
      log.warn({ err: error }, error instanceof PermanentError ? 'job failed permanently; parked' : 'job out of attempts; parked');
      return { kind: 'park', attempts: attempt, reason };
    }
    const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
    const delayMs = retryDelayMs(attempt, run.backoff, run.random, retryAfterMs);
    log.info({ err: error, retryInMs: delayMs }, 'job failed; will retry');
    return { kind: 'retry', attempts: attempt, delayMs, reason };
  }
}
