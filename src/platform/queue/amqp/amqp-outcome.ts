import type { FailureOutcome, JobOutcomePolicy } from '../job-outcome.js';
import type { JobHandler } from '../queue.js';
import type { JobMessage } from './amqp-message.js';

/** What a delivery ends in, decided before anything is published or acknowledged. */
export type Outcome =
  | { kind: 'completed' }
  | FailureOutcome
  /** Its follow-up was already published; only the acknowledgement is left. */
  | { kind: 'settled' };

export interface HandlerRun {
  queue: string;
  handler: JobHandler;
  outcomes: JobOutcomePolicy;
  signal: AbortSignal;
}

/** Runs the handler for the job's next attempt; a failure ends as the shared outcome policy decides. */
export async function runHandler(job: JobMessage, run: HandlerRun): Promise<Outcome> {
  const attempt = job.attempts + 1;
  try {
    await run.handler(job.payload, {
      id: job.id,
      queue: run.queue,
      attempt,
      maxAttempts: job.maxAttempts,
      priority: job.priority,
      enqueuedAt: job.createdAt,
      readyAt: Math.max(job.createdAt, job.availableAt),
      headers: job.headers,
      signal: run.signal,
    });
    return { kind: 'completed' };
  } catch (error) {
    return run.outcomes.afterFailure(error, { id: job.id, attempt, maxAttempts: job.maxAttempts });
  }
}
