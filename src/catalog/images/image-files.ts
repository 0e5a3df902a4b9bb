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

export interface OpenImage {
  handle: fs.promises.FileHandle;
  size: number;
  contentType: string;
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

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'images');
    this.tmpDir = path.join(this.root, 'tmp');
  }

  pathFor(sha256: string, ext: string): string {
    return path.join(this.root, imageRelativePath(sha256, ext));
  }

  /** A fresh temp path on the same file system as the store, so that the final rename is atomic. */
  async newTempPath(): Promise<string> {
    await this.ensureDir(this.tmpDir);
    return path.join(this.tmpDir, `${randomUUID()}.part`);
  }

  /**
   * Moves a fully written and verified temp file to its place. The name is the hash of the bytes,
   * so when the content is already stored the rename replaces it with identical bytes (atomically:
   * a reader holds either file) and identical content from any number of URLs stays one file.
   */
  async commit(tempPath: string, sha256: string, ext: ImageExt): Promise<{ path: string }> {
    const target = this.pathFor(sha256, ext);
    try {
      await this.ensureDir(path.dirname(target));
      await fs.promises.rename(tempPath, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // The directory was removed behind our back (a cache wipe): make it again.
        this.madeDirs.clear();
        await this.ensureDir(path.dirname(target));
        await fs.promises.rename(tempPath, target);
      });
      return { path: target };
    } catch (error) {
      await fs.promises.rm(tempPath, { force: true });
      throw error;
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
