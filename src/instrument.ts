import { loadConfigFromEnvironment } from './config.js';
import { startTracing, type Tracing } from './platform/telemetry/instrument.js';

/** Starts tracing as configured; a bad configuration is left for the role runner to report. */
export async function startTracingFromEnvironment(): Promise<Tracing | undefined> {
  let settings;
  try {
    settings = loadConfigFromEnvironment().tracing;
  } catch {
    return undefined;
  }
  return startTracing(settings);
}
