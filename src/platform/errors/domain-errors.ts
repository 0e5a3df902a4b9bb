import { summarize, type FieldErrors } from './field-errors.js';

/**
 * Why a service did not do what it was asked, in the domain's terms only. The HTTP edge maps each
 * to a status and a body (platform/http/domain-error-mapping.ts); the CLI and the workers read the
 * message or the fields.
 */
abstract class BaseDomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends BaseDomainError {
  readonly code = 'NOT_FOUND';

  constructor(message = 'Resource not found.') {
    super(message);
  }
}

/** The request clashes with what is stored; `details` names what it clashes with (e.g. `{order_id}`). */
export class ConflictError extends BaseDomainError {
  readonly code = 'CONFLICT';

  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The input is refused: `fieldErrors` holds each field's messages, and is empty when no one field is to blame. */
export class ValidationError extends BaseDomainError {
  readonly code = 'VALIDATION_FAILED';

  constructor(
    readonly fieldErrors: FieldErrors,
    message = summarize(fieldErrors),
  ) {
    super(message);
  }
}

/** The same request is still being processed: the caller may try again after `retryAfterSeconds`. */
export class InFlightError extends BaseDomainError {
  readonly code = 'IN_FLIGHT';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** What the client holds (a sync cursor, say) no longer leads anywhere here: it must start again. */
export class GoneError extends BaseDomainError {
  readonly code = 'GONE';

  constructor(message: string) {
    super(message);
  }
}

export type DomainError = NotFoundError | ConflictError | ValidationError | InFlightError | GoneError;

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof BaseDomainError;
}
