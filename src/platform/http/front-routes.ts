import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Metrics } from '../telemetry/metrics.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import type { RequestLineWriter } from './request-log.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Where a plugin adds its front routes (an app made by buildApp has it). */
    frontRoutes?: FrontRoutes;
  }
}

/** An answer a front route gives from memory. */
export interface FrontAnswer {
  statusCode: number;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
}

/**
 * A GET answered before Fastify routes the request: for answers kept in memory and asked for at
 * rates where the framework's work per request (routing, the request and reply objects, hooks)
 * costs more than the answer itself, as a cached image variant is. Every answer must be the one
 * the Fastify route for the same URL gives, which still answers whatever this one leaves to it.
 */
export interface FrontRoute {
  /** Only paths that start with it are offered to the route. */
  prefix: string;
  /** The Fastify route pattern of the same URLs: its metrics label. */
  route: string;
  /** The answer, or undefined to leave the request to Fastify. */
  answer(path: string, query: string, headers: IncomingHttpHeaders): FrontAnswer | undefined;
}

export interface FrontServerOptions {
  logger: FastifyBaseLogger;
  metrics?: Metrics;
  /** The request line writer of the Fastify routes, so that an answer here is logged as there. */
  requestLine?: RequestLineWriter;
  /** The Fastify app's own: the id a request brings in `x-request-id`, or a new one. */
  nextRequestId: () => string;
}

/**
 * The front routes of one app. They are added while the app's plugins register, and they are
 * switched off when tracing is on (a request answered here would have no span) and while the app
 * closes (Fastify answers 503 then).
 */
export class FrontRoutes {
  private readonly routes: FrontRoute[] = [];
  private closing = false;

  constructor(
    private readonly o: FrontServerOptions,
    readonly enabled: boolean,
  ) {}

  /** The routes taken. */
  get size(): number {
    return this.routes.length;
  }

  add(route: FrontRoute): void {
    if (this.enabled) this.routes.push(route);
  }

  close(): void {
    this.closing = true;
  }

  /** Fastify's `serverFactory`: the HTTP/1 server Fastify would make, with the front routes before its handler. */
  serverFactory(): NonNullable<FastifyServerOptions['serverFactory']> {
    return (handler, fastifyOptions) => {
      const options = fastifyOptions as FastifyServerSettings;
      const server = http.createServer(options.http ?? {}, (request, response) => {
        if (!this.answered(request, response)) handler(request, response);
      });
      // What Fastify does to the server it makes itself.
      if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
      if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
      if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
      if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
      return server;
    };
  }

  private answered(request: IncomingMessage, response: ServerResponse): boolean {
    if (this.routes.length === 0 || this.closing || request.method !== 'GET') return false;
    const url = request.url ?? '';
    for (const route of this.routes) {
      if (!url.startsWith(route.prefix)) continue;
      const started = performance.now();
      const queryAt = url.indexOf('?');
      try {
        const answer = route.answer(queryAt < 0 ? url : url.slice(0, queryAt), queryAt < 0 ? '' : url.slice(queryAt + 1), request.headers);
        if (!answer) continue;
        this.send(route, request, response, answer, started);
        return true;
      } catch (error) {
        // Thrown in a server's request listener, it would end the process: Fastify answers instead, unless the answer has gone.
        this.o.logger.error({ err: error, route: route.route, url }, 'front route failed');
        return response.headersSent;
      }
    }
    return false;
  }

  private send(route: FrontRoute, request: IncomingMessage, response: ServerResponse, answer: FrontAnswer, started: number): void {
    const reqId = headerValue(request.headers['x-request-id']) ?? this.o.nextRequestId();
    const { body } = answer;
    response.writeHead(answer.statusCode, { ...answer.headers, ...(body && { 'content-length': body.length }), 'x-request-id': reqId });
    response.end(body);
    const elapsedMs = performance.now() - started;
    const statusCode = String(answer.statusCode);
    this.o.metrics?.httpDuration.observe({ method: 'GET', route: route.route, status_code: statusCode }, elapsedMs / 1000);
    this.o.requestLine?.(lazyChildLogger(this.o.logger, { reqId }, {}), { method: 'GET', url: request.url ?? '', statusCode: answer.statusCode, elapsedMs, atDebug: false });
  }
}

/** The options Fastify passes its server factory, with its defaults filled in. */
interface FastifyServerSettings {
  http?: http.ServerOptions;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

const headerValue = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) || undefined;
