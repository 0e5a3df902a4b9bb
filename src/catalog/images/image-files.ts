import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ImageType {
  ext: ImageExt;
  contentType: string;
}

export const IMAGE_TYPES = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
} as const;
export type ImageExt = keyof typeof IMAGE_TYPES;

/** Enough leading bytes to tell every supported format apart. */
export const SNIFF_BYTES = 12;

/** The format the leading bytes prove, or undefined when they are not a supported image. */
export function sniffImageType(head: Uint8Array): ImageType | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const ext: ImageExt | undefined = starts(0xff, 0xd8, 0xff)
    ? 'jpg'
    : starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)
      ? 'png'
      : starts(0x47, 0x49, 0x46, 0x38)
        ? 'gif'
        : starts(0x52, 0x49, 0x46, 0x46) && head.length >= 12 && Buffer.from(head.subarray(8, 12)).toString('latin1') === 'WEBP'
          ? 'webp'
          : undefined;
  return ext && { ext, contentType: IMAGE_TYPES[ext] };
}

const PROBE_BYTE = Buffer.alloc(1);

/** `<64 hex>.<ext>`: the only file names the store holds and serves. */
export const IMAGE_FILE_NAME = /^([0-9a-f]{64})\.(jpg|png|gif|webp)$/;

export function parseImageFileName(name: string): { sha256: string; ext: ImageExt } | undefined {
  const match = IMAGE_FILE_NAME.exec(name);
  return match ? { sha256: match[1]!, ext: match[2] as ImageExt } : undefined;
}

/** The path inside DATA_DIR/images: `ab/cd/<sha256>.<ext>`. */
export function imageRelativePath(sha256: string, ext: string): string {
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${ext}`;
}

/**
 * A resized copy's path inside DATA_DIR/images: `variants/ab/cd/<sha256>.<ext>-w<width>.<format>`.
 * Named by its source's content and its recipe, so that it too never changes once written.
 */
export function variantRelativePath(sha256: string, ext: string, width: number, format: string): string {
  return `variants/${imageRelativePath(sha256, ext)}-w${width}.${format}`;
}

export interface OpenImage {
  handle: fs.promises.FileHandle;
  size: number;
  contentType: string;
}

/**
 * The store could not write: a full disk (ENOSPC), a read-only or missing mount, a path component
 * that is a file. Such a fault may pass (space freed, mount repaired), so downloads retry it.
 */
export class ImageStoreError extends Error {
  constructor(error: unknown) {
    super(`image store not writable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.name = 'ImageStoreError';
  }
}

/** A temp file being written in DATA_DIR/images/tmp; every file system error is an ImageStoreError. */
export interface TempFile {
  readonly path: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Closes the handle; calling it again does nothing. */
  close(): Promise<void>;
  /** Closes and removes the file. Never throws: a file it cannot remove is swept as stale later. */
  discard(): Promise<void>;
}

export interface ImageFilesOptions {
  /** How long the outcome of the last write (a download's or a probe's) answers `checkWritable`. Default 5 s. */
  writeCheckTtlMs?: number;
}

/**
 * The content-addressed store under DATA_DIR/images. Files are named by the hash of their bytes,
 * so a file, once there, never changes, and identical content from any number of URLs is one file.
 */
export class ImageFiles {
  readonly root: string;
  readonly tmpDir: string;
  /** Directories known to exist: saves a system call per image on the hot path. */
  private readonly madeDirs = new Set<string>();
  private readonly writeCheckTtlMs: number;
  /** The outcome of the last write, when it was known (performance.now()). */
  private lastWrite: { at: number; error?: ImageStoreError } | undefined;
  private probing: Promise<void> | undefined;

  constructor(dataDir: string, options: ImageFilesOptions = {}) {
    this.root = path.join(dataDir, 'images');
    this.tmpDir = path.join(this.root, 'tmp');
    this.writeCheckTtlMs = options.writeCheckTtlMs ?? 5_000;
  }

  pathFor(sha256: string, ext: string): string {
    return path.join(this.root, imageRelativePath(sha256, ext));
  }

  /** A new, empty temp file on the same file system as the store, so that the final rename is atomic. */
  async createTemp(): Promise<TempFile> {
    const file = path.join(this.tmpDir, `${randomUUID()}.part`);
    const handle = await this.writing(async () => {
      await this.ensureDir(this.tmpDir);
      return fs.promises.open(file, 'wx').catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // The directory was removed behind our back (a cache wipe): make it again.
        this.madeDirs.clear();
        await this.ensureDir(this.tmpDir);
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
   * Moves a fully written and verified temp file (closed) to its place. The name is the hash of the
   * bytes, so when the content is already stored the rename replaces it with identical bytes
   * (atomically: a reader holds either file) and identical content from any number of URLs stays one file.
   */
  commit(temp: TempFile, sha256: string, ext: ImageExt): Promise<{ path: string }> {
    return this.commitTo(temp, this.pathFor(sha256, ext));
  }

  /** Moves a written variant (closed) to `relativePath` (see variantRelativePath), as `commit` moves an original. */
  commitVariant(temp: TempFile, relativePath: string): Promise<{ path: string }> {
    return this.commitTo(temp, path.join(this.root, relativePath));
  }

  private async commitTo(temp: TempFile, target: string): Promise<{ path: string }> {
    try {
      await this.writing(async () => {
        await this.ensureDir(path.dirname(target));
        await fs.promises.rename(temp.path, target).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
          this.madeDirs.clear();
          await this.ensureDir(path.dirname(target));
          await fs.promises.rename(temp.path, target);
        });
      });
      this.lastWrite = { at: performance.now() };
      return { path: target };
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  /**
   * Resolves when the store can take a file, rejects with the ImageStoreError otherwise. Cheap
   * enough for every readiness probe: the outcome of the last write answers for a few seconds;
   * past that, one byte is written to a temp file and removed.
   */
  async checkWritable(): Promise<void> {
    const last = this.lastWrite;
    if (last && performance.now() - last.at < this.writeCheckTtlMs) {
      if (last.error) throw last.error;
      return;
    }
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async probe(): Promise<void> {
    const temp = await this.createTemp();
    try {
      await temp.write(PROBE_BYTE);
      await temp.close();
    } finally {
      await temp.discard();
    }
    this.lastWrite = { at: performance.now() };
  }

  /** Runs a file system write; its failure becomes an ImageStoreError and the store's last outcome. */
  private async writing<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      const failure = error instanceof ImageStoreError ? error : new ImageStoreError(error);
      this.lastWrite = { at: performance.now(), error: failure };
      throw failure;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fs.promises.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /** Opens a stored image for reading, or undefined when there is none. */
  async open(sha256: string, ext: ImageExt): Promise<OpenImage | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.pathFor(sha256, ext), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        return undefined;
      }
      return { handle, size: stat.size, contentType: IMAGE_TYPES[ext] };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Temp files left by a process that died mid-download; older than `maxAgeMs` means nobody is writing them. */
  async removeStaleTempFiles(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.tmpDir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.tmpDir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat && now - stat.mtimeMs > maxAgeMs) {
        await fs.promises.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
