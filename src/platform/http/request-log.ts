import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KEEP_EVERY_LINE, type LogSampler } from '../telemetry/log-sampler.js';

export interface RequestLogOptions {
  /** Which routine (2xx–4xx, not slow) request lines are written; default every one. */
  sampler?: LogSampler;
  /** A response at least this slow is always written (0: never for its slowness alone). */
  slowMs?: number;
}

/** A route whose request lines are noise at `info` (the simulator, probes, scrapes) says so in its `config`. */
export interface RequestLogRouteConfig {
  requestLog?: 'debug';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    requestLog?: RequestLogRouteConfig['requestLog'];
  }
}

/** Probes and scrapes, every few seconds from an orchestrator or Prometheus: their lines are written at `debug`. */
const PROBE_ROUTES = new Set(['/health', '/ready', '/metrics']);

/**
 * One line per request, written when the response is sent: method, URL, status and duration (ms),
 * with the request id (`reqId`) that the request's logger carries. Replaces Fastify's own two lines per
 * request (`disableRequestLogging`). A 5xx or a slow response is always written; the other lines
 * are sampled. The metrics count every request whatever is sampled.
 */
export function installRequestLog(app: FastifyInstance, options: RequestLogOptions = {}): void {
  const sampler = options.sampler ?? KEEP_EVERY_LINE;
  const slowMs = options.slowMs ?? 0;
  app.addHook('onRoute', (route) => {
    if (PROBE_ROUTES.has(route.url)) route.config = { ...route.config, requestLog: 'debug' };
  });
  // Above `info` (LOG_LEVEL=warn under load) no request line is ever written: no hook to run per request.
  if (!['trace', 'debug', 'info'].includes(app.log.level)) return;
  const writeLine = (request: FastifyRequest, reply: FastifyReply) => {
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    const status = reply.statusCode;
    const atDebug = request.routeOptions.config?.requestLog === 'debug';
    const slow = !atDebug && slowMs > 0 && responseTime >= slowMs;
    const written = atDebug ? request.log.level === 'debug' || request.log.level === 'trace' : status >= 500 || slow || sampler.keep();
    if (!written) return;
    // Fastify's own field names, which log queries built on its default lines already know.
    const line = { req: { method: request.method, url: request.url }, res: { statusCode: status }, responseTime, ...(slow ? { slow } : {}) };
    const message = `${request.method} ${request.url} ${status} ${responseTime} ms`;
    if (atDebug) request.log.debug(line, message);
    else request.log.info(line, message);
  };
  app.addHook('onResponse', (request, reply, done) => {
    writeLine(request, reply);
    done();
  });
}
