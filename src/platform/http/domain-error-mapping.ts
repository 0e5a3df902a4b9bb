import type { DomainError } from '../errors/domain-errors.js';
import { HttpError, httpErrors } from './errors.js';

/**
 * The one place a domain error becomes HTTP. Each API's formatter then shapes the body (Laravel's
 * `{message, errors}` for orders and auth, the envelope for the catalog).
 */
export function httpErrorOf(error: DomainError): HttpError {
  switch (error.code) {
    case 'NOT_FOUND':
      return httpErrors.notFound(error.message);
    case 'CONFLICT':
      return httpErrors.conflict(error.message, error.details);
    case 'VALIDATION_FAILED':
      return Object.keys(error.fieldErrors).length > 0
        ? new HttpError(422, 'VALIDATION_FAILED', error.message, error.fieldErrors)
        : httpErrors.unprocessable(error.message);
    case 'IN_FLIGHT':
      return httpErrors.conflict(error.message, {}, { 'retry-after': String(error.retryAfterSeconds) });
    case 'GONE':
      return httpErrors.gone(error.message);
  }
}
