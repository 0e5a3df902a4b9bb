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
