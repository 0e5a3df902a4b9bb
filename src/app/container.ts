import type { Logger } from 'pino';
import { AuthService } from '../auth/auth.service.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { TokenCache } from '../auth/token-cache.js';
import { TokenUsageRecorder } from '../auth/token-usage.recorder.js';
import { createCatalogServices, type CatalogServices } from '../catalog/api/index.js';
import { feedMetrics } from '../catalog/catalog.metrics.js';
import { FeedIngestService } from '../catalog/feed/feed-ingest.service.js';
import { createImageStore } from '../catalog/images/image-store.factory.js';
import type { ImageStore } from '../catalog/images/image-store.js';
import { ImageTempFiles } from '../catalog/images/image-temp-files.js';
import { ImagesService } from '../catalog/images/images.service.js';
import type { Config } from '../config.js';
import { OrdersService } from '../orders/orders.service.js';
import { systemClock, systemRandom, type Clock, type Random } from '../platform/clock.js';
import { createQueue, createStore, databaseOptions, idempotencyLocks } from './drivers.js';
import { QUEUE_NAMES } from './job-catalogue.js';
import { createDatabase, type Database } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { Idempotency } from '../platform/idempotency/idempotency.js';
import type { QueueHistory } from '../platform/queue/queue-history.js';
import type { TransactionalQueue } from '../platform/queue/queue.js';
import type { OutboxQueue } from '../platform/queue/outbox/outbox-queue.js';
import { QueuePauses } from '../platform/queue/queue-pauses.js';
import { WorkerProcesses } from '../platform/queue/worker-processes.js';
import { OutboundGuard } from '../platform/outbound/outbound-guard.js';
import { outboundMetrics } from '../platform/outbound/outbound.metrics.js';
import type { Store } from '../platform/store/store.js';
import { createLogger } from '../platform/telemetry/logger.js';
import { WebhookEvents } from '../webhooks/webhook-events.js';
import { deliveryLifetimeMs, deliveryMaxAttempts } from '../webhooks/webhooks.jobs.js';
import { webhookMetrics } from '../webhooks/webhooks.metrics.js';
import { WebhooksService } from '../webhooks/webhooks.service.js';
import type { LookupFunction } from '../platform/net/ssrf.js';
import { Metrics } from '../platform/telemetry/metrics.js';

// Where the roles, the CLI and the operator API have always found them.
export { createJobRegistry, QUEUE_DESTINATIONS, QUEUE_NAMES } from './job-catalogue.js';

export interface Container {
  config: Config;
  logger: Logger;
  clock: Clock;
  random: Random;
  database: Database;
  store: Store;
  queue: TransactionalQueue;
  metrics: Metrics;
  /** The transactional outbox in front of a broker queue (QUEUE_DRIVER=amqp); its relay runs in the api role. */
  outbox?: OutboxQueue;
  /** What every queue did per minute (finished attempts by outcome, waits), across every worker process. */
  history: QueueHistory;
  /** Operators' pauses of the queues, which every worker process follows. */
  queuePauses: QueuePauses;
  /** The worker processes alive, and what each runs now. */
  workerProcesses: WorkerProcesses;
  idempotency: Idempotency;
  auth: AuthService;
  /** Writes the tokens' `last_used_at` off the request path; flushed on close. */
  tokenUsage: TokenUsageRecorder;
  orders: OrdersService;
  images: ImagesService;
  /** Where cached images live (IMAGE_STORE), shared by the download workers, GET /images and the readiness check. */
  imageStore: ImageStore;
  /** The downloads' scratch space, DATA_DIR/images/tmp, shared by the download workers and the readiness check. */
  imageTempFiles: ImageTempFiles;
  feed: FeedIngestService;
  catalog: CatalogServices;
  /** The rate limits, pauses and circuit breakers of the outbound destinations, shared by every worker. */
  outbound: OutboundGuard;
  /** Records events (and their webhook deliveries) in the transactions of the changes that cause them. */
  webhookEvents: WebhookEvents;
  /** Each user's webhook endpoints, their delivery log and the events polling API. */
  webhooks: WebhooksService;
  close(): Promise<void>;
}

export interface ContainerOverrides {
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** DNS resolution for the webhook endpoint URL policy (tests answer with any address). */
  resolve?: LookupFunction;
}

/** Wires every service from the configuration. Nothing listens or consumes until a role starts it. */
export async function createContainer(config: Config, overrides: ContainerOverrides = {}): Promise<Container> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, role: config.role });
  const clock = overrides.clock ?? systemClock;
  const random = overrides.random ?? systemRandom;
  const database = createDatabase(databaseOptions(config, logger));
  if (config.migrateOnStart) {
    const applied = await migrateToLatest(database);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  }
  const store = createStore(config, database, clock, logger);
  const metrics = new Metrics({ role: config.role });
  const { queue, outbox, history } = createQueue(config, { database, store, clock, random, logger, metrics, queueNames: QUEUE_NAMES });
  // Every role's /metrics reports the disabled endpoints and the circuits, not only the workers'.
  webhookMetrics(metrics, database);
  const outbound = new OutboundGuard({ database, store, clock, logger: logger.child({ component: 'outbound' }), metrics: outboundMetrics(metrics, database, clock), settings: config.outbound.guard });
  const idempotency = new Idempotency({ database, locks: idempotencyLocks(config, store, clock), clock, ttlMs: config.idempotencyTtlSeconds * 1000 });
  const tokenUsage = new TokenUsageRecorder({ database, clock, logger });
  const tokenCache = new TokenCache(clock, { ttlMs: config.authTokenCacheMs });
  const auth = new AuthService({ database, clock, logger, throttle: new LoginThrottle({ store, clock }, config.loginThrottle), tokenCache, tokenUsage });
  const orders = new OrdersService({ database, queue, store, idempotency, clock, logger, duplicateWindowSeconds: config.duplicateWindowSeconds, metrics });
  const images = new ImagesService({ database, queue, clock, logger: logger.child({ component: 'images' }) });
  const catalog = createCatalogServices({ database, images, clock });
  const webhookEvents = new WebhookEvents({ queue, clock, maxAttempts: deliveryMaxAttempts(config.webhooks), lifetimeMs: deliveryLifetimeMs(config.webhooks) });
  const imageStore = await createImageStore({ dataDir: config.dataDir, store: config.images.store, logger: logger.child({ component: 'image-store' }) });
  const feed = new FeedIngestService({ database, store, clock, logger: logger.child({ component: 'feed' }), config: config.feed, images, metrics: feedMetrics(metrics, database) });
  return {
    config,
    logger,
    clock,
    random,
    database,
    store,
    queue,
    outbox,
    history,
    metrics,
    queuePauses: new QueuePauses({ database, clock }),
    workerProcesses: new WorkerProcesses({ database, clock }),
    idempotency,
    auth,
    tokenUsage,
    orders,
    images,
    imageStore,
    imageTempFiles: new ImageTempFiles(config.dataDir),
    feed,
    catalog,
    webhookEvents,
    outbound,
    webhooks: new WebhooksService({ database, events: webhookEvents, clock, settings: config.webhooks, resolve: overrides.resolve }),
    async close() {
      await tokenUsage.close();
      await queue.close();
      await store.close();
      await imageStore.close();
      await database.close();
    },
  };
}
