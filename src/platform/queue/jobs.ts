import type { Executor } from '../db/database.js';
import { FinishedJobLog, type FinishedJobLogOptions } from './finished-jobs.js';
import type { EnqueueOptions, JobHandler, Queue, TransactionalQueue, WorkOptions, Worker } from './queue.js';

/** A job type: the queue it travels on, its enqueue defaults (priority, attempts), and the payload type the compiler checks. */
export interface JobDefinition<P> {
  readonly queue: string;
  readonly defaults: EnqueueOptions;
  /**
   * The one outbound destination every job of the queue goes to, if there is one: while it is held,
   * the queue's workers claim nothing (see WorkOptions.claimGate), and operators see why.
   */
  readonly destination?: string;
  /** Type-only marker; never set. */
  readonly payload?: P;
}

export function defineJob<P>(queue: string, defaults: EnqueueOptions = {}, destination?: string): JobDefinition<P> {
  return destination === undefined ? { queue, defaults } : { queue, defaults, destination };
}

/** What a worker needs to run one job type: what a module's `createXJobs(deps)` returns. */
export interface JobRunner<P> {
  readonly definition: JobDefinition<P>;
  readonly handler: JobHandler<P>;
  /** Over the worker defaults: concurrency, backoff, what happens when a job is parked. */
  readonly workOptions: Partial<WorkOptions>;
  /** Releases what the handler holds (connection pools); called after the workers stopped. */
  close?(): Promise<void>;
  /** The level of the line each finished job writes: `debug` for jobs that come in bulk. Default `info`. */
  readonly finishedLog?: 'info' | 'debug';
}

/** One job, its options over the definition's defaults; with `trx`, in the caller's transaction (a transactional queue only). */
export function enqueueJob<P>(queue: Queue, job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<void>;
export function enqueueJob<P>(queue: TransactionalQueue, job: JobDefinition<P>, payload: P, options: EnqueueOptions | undefined, trx: Executor | undefined): Promise<void>;
export function enqueueJob<P>(queue: Queue | TransactionalQueue, job: JobDefinition<P>, payload: P, options: EnqueueOptions = {}, trx?: Executor): Promise<void> {
  const merged = { ...job.defaults, ...options };
  return trx === undefined ? queue.enqueue(job.queue, payload, merged) : (queue as TransactionalQueue).enqueue(job.queue, payload, merged, trx);
}

/** Several jobs of one type in one go (a multi-row write where the driver can). */
export function enqueueJobs<P>(queue: TransactionalQueue, job: JobDefinition<P>, jobs: ReadonlyArray<{ payload: P; options?: EnqueueOptions }>, trx?: Executor): Promise<void> {
  return queue.enqueueMany(job.queue, jobs.map(({ payload, options }) => ({ payload, options: { ...job.defaults, ...options } })), trx);
}

interface Registration {
  handler: JobHandler;
  options: Partial<WorkOptions>;
  close?: () => Promise<void>;
  finishedLog: 'info' | 'debug';
}

/**
 * The job catalogue with one handler per job type. It refuses a handler for a job the catalogue
 * does not list, or a second one, and refuses to start while a listed job has none.
 */
export class JobRegistry {
  private readonly declared: ReadonlySet<string>;
  private readonly handlers = new Map<string, Registration>();
  private finished: FinishedJobLog | undefined;

  constructor(catalogue: ReadonlyArray<JobDefinition<unknown>>) {
    this.declared = new Set(catalogue.map((job) => job.queue));
  }

  handle<P>(runner: JobRunner<P>): this {
    const { queue } = runner.definition;
    if (!this.declared.has(queue)) throw new Error(`Job queue "${queue}" is not in the job catalogue`);
    if (this.handlers.has(queue)) throw new Error(`Job queue "${queue}" has two handlers`);
    this.handlers.set(queue, { handler: runner.handler as JobHandler, options: runner.workOptions, close: runner.close?.bind(runner), finishedLog: runner.finishedLog ?? 'info' });
    return this;
  }

  queues(): string[] {
    return [...this.declared].sort();
  }

  assertComplete(): void {
    const missing = [...this.declared].filter((q) => !this.handlers.has(q));
    if (missing.length > 0) throw new Error(`Job queues without a handler: ${missing.join(', ')}`);
  }

  /** Starts one worker per job type; with `log`, each finished job writes a line (see FinishedJobLog). */
  start(queue: Queue, defaults: WorkOptions, log?: FinishedJobLogOptions): Worker[] {
    this.assertComplete();
    const finished = log && new FinishedJobLog(log);
    this.finished = finished;
    return [...this.handlers].map(([name, { handler, options, finishedLog }]) => {
      const merged = { ...defaults, ...options };
      if (!finished) return queue.work(name, handler, merged);
      const logged = finished.wrap(name, handler, merged.onParked, finishedLog);
      return queue.work(name, logged.handler, { ...merged, onParked: logged.onParked });
    });
  }

  /** Each queue with the concurrency its worker runs at, over `defaults`: what `start` gives each. */
  workload(defaults: WorkOptions): Array<{ queue: string; concurrency: number }> {
    return [...this.handlers].map(([queue, { options }]) => ({ queue, concurrency: options.concurrency ?? defaults.concurrency }));
  }

  /** Handlers running now in the workers started with a log; 0 before. */
  inFlight(): number {
    return this.finished?.inFlight() ?? 0;
  }

  /** Closes what the handlers hold; call after their workers stopped. */
  async close(): Promise<void> {
    for (const { close } of this.handlers.values()) await close?.();
  }
}
