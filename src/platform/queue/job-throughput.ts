import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

export const JOB_OUTCOMES = ['completed', 'retried', 'failed', 'parked'] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export type ThroughputMinute = { minute: number } & Record<JobOutcome, number>;

const MINUTE_MS = 60_000;

export interface JobThroughputOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  flushEveryMs?: number;
  /** How long a minute's counts stay readable. */
  keepMinutes?: number;
}

/**
 * Jobs finished per queue, outcome and minute, counted across every worker process: each process
 * adds its counts to per-minute counters in the shared store every few seconds (Sidekiq keeps its
 * processed/failed counters the same way), so any process can show the throughput of all of them.
 */
export class JobThroughput {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failing = false;
  private readonly flushEveryMs: number;
  private readonly keepMs: number;

  constructor(private readonly options: JobThroughputOptions) {
    this.flushEveryMs = options.flushEveryMs ?? 5_000;
    this.keepMs = (options.keepMinutes ?? 60) * MINUTE_MS;
  }

  record(queue: string, outcome: JobOutcome): void {
    const key = keyOf(queue, outcome, minuteOf(this.options.clock.now()));
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.timer ??= setInterval(() => void this.flush(), this.flushEveryMs).unref();
  }

  /** Adds what this process counted to the store; counts that could not be written wait for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** The last `minutes` minutes, oldest first; the current minute is still filling. */
  async recent(queue: string, minutes: number): Promise<ThroughputMinute[]> {
    const current = minuteOf(this.options.clock.now());
    const starts = Array.from({ length: minutes }, (_, i) => current - (minutes - 1 - i) * MINUTE_MS);
    return Promise.all(
      starts.map(async (minute) => {
        const counts = await Promise.all(JOB_OUTCOMES.map(async (outcome) => Number((await this.options.store.get(keyOf(queue, outcome, minute))) ?? 0)));
        return { minute, ...(Object.fromEntries(JOB_OUTCOMES.map((outcome, i) => [outcome, counts[i]])) as Record<JobOutcome, number>) };
      }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    const failed: [string, number][] = [];
    await Promise.all(
      [...batch].map(([key, count]) =>
        this.options.store.increment(key, this.keepMs, count).catch((error: unknown) => {
          failed.push([key, count]);
          if (!this.failing) this.options.logger.warn({ err: error }, 'job throughput counts not written; they are kept for the next flush');
        }),
      ),
    );
    for (const [key, count] of failed) this.pending.set(key, (this.pending.get(key) ?? 0) + count);
    this.failing = failed.length > 0;
  }
}

function minuteOf(at: number): number {
  return at - (at % MINUTE_MS);
}

function keyOf(queue: string, outcome: JobOutcome, minute: number): string {
  return `jobs:throughput:${queue}:${outcome}:${minute}`;
}
