import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import type { ImageRow } from '../../../src/catalog/catalog.tables.js';
import { createImageJobs, imageDownloadJob, type ImageJobs, type ImageJobsOptions } from '../../../src/catalog/images/images.jobs.js';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import type { ImageStore } from '../../../src/catalog/images/image-store.js';
import { ImageTempFiles } from '../../../src/catalog/images/image-temp-files.js';
import { findImageByUrlHash, urlHash } from '../../../src/catalog/images/images.repository.js';
import { ImagesService } from '../../../src/catalog/images/images.service.js';
import { loadConfig } from '../../../src/config.js';
import { systemClock } from '../../../src/platform/clock.js';
import { OutboundGuard, type OutboundSettings } from '../../../src/platform/outbound/outbound-guard.js';
import { DatabaseStore } from '../../../src/platform/store/database-store.js';
import { DatabaseQueue } from '../../../src/platform/queue/database-queue.js';
import { JobRegistry } from '../../../src/platform/queue/jobs.js';
import type { Worker } from '../../../src/platform/queue/queue.js';
import { createTempDatabase, type TempDatabase } from '../../support/driver-databases.js';
import { waitFor } from '../../support/driver-wait.js';

export interface HarnessOptions {
  images?: Partial<ImageJobsOptions['images']>;
  maxAttempts?: number;
  /** How long the store's last write outcome answers `checkWritable` (default: the store's own). */
  writeCheckTtlMs?: number;
  /** Where the queue and the download jobs log (silent by default). */
  logger?: Logger;
  /** Downloads go through an outbound guard with these settings (the defaults' otherwise), limited to `ratePerSPerHost`. */
  outbound?: Partial<OutboundSettings> & { ratePerSPerHost?: number };
  /** Where downloads are stored: a disk store in the temp DATA_DIR unless given (the harness closes it). */
  store?: ImageStore;
}

/**
 * The images pipeline on a migrated temp database (the run's dialect) and a temp DATA_DIR: the service that
 * claims, the database queue, and the download workers as the job registry starts them.
 */
export interface ImagesHarness {
  temp: TempDatabase;
  dataDir: string;
  queue: DatabaseQueue;
  service: ImagesService;
  jobs: ImageJobs;
  store: ImageStore;
  temps: ImageTempFiles;
  startWorkers(): void;
  /** Waits until no download job is ready, delayed or active. */
  drain(timeoutMs?: number): Promise<void>;
  image(url: string): Promise<ImageRow | undefined>;
  /** Files in DATA_DIR/images/tmp. */
  tempFiles(): string[];
  /** Every image file in DATA_DIR/images (outside its tmp/), relative to it: the disk store's objects. */
  storedFiles(): string[];
  close(): Promise<void>;
}

export async function createImagesHarness(options: HarnessOptions = {}): Promise<ImagesHarness> {
  const temp = await createTempDatabase('intake-images');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-images-'));
  const logger = options.logger ?? pino({ level: 'silent' });
  const queue = new DatabaseQueue({
    database: temp.database,
    logger,
    defaultMaxAttempts: options.maxAttempts ?? 3,
    defaultBackoff: { baseMs: 10, maxMs: 40 },
    leaseMs: 30_000,
    random: () => 0.5,
    maxIdleMs: 50,
  });
  const service = new ImagesService({ database: temp.database, queue, clock: systemClock, logger });
  const store = options.store ?? new DiskImageStore(dataDir, { writeCheckTtlMs: options.writeCheckTtlMs });
  const temps = new ImageTempFiles(dataDir, { writeCheckTtlMs: options.writeCheckTtlMs });
  const jobs = createImageJobs({
    database: temp.database,
    clock: systemClock,
    logger,
    store,
    temps,
    images: { maxBytes: 64 * 1024, maxPixels: 40_000_000, maxFrames: 100, concurrency: 16, perOriginConnections: 16, timeoutMs: 2_000, allowPrivateHosts: true, allowedHosts: [], ...options.images },
    ...(options.outbound && {
      outbound: new OutboundGuard({ database: temp.database, store: new DatabaseStore(temp.database), clock: systemClock, logger, settings: { ...loadConfig({}).outbound.guard, ...options.outbound } }),
      ratePerSPerHost: options.outbound.ratePerSPerHost,
    }),
  });
  let workers: Worker[] = [];
  const imagesDir = path.join(dataDir, 'images');

  return {
    temp,
    dataDir,
    queue,
    service,
    jobs,
    store,
    temps,
    startWorkers() {
      const registry = new JobRegistry([imageDownloadJob]).handle(jobs);
      workers = registry.start(queue, { concurrency: 1 }, { logger });
    },
    async drain(timeoutMs = 20_000) {
      await waitFor(
        async () => {
          const { counts } = await queue.stats(imageDownloadJob.queue);
          return counts.ready + counts.delayed + counts.active === 0;
        },
        timeoutMs,
        'the image download queue to drain',
      );
    },
    image: (url) => findImageByUrlHash(temp.database.db, urlHash(url)),
    tempFiles: () => (fs.existsSync(temps.dir) ? fs.readdirSync(temps.dir) : []),
    storedFiles: () =>
      fs.existsSync(imagesDir)
        ? (fs.readdirSync(imagesDir, { recursive: true }) as string[]).filter((f) => !f.startsWith('tmp') && fs.statSync(path.join(imagesDir, f)).isFile())
        : [],
    async close() {
      await Promise.all(workers.map((w) => w.stop(1_000)));
      await queue.close();
      await jobs.close();
      await store.close();
      await temp.cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
