import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { adminActivityRoutes } from '../admin/admin-activity.routes.js';
import { adminRoutes } from '../admin/admin.routes.js';
import { adminCircuitsRoutes } from '../admin/admin-circuits.routes.js';
import { adminHistoryRoutes } from '../admin/admin-history.routes.js';
import { adminJobAttemptsRoutes } from '../admin/admin-job-attempts.routes.js';
import { adminJobSearchRoutes } from '../admin/admin-job-search.routes.js';
import { adminQueuePausesRoutes } from '../admin/admin-queue-pauses.routes.js';
import { adminWebhooksRoutes } from '../admin/admin-webhooks.routes.js';
import { adminWorkersRoutes } from '../admin/admin-workers.routes.js';
import { dashboardRoutes } from '../admin/dashboard/dashboard.routes.js';
import { authRoutes } from '../auth/auth.routes.js';
import { API_PREFIX, catalogErrorFormatter, catalogRoutes, createCatalogCaching } from '../catalog/api/index.js';
import { imagesRoutes } from '../catalog/images/images.routes.js';
import { checkImageCacheWritable } from '../catalog/images/images.jobs.js';
import { QUEUE_DESTINATIONS, QUEUE_NAMES, type Container } from './container.js';
import { ordersRoutes } from '../orders/orders.routes.js';
import { simulatorRoutes } from '../orders/simulator.routes.js';
import { SimulatorState } from '../orders/simulator.state.js';
import { buildApp, type ServerTimeouts } from '../platform/http/app.js';
import type { Principal } from '../platform/http/authentication.js';
import type { ReadinessCheck } from '../platform/http/health.routes.js';
import { rootRoutes } from '../platform/http/root.routes.js';
import { CircuitsService } from '../platform/outbound/circuits.service.js';
import { JobAttemptsService } from '../platform/queue/job-attempts.service.js';
import { LogSampler } from '../platform/telemetry/log-sampler.js';
import { WebhooksOperatorService } from '../webhooks/webhooks-operator.service.js';
import { VERSION } from './version.js';
import { webhooksRoutes } from '../webhooks/webhooks.routes.js';

export function simulatorFor(container: Container): SimulatorState {
  const { config, random } = container;
  return new SimulatorState({ delayMs: config.simulatorDelayMs, failureRate: config.simulatorFailureRate, random });
}

/**
 * What a process needs to do its work. A process that downloads images (the `worker` and `all`
 * roles) needs a writable image cache too; the `api` role only reads it.
 */
export function readinessOf(container: Container): ReadinessCheck[] {
  const { role } = container.config;
  return [
    { name: 'database', check: () => container.database.ping() },
    { name: 'store', check: () => container.store.ping() },
    { name: 'queue', check: () => container.queue.ping() },
    ...(role === 'all' || role === 'worker' ? [{ name: 'images', check: () => checkImageCacheWritable(container.imageTempFiles, container.imageStore) }] : []),
  ];
}

/** How a pause names its operator: the email of the token's user. */
async function operatorOf(container: Container, principal: Principal): Promise<string> {
  return (await container.auth.currentUser(principal))?.email ?? `user #${principal.userId}`;
}

/** The public HTTP API: auth, orders, the catalog, cached images and the operator API. The simulator has an app of its own. */
export function buildApiApp(container: Container): Promise<FastifyInstance> {
  const { config } = container;
  const circuits = new CircuitsService({ database: container.database, clock: container.clock });
  // Keyed, so that each plugin is named after its key in logs and in the traces' handler spans.
  const plugins: Record<string, FastifyPluginAsync> = {
    root: (app) => rootRoutes(app, { name: 'intake', version: VERSION, links: [{ rel: 'admin', href: '/admin', title: 'Operator dashboard' }] }),
    auth: (app) => authRoutes(app, { auth: container.auth, store: container.store, rateLimitPerMinute: config.authRateLimitPerMinute, bodyLimitBytes: config.smallBodyLimitBytes }),
    orders: (app) => ordersRoutes(app, { orders: container.orders, tokens: container.auth }),
    webhooks: (app) => webhooksRoutes(app, { webhooks: container.webhooks, tokens: container.auth, bodyLimitBytes: config.smallBodyLimitBytes }),
    catalog: (app) =>
      catalogRoutes(app, {
        catalog: container.catalog,
        tokens: container.auth,
        version: VERSION,
        caching: createCatalogCaching({ database: container.database, clock: container.clock, cacheControl: config.catalogCacheControl, maxBytes: config.catalogResponseCacheBytes, recheckMs: config.catalogVersionRecheckMs }),
        imageVariantWidths: config.images.variantWidths,
      }),
    images: (app) =>
      imagesRoutes(app, {
        store: container.imageStore,
        serve: config.images.serve,
        variants: {
          widths: config.images.variantWidths,
          formats: config.images.variantFormats,
          maxPixels: config.images.maxPixels,
          maxFrames: config.images.maxFrames,
          concurrency: config.images.variantConcurrency,
          memoryBytes: config.images.variantMemoryBytes,
        },
      }),
    'admin queues': (app) =>
      adminRoutes(app, {
        queue: container.queue,
        queueNames: QUEUE_NAMES,
        pauses: container.queuePauses,
        history: container.history,
        tokens: container.auth,
        clock: container.clock,
        waitWarnMs: config.queueWaitWarnMs,
        destinations: QUEUE_DESTINATIONS,
        circuits,
      }),
    'admin history': (app) => adminHistoryRoutes(app, { history: container.history, queueNames: QUEUE_NAMES, tokens: container.auth, waitWarnMs: config.queueWaitWarnMs }),
    'admin queue pauses': (app) =>
      adminQueuePausesRoutes(app, { pauses: container.queuePauses, queueNames: QUEUE_NAMES, tokens: container.auth, operatorOf: (principal) => operatorOf(container, principal), pollMs: config.queuePausePollMs }),
    'admin workers': (app) => adminWorkersRoutes(app, { workers: container.workerProcesses, tokens: container.auth }),
    'admin dashboard': dashboardRoutes,
    'admin activity': (app) => adminActivityRoutes(app, { orders: container.orders, feed: container.feed, images: container.images, queue: container.queue, tokens: container.auth }),
    'admin job search': (app) => adminJobSearchRoutes(app, { queue: container.queue, queueNames: QUEUE_NAMES, tokens: container.auth }),
    'admin job attempts': (app) => adminJobAttemptsRoutes(app, { jobs: new JobAttemptsService({ database: container.database, queue: container.queue }), queueNames: QUEUE_NAMES, tokens: container.auth }),
    'admin circuits': (app) => adminCircuitsRoutes(app, { circuits, tokens: container.auth }),
    'admin webhooks': (app) => adminWebhooksRoutes(app, { webhooks: new WebhooksOperatorService({ database: container.database, events: container.webhookEvents, clock: container.clock }), tokens: container.auth }),
  };
  return buildApp({
    logger: container.logger,
    bodyLimitBytes: config.bodyLimitBytes,
    timeouts: config.http,
    version: VERSION,
    readiness: readinessOf(container),
    plugins: Object.values(plugins),
    errorFormatters: [{ prefix: API_PREFIX, formatter: catalogErrorFormatter }],
    metrics: container.metrics,
    requestLog: { sampler: new LogSampler(config.logSampling.requests, container.random), slowMs: config.logSampling.slowRequestMs },
  });
}

/**
 * Only the simulator: the app of `ROLE=simulator`, and of the simulator that `ROLE=all` runs on a
 * port of its own. Its sockets may stay silent for the whole simulated delay.
 */
export function buildSimulatorApp(container: Container, simulator: SimulatorState): Promise<FastifyInstance> {
  const { config } = container;
  return buildApp({
    logger: container.logger,
    bodyLimitBytes: config.smallBodyLimitBytes,
    timeouts: outlasting(config.http, config.simulatorDelayMs.max),
    version: VERSION,
    readiness: [],
    plugins: [(app) => simulatorRoutes(app, simulator, { bodyLimitBytes: config.smallBodyLimitBytes })],
    docs: false,
  });
}

/** `/health`, `/ready` and `/metrics` for roles without the public API (on METRICS_PORT). */
export function buildOpsApp(container: Container): Promise<FastifyInstance> {
  const { config } = container;
  return buildApp({ logger: container.logger, bodyLimitBytes: 1024, timeouts: config.http, version: VERSION, readiness: readinessOf(container), plugins: [], docs: false, metrics: container.metrics });
}

/** The timeouts, with a connection timeout (if any) longer than a response may take to start. */
function outlasting(timeouts: ServerTimeouts, responseDelayMs: number): ServerTimeouts {
  const { connectionTimeoutMs } = timeouts;
  return { ...timeouts, connectionTimeoutMs: connectionTimeoutMs === 0 ? 0 : Math.max(connectionTimeoutMs, responseDelayMs + 10_000) };
}
