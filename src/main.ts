#!/usr/bin/env node
// First: tracing hooks into the libraries before any of them is loaded.
import { tracing } from './instrument.js';
import { ConfigError, loadConfigFromEnvironment, ROLES, type Role } from './config.js';
import { limitHeapGrowth } from './platform/heap.js';
import { startRole, type RunningRole } from './roles.js';

/** Runs one role until SIGTERM/SIGINT; a second signal exits at once. */
export async function run(roleOverride?: Role): Promise<void> {
  let running: RunningRole;
  try {
    const config = loadConfigFromEnvironment();
    limitHeapGrowth(config.heapGrowthPercent);
    running = await startRole(roleOverride ? { ...config, role: roleOverride } : config);
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

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (invokedDirectly) {
  const role = process.argv[2];
  if (role !== undefined && !(ROLES as readonly string[]).includes(role)) {
    process.stderr.write(`unknown role "${role}"; expected one of ${ROLES.join(', ')}\n`);
    process.exit(2);
  }
  void run(role as Role | undefined);
}
