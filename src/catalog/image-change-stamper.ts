import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import type { Logger } from 'pino';
import { stampImageChanges, takeChangeSeq, unstampedImages } from './catalog-changes.repository.js';
import { countCatalogChange } from './catalog-versions.repository.js';

export interface ImageChangeStamperOptions {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** How often it looks for unstamped image changes; default 500 ms: how late delta sync may show an image's new state. */
  everyMs?: number;
  /** Images per transaction; default 500. */
  batch?: number;
}

/**
 * Carries image state changes (cached, failed, retried) into delta sync: the pornstars that show
 * a changed image take a new change sequence number. A download's own transaction only marks its
 * image unstamped, so that hundreds of downloads a second never queue on the sequence's row; this
 * stamps them in batches, one transaction each, a few times a second. Any number of processes may
 * run one: the sequence's row makes them take turns, and a batch another took is skipped.
 */
export class ImageChangeStamper {
  private readonly everyMs: number;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: ImageChangeStamperOptions) {
    this.everyMs = options.everyMs ?? 500;
    this.batch = options.batch ?? 500;
  }

  start(): this {
    this.schedule();
    return this;
  }

  /** Stamps every change there is now; resolves to how many images it stamped. */
  async stampAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const images = await unstampedImages(this.options.database.db, this.batch);
      if (images.length === 0) return total;
      total += await this.options.database.transaction(async (trx) => {
        const stamped = await stampImageChanges(trx, images, await takeChangeSeq(trx));
        if (stamped > 0) await countCatalogChange(trx, this.options.clock.now());
        return stamped;
      });
      if (images.length < this.batch || this.stopped) return total;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.stampAll()
        .then(() => undefined)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not stamp image changes for delta sync; trying again'))
        .finally(() => this.schedule());
    }, this.everyMs);
    this.timer.unref();
  }
}
