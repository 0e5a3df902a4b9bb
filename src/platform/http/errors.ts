import { summarize, type FieldErrors } from '../errors/field-errors.js';

/** An error that the edge turns into an HTTP response with its status and message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldErrors,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const httpErrors = {
  badRequest: (message: string) => new HttpError(400, 'BAD_REQUEST', message),
  bodyTooDeep: (maxDepth: number) => new HttpError(400, 'BODY_TOO_DEEP', `The request body must not nest arrays and objects more than ${maxDepth} levels deep.`),
  repeatedHeader: (name: string) => new HttpError(400, 'REPEATED_HEADER', `The ${name} header must be sent once.`),
  unauthenticated: () => new HttpError(401, 'UNAUTHENTICATED', 'Unauthenticated.'),
  forbidden: (message = 'This action is unauthorized.') => new HttpError(403, 'FORBIDDEN', message),
  notFound: (message = 'Resource not found.') => new HttpError(404, 'NOT_FOUND', message),
  routeNotFound: () => new HttpError(404, 'ROUTE_NOT_FOUND', 'Route not found.'),
  methodNotAllowed: (allowed: string[]) =>
    new HttpError(405, 'METHOD_NOT_ALLOWED', 'Method not allowed.', undefined, { allow: allowed.join(', ') }),
  conflict: (message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    new HttpError(409, 'CONFLICT', message, undefined, headers, extra),
  gone: (message: string) => new HttpError(410, 'GONE', message),
  preconditionFailed: (message = 'The resource has changed since the ETag in If-Match was read.') => new HttpError(412, 'PRECONDITION_FAILED', message),
  payloadTooLarge: () => new HttpError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.'),
  unsupportedMediaType: () => new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json.'),
  unprocessable: (message: string) => new HttpError(422, 'UNPROCESSABLE', message),
  validation: (errors: FieldErrors) => new HttpError(422, 'VALIDATION_FAILED', summarize(errors), errors),
  tooManyRequests: (retryAfterSeconds: number) =>
    new HttpError(429, 'TOO_MANY_REQUESTS', 'Too Many Attempts.', undefined, { 'retry-after': String(retryAfterSeconds) }),
  unavailable: (retryAfterSeconds: number, message = 'Service unavailable.') =>
    new HttpError(503, 'UNAVAILABLE', message, undefined, { 'retry-after': String(retryAfterSeconds) }),
};
