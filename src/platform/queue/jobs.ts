import type { Executor } from '../db/database.js';
import type { EnqueueOptions, JobHandler, Queue, TransactionalQueue, WorkOptions, Worker } from './queue.js';

/** A job type: the queue it travels on and the payload type the compiler checks. */
export interface JobType<P> {
  readonly queue: string;
  readonly defaults: EnqueueOptions;
  /** Type-only marker; never set. */
  readonly payload?: P;
}

export function defineJob<P>(queue: string, defaults: EnqueueOptions = {}): JobType<P> {
  return { queue, defaults };
}

/** Several jobs of one type in one go (a multi-row write where the driver can). */
export function enqueueJobs<P>(queue: TransactionalQueue, job: JobType<P>, jobs: ReadonlyArray<{ payload: P; options?: EnqueueOptions }>, trx?: Executor): Promise<void> {
  return queue.enqueueMany(job.queue, jobs.map(({ payload, options }) => ({ payload, options: { ...job.defaults, ...options } })), trx);
}

interface Registration {
  handler: JobHandler;
  options: Partial<WorkOptions>;
}

/** Every job type with its one handler; throws at boot when a queue has none or two. */
export class JobRegistry {
  private readonly declared = new Set<string>();
  private readonly handlers = new Map<string, Registration>();

  declare(...jobs: JobType<unknown>[]): this {
    for (const job of jobs) this.declared.add(job.queue);
    return this;
  }

  handle<P>(job: JobType<P>, handler: JobHandler<P>, options: Partial<WorkOptions> = {}): this {
    if (this.handlers.has(job.queue)) throw new Error(`Job queue "${job.queue}" has two handlers`);
    this.declared.add(job.queue);
    this.handlers.set(job.queue, { handler: handler as JobHandler, options });
    return this;
  }

  queues(): string[] {
    return [...this.declared].sort();
  }

  assertComplete(): void {
    const missing = [...this.declared].filter((q) => !this.handlers.has(q));
    if (missing.length > 0) throw new Error(`Job queues without a handler: ${missing.join(', ')}`);
  }

  start(queue: Queue, defaults: WorkOptions): Worker[] {
    this.assertComplete();
    return [...this.handlers].map(([name, { handler, options }]) => queue.work(name, handler, { ...defaults, ...options }));
  }
}
