import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, sqlitePath } from '../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      role: 'all',
      port: 8080,
      host: '127.0.0.1',
      queueDriver: 'database',
      storeDriver: 'database',
      jobMaxAttempts: 5,
      duplicateWindowSeconds: 30,
      idempotencyTtlSeconds: 86_400,
      simulatorEnabled: true,
      simulatorPort: 8090,
      simulatorHost: '127.0.0.1',
      simulatorDelayMs: { min: 5000, max: 30_000 },
      simulatorFailureRate: 0.2,
      thirdPartyUrl: undefined,
      bodyLimitBytes: 1_048_576,
      smallBodyLimitBytes: 16_384,
      http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, connectionTimeoutMs: 120_000 },
      publicUrl: 'http://127.0.0.1:8080',
      migrateOnStart: true,
      heapGrowthPercent: 20,
      sqliteCacheMb: 4,
      sqliteLogFlush: 'background',
      sqliteCheckpoint: 'background',
      jobWriteBatch: { maxItems: 64, lingerMs: 0, outcomesAtOnce: 4 },
    });
    expect(config.databaseUrl).toBe(`sqlite:${path.join(path.resolve('./data'), 'intake.db')}`);
  });

  it('reads typed values and normalises case and whitespace', () => {
    const config = loadConfig({
      ROLE: ' Worker ',
      PORT: '0',
      LOG_LEVEL: 'WARN',
      SQLITE_SYNCHRONOUS: 'normal',
      SQLITE_LOG_FLUSH: ' Commit ',
      SQLITE_CHECKPOINT: 'INLINE',
      JOB_OUTCOME_WRITES_AT_ONCE: ' 2 ',
      HEAP_GROWTH_PERCENT: '0',
      SIMULATOR_DELAY_MS: '10 - 20',
      SIMULATOR_FAILURE_RATE: '0.5',
      MIGRATE_ON_START: 'off',
      THIRD_PARTY_URL: 'https://very-slow-api.com/orders',
      DUPLICATE_WINDOW_SECONDS: '0',
    });
    expect(config).toMatchObject({
      role: 'worker',
      port: 0,
      logLevel: 'warn',
      sqliteSynchronous: 'NORMAL',
      sqliteLogFlush: 'commit',
      sqliteCheckpoint: 'inline',
      jobWriteBatch: { maxItems: 64, lingerMs: 0, outcomesAtOnce: 2 },
      heapGrowthPercent: 0,
      simulatorDelayMs: { min: 10, max: 20 },
      simulatorFailureRate: 0.5,
      migrateOnStart: false,
      simulatorEnabled: false,
      thirdPartyUrl: 'https://very-slow-api.com/orders',
      duplicateWindowSeconds: 0,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', ROLE: '   ' })).toMatchObject({ port: 8080, role: 'all' });
  });

  it('traces nothing when OTEL_EXPORTER_OTLP_ENDPOINT is empty, as Compose passes it without the observability command', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing.endpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://alloy:4318' }).tracing.endpoint).toBe('http://alloy:4318');
  });

  it('reads the outbound protection: a rate of 0 is no limit, and the longest cool-down is at least the first', () => {
    const outbound = loadConfig({ THIRD_PARTY_RATE_PER_S: '50', IMAGE_RATE_PER_S_PER_HOST: '0.5', CIRCUIT_FAILURE_RATIO: '0.25' }).outbound;
    expect(outbound).toMatchObject({ enabled: true, thirdPartyRatePerS: 50, webhookRatePerSPerEndpoint: undefined, imageRatePerSPerHost: 0.5 });
    expect(outbound.guard).toMatchObject({ consecutiveFailures: 20, failureRatio: 0.25, windowMs: 30_000, cooldownMs: 5_000, maxCooldownMs: 300_000 });
    expect(loadConfig({ OUTBOUND_PROTECTION: 'false' }).outbound.enabled).toBe(false);
    expect(loadConfig({ JOB_TTL: 'orders.integration=3600, images.download = 60' }).jobTtlMs).toEqual({ 'orders.integration': 3_600_000, 'images.download': 60_000 });
    expect(loadConfig({}).jobTtlMs).toEqual({});
    expect(() => loadConfig({ JOB_TTL: 'orders.integration' })).toThrow(/JOB_TTL must be name=seconds pairs/);
    expect(() => loadConfig({ CIRCUIT_COOLDOWN_MS: '60000', CIRCUIT_MAX_COOLDOWN_MS: '1000' })).toThrow(/CIRCUIT_MAX_COOLDOWN_MS \(1000\) must be at least CIRCUIT_COOLDOWN_MS \(60000\)/);
    expect(() => loadConfig({ THIRD_PARTY_RATE_PER_S: '-1', CIRCUIT_FAILURE_RATIO: '2' })).toThrow(/THIRD_PARTY_RATE_PER_S[\s\S]*CIRCUIT_FAILURE_RATIO/);
  });

  it('accepts a single number as a simulator delay range', () => {
    expect(loadConfig({ SIMULATOR_DELAY_MS: '0' }).simulatorDelayMs).toEqual({ min: 0, max: 0 });
  });

  it('names every bad variable in one error', () => {
    const bad: Record<string, string> = {
      ROLE: 'chef',
      PORT: 'eighty',
      METRICS_PORT: '70000',
      SQLITE_SYNCHRONOUS: 'SOMETIMES',
      SQLITE_LOG_FLUSH: 'never',
      SQLITE_CHECKPOINT: 'nightly',
      HEAP_GROWTH_PERCENT: '-1',
      QUEUE_DRIVER: 'carrier-pigeon',
      STORE_DRIVER: 'memcached',
      WORKER_CONCURRENCY: '0',
      JOB_MAX_ATTEMPTS: '1.5',
      JOB_BACKOFF_MS: '-1',
      JOB_LEASE_MS: '10',
      JOB_OUTCOME_WRITES_AT_ONCE: '0',
      THIRD_PARTY_URL: 'ftp://example.test/orders',
      THIRD_PARTY_TIMEOUT_MS: 'soon',
      SIMULATOR_ENABLED: 'maybe',
      SIMULATOR_DELAY_MS: '30000-5000',
      SIMULATOR_FAILURE_RATE: '1.5',
      IDEMPOTENCY_TTL_SECONDS: '0',
      DUPLICATE_WINDOW_SECONDS: '-5',
      AUTH_RATE_LIMIT_PER_MINUTE: '0',
      AUTH_LOGIN_FREE_ATTEMPTS: '0',
      AUTH_LOGIN_LOCKOUT_SECONDS: 'a while',
      BODY_LIMIT_BYTES: '10',
      SMALL_BODY_LIMIT_BYTES: '100',
      SIMULATOR_PORT: '-1',
      HTTP_HEADERS_TIMEOUT_MS: '0',
      HTTP_REQUEST_TIMEOUT_MS: 'never',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '0',
      HTTP_CONNECTION_TIMEOUT_MS: '1.5',
      MIGRATE_ON_START: 'perhaps',
      PUBLIC_URL: 'not a url',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'oracle://localhost/intake',
      DATABASE_POOL_MAX: '0',
      DATABASE_READ_URL: 'mysql://replica/intake',
      AMQP_URL: 'http://rabbit',
      REDIS_URL: 'not a url',
    };
    const problems = problemsOf(bad);
    for (const name of Object.keys(bad)) {
      expect(problems.some((p) => p.startsWith(name)), `a problem names ${name}`).toBe(true);
    }
    expect(problems).toHaveLength(Object.keys(bad).length);
  });

  it('refuses a headers timeout longer than the request timeout, and a simulator on the API port', () => {
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_MS (5000) must not be greater than HTTP_REQUEST_TIMEOUT_MS (4000)',
    ]);
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '0' }).http).toMatchObject({ headersTimeoutMs: 5000, requestTimeoutMs: 0 });
    expect(problemsOf({ PORT: '9000', SIMULATOR_PORT: '9000' })).toEqual(["SIMULATOR_PORT (9000) must differ from PORT: the simulator never shares the API's port"]);
    // Only a process that runs the simulator beside the API cares.
    expect(loadConfig({ ROLE: 'worker', PORT: '9000', SIMULATOR_PORT: '9000' }).simulatorPort).toBe(9000);
    expect(loadConfig({ PORT: '9000', SIMULATOR_PORT: '9000', SIMULATOR_ENABLED: 'false' }).simulatorEnabled).toBe(false);
  });

  it('quotes the bad value and the allowed range in each problem', () => {
    expect(problemsOf({ PORT: 'eighty' })).toEqual(['PORT must be an integer between 0 and 65535, got "eighty"']);
    expect(problemsOf({ LOG_LEVEL: 'loud' })[0]).toMatch(/^LOG_LEVEL must be one of fatal, error, .*silent, got "loud"$/);
  });

  it('reads the log sampling rates as fractions, every line by default', () => {
    expect(loadConfig({}).logSampling).toEqual({ requests: 1, slowRequestMs: 1_000, jobs: 1 });
    expect(loadConfig({ LOG_REQUEST_SAMPLE: '0.05', LOG_REQUEST_SLOW_MS: '0', LOG_JOB_SAMPLE: '0' }).logSampling).toEqual({ requests: 0.05, slowRequestMs: 0, jobs: 0 });
    expect(problemsOf({ LOG_REQUEST_SAMPLE: '5%', LOG_JOB_SAMPLE: '1.5', LOG_REQUEST_SLOW_MS: '-1' })).toEqual([
      'LOG_REQUEST_SAMPLE must be a fraction between 0 and 1 (0.1 logs one request in ten), got "5%"',
      'LOG_REQUEST_SLOW_MS must be an integer between 0 and 3600000, got "-1"',
      'LOG_JOB_SAMPLE must be a fraction between 0 and 1 (0.1 logs one completed job in ten), got "1.5"',
    ]);
  });

  it('records job attempts by default, kept 24 hours, and refuses a bad switch or retention', () => {
    expect(loadConfig({}).jobAttemptLog).toEqual({ enabled: true, retentionHours: 24 });
    expect(loadConfig({ JOB_ATTEMPT_LOG: 'off', JOB_ATTEMPT_LOG_HOURS: '0.5' }).jobAttemptLog).toEqual({ enabled: false, retentionHours: 0.5 });
    expect(problemsOf({ JOB_ATTEMPT_LOG: 'maybe', JOB_ATTEMPT_LOG_HOURS: '0' })).toEqual([
      'JOB_ATTEMPT_LOG must be true or false, got "maybe"',
      'JOB_ATTEMPT_LOG_HOURS must be a number between 0.001 and 8760, got "0"',
    ]);
  });

  it('lists every problem in the error message', () => {
    expect(() => loadConfig({ PORT: 'x', ROLE: 'y' })).toThrow(/Invalid configuration:\n {2}- ROLE .*\n {2}- PORT /);
  });

  it('refuses a login lockout ceiling below the first lockout', () => {
    expect(problemsOf({ AUTH_LOGIN_LOCKOUT_SECONDS: '60', AUTH_LOGIN_LOCKOUT_MAX_SECONDS: '30' })).toEqual([
      'AUTH_LOGIN_LOCKOUT_MAX_SECONDS (30) must be at least AUTH_LOGIN_LOCKOUT_SECONDS (60)',
    ]);
  });

  it('caches a verified token for 1000 ms by default, 0 turning it off, and refuses more than the 1 s revocation bound', () => {
    expect(loadConfig({}).authTokenCacheMs).toBe(1_000);
    expect(loadConfig({ AUTH_TOKEN_CACHE_MS: '0' }).authTokenCacheMs).toBe(0);
    expect(problemsOf({ AUTH_TOKEN_CACHE_MS: '1001' })).toEqual(['AUTH_TOKEN_CACHE_MS must be an integer between 0 and 1000, got "1001"']);
    expect(problemsOf({ AUTH_TOKEN_CACHE_MS: '-1' })).toEqual(['AUTH_TOKEN_CACHE_MS must be an integer between 0 and 1000, got "-1"']);
  });

  it('reads the webhook settings: about three days of retries by default, any order of waits, none for no retry', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowHttp: false,
      allowPrivateHosts: false,
      maxEndpointsPerUser: 10,
      timeoutMs: 10_000,
      retryScheduleMs: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      disableAfterHours: 72,
      logDays: 14,
      secretOverlapHours: 24,
      concurrency: 32,
      endpointConcurrency: 4,
    });
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: '1000, 500,2000' }).webhooks.retryScheduleMs).toEqual([1000, 500, 2000]);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE_MS: 'none' }).webhooks.retryScheduleMs).toEqual([]);
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE_MS: '5s,10s' })[0]).toContain('WEBHOOK_RETRY_SCHEDULE_MS must be 1 to 50 integers');
    expect(problemsOf({ WEBHOOK_RETRY_SCHEDULE_MS: Array(51).fill(1).join(',') })[0]).toContain('WEBHOOK_RETRY_SCHEDULE_MS');
    expect(problemsOf({ WEBHOOK_MAX_ENDPOINTS: '0', WEBHOOK_TIMEOUT_MS: 'soon' })).toHaveLength(2);
  });

  it('refuses a backoff ceiling below the base', () => {
    expect(problemsOf({ JOB_BACKOFF_MS: '5000', JOB_BACKOFF_MAX_MS: '1000' })).toEqual([
      'JOB_BACKOFF_MAX_MS (1000) must be at least JOB_BACKOFF_MS (5000)',
    ]);
  });

  it('refuses integers written as decimals or exponents', () => {
    expect(problemsOf({ WORKER_CONCURRENCY: '1e3' })[0]).toMatch(/^WORKER_CONCURRENCY /);
    expect(problemsOf({ WORKER_CONCURRENCY: '8.0' })[0]).toMatch(/^WORKER_CONCURRENCY /);
  });

  it('accepts PostgreSQL and MySQL URLs, a replica on the same engine, and the scale-out drivers with their URLs', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://intake:secret@db:5432/intake',
      DATABASE_READ_URL: 'postgresql://intake:secret@replica:5432/intake',
      DATABASE_POOL_MAX: '25',
      QUEUE_DRIVER: 'AMQP',
      AMQP_URL: 'amqp://guest:guest@rabbit:5672',
      STORE_DRIVER: 'redis',
      REDIS_URL: 'redis://cache:6379/0',
    });
    expect(config).toMatchObject({ databasePoolMax: 25, queueDriver: 'amqp', storeDriver: 'redis', amqpUrl: 'amqp://guest:guest@rabbit:5672', redisUrl: 'redis://cache:6379/0' });
    expect(loadConfig({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/intake' }).databaseUrl).toBe('mysql://root@127.0.0.1:3306/intake');
  });

  it('requires the URL of the broker or cache a driver needs, and never echoes a password', () => {
    expect(problemsOf({ QUEUE_DRIVER: 'amqp', STORE_DRIVER: 'redis' })).toEqual(['AMQP_URL is required when QUEUE_DRIVER=amqp', 'REDIS_URL is required when STORE_DRIVER=redis']);
    expect(problemsOf({ DATABASE_URL: 'sqlite:x.db', DATABASE_READ_URL: 'postgres://u:hunter2@replica/db' })[0]).not.toContain('hunter2');
  });

  it('resolves the sqlite path of DATABASE_URL', () => {
    expect(sqlitePath('sqlite::memory:')).toBe(':memory:');
    expect(sqlitePath('sqlite:./x/intake.db')).toBe(path.resolve('./x/intake.db'));
    expect(() => sqlitePath('postgres://x')).toThrow(ConfigError);
  });
});
