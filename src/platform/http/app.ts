import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { clientErrorHandler } from './client-errors.js';
import { installErrorHandler, laravelFormatter, type ErrorFormatter } from './error-handler.js';
import { healthRoutes, type ReadinessCheck } from './health.routes.js';
import { installNotFoundHandler } from './not-found.js';
import type { Metrics } from '../telemetry/metrics.js';
import { httpTracingPlugin } from '../telemetry/tracing.js';
import { installJsonBodyParser } from './json-body.js';
import { installMetrics } from './metrics.routes.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import { FrontRoutes } from './front-routes.js';
import { installRequestLog, requestLineWriter, type RequestLogOptions } from './request-log.js';
import { requestIdGenerator } from './request-ids.js';
import { validatorCompiler } from './validation.js';

/** The server's timeouts against slow and idle clients (see HttpTimeouts in config.ts); absent: Node's and Fastify's own. */
export interface ServerTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
}

export interface AppOptions {
  logger: Logger;
  /** The largest request body; a route may set a smaller `bodyLimit`. */
  bodyLimitBytes: number;
  timeouts?: ServerTimeouts;
  version: string;
  readiness: ReadinessCheck[];
  /** Route plugins, registered after the platform's own. */
  plugins: FastifyPluginAsync[];
  /** Error formatters by path prefix, for 404/405 outside any plugin's scope. */
  errorFormatters?: Array<{ prefix: string; formatter: ErrorFormatter }>;
  docs?: boolean;
  /** Serves `GET /metrics` and times every request by its route pattern. */
  metrics?: Metrics;
  /** The one line per request: its sampling, and when a response counts as slow. */
  requestLog?: RequestLogOptions;
}

/** Builds the HTTP app without listening: roles listen on it, tests `inject` into it. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const tracing = httpTracingPlugin();
  const requestLine = requestLineWriter(options.logger.level, options.requestLog);
  const nextRequestId = requestIdGenerator();
  const frontRoutes = new FrontRoutes({ logger: options.logger as FastifyBaseLogger, metrics: options.metrics, requestLine, nextRequestId }, tracing === undefined);
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: nextRequestId,
    childLoggerFactory: lazyChildLogger,
    // Fastify's "incoming request" and "request completed": installRequestLog writes one line instead.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's own would log the parser's error, with the raw request (tokens, passwords) inside.
    clientErrorHandler,
    ...(options.timeouts && serverTimeouts(options.timeouts)),
    ...(frontRoutes.enabled && { serverFactory: frontRoutes.serverFactory() }),
  });
  app.decorate('frontRoutes', frontRoutes);
  app.addHook('preClose', (done) => {
    frontRoutes.close();
    done();
  });
  installRequestLog(app, requestLine);
  if (tracing) await app.register(tracing);
  app.setValidatorCompiler(validatorCompiler);
  // A JSON API: a text/plain body gets 415 like any other non-JSON type, not a string body.
  app.removeContentTypeParser('text/plain');
  installJsonBodyParser(app);
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  if (options.metrics) installMetrics(app, options.metrics);
  installErrorHandler(app, laravelFormatter);
  const formatters = options.errorFormatters ?? [];
  installNotFoundHandler(app, (path) => formatters.find((f) => path.startsWith(f.prefix))?.formatter ?? laravelFormatter);

  if (options.docs !== false) {
    await app.register(swagger, {
      openapi: {
        info: { title: 'intake', version: options.version, description: 'Orders and catalog intake pipelines' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }

  await app.register(async (scope) => healthRoutes(scope, options.readiness));
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}

/**
 * Fastify's and Node's timeout options. Node checks the headers and request timeouts on an
 * interval (30 s by default, which would let a slow client hold its socket for up to 40 s past a
 * 10 s headers timeout): it runs here at a quarter of the headers timeout, at most every second.
 */
function serverTimeouts(timeouts: ServerTimeouts) {
  return {
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
  };
}
