import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JsonDepthError } from '../json-depth.js';
import { isUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../unavailable.js';
import { isDomainError } from '../errors/domain-errors.js';
import { summarize, type FieldErrors } from '../errors/field-errors.js';
import { httpErrorOf } from './domain-error-mapping.js';
import { HttpError, httpErrors } from './errors.js';
import { toFieldErrors } from './validation.js';

export interface ErrorBody {
  statusCode: number;
  message: string;
  errors?: FieldErrors;
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Shapes a response body; the orders API uses Laravel's `{message, errors}`, the catalog its envelope. */
export type ErrorFormatter = (error: ErrorBody, request: FastifyRequest) => unknown;

export const laravelFormatter: ErrorFormatter = (error) => ({
  message: error.message,
  ...(error.errors ? { errors: error.errors } : {}),
  ...error.extra,
});

/** Translates any thrown error into a status and a client-safe body. */
export function toErrorBody(error: unknown, request: FastifyRequest): ErrorBody {
  if (error instanceof HttpError) return fromHttpError(error);
  if (isDomainError(error)) return fromHttpError(httpErrorOf(error));
  // A backing service out of reach is no fault of the request: 503 with Retry-After, never 500.
  if (isUnavailable(error)) return fromHttpError(httpErrors.unavailable(UNAVAILABLE_RETRY_AFTER_SECONDS));
  if (error instanceof JsonDepthError) return fromHttpError(httpErrors.bodyTooDeep(error.max));
  const fastifyError = error as Partial<FastifyError> & { validation?: unknown[] };
  if (Array.isArray(fastifyError.validation)) {
    const errors = toFieldErrors(fastifyError.validation as never);
    return { statusCode: 422, message: summarize(errors), errors };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fromHttpError(httpErrors.payloadTooLarge());
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return fromHttpError(httpErrors.unsupportedMediaType());
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, message: 'The request body is empty.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { statusCode: 400, message: 'The request body is not valid JSON.' };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof SyntaxError ? 'The request body is not valid JSON.' : (fastifyError.message ?? 'Bad request.');
    return { statusCode: status, message };
  }
  return { statusCode: 500, message: 'Server Error', extra: { request_id: request.id } };
}

function fromHttpError(error: HttpError): ErrorBody {
  return { statusCode: error.statusCode, message: error.message, errors: error.errors, extra: error.extra, headers: error.headers };
}

export function sendError(reply: FastifyReply, body: ErrorBody, formatter: ErrorFormatter): FastifyReply {
  if (body.headers) reply.headers(body.headers);
  return reply.code(body.statusCode).send(formatter(body, reply.request));
}

/** Installs the error handler for `app`'s scope: real messages below 500, a generic one with the request id at 500. */
export function installErrorHandler(app: FastifyInstance, formatter: ErrorFormatter): void {
  app.setErrorHandler((error, request, reply) => {
    const body = toErrorBody(error, request);
    if (body.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ err: error, statusCode: body.statusCode }, 'request rejected');
    return sendError(reply, body, formatter);
  });
}
