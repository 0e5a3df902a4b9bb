import type { Clock } from '../clock.js';
import type { JobContext } from './queue.js';

/** A job whose handler is running in this process. */
export interface RunningJob {
  queue: string;
  id: string;
  attempt: number;
  /** When this attempt's handler started (epoch ms). */
  startedAt: number;
}

/** The jobs this process runs now, the oldest first: what its heartbeat tells operators. */
export class RunningJobs {
  private readonly jobs = new Set<RunningJob>();

  constructor(private readonly clock: Clock) {}

  /** Call `finish` on what it returns once the handler has returned or thrown. */
  started(job: Pick<JobContext, 'queue' | 'id' | 'attempt'>): RunningJob {
    const running = { queue: job.queue, id: job.id, attempt: job.attempt, startedAt: this.clock.now() };
    this.jobs.add(running);
    return running;
  }

  finish(job: RunningJob): void {
    this.jobs.delete(job);
  }

  get count(): number {
    return this.jobs.size;
  }

  /** Insertion order is start order. */
  list(limit = Infinity): RunningJob[] {
    const listed: RunningJob[] = [];
    for (const job of this.jobs) {
      if (listed.length >= limit) break;
      listed.push({ ...job });
    }
    return listed;
  }
}
