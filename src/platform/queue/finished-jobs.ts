import type { Logger } from 'pino';
import { KEEP_EVERY_LINE, type LogSampler } from '../telemetry/log-sampler.js';
import { isFinalFailure } from './job-outcome.js';
import { DeferredError, type JobContext, type JobHandler, type ParkedHandler, type ParkedNotice } from './queue.js';
import type { RunningJobs } from './running-jobs.js';

type Attempt = Pick<JobContext, 'attempt' | 'maxAttempts'>;

export type FinishedOutcome = 'completed' | 'retry scheduled' | 'deferred' | 'parked' | 'given back';

export interface FinishedJobLogOptions {
  logger: Logger;
  /** Which completed-job lines are written; a retry, a parked job or one given back always is (a deferral at debug). Default every one. */
  sampler?: LogSampler;
  /** Where the jobs running now are kept, for the process's heartbeat. */
  running?: RunningJobs;
}

/** Bound on the durations kept between a final failure and the parked callback that follows it. */
const MAX_PENDING_PARKED = 1_000;

/**
 * One line per finished attempt of a job, whatever the queue driver: queue, id, outcome,
 * attempt and duration. A job type whose jobs come in bulk (image downloads) writes its lines at
 * `debug`. Also counts the handlers running, for the shutdown to say what it waits for.
 */
export class FinishedJobLog {
  private running = 0;
  /** Durations of final failures, until the driver's parked callback writes their line. */
  private readonly parkedDurations = new Map<string, number>();
  private readonly sampler: LogSampler;

  constructor(private readonly o: FinishedJobLogOptions) {
    this.sampler = o.sampler ?? KEEP_EVERY_LINE;
  }

  /** Handlers running now, across every queue. */
  inFlight(): number {
    return this.running;
  }

  /** The handler and parked callback to give the driver in place of the job type's own. */
  wrap(queue: string, handler: JobHandler, onParked: ParkedHandler | undefined, level: 'info' | 'debug'): { handler: JobHandler; onParked: ParkedHandler } {
    const log = this.o.logger.child({ queue });
    const write = (lvl: 'info' | 'debug' | 'warn', id: string, outcome: FinishedOutcome, job: Attempt, durationMs?: number, error?: string) => {
      // Image downloads finish hundreds a second at `debug`: build no line that would be dropped.
      if (!log.isLevelEnabled(lvl)) return;
      log[lvl](
        { jobId: id, outcome, attempt: job.attempt, maxAttempts: job.maxAttempts, ...(durationMs !== undefined && { durationMs }), ...(error !== undefined && { error }) },
        `job ${queue} #${id} ${outcome} (attempt ${job.attempt} of ${job.maxAttempts}${durationMs === undefined ? '' : `, ${durationMs} ms`})${error === undefined ? '' : `: ${error}`}`,
      );
    };
    const logged: JobHandler = async (payload, job) => {
      this.running += 1;
      const tracked = this.o.running?.started(job);
      const started = performance.now();
      try {
        await handler(payload, job);
        if (level === 'debug' || this.sampler.keep()) write(level, job.id, 'completed', job, elapsed(started));
      } catch (error) {
        const durationMs = elapsed(started);
        const reason = error instanceof Error ? error.message : String(error);
        // Aborted: the worker is stopping and has given the job back (see Worker.stop).
        if (job.signal.aborted) write(level, job.id, 'given back', job, durationMs, reason);
        // Not a failure, and a dead endpoint's backlog defers over and over: at debug.
        else if (error instanceof DeferredError) write('debug', job.id, 'deferred', job, durationMs, reason);
        else if (isFinalFailure(error, job.attempt, job.maxAttempts)) this.rememberParked(queue, job.id, durationMs);
        else write(level, job.id, 'retry scheduled', job, durationMs, reason);
        throw error;
      } finally {
        this.running -= 1;
        if (tracked) this.o.running?.finish(tracked);
      }
    };
    const parked: ParkedHandler = async (payload, notice: ParkedNotice) => {
      const key = `${queue}:${notice.id}`;
      const durationMs = this.parkedDurations.get(key);
      this.parkedDurations.delete(key);
      write(level === 'debug' ? 'debug' : 'warn', notice.id, 'parked', { attempt: notice.attempts, maxAttempts: notice.maxAttempts }, durationMs, notice.reason);
      await onParked?.(payload, notice);
    };
    return { handler: logged, onParked: parked };
  }

  private rememberParked(queue: string, id: string, durationMs: number): void {
    // A park whose callback never comes (its write failed) must not leave its entry forever.
    if (this.parkedDurations.size >= MAX_PENDING_PARKED) this.parkedDurations.delete(this.parkedDurations.keys().next().value!);
    this.parkedDurations.set(`${queue}:${id}`, durationMs);
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
