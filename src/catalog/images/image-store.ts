import { Transform, type Readable } from 'node:stream';
import { IMAGE_VARIANT_FORMATS } from '../../config.js';
import { IMAGE_TYPES, ImageStoreError } from './image-files.js';

/**
 * Where cached images live: a directory (`disk`) or an S3 bucket (`s3`). Every object is named by
 * a content address (see `isImageKey`), so an object, once written, never changes: a second write
 * of a key carries the same bytes, which makes every write idempotent and a lost race harmless.
 */
export interface ImageStore {
  readonly kind: 'disk' | 's3';
  /** Whether the key is stored. Rejects with ImageStoreUnavailableError when the store cannot tell. */
  has(key: string): Promise<boolean>;
  /**
   * Stores `bytes` bytes from `source` under `key`, once: an object already there is kept (and
   * the source left unread). The object appears whole or not at all: a source that fails, or
   * gives more or fewer bytes than `bytes`, rejects with its own error and leaves nothing under
   * the key (on S3, as the server's PUT is atomic: see S3ImageStore). A store fault rejects with
   * ImageStoreUnavailableError (retryable). The content type is the key's (see
   * `contentTypeOfKey`), so both stores answer it alike.
   */
  put(key: string, source: ImageSource, size: { bytes: number }): Promise<PutOutcome>;
  /**
   * The stored object as a stream, or undefined when the key is not stored. The caller must
   * read the body to its end or destroy it: until then it holds a file or a connection.
   */
  open(key: string): Promise<StoredObject | undefined>;
  /** A URL that serves the object to anyone holding it for `ttlSeconds` (s3 only). It does not check that the key is stored. */
  presignedUrl?(key: string, ttlSeconds: number): Promise<string>;
  /**
   * Resolves when the store can take an object, rejects with an ImageStoreError otherwise. Cheap
   * enough for every readiness probe: the outcome of the last write answers for a few seconds.
   */
  checkWritable(): Promise<void>;
  /** Releases connections; the store is not used after. */
  close(): Promise<void>;
}

/**
 * Bytes to store: a file, a buffer, or a stream (read once). A file is never moved or removed, and
 * must not change afterwards: the disk store may hard-link it rather than copy it.
 */
export type ImageSource = { file: string } | Uint8Array | Readable;

/**
 * `created`: this call wrote the object; `existing`: it was already stored, and nothing was
 * written. Two writers racing on a server that ignores conditional writes may both see `created`.
 */
export type PutOutcome = 'created' | 'existing';

export interface StoredObject {
  body: Readable;
  size: number;
  contentType: string;
}

/**
 * The store cannot be reached or refuses the operation (network, timeout, credentials, missing
 * bucket, full disk): it may pass, so a download retries it. An ImageStoreError, which the
 * download job already treats as retryable.
 */
export class ImageStoreUnavailableError extends ImageStoreError {
  constructor(operation: string, error: unknown) {
    super(error);
    this.name = 'ImageStoreUnavailableError';
    this.message = `image store unavailable (${operation}): ${messageOf(error)}`;
  }
}

/** A key outside the content-address shape: a programming error, never sent to a store. */
export class InvalidImageKeyError extends Error {
  constructor(key: string) {
    super(`not an image key: ${JSON.stringify(key.slice(0, 200))}`);
    this.name = 'InvalidImageKeyError';
  }
}

const ORIGINAL_EXTS = Object.keys(IMAGE_TYPES).join('|');
const KEY_SHAPE = new RegExp(
  `^(variants/)?([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\\.(${ORIGINAL_EXTS})(?:-w[1-9][0-9]{0,4}\\.(${IMAGE_VARIANT_FORMATS.join('|')}))?$`,
);

/**
 * Whether `key` is a content address: an original `ab/cd/<sha256>.<ext>` (imageRelativePath) or a
 * variant `variants/ab/cd/<sha256>.<ext>-w<width>.<format>` (variantRelativePath), whose two
 * directories are the first four hex digits of the hash. Nothing else can name a stored object,
 * which rules out traversal and stray writes.
 */
export function isImageKey(key: string): boolean {
  const match = KEY_SHAPE.exec(key);
  if (!match) return false;
  const [, variantDir, dir1, dir2, sha256, , variantFormat] = match;
  return (variantDir === undefined) === (variantFormat === undefined) && sha256!.startsWith(dir1! + dir2!);
}

export function assertImageKey(key: string): void {
  if (!isImageKey(key)) throw new InvalidImageKeyError(key);
}

/** The content type a key's name implies: its extension, or a variant's format. */
export function contentTypeOfKey(key: string): string {
  const match = KEY_SHAPE.exec(key);
  if (!match) throw new InvalidImageKeyError(key);
  const [, , , , , ext, variantFormat] = match;
  return variantFormat ? `image/${variantFormat}` : IMAGE_TYPES[ext as keyof typeof IMAGE_TYPES];
}

/** A source that gave a different number of bytes than announced: the caller's mistake, not the store's. */
export class ImageSourceSizeError extends Error {
  constructor(expected: number, got: string) {
    super(`image source gave ${got} bytes, ${expected} announced`);
    this.name = 'ImageSourceSizeError';
  }
}

/** Passes bytes through, failing with ImageSourceSizeError past `bytes`, or at an end short of them. */
export function exactly(bytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > bytes) done(new ImageSourceSizeError(bytes, `more than ${bytes}`));
      else done(null, chunk);
    },
    flush(done) {
      done(seen === bytes ? null : new ImageSourceSizeError(bytes, String(seen)));
    },
  });
}

export function assertByteCount(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${bytes}`);
}

export function isReadable(source: ImageSource): source is Readable {
  return typeof (source as Readable).pipe === 'function';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
