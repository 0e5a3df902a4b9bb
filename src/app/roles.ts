import type { FastifyInstance } from 'fastify';
import { buildApiApp, buildOpsApp, buildSimulatorApp, simulatorFor } from './api-app.js';
import type { Config, Role } from '../config.js';
import { createContainer, createJobRegistry, type Container, type ContainerOverrides } from './container.js';
import { startFeedScheduler } from '../catalog/feed/feed.scheduler.js';
import { startMaintenance } from './maintenance.js';
import type { OutboxQueue } from '../platform/queue/outbox/outbox-queue.js';
import { OutboxRelay } from '../platform/queue/outbox/outbox-relay.js';
import type { JobRegistry } from '../platform/queue/jobs.js';
import type { Worker } from '../platform/queue/queue.js';
import { RunningJobs } from '../platform/queue/running-jobs.js';
import { WorkerHeartbeat } from '../platform/queue/worker-heartbeat.js';
import { LogSampler } from '../platform/telemetry/log-sampler.js';
import { VERSION } from './version.js';

export interface RunningRole {
  role: Role;
  container: Container;
  /** The public API (or simulator) address, when this role listens on PORT. */
  url?: string;
  /** The in-process simulator's own address (ROLE=all, or api with SIMULATOR_ENABLED). */
  simulatorUrl?: string;
  /** Whether this process runs job workers. */
  runsJobs: boolean;
  /** Job handlers running now in this process. */
  jobsInFlight(): number;
  /** Stops taking work, waits up to SHUTDOWN_TIMEOUT_MS for the jobs in flight, gives back the rest and closes everything. */
  stop(): Promise<void>;
  /**
   * For a forced exit: gives the jobs still running back to the queue now, their attempt not
   * counted, waiting at most `boundMs`; false when that bound ran out first. A `stop()` in
   * progress carries on meanwhile.
   */
  giveBackJobs(boundMs: number): Promise<boolean>;
}

const has = (role: Role, part: 'api' | 'worker' | 'scheduler') => role === 'all' || role === part;

/** Starts the parts of intake that `config.role` names; `all` is api + worker + scheduler (+ simulator). */
export async function startRole(config: Config, overrides: ContainerOverrides = {}): Promise<RunningRole> {
  const container = await createContainer(config, overrides);
  const log = container.logger;
  const stoppers: Array<() => Promise<void>> = [];
  let url: string | undefined;
  let simulatorUrl: string | undefined;
  let jobs: JobRegistry | undefined;
  let workers: Worker[] = [];

  try {
    if (config.role === 'simulator') {
      const app = await buildSimulatorApp(container, simulatorFor(container));
      url = await listen(app, config.port, config.host);
      stoppers.push(() => app.close());
    } else if (has(config.role, 'api')) {
      const app = await buildApiApp(container);
      url = await listen(app, config.port, config.host);
      stoppers.push(() => app.close());
      if (config.simulatorEnabled) {
        // Never on the API's port: it has no authentication, and `/simulator/stats?keys=true` lists every key.
        const simulator = await buildSimulatorApp(container, simulatorFor(container));
        simulatorUrl = await listen(simulator, config.simulatorPort, config.simulatorHost);
        stoppers.push(() => simulator.close());
      }
      if (container.outbox) {
        const relay = startOutboxRelay(container, container.outbox);
        stoppers.push(() => relay.stop(config.shutdownTimeoutMs));
      }
    } else if (config.metricsPort > 0) {
      const ops = await buildOpsApp(container);
      await listen(ops, config.metricsPort, config.host);
      stoppers.push(() => ops.close());
    }

    if (has(config.role, 'worker')) {
      const thirdPartyUrl = config.thirdPartyUrl ?? `${simulatorUrl ?? origin(config.simulatorHost, config.simulatorPort)}/simulator/orders`;
      const { registry, close } = createJobRegistry(container, thirdPartyUrl);
      const running = new RunningJobs(container.clock);
      const defaults = { concurrency: config.workerConcurrency };
      const heartbeat = new WorkerHeartbeat({
        database: container.database,
        clock: container.clock,
        logger: log.child({ component: 'heartbeat' }),
        everyMs: config.workerHeartbeatMs,
        role: config.role,
        version: VERSION,
        queues: registry.workload(defaults),
        running,
      });
      stoppers.unshift(async () => {
        await Promise.all(workers.map((w) => w.stop(config.shutdownTimeoutMs)));
        await heartbeat.stop();
        await close();
      });
      // Throws, and so refuses to start, when a job of the catalogue has no handler.
      workers = registry.start(container.queue, defaults, { logger: log, sampler: new LogSampler(config.logSampling.jobs, container.random), running });
      jobs = registry;
      await heartbeat.start();
      log.info({ queues: registry.queues(), concurrency: config.workerConcurrency, thirdPartyUrl }, 'workers started');
    }

    if (has(config.role, 'scheduler')) {
      const maintenance = startMaintenance(container);
      const feedSchedule = startFeedScheduler({ queue: container.queue, database: container.database, store: container.store, logger: log, schedule: config.feed.schedule, ingestOnStart: config.feed.ingestOnStart });
      stoppers.unshift(async () => {
        maintenance.stop();
        feedSchedule.stop();
      });
    }
  } catch (error) {
    await Promise.allSettled(stoppers.map((stop) => stop()));
    await container.close();
    throw error;
  }

  log.info({ url, ...(simulatorUrl && { simulatorUrl }) }, 'intake started');
  let stopping: Promise<void> | undefined;
  return {
    role: config.role,
    container,
    url,
    simulatorUrl,
    runsJobs: jobs !== undefined,
    jobsInFlight: () => jobs?.inFlight() ?? 0,
    async giveBackJobs(boundMs) {
      // A worker already stopping takes the shorter deadline and gives its running jobs back at once.
      const givenBack = Promise.all(workers.map((w) => w.stop(0))).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), boundMs);
      });
      try {
        return await Promise.race([givenBack, bound]);
      } finally {
        clearTimeout(timer);
      }
    },
    stop() {
      stopping ??= (async () => {
        log.info('stopping: no new work; finishing what is in flight');
        for (const stop of stoppers) {
          await stop().catch((error: unknown) => log.error({ err: error }, 'error while stopping'));
        }
        await container.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

/** Publishes the jobs that business transactions wrote to the outbox; several relays may run at once. */
export function startOutboxRelay(container: Container, outbox: OutboxQueue): OutboxRelay {
  const { config } = container;
  const relay = new OutboxRelay({
    queue: outbox,
    database: container.database,
    logger: container.logger.child({ component: 'outbox' }),
    batchSize: config.outbox.batchSize,
    maxIdleMs: config.outbox.pollMs,
    leaseMs: config.outbox.leaseMs,
    clock: container.clock,
    random: container.random,
  });
  relay.start();
  return relay;
}

async function listen(app: FastifyInstance, port: number, host: string): Promise<string> {
  await app.listen({ port, host });
  const address = app.server.address();
  return origin(host, typeof address === 'object' && address ? address.port : port);
}

function origin(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
