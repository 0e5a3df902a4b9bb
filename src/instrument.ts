import { loadConfigFromEnvironment } from './config.js';
import { startTracing, type Tracing } from './platform/telemetry/instrument.js';

/**
 * Imported first by the entry points, so that tracing hooks into the libraries before they load.
 * A bad configuration is left for the entry point to report.
 */
function start(): Tracing | undefined {
  try {
    const config = loadConfigFromEnvironment();
    return startTracing(config.tracing);
  } catch {
    return undefined;
  }
}

export const tracing = start();
