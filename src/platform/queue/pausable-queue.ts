import type { Logger } from 'pino';
import { DelegatingTransactionalQueue } from './delegating-queue.js';
import type { PausedQueues } from './paused-queues.js';
import type { JobHandler, TransactionalQueue, WorkOptions, Worker } from './queue.js';

/** How long a paused worker lets its running jobs run: as long as they take (the longest timer Node keeps). */
const UNTIL_FINISHED_MS = 2_147_483_647;

/**
 * Lets operators pause a queue in every worker process, whatever the driver: each worker follows
 * the process's PausedQueues. A pause stops the driver's worker, which claims nothing more, gives
 * back what it had claimed ahead without counting an attempt, and lets its running jobs finish; a
 * resume starts a new driver worker once the old one has drained, so that the concurrency is never
 * exceeded. Enqueueing is untouched: the jobs of a paused queue wait.
 */
export class PausableQueue extends DelegatingTransactionalQueue {
  private readonly workers = new Set<PausableWorker>();

  constructor(
    inner: TransactionalQueue,
    private readonly paused: PausedQueues,
    private readonly logger: Logger,
  ) {
    super(inner);
  }

  override work(queue: string, handler: JobHandler, options: WorkOptions): Worker {
    const worker = new PausableWorker({
      queue,
      startWorker: () => this.inner.work(queue, handler, options),
      paused: this.paused,
      logger: this.logger.child({ queue }),
      onStopped: (stopped) => this.workers.delete(stopped),
    });
    this.workers.add(worker);
    worker.follow(this.paused.start());
    return worker;
  }

  /** Stops following the pauses before the driver closes, so that no worker starts again. */
  override async close(): Promise<void> {
    this.paused.stop();
    await Promise.all([...this.workers].map((worker) => worker.stop(0)));
    await super.close();
  }
}

interface PausableWorkerOptions {
  queue: string;
  startWorker: () => Worker;
  paused: PausedQueues;
  logger: Logger;
  onStopped: (worker: PausableWorker) => void;
}

class PausableWorker implements Worker {
  /** The driver's worker: claiming, or draining after a pause. */
  private worker: Worker | undefined;
  private changes: Promise<void> = Promise.resolve();
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(private readonly o: PausableWorkerOptions) {}

  /** Starts once the process knows whether the queue is paused (`firstRead`), then follows each pause and resume. */
  follow(firstRead: Promise<void>): void {
    this.unsubscribe = this.o.paused.subscribe(() => this.applyNext());
    this.changes = firstRead;
    this.applyNext();
  }

  /** Works in every state: a claiming worker stops as any does; a draining one takes the shorter deadline. */
  stop(deadlineMs = 30_000): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.unsubscribe();
      this.o.onStopped(this);
    }
    return this.worker?.stop(deadlineMs) ?? Promise.resolve();
  }

  /** One change at a time: a resume waits until the worker the pause stopped has drained. */
  private applyNext(): void {
    this.changes = this.changes.then(() => this.apply()).catch((error: unknown) => this.o.logger.error({ err: error }, 'could not follow the pause or resume of the queue'));
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    const paused = this.o.paused.isPaused(this.o.queue);
    if (!paused && !this.worker) {
      this.worker = this.o.startWorker();
    } else if (paused && this.worker) {
      const draining = this.worker;
      await draining.stop(UNTIL_FINISHED_MS);
      if (this.worker === draining) this.worker = undefined;
    }
  }
}
