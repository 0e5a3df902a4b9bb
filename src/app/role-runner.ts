import { ConfigError, loadConfigFromEnvironment, type Role } from '../config.js';
import { limitHeapGrowth } from '../platform/heap.js';
import type { Tracing } from '../platform/telemetry/instrument.js';
import { startRole, type RunningRole } from './roles.js';

/** Runs one role until SIGTERM/SIGINT, then flushes the traces; a second signal exits at once. */
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
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      running.container.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    running.container.logger.info({ signal }, 'shutting down');
    running
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
