import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WriteHealth } from './image-store-health.js';
import {
  assertByteCount,
  assertImageKey,
  contentTypeOfKey,
  ImageSourceSizeError,
  ImageStoreUnavailableError,
  isReadable,
  type ImageSource,
  type ImageStore,
  type PutOutcome,
  type StoredObject,
} from './image-store.js';

export interface DiskImageStoreOptions {
  /** How long the outcome of the last write answers `checkWritable`. Default 5 s. */
  writeCheckTtlMs?: number;
}

/** The link(2) errors of a file system without hard links, or of a source on another one. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

const asPutFailure = (error: unknown) => (error instanceof ImageStoreUnavailableError ? error : new ImageStoreUnavailableError('put', error));

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * The image store in DATA_DIR/images: a key is the path below it, temp files sit in its `tmp/`
 * (on the same file system, beside the downloads' own: see ImageTempFiles, which sweeps stale ones).
 * A write fills a temp file, then hard-links it to its name: link(2) fails when the name exists,
 * so the first writer wins, a later one writes nothing, and a reader sees a whole file or none.
 * Where the file system has no hard links, a rename replaces the file with identical bytes.
 */
export class DiskImageStore implements ImageStore {
  readonly kind = 'disk';
  readonly root: string;
  readonly tmpDir: string;
  private readonly health: WriteHealth;
  /** Directories known to exist; at most 65,536 (ab/cd) plus their parents. */
  private readonly madeDirs = new Set<string>();

  constructor(dataDir: string, options: DiskImageStoreOptions = {}) {
    this.root = path.join(dataDir, 'images');
    this.tmpDir = path.join(this.root, 'tmp');
    this.health = new WriteHealth(options.writeCheckTtlMs ?? 5_000, () => this.probe());
  }

  pathOf(key: string): string {
    assertImageKey(key);
    return path.join(this.root, key);
  }

  async has(key: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      return (await fs.promises.stat(target)).isFile();
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return false;
      throw new ImageStoreUnavailableError('has', error);
    }
  }

  async put(key: string, source: ImageSource, { bytes }: { bytes: number }): Promise<PutOutcome> {
    const target = this.pathOf(key);
    assertByteCount(bytes);
    if (source instanceof Uint8Array && source.byteLength !== bytes) throw new ImageSourceSizeError(bytes, String(source.byteLength));
    if (!isReadable(source) && !(source instanceof Uint8Array)) {
      const size = await fs.promises.stat(source.file).then((stat) => stat.size);
      if (size !== bytes) throw new ImageSourceSizeError(bytes, String(size));
      // The file is already whole: linked, it needs no copy (a download's temp file sits on this
      // file system), and the link itself tells whether the key was stored.
      const linked = await this.writing(() => this.link(source.file, target));
      if (linked !== undefined) return linked;
    }
    // Asked first, so that a stored key costs no temp file.
    const stored = await this.has(key).catch((error: unknown) => {
      if (isReadable(source)) source.destroy();
      throw error;
    });
    if (stored) {
      if (isReadable(source)) source.destroy();
      return 'existing';
    }
    const temp = await this.fill(source, bytes);
    try {
      return await this.writing(async () => (await this.link(temp, target)) ?? (await this.rename(temp, target)));
    } finally {
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async open(key: string): Promise<StoredObject | undefined> {
    const target = this.pathOf(key);
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(target, 'r');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw new ImageStoreUnavailableError('open', error);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) {
        await handle.close();
        return undefined;
      }
      return { body: handle.createReadStream(), size: stat.size, contentType: contentTypeOfKey(key) };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw new ImageStoreUnavailableError('open', error);
    }
  }

  checkWritable(): Promise<void> {
    return this.health.check();
  }

  async close(): Promise<void> {}

  /** Links `file` to `target`: `created`, `existing` when the name was taken, undefined when this file system cannot link. */
  private async link(file: string, target: string): Promise<PutOutcome | undefined> {
    await this.ensureDir(path.dirname(target));
    try {
      await fs.promises.link(file, target).catch(async (error: unknown) => {
        if (codeOf(error) !== 'ENOENT') throw error;
        // The directory was removed behind this store's back (a cache wipe): make it again.
        this.madeDirs.clear();
        await this.ensureDir(path.dirname(target));
        await fs.promises.link(file, target);
      });
      return 'created';
    } catch (error) {
      if (codeOf(error) === 'EEXIST') return 'existing';
      if (NO_LINK.has(codeOf(error)!)) return undefined;
      throw error;
    }
  }

  /** Makes `dir` unless this store made it already: saves a system call per image on the download path. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fs.promises.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private async rename(file: string, target: string): Promise<PutOutcome> {
    await fs.promises.rename(file, target);
    return 'created';
  }

  /** The source's bytes in a new temp file (removed again on any failure); a source fault rejects with its own error. */
  private async fill(source: ImageSource, bytes: number): Promise<string> {
    const temp = path.join(this.tmpDir, `${randomUUID()}.part`);
    let handle: fs.promises.FileHandle;
    try {
      await fs.promises.mkdir(this.tmpDir, { recursive: true });
      handle = await fs.promises.open(temp, 'wx');
    } catch (error) {
      if (isReadable(source)) source.destroy();
      throw this.fault(error);
    }
    let closed = false;
    try {
      let seen = 0;
      const chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array> = source instanceof Uint8Array ? [source] : isReadable(source) ? source : fs.createReadStream(source.file);
      // Reading is the source's part and writing the store's: an error says by where it arose whose fault it is.
      for await (const chunk of chunks) {
        seen += chunk.length;
        if (seen > bytes) throw new ImageSourceSizeError(bytes, `more than ${bytes}`);
        await handle.write(chunk).catch((error: unknown) => Promise.reject(this.fault(error)));
      }
      if (seen !== bytes) throw new ImageSourceSizeError(bytes, String(seen));
      closed = true;
      await handle.close().catch((error: unknown) => Promise.reject(this.fault(error)));
      return temp;
    } catch (error) {
      if (isReadable(source)) source.destroy();
      if (!closed) await handle.close().catch(() => undefined);
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Runs a file system write; its failure becomes an ImageStoreUnavailableError and the store's last outcome. */
  private writing<T>(operation: () => Promise<T>): Promise<T> {
    return this.health.track(operation, asPutFailure);
  }

  private fault(error: unknown): ImageStoreUnavailableError {
    const failure = asPutFailure(error);
    this.health.failed(failure);
    return failure;
  }

  private async probe(): Promise<void> {
    const temp = path.join(this.tmpDir, `${randomUUID()}.probe`);
    try {
      await fs.promises.mkdir(this.tmpDir, { recursive: true });
      await fs.promises.writeFile(temp, 'x', { flag: 'wx' });
    } finally {
      await fs.promises.rm(temp, { force: true }).catch(() => undefined);
    }
  }
}
