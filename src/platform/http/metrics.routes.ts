import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../telemetry/metrics.js';

/**
 * `GET /metrics` in Prometheus' text format, and a duration for every request labelled with its
 * route pattern (`/api/orders/:id`), or `unmatched` for a 404, so that raw URLs never become labels.
 */
export function installMetrics(app: FastifyInstance, metrics: Metrics): void {
  // A callback hook, not an async one: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route !== '/metrics') metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.contentType);
    return metrics.text();
  });
}
