import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** What a request's line says. */
export interface RequestLine {
  method: string;
  url: string;
  statusCode: number;
  /** From the request's arrival to its response, in ms. */
  elapsedMs: number;
  /** The route writes its lines at `debug` (a probe, a scrape). */
  atDebug: boolean;
}

/** The logger a line goes to: the request's own, which carries its `reqId`. */
export type RequestLineLogger = Pick<FastifyBaseLogger, 'level' | 'info' | 'debug'>;

/** Writes a request's line, or decides not to (sampled out). */
export type RequestLineWriter = (log: RequestLineLogger, line: RequestLine) => void;

/**
 * The one line per request, written when the response is sent: method, URL, status and duration
 * (ms), with the request id (`reqId`) that the request's logger carries. A 5xx or a slow response
 * is always written; the other lines are sampled. Undefined at a level above `info`
 * (LOG_LEVEL=warn under load), where no request line is ever written: nothing to run per request.
 */
export function requestLineWriter(level: string, options: RequestLogOptions = {}): RequestLineWriter | undefined {
  if (!['trace', 'debug', 'info'].includes(level)) return undefined;
  const sampler = options.sampler ?? KEEP_EVERY_LINE;
  const slowMs = options.slowMs ?? 0;
  return (log, { method, url, statusCode, elapsedMs, atDebug }) => {
    const responseTime = Math.round(elapsedMs * 10) / 10;
    const slow = !atDebug && slowMs > 0 && responseTime >= slowMs;
    const written = atDebug ? log.level === 'debug' || log.level === 'trace' : statusCode >= 500 || slow || sampler.keep();
    if (!written) return;
    // Fastify's own field names, which log queries built on its default lines already know.
    const line = { req: { method, url }, res: { statusCode }, responseTime, ...(slow ? { slow } : {}) };
    const message = `${method} ${url} ${statusCode} ${responseTime} ms`;
    if (atDebug) log.debug(line, message);
    else log.info(line, message);
  };
}

/** Writes every request's line (requestLineWriter's) in place of Fastify's own two (`disableRequestLogging`). The metrics count every request whatever is sampled. */
export function installRequestLog(app: FastifyInstance, write: RequestLineWriter | undefined): void {
  app.addHook('onRoute', (route) => {
    if (PROBE_ROUTES.has(route.url)) route.config = { ...route.config, requestLog: 'debug' };
  });
  if (!write) return;
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    write(request.log, { method: request.method, url: request.url, statusCode: reply.statusCode, elapsedMs: reply.elapsedTime, atDebug: request.routeOptions.config?.requestLog === 'debug' });
    done();
  });
}
