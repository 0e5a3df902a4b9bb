import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImageStoreError } from './image-files.js';
import { WriteHealth } from './image-store-health.js';

/** A temp file being written; every file system error is an ImageStoreError. */
export interface TempFile {
  readonly path: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Closes the handle; calling it again does nothing. */
  close(): Promise<void>;
  /** Closes and removes the file. Never throws: a file it cannot remove is swept as stale later. */
  discard(): Promise<void>;
}

export interface ImageTempFilesOptions {
  /** How long the outcome of the last write (a download's or a probe's) answers `checkWritable`. Default 5 s. */
  writeCheckTtlMs?: number;
}

const PROBE_BYTE = Buffer.alloc(1);

/**
 * A download's scratch space, DATA_DIR/images/tmp: the body is written there while it is hashed
 * and checked, and handed to the image store only once whole. On the disk store it is the store's
 * own file system, so the store links the file instead of copying it; with S3 it is the worker's
 * local disk, which a worker needs as much as the bucket (its writability is part of readiness).
 */
export class ImageTempFiles {
  readonly dir: string;
  private dirMade = false;
  private readonly health: WriteHealth;

  constructor(dataDir: string, options: ImageTempFilesOptions = {}) {
    this.dir = path.join(dataDir, 'images', 'tmp');
    this.health = new WriteHealth(options.writeCheckTtlMs ?? 5_000, () => this.probe());
  }

  /** A new, empty temp file. */
  async create(): Promise<TempFile> {
    const file = path.join(this.dir, `${randomUUID()}.part`);
    const handle = await this.writing(async () => {
      await this.ensureDir();
      return fs.promises.open(file, 'wx').catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // The directory was removed behind our back (a cache wipe): make it again.
        this.dirMade = false;
        await this.ensureDir();
        return fs.promises.open(file, 'wx');
      });
    });
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= this.writing(() => handle.close()));
    return {
      path: file,
      write: (chunk) => this.writing(async () => void (await handle.write(chunk))),
      close,
      discard: async () => {
        await close().catch(() => undefined);
        await fs.promises.rm(file, { force: true }).catch(() => undefined);
      },
    };
  }

  /**
   * Resolves when a temp file can be written, rejects with the ImageStoreError otherwise. The
   * outcome of the last write answers for a few seconds; past that, one byte is written and removed.
   */
  checkWritable(): Promise<void> {
    return this.health.check();
  }

  /** Temp files left by a process that died mid-download; older than `maxAgeMs` means nobody is writing them. */
  async removeStale(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat && now - stat.mtimeMs > maxAgeMs) {
        await fs.promises.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  private async probe(): Promise<void> {
    const temp = await this.create();
    try {
      await temp.write(PROBE_BYTE);
      await temp.close();
    } finally {
      await temp.discard();
    }
  }

  /** Runs a file system write; its outcome becomes the last one `checkWritable` reports. */
  private writing<T>(operation: () => Promise<T>): Promise<T> {
    return this.health.track(operation, (error) => (error instanceof ImageStoreError ? error : new ImageStoreError(error)));
  }

  private async ensureDir(): Promise<void> {
    if (this.dirMade) return;
    await fs.promises.mkdir(this.dir, { recursive: true });
    this.dirMade = true;
  }
}
