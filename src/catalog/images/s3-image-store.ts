import fs from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Logger } from 'pino';
import { WriteHealth } from './image-store-health.js';
import {
  assertByteCount,
  assertImageKey,
  contentTypeOfKey,
  exactly,
  ImageSourceSizeError,
  ImageStoreUnavailableError,
  isReadable,
  type ImageSource,
  type ImageStore,
  type PutOutcome,
  type StoredObject,
} from './image-store.js';

export interface S3ImageStoreOptions {
  /** An S3-compatible endpoint (MinIO, Ceph, R2, …); unset: AWS's, for `region`. */
  endpoint: string | undefined;
  region: string;
  bucket: string;
  /** Prepended to every key ('' or ending in '/'). */
  prefix: string;
  /** Unset (both): the SDK's default credential chain (its AWS_* variables, profile, instance role). */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key`: what most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Bounds the TCP connect. Default 3 s. */
  connectTimeoutMs?: number;
  /** Bounds any silence of a connection mid-request, upload or download. Default 30 s. */
  socketTimeoutMs?: number;
  /** Attempts per request, the SDK's retries with backoff included (streamed uploads get one). Default 3. */
  maxAttempts?: number;
  /** Connections to the endpoint at most. Default 64. */
  maxSockets?: number;
  /** How long the outcome of the last write answers `checkWritable`. Default 5 s. */
  writeCheckTtlMs?: number;
  /** Where the SDK's own warnings and errors go; unset: nowhere. */
  logger?: Pick<Logger, 'warn' | 'error'>;
}

/** Stored objects never change: a client or CDN that gets one through a pre-signed URL may keep it. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Written by the readiness probe; outside the content-address shape, so no image ever has this key. */
const PROBE_KEY = '.write-probe';
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

interface S3Failure {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (error: unknown) => (error as S3Failure | undefined)?.$metadata?.httpStatusCode;
/** The key is not there (HEAD answers a bare 404). A missing bucket (NoSuchBucket) is a fault, not an absence. */
const isAbsent = (error: unknown) => statusOf(error) === 404 && ['NotFound', 'NoSuchKey'].includes((error as S3Failure).name ?? '');
/** A conditional put (If-None-Match: *) that found the key written meanwhile. */
const isTaken = (error: unknown) => statusOf(error) === 412;

/**
 * The image store in an S3 bucket, for API hosts that serve one cache. Objects are written once:
 * a HEAD first, then a PUT with `If-None-Match: *`, which servers that support conditional writes
 * refuse (412) when another writer got there first; servers that ignore it let the later PUT
 * replace the object with the same bytes (the key is their hash), which is harmless. A PUT is
 * atomic on S3 and on the usual S3-compatible servers; for one that is not (s3rver, in the tests),
 * an object whose size is not the one announced is a torn write: it is removed after a failed
 * PUT and overwritten by the next. Every fault is an ImageStoreUnavailableError, never "absent".
 */
export class S3ImageStore implements ImageStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly health: WriteHealth;

  constructor(options: S3ImageStoreOptions) {
    const logger = options.logger;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.health = new WriteHealth(options.writeCheckTtlMs ?? 5_000, () => this.probe());
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: options.accessKeyId !== undefined && options.secretAccessKey !== undefined ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } : undefined,
      maxAttempts: options.maxAttempts ?? 3,
      // Checksums only where S3 requires them: the default streams uploads in aws-chunked encoding,
      // which not every S3-compatible server decodes (s3rver stores the chunk framing as the object).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 3_000,
        socketTimeout: options.socketTimeoutMs ?? 30_000,
        httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 },
        httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 },
      },
      // Without a logger of its own, the SDK writes some warnings to the console. Its info lines
      // (one per request, with the request's input: a streamed body included) are left out.
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (...content: unknown[]) => logger?.warn({ s3: content }, 'image store: S3 SDK'),
        error: (...content: unknown[]) => logger?.error({ s3: content }, 'image store: S3 SDK'),
      },
    });
  }

  /** The object key in the bucket. */
  objectKey(key: string): string {
    assertImageKey(key);
    return this.prefix + key;
  }

  async has(key: string): Promise<boolean> {
    return (await this.sizeOf(this.objectKey(key), 'has')) !== undefined;
  }

  async put(key: string, source: ImageSource, { bytes }: { bytes: number }): Promise<PutOutcome> {
    const objectKey = this.objectKey(key);
    assertByteCount(bytes);
    if (source instanceof Uint8Array && source.byteLength !== bytes) throw new ImageSourceSizeError(bytes, String(source.byteLength));
    let stored: number | undefined;
    try {
      stored = await this.sizeOf(objectKey, 'put');
    } catch (error) {
      if (isReadable(source)) source.destroy();
      throw error;
    }
    if (stored === bytes) {
      if (isReadable(source)) source.destroy();
      return 'existing';
    }
    try {
      // A torn object (stored, of another size) is overwritten: no condition on that PUT.
      await this.upload(objectKey, source, bytes, contentTypeOfKey(key), stored === undefined);
    } catch (error) {
      if (isTaken(error)) return 'existing';
      throw error;
    }
    this.health.succeeded();
    return 'created';
  }

  async open(key: string): Promise<StoredObject | undefined> {
    const objectKey = this.objectKey(key);
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return { body: object.Body as Readable, size: object.ContentLength ?? 0, contentType: object.ContentType ?? contentTypeOfKey(key) };
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw new ImageStoreUnavailableError('open', error);
    }
  }

  async presignedUrl(key: string, ttlSeconds: number): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_PRESIGN_SECONDS) {
      throw new RangeError(`a pre-signed URL lives 1 to ${MAX_PRESIGN_SECONDS} seconds, got ${ttlSeconds}`);
    }
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { expiresIn: ttlSeconds });
  }

  checkWritable(): Promise<void> {
    return this.health.check();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** The stored size, or undefined when the key is absent; a fault rejects (and counts as the store's last outcome). */
  private async sizeOf(objectKey: string, operation: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw this.fault(operation, error);
    }
  }

  /** One PUT, streamed with its length known; a source that fails aborts it and rejects with its own error. */
  private async upload(objectKey: string, source: ImageSource, bytes: number, contentType: string, ifAbsent: boolean): Promise<void> {
    const abort = new AbortController();
    let sourceError: unknown;
    let body: Uint8Array | Readable = source as Uint8Array;
    if (!(source instanceof Uint8Array)) {
      const counted = exactly(bytes);
      // The SDK pipes the body without listening for its errors: this pipeline does, and aborts the request.
      pipeline(isReadable(source) ? source : fs.createReadStream(source.file), counted, (error) => {
        if (error && !abort.signal.aborted) {
          sourceError = error;
          abort.abort(error);
        }
      });
      body = counted;
    }
    try {
      const put = new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentLength: bytes, ContentType: contentType, CacheControl: IMMUTABLE, IfNoneMatch: ifAbsent ? '*' : undefined });
      await this.client.send(put, { abortSignal: abort.signal });
    } catch (error) {
      if (!abort.signal.aborted) abort.abort();
      if (!(body instanceof Uint8Array)) (body as Readable).destroy();
      if (isTaken(error)) throw error;
      await this.removeTorn(objectKey, bytes);
      if (sourceError !== undefined) throw sourceError;
      throw this.fault('put', error);
    }
  }

  /** After a failed PUT: an object of another size under the key is a torn write (only a server whose PUT is not atomic leaves one). */
  private async removeTorn(objectKey: string, bytes: number): Promise<void> {
    try {
      const stored = await this.sizeOf(objectKey, 'put');
      if (stored !== undefined && stored !== bytes) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: objectKey }));
    } catch {
      // Best effort: the next put of the key overwrites it anyway.
    }
  }

  private async probe(): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + PROBE_KEY, Body: 'x', ContentLength: 1, ContentType: 'text/plain' }));
    } catch (error) {
      throw new ImageStoreUnavailableError('write probe', error);
    }
  }

  private fault(operation: string, error: unknown): ImageStoreUnavailableError {
    const failure = new ImageStoreUnavailableError(operation, error);
    // Only writes speak for writability; a failed read leaves the last write's outcome alone.
    if (operation === 'put') this.health.failed(failure);
    return failure;
  }
}
