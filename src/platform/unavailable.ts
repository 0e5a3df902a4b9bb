import { isDatabaseUnavailable, someCause } from './db/errors.js';
import { isBrokerUnavailable } from './queue/amqp/amqp-errors.js';

/**
 * A backing service (store, database, broker) did not answer in time. The call failed fast
 * instead of waiting for the service to come back; the HTTP edge answers 503.
 */
export class UnavailableError extends Error {
  readonly code = 'UNAVAILABLE';

  constructor(
    readonly service: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

/** How long a client is told to wait (Retry-After) when a backing service is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * True when `error` (or one of its causes) says a backing service is out of reach or cannot serve
 * for now: an UnavailableError (the store on Redis, a broker that did not answer in time), a
 * database connection or engine fault, or a closed broker connection or channel. Each driver's
 * errors are recognised by its own module; a request never needs to know which driver runs.
 */
export function isUnavailable(error: unknown): boolean {
  return someCause(error, (e) => e instanceof UnavailableError) || isDatabaseUnavailable(error) || isBrokerUnavailable(error);
}
