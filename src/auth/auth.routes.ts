import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { principalOf, requireToken } from '../platform/http/authentication.js';
import { addFieldError, type FieldErrors } from '../platform/errors/field-errors.js';
import { HttpError, httpErrors } from '../platform/http/errors.js';
import { rateLimitStore } from '../platform/http/rate-limit-store.js';
import { checkText, checkUnicode, schemaErrorsOf } from '../platform/http/validation.js';
import type { Store } from '../platform/store/store.js';
import { AuthResult, LoginBody, MessageSchema, RegisterBody, TooManyAttemptsSchema, UserSchema, ValidationErrorSchema } from './auth.schemas.js';
import type { AuthService } from './auth.service.js';

export interface AuthRoutesDeps {
  auth: AuthService;
  store: Store;
  rateLimitPerMinute: number;
  /** The largest body of these routes: a few short fields. */
  bodyLimitBytes: number;
}

const unauthorized = { 401: MessageSchema };

/** Laravel's ThrottlesLogins answer, with the wait in Retry-After too. */
function tooManyLogins(retryAfterMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const message = `Too many login attempts. Please try again in ${seconds} seconds.`;
  return new HttpError(429, 'TOO_MANY_LOGIN_ATTEMPTS', message, { email: [message] }, { 'retry-after': String(seconds) });
}

export async function authRoutes(app: FastifyInstance, deps: AuthRoutesDeps): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    store: rateLimitStore(deps.store),
    errorResponseBuilder: (_request, context) => {
      const error = httpErrors.tooManyRequests(Math.ceil(context.ttl / 1000));
      return Object.assign(error, { statusCode: 429 });
    },
  });
  const limited = { rateLimit: { max: deps.rateLimitPerMinute, timeWindow: 60_000 } };
  const authenticated = requireToken(deps.auth);
  const bodyLimit = deps.bodyLimitBytes;

  app.post<{ Body: Static<typeof RegisterBody> }>(
    '/api/register',
    {
      config: limited,
      bodyLimit,
      attachValidation: true,
      schema: { summary: 'Register a user and receive a token', tags: ['auth'], body: RegisterBody, response: { 201: AuthResult, 422: ValidationErrorSchema } },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as Partial<Static<typeof RegisterBody>>;
      const errors = schemaErrorsOf(request);
      const name = checkText(errors, 'name', body.name);
      // A confirmation with a lone surrogate cannot match a password without one.
      for (const field of ['email', 'password'] as const) if (!errors[field]) checkUnicode(errors, field, body[field]);
      if (typeof body.password === 'string' && body.password !== body.password_confirmation && !errors.password) {
        addFieldError(errors, 'password', 'The password field confirmation does not match.');
      }
      if (Object.keys(errors).length > 0 || name === undefined) throw httpErrors.validation(errors);
      const result = await deps.auth.register({ name, email: body.email!, password: body.password! });
      return reply.code(201).send(result);
    },
  );

  app.post<{ Body: Static<typeof LoginBody> }>(
    '/api/login',
    {
      config: limited,
      bodyLimit,
      schema: { summary: 'Exchange credentials for a new token', tags: ['auth'], body: LoginBody, response: { 200: AuthResult, 422: ValidationErrorSchema, 429: TooManyAttemptsSchema } },
    },
    async (request) => {
      const errors: FieldErrors = {};
      checkUnicode(errors, 'email', request.body.email);
      checkUnicode(errors, 'password', request.body.password);
      if (Object.keys(errors).length > 0) throw httpErrors.validation(errors);
      const outcome = await deps.auth.login(request.body.email, request.body.password);
      if (outcome.kind === 'throttled') throw tooManyLogins(outcome.retryAfterMs);
      if (outcome.kind === 'invalid') throw httpErrors.validation({ email: ['These credentials do not match our records.'] });
      return { user: outcome.user, token: outcome.token };
    },
  );

  app.post(
    '/api/logout',
    { onRequest: authenticated, bodyLimit, schema: { summary: 'Revoke the current token', tags: ['auth'], security: [{ bearer: [] }], response: { 200: MessageSchema, ...unauthorized } } },
    async (request) => {
      await deps.auth.logout(principalOf(request));
      return { message: 'Logged out.' };
    },
  );

  app.get(
    '/api/user',
    { onRequest: authenticated, schema: { summary: 'The current user', tags: ['auth'], security: [{ bearer: [] }], response: { 200: UserSchema, ...unauthorized } } },
    async (request) => {
      const user = await deps.auth.currentUser(principalOf(request));
      if (!user) throw httpErrors.unauthenticated();
      return user;
    },
  );
}
