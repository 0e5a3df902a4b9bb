import type { Logger } from 'pino';
import { DelegatingTransactionalQueue } from './delegating-queue.js';
import type { PausedQueues } from './paused-queues.js';
import type { ClaimGate, JobHandler, TransactionalQueue, WorkOptions, Worker } from './queue.js';

/** How long a paused worker lets its running jobs run: as long as they take (the longest timer Node keeps). */
const UNTIL_FINISHED_MS = 2_147_483_647;

/**
 * Lets operators pause a queue in every worker process, whatever the driver: each worker follows
 * the process's PausedQueues. A pause suspends the driver's worker, which claims nothing more,
 * gives back what it had claimed ahead without counting an attempt, and lets its running jobs
 * finish in their slots; a resume lets it claim again at once, so that the concurrency is never
 * exceeded. (A worker that cannot suspend is stopped instead, and a new one started once it has
 * drained.) Enqueueing is untouched: the jobs of a paused queue wait. A worker whose options carry
 * a `claimGate` is suspended and resumed the same way while the gate is closed.
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
      gate: options.claimGate,
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
  gate: ClaimGate | undefined;
  logger: Logger;
  onStopped: (worker: PausableWorker) => void;
}

class PausableWorker implements Worker {
  /** The driver's worker: claiming, suspended, or (a worker that cannot suspend) draining after a pause. */
  private worker: Worker | undefined;
  private suspended = false;
  private changes: Promise<void> = Promise.resolve();
  private stopped = false;
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly o: PausableWorkerOptions) {}

  /** Starts once the process knows whether the queue is paused (`firstRead`) and its gate is open, then follows each change. */
  follow(firstRead: Promise<void>): void {
    this.unsubscribe = [this.o.paused.subscribe(() => this.applyNext())];
    if (this.o.gate) this.unsubscribe.push(this.o.gate.subscribe(() => this.applyNext()));
    this.changes = Promise.all([firstRead, this.o.gate?.ready()]).then(() => undefined);
    this.applyNext();
  }

  /** Works in every state: a claiming or suspended worker stops as any does; a draining one takes the shorter deadline. */
  stop(deadlineMs = 30_000): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const unsubscribe of this.unsubscribe) unsubscribe();
      this.o.onStopped(this);
    }
    return this.worker?.stop(deadlineMs) ?? Promise.resolve();
  }

  /** One change at a time: a resume waits until the worker a pause stopped has drained. */
  private applyNext(): void {
    this.changes = this.changes.then(() => this.apply()).catch((error: unknown) => this.o.logger.error({ err: error }, 'could not follow the pause or resume of the queue'));
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    const paused = this.o.paused.isPaused(this.o.queue) || this.o.gate?.isOpen() === false;
    if (!paused) {
      if (!this.worker) this.worker = this.o.startWorker();
      else if (this.suspended) this.worker.resume?.();
      this.suspended = false;
    } else if (this.worker && !this.suspended) {
      // A driver's worker suspends: its running jobs keep their slots, and a resume claims again at once.
      if (this.worker.suspend && this.worker.resume) {
        this.worker.suspend();
        this.suspended = true;
        return;
      }
      const draining = this.worker;
      await draining.stop(UNTIL_FINISHED_MS);
      if (this.worker === draining) this.worker = undefined;
    }
  }
}
