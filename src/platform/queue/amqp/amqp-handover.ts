import type { ConsumeMessage } from 'amqplib';
import type { Outcome } from './amqp-outcome.js';

/** How long a worker remembers a job whose channel closed under it, waiting for its redelivery. */
const REMEMBER_MS = 60_000;

/**
 * What a worker knows about its own jobs whose channel closed under them (a lost connection),
 * so that their redelivery to it is not taken for the crash of another consumer: a handler
 * still running, or finished without being able to acknowledge, hands its outcome over to the
 * redelivery; a job that was only prefetched used no attempt.
 */
export class AmqpHandover {
  private readonly outcomes = new Map<string, Promise<Outcome>>();
  private readonly neverStarted = new Set<string>();

  /** The handler of `jobId` is running; its outcome is claimable until forgotten. */
  track(jobId: string, outcome: Promise<Outcome>): void {
    this.outcomes.set(jobId, outcome);
  }

  /** Its outcome was applied to its own delivery, or no longer applies. */
  forget(jobId: string, outcome: Promise<Outcome>): void {
    if (this.outcomes.get(jobId) === outcome) this.outcomes.delete(jobId);
  }

  /** Its channel closed before the outcome could be acknowledged: kept a while for the redelivery. */
  keep(jobId: string, outcome: Promise<Outcome>): void {
    this.outcomes.set(jobId, outcome);
    setTimeout(() => this.forget(jobId, outcome), REMEMBER_MS).unref();
  }

  /** Prefetched on a channel that closed before it started. A message redelivered already keeps counting. */
  notStarted(message: ConsumeMessage): void {
    const id = message.properties.messageId as unknown;
    if (typeof id !== 'string' || message.fields.redelivered) return;
    this.neverStarted.add(id);
    setTimeout(() => this.neverStarted.delete(id), REMEMBER_MS).unref();
  }

  /**
   * For a redelivered job: `fresh` when it never started here (no attempt used), the outcome of
   * its run here, or undefined when this worker knows nothing of it.
   */
  claim(jobId: string): 'fresh' | Promise<Outcome> | undefined {
    if (this.neverStarted.delete(jobId)) return 'fresh';
    const outcome = this.outcomes.get(jobId);
    this.outcomes.delete(jobId);
    return outcome;
  }
}
