import FindMyWay, { type HTTPVersion } from 'find-my-way';
import type { FastifyInstance } from 'fastify';
import { httpErrors } from './errors.js';
import { sendError, toErrorBody, type ErrorFormatter } from './error-handler.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * Remembers every route so that a request whose path exists under another method gets 405
 * with `Allow`, and any other unknown request gets 404 "Route not found.".
 */
export function installNotFoundHandler(app: FastifyInstance, formatterFor: (url: string) => ErrorFormatter): void {
  const router = FindMyWay<HTTPVersion.V1>({ ignoreTrailingSlash: true });
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (!(METHODS as readonly string[]).includes(method)) continue;
      try {
        router.on(method as (typeof METHODS)[number], route.url, () => undefined);
      } catch {
        // The same method and path registered twice (e.g. HEAD added for GET): one entry is enough.
      }
    }
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = METHODS.filter((m) => m !== request.method && router.find(m, path) !== null);
    const error = allowed.length > 0 ? httpErrors.methodNotAllowed(allowed) : httpErrors.routeNotFound();
    return sendError(reply, toErrorBody(error, request), formatterFor(path));
  });
}
