import path from 'node:path';
import { Cron } from 'croner';
import dotenv from 'dotenv';
import { dialectOf, redactUrl } from './platform/db/urls.js';
import type { OutboundSettings } from './platform/outbound/outbound-guard.js';

export const ROLES = ['all', 'api', 'worker', 'scheduler', 'simulator'] as const;
export type Role = (typeof ROLES)[number];

export interface Range {
  min: number;
  max: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** QUEUE_DRIVER. A name added here does not compile until src/app/drivers.ts wires its factory. */
export const QUEUE_DRIVERS = ['database', 'amqp'] as const;
export type QueueDriver = (typeof QUEUE_DRIVERS)[number];

/** STORE_DRIVER. A name added here does not compile until src/app/drivers.ts wires its factory. */
export const STORE_DRIVERS = ['database', 'redis'] as const;
export type StoreDriver = (typeof STORE_DRIVERS)[number];

/** IMAGE_VARIANT_FORMATS: what `GET /images/…?w=` may encode, in the order `Accept` negotiation prefers them. */
export const IMAGE_VARIANT_FORMATS = ['avif', 'webp', 'jpeg'] as const;
export type ImageVariantFormat = (typeof IMAGE_VARIANT_FORMATS)[number];

/** IMAGE_STORE: where cached images (originals and variants) are kept. */
export const IMAGE_STORE_DRIVERS = ['disk', 's3'] as const;
export type ImageStoreDriver = (typeof IMAGE_STORE_DRIVERS)[number];

/** IMAGE_SERVE: how `GET /images/…` answers with a stored image. */
export const IMAGE_SERVE_MODES = ['stream', 'redirect'] as const;
export type ImageServeMode = (typeof IMAGE_SERVE_MODES)[number];

export interface Config {
  role: Role;
  port: number;
  host: string;
  metricsPort: number;
  dataDir: string;
  databaseUrl: string;
  /** A read replica for reads that may be stale; unset: every read goes to DATABASE_URL. */
  databaseReadUrl: string | undefined;
  /** Connections per pool on PostgreSQL and MySQL. */
  databasePoolMax: number;
  /** Concurrent transactions committed together: units per batch at most, linger (ms), batches in flight (PostgreSQL, MySQL). */
  groupCommit: { maxBatch: number; lingerMs: number; concurrency: number };
  sqliteSynchronous: 'OFF' | 'NORMAL' | 'FULL';
  /** With FULL: flush the log off the event loop before answering (`background`), or inside each COMMIT (`commit`). */
  sqliteLogFlush: 'background' | 'commit';
  /** Who checkpoints SQLite's log: a thread of its own (`background`) or the COMMIT that crosses 1,000 pages (`inline`). */
  sqliteCheckpoint: 'background' | 'inline';
  /** How far V8 may grow the heap past the live data after a full GC, in percent (0: V8's own rule). */
  heapGrowthPercent: number;
  sqliteCacheMb: number;
  queueDriver: QueueDriver;
  storeDriver: StoreDriver;
  /** Required when QUEUE_DRIVER=amqp. */
  amqpUrl: string | undefined;
  /** Prepended to every broker queue name, so deployments sharing a vhost never meet. */
  amqpQueuePrefix: string;
  /** Ascending retry delays, one retry queue each (a delay between two tiers hops through them). */
  amqpRetryTiersMs: number[];
  /** Outbox relay (QUEUE_DRIVER=amqp): rows per round, longest idle poll, claim lease. */
  outbox: { batchSize: number; pollMs: number; leaseMs: number };
  /** Required when STORE_DRIVER=redis. */
  redisUrl: string | undefined;
  /** Every key of this deployment lives under it, so deployments sharing a Redis never meet. */
  redisKeyPrefix: string;
  workerConcurrency: number;
  jobMaxAttempts: number;
  jobBackoffMs: number;
  jobBackoffMaxMs: number;
  jobLeaseMs: number;
  /** QUEUE_WAIT_WARN_S: an oldest ready job that has waited longer is a long wait (dashboard, metrics, log). */
  queueWaitWarnMs: number;
  /** CATALOG_CACHE_CONTROL: the Cache-Control of every catalog read (lists, shows). */
  catalogCacheControl: string;
  /** CATALOG_RESPONSE_CACHE_MB, in bytes: the catalog answers' bodies each API process keeps for the current catalog version. */
  catalogResponseCacheBytes: number;
  /** CATALOG_TOMBSTONE_RETENTION_DAYS: how long delta sync keeps the API's deletions and each feed run's change list; an older cursor gets 410. */
  catalogTombstoneRetentionDays: number;
  /** CATALOG_VERSION_RECHECK_MS: how long an API process trusts the catalog version it read before reading it again. */
  catalogVersionRecheckMs: number;
  /** JOB_TTL: per queue, how long a job may wait to start before it is parked as `expired`; unnamed queues: no limit. */
  jobTtlMs: Record<string, number>;
  /** QUEUE_PAUSE_POLL_MS: how often each worker process reads which queues operators have paused. */
  queuePausePollMs: number;
  /** WORKER_HEARTBEAT_MS: how often each worker process writes its heartbeat (alive for three of them). */
  workerHeartbeatMs: number;
  /** Workers write the outcomes and deletions of finished jobs together, up to `maxItems`, waiting at most `lingerMs` for more (0: the next turn of the event loop), with up to `outcomesAtOnce` outcome transactions at once (JOB_OUTCOME_WRITES_AT_ONCE). */
  jobWriteBatch: { maxItems: number; lingerMs: number; outcomesAtOnce: number };
  /** JOB_ATTEMPT_LOG: every attempt of every job is recorded (time, duration, outcome, error), and kept JOB_ATTEMPT_LOG_HOURS. */
  jobAttemptLog: { enabled: boolean; retentionHours: number };
  shutdownTimeoutMs: number;
  /** Unset: the built-in simulator, in this process or at SIMULATOR_HOST:SIMULATOR_PORT. */
  thirdPartyUrl: string | undefined;
  thirdPartyTimeoutMs: number;
  /** Run the simulator in this process (ROLE=all, or api with SIMULATOR_ENABLED), on a port of its own. */
  simulatorEnabled: boolean;
  /** Where the in-process simulator listens: never on the API's port; loopback by default (0: any free port). */
  simulatorPort: number;
  simulatorHost: string;
  simulatorDelayMs: Range;
  simulatorFailureRate: number;
  idempotencyTtlSeconds: number;
  duplicateWindowSeconds: number;
  authRateLimitPerMinute: number;
  /** How long a verified token is trusted in process without reading its row (0: never); at most 1000, the revocation bound. */
  authTokenCacheMs: number;
  /** Failed logins per account: free attempts, then a lockout that doubles up to a cap. */
  loginThrottle: { freeAttempts: number; lockoutMs: number; maxLockoutMs: number };
  /** The largest request body: orders, catalog writes and the operator API. */
  bodyLimitBytes: number;
  /** The largest request body of the routes that need only a few fields: register, login, logout and the simulator. */
  smallBodyLimitBytes: number;
  /** Timeouts of every HTTP server, against slow and idle clients. */
  http: HttpTimeouts;
  migrateOnStart: boolean;
  publicUrl: string;
  logLevel: LogLevel;
  /** The CLI's commands log only warnings unless LOG_LEVEL says otherwise, so that their output stays readable. */
  cliLogLevel: LogLevel;
  /** Which routine lines are written; the metrics keep the exact counts whatever is sampled. */
  logSampling: LogSampling;
  /** OpenTelemetry: spans are exported over OTLP/HTTP only when an endpoint is set. */
  tracing: { serviceName: string; endpoint: string | undefined };
  feed: FeedConfig;
  images: ImagesConfig;
  webhooks: WebhooksConfig;
  outbound: OutboundConfig;
}

export interface OutboundConfig {
  /** OUTBOUND_PROTECTION: rate limits, pauses and circuit breakers on (default); off sends every job at once, as a last resort. */
  enabled: boolean;
  /** Requests per second to the third party, shared by every worker; undefined: no limit. */
  thirdPartyRatePerS: number | undefined;
  /** Webhook deliveries per second to one endpoint, shared by every worker; undefined: no limit. */
  webhookRatePerSPerEndpoint: number | undefined;
  /** Image downloads per second from one host, shared by every worker; undefined: no limit. */
  imageRatePerSPerHost: number | undefined;
  /** The circuit breaker and the pauses of every destination. */
  guard: OutboundSettings;
}

export interface WebhooksConfig {
  /** http:// endpoint URLs are accepted too (local receivers, tests); otherwise https only. */
  allowHttp: boolean;
  /** Loopback, private and link-local endpoints are allowed (tests); checked at creation and at every delivery. */
  allowPrivateHosts: boolean;
  maxEndpointsPerUser: number;
  /** A delivery that has no 2xx answer within this long failed. */
  timeoutMs: number;
  /** The wait before each retry: entry n follows the n-th failed attempt; its length + 1 is the attempt count. */
  retryScheduleMs: number[];
  /** An endpoint whose deliveries have all failed for this long is disabled. */
  disableAfterHours: number;
  /** Events and deliveries are kept this long, then swept. */
  logDays: number;
  /** After a rotation, the previous secret still signs for this long. */
  secretOverlapHours: number;
  /** Deliveries in flight at once per worker process. */
  concurrency: number;
  /** Deliveries in flight at once to one endpoint, per worker process. */
  endpointConcurrency: number;
}

export interface LogSampling {
  /** The share (0..1) of request lines written; a 5xx or a slow response is always written. */
  requests: number;
  /** A response at least this slow is always logged (0: none is logged for its slowness alone). */
  slowRequestMs: number;
  /** The share (0..1) of completed-job lines written; a retry or a parked job is always written. */
  jobs: number;
}

export interface HttpTimeouts {
  /** Until a request's headers are complete (Node's headersTimeout); then 408 and the socket is closed. */
  headersTimeoutMs: number;
  /** Until the whole request, body included, is received (requestTimeout); 0: no limit. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests. */
  keepAliveTimeoutMs: number;
  /** How long a socket may stay silent in both directions while a request is open (connectionTimeout); 0: no limit. */
  connectionTimeoutMs: number;
}

export interface FeedConfig {
  /** An http(s) URL or a local file path. */
  url: string;
  /** Cron expression, evaluated in UTC. */
  schedule: string;
  /** Ingest when the scheduler starts and no run has ever succeeded. */
  ingestOnStart: boolean;
  timeoutMs: number;
  maxBytes: number;
  /** `soft`: items that left the feed get `removed_at`; `keep`: they are left alone. */
  removal: 'soft' | 'keep';
  /** A run with more invalid items than this share fails and changes nothing. */
  maxInvalidRatio: number;
  /** A run with fewer items than this share of the last successful run fails and changes nothing. */
  minItemsRatio: number;
  /** The feed lock is a lease of this length, renewed while the run lives: a killed run blocks the next for at most this long. */
  lockLeaseMs: number;
}

export interface ImagesConfig {
  maxBytes: number;
  concurrency: number;
  perOriginConnections: number;
  timeoutMs: number;
  allowPrivateHosts: boolean;
  /** Empty: any public host. */
  allowedHosts: string[];
  /** IMAGE_MAX_PIXELS: width × height of one frame, read from the header before anything decodes (downloads and variants). */
  maxPixels: number;
  /** IMAGE_MAX_FRAMES: frames of an animated image, read from the header likewise. */
  maxFrames: number;
  /** IMAGE_VARIANT_WIDTHS: the only widths `GET /images/…?w=` makes, ascending. */
  variantWidths: number[];
  /** IMAGE_VARIANT_FORMATS: the formats a variant may take. */
  variantFormats: ImageVariantFormat[];
  /** IMAGE_VARIANT_CONCURRENCY: variants made at once per process (each on a libuv pool thread). */
  variantConcurrency: number;
  /** IMAGE_VARIANT_MEMORY_MB, in bytes: the variants served lately, kept in memory by each API process. */
  variantMemoryBytes: number;
  /** IMAGE_STORE and IMAGE_S3_*: where originals and variants are kept. */
  store: ImageStoreConfig;
  /** IMAGE_SERVE: streamed through the API, or a redirect to a pre-signed URL valid IMAGE_REDIRECT_TTL_S (s3 only). */
  serve: { mode: ImageServeMode; redirectTtlSeconds: number };
}

export interface ImageStoreConfig {
  driver: ImageStoreDriver;
  /** Read whatever the driver; required (bucket) and used only with `s3`. */
  s3: {
    /** Unset: AWS S3 in `region`. */
    endpoint: string | undefined;
    region: string;
    bucket: string | undefined;
    /** '' (the bucket's root) or a path ending in '/'. */
    prefix: string;
    /** Both or neither; neither: the AWS SDK's default credential chain. Never logged. */
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    forcePathStyle: boolean;
  };
}

export const DEFAULT_FEED_URL = 'https://ph-c3fuhehkfqh6huc0.z01.azurefd.net/feed_pornstars.json';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** A rate of 0 means no limit. */
function rateOrUnlimited(ratePerS: number): number | undefined {
  return ratePerS > 0 ? ratePerS : undefined;
}

class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be a number between ${min} and ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  }

  /** A share between 0 and 1, e.g. a sampling rate. */
  fraction(name: string, fallback: number, example: string): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
      this.problems.push(`${name} must be a fraction between 0 and 1 (${example}), got "${value}"`);
      return fallback;
    }
    return parsed;
  }

  /** `name=seconds` pairs, comma-separated, as milliseconds by name; e.g. a time to live per queue. */
  durationsByName(name: string, example: string): Record<string, number> {
    const value = this.raw(name);
    if (value === undefined) return {};
    const result: Record<string, number> = {};
    for (const pair of value.split(',')) {
      const match = /^\s*([\w.-]+)\s*=\s*(\d+)\s*$/.exec(pair);
      if (!match || Number(match[2]) < 1) {
        this.problems.push(`${name} must be name=seconds pairs separated by commas (${example}), got "${value}"`);
        return {};
      }
      result[match[1]!] = Number(match[2]) * 1000;
    }
    return result;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false, got "${value}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T, transform = (v: string) => v): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const normalized = transform(value);
    if (!(allowed as readonly string[]).includes(normalized)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return normalized as T;
  }

  range(name: string, fallback: Range): Range {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(value);
    const min = match ? Number(match[1]) : NaN;
    const max = match ? Number(match[2] ?? match[1]) : NaN;
    if (!match || min > max) {
      this.problems.push(`${name} must be a millisecond range like "5000-30000" (or one number), got "${value}"`);
      return fallback;
    }
    return { min, max };
  }

  /** A comma-separated list of strictly ascending integers. */
  ascendingInts(name: string, fallback: number[], min: number, max: number): number[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parts = value.split(',').map((part) => part.trim());
    const numbers = parts.map(Number);
    const valid = parts.every((part) => /^\d+$/.test(part)) && numbers.every((n, i) => n >= min && n <= max && (i === 0 || n > numbers[i - 1]!));
    if (valid) return numbers;
    this.problems.push(`${name} must be strictly ascending integers between ${min} and ${max}, separated by commas, got "${value}"`);
    return fallback;
  }

  /** A comma-separated list of 1 to `maxLength` integers, in any order; `none` is the empty list. */
  intList(name: string, fallback: number[], min: number, max: number, maxLength: number): number[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (value.toLowerCase() === 'none') return [];
    const parts = value.split(',').map((part) => part.trim());
    const numbers = parts.map(Number);
    if (parts.length <= maxLength && parts.every((part, i) => /^\d+$/.test(part) && numbers[i]! >= min && numbers[i]! <= max)) return numbers;
    this.problems.push(`${name} must be 1 to ${maxLength} integers between ${min} and ${max}, separated by commas (or none), got "${value}"`);
    return fallback;
  }

  /** A comma-separated, non-empty subset of `allowed`, without repeats, kept in the order given. */
  subsetOf<T extends string>(name: string, allowed: readonly T[], fallback: T[]): T[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parts = value.split(',').map((part) => part.trim().toLowerCase());
    if (parts.every((part, i) => (allowed as readonly string[]).includes(part) && parts.indexOf(part) === i)) return parts as T[];
    this.problems.push(`${name} must be some of ${allowed.join(', ')}, separated by commas, each once, got "${value}"`);
    return fallback;
  }

  /** An optional URL of a service (broker, cache) with one of the given schemes. */
  serviceUrl(name: string, schemes: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let scheme: string | undefined;
    try {
      scheme = new URL(value).protocol;
    } catch {
      scheme = undefined;
    }
    if (scheme !== undefined && schemes.includes(scheme)) return value;
    this.problems.push(`${name} must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL, got "${redactUrl(value)}"`);
    return undefined;
  }

  url(name: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    try {
      const parsed = new URL(value);
      if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('scheme');
      return value;
    } catch {
      this.problems.push(`${name} must be an http(s) URL, got "${value}"`);
      return fallback;
    }
  }
}

const SQLITE_URL = /^sqlite:(.+)$/;

export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const role = read.oneOf('ROLE', ROLES, 'all', (v) => v.toLowerCase());
  const logLevel = read.oneOf('LOG_LEVEL', LOG_LEVELS, 'info', (v) => v.toLowerCase());
  const port = read.int('PORT', 8080, 0, 65535);
  const host = read.string('HOST', '127.0.0.1');
  const dataDir = path.resolve(read.string('DATA_DIR', './data'));
  const databaseUrl = read.string('DATABASE_URL', `sqlite:${path.join(dataDir, 'intake.db')}`);
  const dialect = dialectOf(databaseUrl);
  if (dialect === undefined) read.problems.push(`DATABASE_URL must be sqlite:<path>, postgres://… or mysql://…, got "${redactUrl(databaseUrl)}"`);
  const databaseReadUrl = read.raw('DATABASE_READ_URL');
  if (databaseReadUrl !== undefined && (dialect === 'sqlite' || dialectOf(databaseReadUrl) !== dialect)) {
    read.problems.push(`DATABASE_READ_URL must be a replica on the same server engine as DATABASE_URL (not SQLite), got "${redactUrl(databaseReadUrl)}"`);
  }
  const publicUrl = read.url('PUBLIC_URL', `http://${host.includes(':') ? `[${host}]` : host}:${port}`);

  const config: Config = {
    role,
    port,
    host,
    metricsPort: read.int('METRICS_PORT', 9464, 0, 65535),
    dataDir,
    databaseUrl,
    databaseReadUrl,
    databasePoolMax: read.int('DATABASE_POOL_MAX', 10, 1, 1000),
    groupCommit: {
      maxBatch: read.int('DB_GROUP_COMMIT_MAX_BATCH', 128, 1, 10_000),
      lingerMs: read.int('DB_GROUP_COMMIT_LINGER_MS', 0, 0, 1000),
      concurrency: read.int('DB_GROUP_COMMIT_CONCURRENCY', 4, 1, 1000),
    },
    sqliteSynchronous: read.oneOf('SQLITE_SYNCHRONOUS', ['OFF', 'NORMAL', 'FULL'] as const, 'FULL', (v) => v.toUpperCase()),
    sqliteLogFlush: read.oneOf('SQLITE_LOG_FLUSH', ['background', 'commit'] as const, 'background', (v) => v.toLowerCase()),
    sqliteCheckpoint: read.oneOf('SQLITE_CHECKPOINT', ['background', 'inline'] as const, 'background', (v) => v.toLowerCase()),
    heapGrowthPercent: read.int('HEAP_GROWTH_PERCENT', 20, 0, 1000),
    sqliteCacheMb: read.int('SQLITE_CACHE_MB', 4, 1, 65_536),
    queueDriver: read.oneOf('QUEUE_DRIVER', QUEUE_DRIVERS, 'database', (v) => v.toLowerCase()),
    storeDriver: read.oneOf('STORE_DRIVER', STORE_DRIVERS, 'database', (v) => v.toLowerCase()),
    amqpUrl: read.serviceUrl('AMQP_URL', ['amqp:', 'amqps:']),
    redisUrl: read.serviceUrl('REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: read.string('REDIS_KEY_PREFIX', 'intake:'),
    amqpQueuePrefix: read.string('AMQP_QUEUE_PREFIX', ''),
    amqpRetryTiersMs: read.ascendingInts('AMQP_RETRY_TIERS_MS', [250, 1_000, 4_000, 15_000, 60_000, 300_000, 1_800_000], 1, 86_400_000),
    outbox: {
      batchSize: read.int('OUTBOX_BATCH_SIZE', 256, 1, 10_000),
      pollMs: read.int('OUTBOX_POLL_MS', 1_000, 10, 60_000),
      leaseMs: read.int('OUTBOX_LEASE_MS', 30_000, 1_000, 3_600_000),
    },
    // A job in flight is mostly an await on the third party: 8 left the embedded worker behind 1,500 orders/s even with an instant one.
    workerConcurrency: read.int('WORKER_CONCURRENCY', 32, 1, 1000),
    jobMaxAttempts: read.int('JOB_MAX_ATTEMPTS', 5, 1, 100),
    jobBackoffMs: read.int('JOB_BACKOFF_MS', 2000, 1, 3_600_000),
    jobBackoffMaxMs: read.int('JOB_BACKOFF_MAX_MS', 300_000, 1, 86_400_000),
    jobLeaseMs: read.int('JOB_LEASE_MS', 120_000, 100, 86_400_000),
    queueWaitWarnMs: read.int('QUEUE_WAIT_WARN_S', 300, 1, 86_400 * 30) * 1000,
    catalogCacheControl: read.string('CATALOG_CACHE_CONTROL', 'public, max-age=5, stale-while-revalidate=30'),
    catalogResponseCacheBytes: read.int('CATALOG_RESPONSE_CACHE_MB', 64, 0, 16_384) * 2 ** 20,
    catalogVersionRecheckMs: read.int('CATALOG_VERSION_RECHECK_MS', 50, 0, 60_000),
    catalogTombstoneRetentionDays: read.number('CATALOG_TOMBSTONE_RETENTION_DAYS', 30, 0.001, 3650),
    jobTtlMs: read.durationsByName('JOB_TTL', 'orders.integration=3600,images.download=86400'),
    queuePausePollMs: read.int('QUEUE_PAUSE_POLL_MS', 500, 50, 10_000),
    workerHeartbeatMs: read.int('WORKER_HEARTBEAT_MS', 2_000, 100, 60_000),
    jobWriteBatch: {
      maxItems: read.int('JOB_WRITE_BATCH_MAX', 64, 1, 1_000),
      lingerMs: read.int('JOB_WRITE_BATCH_LINGER_MS', 0, 0, 1_000),
      outcomesAtOnce: read.int('JOB_OUTCOME_WRITES_AT_ONCE', 4, 1, 16),
    },
    jobAttemptLog: {
      enabled: read.bool('JOB_ATTEMPT_LOG', true),
      retentionHours: read.number('JOB_ATTEMPT_LOG_HOURS', 24, 0.001, 24 * 365),
    },
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 30_000, 0, 600_000),
    thirdPartyUrl: read.raw('THIRD_PARTY_URL') === undefined ? undefined : read.url('THIRD_PARTY_URL', ''),
    thirdPartyTimeoutMs: read.int('THIRD_PARTY_TIMEOUT_MS', 60_000, 1, 600_000),
    simulatorEnabled: read.bool('SIMULATOR_ENABLED', role === 'all' || role === 'simulator'),
    simulatorPort: read.int('SIMULATOR_PORT', 8090, 0, 65535),
    simulatorHost: read.string('SIMULATOR_HOST', '127.0.0.1'),
    simulatorDelayMs: read.range('SIMULATOR_DELAY_MS', { min: 5000, max: 30_000 }),
    simulatorFailureRate: read.number('SIMULATOR_FAILURE_RATE', 0.2, 0, 1),
    idempotencyTtlSeconds: read.int('IDEMPOTENCY_TTL_SECONDS', 86_400, 1),
    duplicateWindowSeconds: read.int('DUPLICATE_WINDOW_SECONDS', 30, 0),
    authRateLimitPerMinute: read.int('AUTH_RATE_LIMIT_PER_MINUTE', 10, 1),
    // At most 1 s: a token revoked on one instance must be refused by every other within that.
    authTokenCacheMs: read.int('AUTH_TOKEN_CACHE_MS', 1_000, 0, 1_000),
    loginThrottle: {
      freeAttempts: read.int('AUTH_LOGIN_FREE_ATTEMPTS', 5, 1, 1000),
      lockoutMs: read.int('AUTH_LOGIN_LOCKOUT_SECONDS', 30, 1, 86_400) * 1000,
      maxLockoutMs: read.int('AUTH_LOGIN_LOCKOUT_MAX_SECONDS', 900, 1, 86_400) * 1000,
    },
    bodyLimitBytes: read.int('BODY_LIMIT_BYTES', 1_048_576, 1024),
    smallBodyLimitBytes: read.int('SMALL_BODY_LIMIT_BYTES', 16_384, 1024, 1_048_576),
    http: {
      headersTimeoutMs: read.int('HTTP_HEADERS_TIMEOUT_MS', 10_000, 1, 600_000),
      requestTimeoutMs: read.int('HTTP_REQUEST_TIMEOUT_MS', 30_000, 0, 3_600_000),
      keepAliveTimeoutMs: read.int('HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, 1, 3_600_000),
      connectionTimeoutMs: read.int('HTTP_CONNECTION_TIMEOUT_MS', 120_000, 0, 3_600_000),
    },
    migrateOnStart: read.bool('MIGRATE_ON_START', true),
    publicUrl,
    tracing: {
      serviceName: read.string('OTEL_SERVICE_NAME', `intake-${role}`),
      endpoint: read.raw('OTEL_EXPORTER_OTLP_ENDPOINT') === undefined ? undefined : read.url('OTEL_EXPORTER_OTLP_ENDPOINT', ''),
    },
    feed: {
      url: read.string('FEED_URL', DEFAULT_FEED_URL),
      schedule: read.string('FEED_SCHEDULE', '0 2 * * *'),
      ingestOnStart: read.bool('FEED_INGEST_ON_START', true),
      timeoutMs: read.int('FEED_TIMEOUT_MS', 120_000, 1),
      maxBytes: read.int('FEED_MAX_BYTES', 1024 ** 3, 1),
      removal: read.oneOf('FEED_REMOVAL', ['soft', 'keep'] as const, 'soft', (v) => v.toLowerCase()),
      maxInvalidRatio: read.number('FEED_MAX_INVALID_RATIO', 0.01, 0, 1),
      minItemsRatio: read.number('FEED_MIN_ITEMS_RATIO', 0.5, 0, 1),
      lockLeaseMs: read.int('FEED_LOCK_LEASE_MS', 30_000, 1_000),
    },
    images: {
      maxBytes: read.int('IMAGE_MAX_BYTES', 10 * 1024 ** 2, 1),
      concurrency: read.int('IMAGE_CONCURRENCY', 16, 1, 1000),
      perOriginConnections: read.int('IMAGE_PER_ORIGIN_CONNECTIONS', 16, 1, 1000),
      timeoutMs: read.int('IMAGE_TIMEOUT_MS', 30_000, 1),
      allowPrivateHosts: read.bool('IMAGE_ALLOW_PRIVATE_HOSTS', false),
      allowedHosts: (read.raw('IMAGE_ALLOWED_HOSTS') ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
      maxPixels: read.int('IMAGE_MAX_PIXELS', 40_000_000, 1, 2 ** 32),
      maxFrames: read.int('IMAGE_MAX_FRAMES', 100, 1, 100_000),
      variantWidths: read.ascendingInts('IMAGE_VARIANT_WIDTHS', [160, 320, 640], 1, 8192),
      variantFormats: read.subsetOf('IMAGE_VARIANT_FORMATS', IMAGE_VARIANT_FORMATS, [...IMAGE_VARIANT_FORMATS]),
      // Below libuv's 4 pool threads, so that file reads (originals, cached variants) always find one free.
      variantConcurrency: read.int('IMAGE_VARIANT_CONCURRENCY', 2, 1, 64),
      variantMemoryBytes: read.int('IMAGE_VARIANT_MEMORY_MB', 32, 0, 16_384) * 2 ** 20,
      store: {
        driver: read.oneOf('IMAGE_STORE', IMAGE_STORE_DRIVERS, 'disk', (v) => v.toLowerCase()),
        s3: {
          endpoint: read.raw('IMAGE_S3_ENDPOINT') === undefined ? undefined : read.url('IMAGE_S3_ENDPOINT', ''),
          region: read.string('IMAGE_S3_REGION', 'us-east-1'),
          bucket: read.raw('IMAGE_S3_BUCKET'),
          prefix: s3Prefix(read.string('IMAGE_S3_PREFIX', 'images/')),
          accessKeyId: read.raw('IMAGE_S3_ACCESS_KEY_ID'),
          secretAccessKey: read.raw('IMAGE_S3_SECRET_ACCESS_KEY'),
          forcePathStyle: read.bool('IMAGE_S3_FORCE_PATH_STYLE', true),
        },
      },
      serve: {
        mode: read.oneOf('IMAGE_SERVE', IMAGE_SERVE_MODES, 'stream', (v) => v.toLowerCase()),
        // S3 signs for a week at most.
        redirectTtlSeconds: read.int('IMAGE_REDIRECT_TTL_S', 3_600, 1, 604_800),
      },
    },
    webhooks: {
      allowHttp: read.bool('WEBHOOK_ALLOW_HTTP', false),
      allowPrivateHosts: read.bool('WEBHOOK_ALLOW_PRIVATE_HOSTS', false),
      maxEndpointsPerUser: read.int('WEBHOOK_MAX_ENDPOINTS', 10, 1, 1000),
      timeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000),
      retryScheduleMs: read.intList('WEBHOOK_RETRY_SCHEDULE_MS', [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000], 0, 7 * 86_400_000, 50),
      disableAfterHours: read.number('WEBHOOK_DISABLE_AFTER_HOURS', 72, 0.001, 24 * 365),
      logDays: read.number('WEBHOOK_LOG_DAYS', 14, 0.001, 3650),
      secretOverlapHours: read.number('WEBHOOK_SECRET_OVERLAP_HOURS', 24, 0, 24 * 30),
      concurrency: read.int('WEBHOOK_CONCURRENCY', 32, 1, 1000),
      endpointConcurrency: read.int('WEBHOOK_ENDPOINT_CONCURRENCY', 4, 1, 1000),
    },
    outbound: {
      enabled: read.bool('OUTBOUND_PROTECTION', true),
      thirdPartyRatePerS: rateOrUnlimited(read.number('THIRD_PARTY_RATE_PER_S', 0, 0, 1_000_000)),
      webhookRatePerSPerEndpoint: rateOrUnlimited(read.number('WEBHOOK_RATE_PER_S_PER_ENDPOINT', 0, 0, 1_000_000)),
      imageRatePerSPerHost: rateOrUnlimited(read.number('IMAGE_RATE_PER_S_PER_HOST', 0, 0, 1_000_000)),
      guard: {
        consecutiveFailures: read.int('CIRCUIT_FAILURE_THRESHOLD', 20, 1, 10_000),
        failureRatio: read.fraction('CIRCUIT_FAILURE_RATIO', 0.5, '0.5 opens at half the requests failing'),
        minRequests: read.int('CIRCUIT_MIN_REQUESTS', 20, 1, 1_000_000),
        windowMs: read.int('CIRCUIT_WINDOW_S', 30, 1, 86_400) * 1000,
        cooldownMs: read.int('CIRCUIT_COOLDOWN_MS', 5_000, 10, 3_600_000),
        maxCooldownMs: read.int('CIRCUIT_MAX_COOLDOWN_MS', 300_000, 10, 86_400_000),
        refreshMs: read.int('OUTBOUND_STATE_REFRESH_MS', 100, 10, 60_000),
        defaultPauseMs: read.int('OUTBOUND_DEFAULT_PAUSE_MS', 1_000, 1, 3_600_000),
        maxPauseMs: read.int('OUTBOUND_MAX_PAUSE_MS', 300_000, 1, 86_400_000),
        recoveryMs: read.int('OUTBOUND_RECOVERY_MS', 10_000, 0, 3_600_000),
      },
    },
    logLevel,
    logSampling: {
      requests: read.fraction('LOG_REQUEST_SAMPLE', 1, '0.1 logs one request in ten'),
      slowRequestMs: read.int('LOG_REQUEST_SLOW_MS', 1_000, 0, 3_600_000),
      jobs: read.fraction('LOG_JOB_SAMPLE', 1, '0.1 logs one completed job in ten'),
    },
    cliLogLevel: read.raw('LOG_LEVEL') === undefined ? 'warn' : logLevel,
  };
  if (config.jobBackoffMaxMs < config.jobBackoffMs) {
    read.problems.push(`JOB_BACKOFF_MAX_MS (${config.jobBackoffMaxMs}) must be at least JOB_BACKOFF_MS (${config.jobBackoffMs})`);
  }
  const { headersTimeoutMs, requestTimeoutMs } = config.http;
  if (requestTimeoutMs > 0 && headersTimeoutMs > requestTimeoutMs) {
    read.problems.push(`HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be greater than HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  const simulatorInProcess = config.simulatorEnabled && (role === 'all' || role === 'api');
  if (simulatorInProcess && config.simulatorPort !== 0 && config.simulatorPort === port) {
    read.problems.push(`SIMULATOR_PORT (${config.simulatorPort}) must differ from PORT: the simulator never shares the API's port`);
  }
  if (config.loginThrottle.maxLockoutMs < config.loginThrottle.lockoutMs) {
    read.problems.push(`AUTH_LOGIN_LOCKOUT_MAX_SECONDS (${config.loginThrottle.maxLockoutMs / 1000}) must be at least AUTH_LOGIN_LOCKOUT_SECONDS (${config.loginThrottle.lockoutMs / 1000})`);
  }
  if (config.outbound.guard.maxCooldownMs < config.outbound.guard.cooldownMs) {
    read.problems.push(`CIRCUIT_MAX_COOLDOWN_MS (${config.outbound.guard.maxCooldownMs}) must be at least CIRCUIT_COOLDOWN_MS (${config.outbound.guard.cooldownMs})`);
  }
  if (config.queueDriver === 'amqp' && config.amqpUrl === undefined) read.problems.push('AMQP_URL is required when QUEUE_DRIVER=amqp');
  if (config.storeDriver === 'redis' && config.redisUrl === undefined) read.problems.push('REDIS_URL is required when STORE_DRIVER=redis');
  const imageStore = config.images.store;
  if (imageStore.driver === 's3' && imageStore.s3.bucket === undefined) read.problems.push('IMAGE_S3_BUCKET is required when IMAGE_STORE=s3');
  if ((imageStore.s3.accessKeyId === undefined) !== (imageStore.s3.secretAccessKey === undefined)) {
    read.problems.push("IMAGE_S3_ACCESS_KEY_ID and IMAGE_S3_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credentials)");
  }
  if (config.images.serve.mode === 'redirect' && imageStore.driver !== 's3') read.problems.push('IMAGE_SERVE=redirect needs IMAGE_STORE=s3: only a bucket signs URLs');
  if (!isValidCron(config.feed.schedule)) read.problems.push(`FEED_SCHEDULE must be a cron expression, got "${config.feed.schedule}"`);
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * Reads `.env` (if present) into process.env without overriding real variables, then validates.
 * `role` (named on the command line) wins over ROLE, and the defaults that follow from the role follow it.
 */
export function loadConfigFromEnvironment(role?: Role): Config {
  dotenv.config({ quiet: true });
  return loadConfig(role ? { ...process.env, ROLE: role } : process.env);
}

export function sqlitePath(databaseUrl: string): string {
  const match = SQLITE_URL.exec(databaseUrl);
  if (!match?.[1]) throw new ConfigError([`DATABASE_URL is not a sqlite URL: ${databaseUrl}`]);
  return match[1] === ':memory:' ? ':memory:' : path.resolve(match[1]);
}

/** IMAGE_S3_PREFIX: '/' is the bucket's root; any other prefix ends in '/' and starts without one. */
function s3Prefix(value: string): string {
  const trimmed = value.replace(/^\/+/, '');
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}

function isValidCron(expression: string): boolean {
  try {
    new Cron(expression, { paused: true, timezone: 'UTC' }).stop();
    return true;
  } catch {
    return false;
  }
}
