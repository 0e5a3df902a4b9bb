import { loadConfigFromEnvironment, type Role } from '../config.js';
import { startTracing, type Tracing } from '../platform/telemetry/instrument.js';

let started: Promise<Tracing | undefined> | undefined;

/**
 * Starts tracing as configured for `role` (its service name), once per process: the SDK is
 * process-wide, and a later call returns the same handle. A bad configuration is left for the
 * role runner to report.
 */
export function startTracingFromEnvironment(role?: Role): Promise<Tracing | undefined> {
  started ??= start(role);
  return started;
}

async function start(role: Role | undefined): Promise<Tracing | undefined> {
  let settings;
  try {
    settings = loadConfigFromEnvironment(role).tracing;
  } catch {
    return undefined;
  }
  return startTracing(settings);
}
