import { ConfigError, loadConfigFromEnvironment, type Role } from '../config.js';
import { limitHeapGrowth } from '../platform/heap.js';
import type { Tracing } from '../platform/telemetry/instrument.js';
import { startRole, type RunningRole } from './roles.js';

/** How long a forced exit waits for the running jobs to be given back: long enough for one write, short enough to feel immediate. */
export const FORCED_GIVE_BACK_MS = 2_000;

/** What the first signal's line says: what the shutdown waits for, for how long at most, and how to cut it short. */
export function shutdownNotice(signal: NodeJS.Signals, running: Pick<RunningRole, 'runsJobs' | 'jobsInFlight'>, drainTimeoutMs: number): string {
  const again = `a second ${signal} (Ctrl-C again) exits at once`;
  if (!running.runsJobs) return `${signal}: shutting down; finishing the requests in progress; ${again}`;
  const jobs = running.jobsInFlight();
  if (jobs === 0) return `${signal}: shutting down; no jobs in flight; ${again}`;
  return `${signal}: shutting down; waiting up to ${seconds(drainTimeoutMs)} (SHUTDOWN_TIMEOUT_MS) for ${count(jobs, 'job')} in flight, then giving the unfinished back to the queue; ${again}, giving them back first`;
}

/** What the second signal's line says. */
export function forcedExitNotice(signal: NodeJS.Signals, jobsInFlight: number): string {
  if (jobsInFlight === 0) return `second ${signal}: exiting now`;
  return `second ${signal}: giving ${count(jobsInFlight, 'job')} in flight back to the queue (at most ${seconds(FORCED_GIVE_BACK_MS)}), then exiting`;
}

/** Runs one role until SIGTERM/SIGINT, then flushes the traces; a second signal gives the running jobs back and exits. */
export async function run(roleOverride?: Role, tracing?: Tracing): Promise<void> {
  let running: RunningRole;
  try {
    const config = loadConfigFromEnvironment(roleOverride);
    limitHeapGrowth(config.heapGrowthPercent);
    running = await startRole(config);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `intake failed to start: ${(error as Error).stack ?? String(error)}`}\n`);
    process.exit(1);
  }
  installShutdown(running, async () => {
    await tracing?.shutdown();
  });
}

/**
 * SIGTERM/SIGINT stop `running`, saying what the stop waits for; `afterStop` runs before the exit
 * (0, or 1 when stopping failed). A second signal gives the running jobs back and exits with 130;
 * a third exits at once.
 */
export function installShutdown(running: RunningRole, afterStop: () => Promise<void> = async () => undefined): void {
  const log = running.container.logger;
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 2) process.exit(130);
    if (signals === 2) {
      const jobs = running.jobsInFlight();
      log.warn({ signal, jobsInFlight: jobs }, forcedExitNotice(signal, jobs));
      void running.giveBackJobs(FORCED_GIVE_BACK_MS).then(
        (givenBack) => {
          if (!givenBack) log.error(`the jobs could not be given back within ${seconds(FORCED_GIVE_BACK_MS)}; they run again when their lease (JOB_LEASE_MS) runs out`);
          process.exit(130);
        },
        () => process.exit(130),
      );
      return;
    }
    const drainTimeoutMs = running.container.config.shutdownTimeoutMs;
    log.info({ signal, jobsInFlight: running.jobsInFlight(), drainTimeoutMs }, shutdownNotice(signal, running, drainTimeoutMs));
    running
      .stop()
      .then(afterStop)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
