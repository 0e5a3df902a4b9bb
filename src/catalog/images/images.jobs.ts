import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db/database.js';
import { defineJob, type JobRunner } from '../../platform/queue/jobs.js';
import { isFinalFailure } from '../../platform/queue/job-outcome.js';
import { outboundOutcomeOf, type DestinationLimits, type OutboundGuard, type OutboundOutcome } from '../../platform/outbound/outbound-guard.js';
import { DeferredError, PermanentError, RetryableError, type JobContext, type JobHandler, type ParkedHandler, type ParkedNotice, type WorkOptions } from '../../platform/queue/queue.js';
import { ImageFetcher, ImageFetchError, type ImageFetcherOptions } from './image-fetcher.js';
import type { ImageStore } from './image-store.js';
import type { ImageTempFiles } from './image-temp-files.js';
import type { Metrics } from '../../platform/telemetry/metrics.js';
import { RepeatedWarnings } from '../../platform/telemetry/repeated-warnings.js';
import { imageMetrics, type ImageMetrics } from '../catalog.metrics.js';
import { findImageByUrlHash, markImageCached, recordImageFailure } from './images.repository.js';
import { countCatalogChange } from '../catalog-versions.repository.js';
import { ImageChangeStamper } from '../image-change-stamper.js';

export interface ImageDownloadPayload {
  urlHash: string;
}

/** One per distinct image URL, enqueued only by the claim that created the `images` row. */
export const imageDownloadJob = defineJob<ImageDownloadPayload>('images.download', { priority: 1 });

export interface ImageJobDeps {
  database: Database;
  fetcher: ImageFetcher;
  clock: Clock;
  logger: Logger;
  metrics?: ImageMetrics;
  /** Each source host's shared rate limit, pause and circuit breaker; unset: every download starts at once. */
  guard?: { outbound: OutboundGuard; limits: DestinationLimits };
}

/** A source host, as the outbound guard names it. */
export const imageHostDestination = (url: string) => `image-host:${hostOf(url)}`;

function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return 'invalid';
  }
}

/** What a failed download showed of its source host, or undefined when it never asked the host. */
function outcomeOfFailure(error: ImageFetchError): OutboundOutcome | undefined {
  const { source } = error;
  if (source.kind === 'not_asked') return undefined;
  if (source.kind === 'unreachable') return { kind: 'failure', error: error.message };
  return source.statusCode === undefined ? { kind: 'success' } : outboundOutcomeOf(source.statusCode, error.message, error.retryAfterMs);
}

/**
 * Downloads one image into the store and marks its row cached. Idempotent: a cached image is never
 * fetched again, and storing the same bytes twice leaves one object.
 */
export function imageDownloadHandler(deps: ImageJobDeps): JobHandler<ImageDownloadPayload> {
  return async ({ urlHash }: ImageDownloadPayload, job: JobContext): Promise<void> => {
    const image = await findImageByUrlHash(deps.database.db, urlHash);
    if (!image || image.status === 'cached') return;
    const { guard } = deps;
    // Held here (a DeferredError), a download has spent no attempt.
    const admission = guard && (await guard.outbound.admit(imageHostDestination(image.url), guard.limits));

    let stored;
    const started = performance.now();
    try {
      stored = await deps.fetcher.fetch(image.url, job.signal);
      if (admission) await guard.outbound.report(admission, { kind: 'success' });
    } catch (error) {
      if (!(error instanceof ImageFetchError)) throw error;
      const outcome = outcomeOfFailure(error);
      const held = admission && (outcome ? await guard.outbound.report(admission, outcome) : (await guard.outbound.unused(admission), {}));
      if (held?.holdUntil !== undefined && error.retryable) {
        // The host is down and its circuit open: the download waits for it without spending the attempt.
        throw new DeferredError(Math.max(1, held.holdUntil - deps.clock.now()), `${error.message}; the circuit of its host is open`, held.holdUntil);
      }
      const failure = error.retryable ? new RetryableError(error.message, error.retryAfterMs) : new PermanentError(error.message);
      // A failure that parks the job fails the image here.
      const finalAttempt = isFinalFailure(failure, job.attempt, job.maxAttempts);
      deps.metrics?.failed(finalAttempt ? 'failed' : 'retry');
      await deps.database.write(async (db) => {
        const now = deps.clock.now();
        const failed = await recordImageFailure(db, { url_hash: urlHash, status: finalAttempt ? 'failed' : 'pending', last_error: error.message, attempts: job.attempt, now });
        if (failed && finalAttempt) await countCatalogChange(db, now);
      });
      throw failure;
    }
    deps.metrics?.downloaded(stored.bytes, (performance.now() - started) / 1000);
    // Not flushed: lost in a power cut (with the job's completion, which follows it), the job runs
    // again and finds the file already stored.
    await deps.database.write(
      async (db) => {
        const now = deps.clock.now();
        await markImageCached(db, { url_hash: urlHash, sha256: stored.sha256, ext: stored.ext, content_type: stored.contentType, bytes: stored.bytes, attempts: job.attempt, fetched_at: now });
        // After the change: a reader that saw the old version may cache the new state under it, never the reverse.
        await countCatalogChange(db, now);
      },
      { durable: false },
    );
  };
}

export const IMAGE_FAILED = 'image failed: its download job was parked';

/**
 * When an image's job is parked, the image is `failed`. The handler writes that itself when it
 * gives up; this covers a worker that died during the last attempt, whose handler never got the word.
 * It is the job's `onParked`: the queue's outcome policy calls it for every parked job. A feed
 * whose images one host refuses fails them all for one reason: `warnings` writes that once, then
 * counts (one line per image unless given).
 */
export function imageParkedHandler(deps: Pick<ImageJobDeps, 'database' | 'clock' | 'logger'> & { warnings?: RepeatedWarnings }): ParkedHandler {
  return async (payload: unknown, notice: ParkedNotice): Promise<void> => {
    const hash = (payload as Partial<ImageDownloadPayload> | null)?.urlHash;
    if (typeof hash !== 'string') return;
    const changed = await deps.database.write(async (db) => {
      const now = deps.clock.now();
      const failed = await recordImageFailure(db, { url_hash: hash, status: 'failed', last_error: notice.reason, attempts: notice.attempts, now });
      if (failed) await countCatalogChange(db, now);
      return failed;
    });
    if (!changed) return;
    if (!deps.warnings) {
      deps.logger.warn({ urlHash: hash, reason: notice.reason }, IMAGE_FAILED);
      return;
    }
    const url = (await findImageByUrlHash(deps.database.db, hash).catch(() => undefined))?.url ?? hash;
    deps.warnings.warn(notice.reason, url, { urlHash: hash });
  };
}

export interface ImageJobsOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** Where the downloads are stored (IMAGE_STORE). */
  store: ImageStore;
  /** The downloads' scratch space (the container shares its own with the readiness check). */
  temps: ImageTempFiles;
  /** `config.images`. */
  images: ImageFetcherOptions & { concurrency: number };
  metrics?: Metrics;
  /** Holds downloads while their host is rate-limited, paused or its circuit open; unset: never. */
  outbound?: OutboundGuard;
  /** IMAGE_RATE_PER_S_PER_HOST; undefined: no limit. */
  ratePerSPerHost?: number;
}

export interface ImageJobs extends JobRunner<ImageDownloadPayload> {
  workOptions: Pick<WorkOptions, 'concurrency' | 'prefetch' | 'durableCompletions' | 'onParked'>;
  /** Resolves when both the scratch space and the store can be written, rejects with the ImageStoreError otherwise. */
  checkWritable(): Promise<void>;
  /** Writes the last warning summaries and closes the HTTP connection pool; call after the workers stopped. Idempotent. */
  close(): Promise<void>;
}

/** Everything a worker process needs to run `images.download` jobs. */
export function createImageJobs(options: ImageJobsOptions): ImageJobs {
  const { store, temps } = options;
  const fetcher = new ImageFetcher(temps, store, options.images);
  const logger = options.logger.child({ job: imageDownloadJob.queue });
  const warnings = new RepeatedWarnings({ logger, message: IMAGE_FAILED });
  let closing: Promise<void> | undefined;
  const guard = options.outbound && { outbound: options.outbound, limits: { ratePerS: options.ratePerSPerHost, probeLeaseMs: options.images.timeoutMs } };
  const deps = { database: options.database, fetcher, clock: options.clock, logger, metrics: options.metrics && imageMetrics(options.metrics), warnings, guard };
  // A temp file this old belongs to a process that died mid-download; live downloads end within timeoutMs.
  void temps
    .removeStale(Math.max(options.images.timeoutMs * 2, 3_600_000))
    .catch((error: unknown) => logger.warn({ err: error }, 'could not sweep stale image temp files'));
  // The images this worker caches or gives up reach delta sync through the stamper.
  const stamper = new ImageChangeStamper({ database: options.database, clock: options.clock, logger }).start();
  return {
    definition: imageDownloadJob,
    handler: imageDownloadHandler(deps),
    workOptions: {
      // IMAGE_CONCURRENCY bounds the downloads (in the fetcher); twice as many jobs let the
      // bookkeeping after a download (the store's write, database writes) overlap the next transfers.
      concurrency: options.images.concurrency * 2,
      // One claimed job waiting per download: a finished job's slot starts the next without a claim round trip.
      prefetch: options.images.concurrency,
      // A completion lost in a power cut costs one more download of an image that the content-addressed store already holds.
      durableCompletions: false,
      onParked: imageParkedHandler(deps),
    },
    // Bulk work: the feed runs, the image metrics and `images:stats` count it; each download's line is for debugging.
    finishedLog: 'debug',
    checkWritable: () => checkImageCacheWritable(temps, store),
    close: () => {
      closing ??= (async () => {
        warnings.close();
        await stamper.stop();
        await fetcher.close();
      })();
      return closing;
    },
  };
}

/** Whether downloads can be stored: a worker needs its scratch space and the store alike. */
export async function checkImageCacheWritable(temps: ImageTempFiles, store: ImageStore): Promise<void> {
  await temps.checkWritable();
  await store.checkWritable();
}
