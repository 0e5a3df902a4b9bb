import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { checkImageHeader, ImageRefusedError, type ImageLimits } from './image-bombs.js';
import { imageRelativePath, ImageStoreError, SNIFF_BYTES, sniffImageType, type ImageType } from './image-files.js';
import type { ImageStore } from './image-store.js';
import type { ImageTempFiles, TempFile } from './image-temp-files.js';
import { Deadline } from '../../platform/net/deadline.js';
import { isRetryableStatus, parseRetryAfter } from '../../platform/net/retry-after.js';
import { assertFetchableUrl, BlockedTargetError, guardedConnector, type LookupFunction, type TargetPolicy } from '../../platform/net/ssrf.js';

/** Structurally `config.images`. */
export interface ImageFetcherOptions extends TargetPolicy, ImageLimits {
  maxBytes: number;
  timeoutMs: number;
  perOriginConnections: number;
  /** Downloads in progress at once; the rest wait for a turn. */
  concurrency: number;
  /** DNS resolution; replaceable so that tests can answer with any address. */
  resolve?: LookupFunction;
}

export interface StoredImage extends ImageType {
  sha256: string;
  bytes: number;
  /** Its key in the image store. */
  key: string;
}

/** A download that did not produce an image; `retryable` says whether a later attempt may pass. */
/**
 * What a failed download shows of its source: it answered (with `statusCode` when that was the
 * fault), it could not be reached (network error, timeout), or it was never asked (a refused
 * address, a local disk error).
 */
export type SourceContact = { kind: 'answered'; statusCode?: number } | { kind: 'unreachable' } | { kind: 'not_asked' };

export class ImageFetchError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly source: SourceContact = { kind: 'answered' },
  ) {
    super(message);
    this.name = 'ImageFetchError';
  }
}

const MAX_REDIRECTIONS = 3;

/**
 * Downloads one image into the content-addressed store: the body streams through sha256 into a
 * temp file, is checked (status, Content-Type, size, magic bytes) on the way and by its header
 * (pixels, frames) once complete, and is handed to the store only then. The temp file is removed
 * whatever the outcome.
 */
export class ImageFetcher {
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;
  private readonly downloads: LimitFunction;

  constructor(
    private readonly temps: ImageTempFiles,
    private readonly store: ImageStore,
    private readonly o: ImageFetcherOptions,
  ) {
    this.agent = new Agent({
      connections: o.perOriginConnections,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: guardedConnector({ ...o, connectTimeoutMs: o.timeoutMs }),
    });
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }));
    this.downloads = pLimit(o.concurrency);
  }

  async fetch(url: string, signal?: AbortSignal): Promise<StoredImage> {
    try {
      assertFetchableUrl(url, this.o);
    } catch (error) {
      throw asFetchError(error, false);
    }
    // Only the transfer holds a download turn; filing the result away does not.
    const { temp, written } = await this.downloads(() => this.download(url, signal));
    const key = imageRelativePath(written.sha256, written.type.ext);
    try {
      // Bytes within IMAGE_MAX_BYTES may still declare billions of pixels: the header says so before anyone decodes them.
      await checkImageHeader(temp.path, this.o);
      await this.store.put(key, { file: temp.path }, { bytes: written.bytes });
    } catch (error) {
      throw asFetchError(error, false);
    } finally {
      await temp.discard();
    }
    return { ...written.type, sha256: written.sha256, bytes: written.bytes, key };
  }

  /** The verified body in a temp file (removed again on any failure). */
  private async download(url: string, signal: AbortSignal | undefined): Promise<{ temp: TempFile; written: Written }> {
    // bodyTimeout only bounds the gap between chunks; this bounds a body that trickles.
    const deadline = new Deadline(this.o.timeoutMs, signal);
    try {
      return await this.downloadWithin(url, deadline);
    } finally {
      deadline.clear();
    }
  }

  private async downloadWithin(url: string, deadline: Deadline): Promise<{ temp: TempFile; written: Written }> {
    const abort = deadline.signal;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, { dispatcher: this.dispatcher, signal: abort, headers: { accept: 'image/*' } });
    } catch (error) {
      throw asFetchError(error, deadline.expired, this.o.timeoutMs);
    }
    // undici's body emits 'error' when it is destroyed before its end (by us, by the deadline, by
    // a reset) and an 'error' event that nobody listens to ends the process. Reading it (below)
    // still sees every error; this listener only covers the moments nobody reads it.
    response.body.on('error', ignore);
    try {
      this.checkHeaders(response);
    } catch (error) {
      await response.body.dump().catch(() => undefined);
      throw error;
    }
    let temp: TempFile;
    try {
      temp = await this.temps.create();
    } catch (error) {
      response.body.destroy();
      throw asFetchError(error, false);
    }
    try {
      const written = await writeVerified(response.body, temp, this.o.maxBytes, abort);
      return { temp, written };
    } catch (error) {
      response.body.destroy();
      await temp.discard();
      throw asFetchError(error, deadline.expired, this.o.timeoutMs);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private checkHeaders({ statusCode, headers }: Dispatcher.ResponseData): void {
    if (statusCode < 200 || statusCode > 299 || statusCode === 204) {
      const retryable = isRetryableStatus(statusCode);
      throw new ImageFetchError(`source answered ${statusCode}`, retryable, retryable ? parseRetryAfter(headers['retry-after'], Date.now()) : undefined, { kind: 'answered', statusCode });
    }
    const contentType = String(headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!contentType.startsWith('image/')) throw new ImageFetchError(`not an image: Content-Type is "${contentType || 'missing'}"`, false);
    const length = Number(headers['content-length']);
    if (Number.isFinite(length) && length > this.o.maxBytes) {
      throw new ImageFetchError(`image is ${length} bytes, over the ${this.o.maxBytes}-byte limit`, false);
    }
  }
}

interface Written {
  sha256: string;
  bytes: number;
  type: ImageType;
}

const ignore = () => undefined;

/** Streams `body` into `file` through sha256, stopping past `maxBytes` or at bytes that are no image; closes the file. */
async function writeVerified(body: Readable, file: TempFile, maxBytes: number, signal: AbortSignal): Promise<Written> {
  const hash = createHash('sha256');
  let bytes = 0;
  let head = Buffer.alloc(0);
  let type: ImageType | undefined;
  const notAnImage = () => new ImageFetchError('not an image: the bytes are no JPEG, PNG, GIF or WebP', false);
  for await (const chunk of body as AsyncIterable<Buffer>) {
    signal.throwIfAborted();
    bytes += chunk.length;
    if (bytes > maxBytes) throw new ImageFetchError(`image is over the ${maxBytes}-byte limit`, false);
    if (!type && head.length < SNIFF_BYTES) {
      head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
      if (head.length >= SNIFF_BYTES && !(type = sniffImageType(head))) throw notAnImage();
    }
    hash.update(chunk);
    await file.write(chunk);
  }
  // On a failure the caller discards the file, which closes it.
  await file.close();
  type ??= sniffImageType(head);
  if (!type) throw notAnImage();
  return { sha256: hash.digest('hex'), bytes, type };
}

function asFetchError(error: unknown, timedOut: boolean, timeoutMs?: number): ImageFetchError {
  if (error instanceof ImageFetchError) return error;
  if (error instanceof ImageRefusedError) return new ImageFetchError(error.message, false);
  // The store or the scratch disk, not the source: it may pass (space freed, mount repaired, bucket back), so it is retried.
  if (error instanceof ImageStoreError) return new ImageFetchError(error.message, true, undefined, { kind: 'not_asked' });
  const blocked = findBlocked(error);
  if (blocked) return new ImageFetchError(`refused: ${blocked.message}`, false, undefined, { kind: 'not_asked' });
  const unreachable = { kind: 'unreachable' } as const;
  if (timedOut) return new ImageFetchError(`timed out after ${timeoutMs} ms`, true, undefined, unreachable);
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new ImageFetchError(`timed out: ${message}`, true, undefined, unreachable);
  return new ImageFetchError(`network error: ${code ? `${code} ` : ''}${message}`, true, undefined, unreachable);
}

/** undici may wrap the connector's error; the guard's refusal is found wherever it sits. */
function findBlocked(error: unknown): BlockedTargetError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BlockedTargetError || (e as { code?: string }).code === 'ERR_TARGET_BLOCKED') return e as BlockedTargetError;
  }
  return undefined;
}
