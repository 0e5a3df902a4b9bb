import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Agent, request } from 'undici';

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

export type FeedResponse =
  | { kind: 'not_modified'; httpStatus: number | null }
  | { kind: 'body'; httpStatus: number | null; validators: Validators; body: AsyncIterable<Buffer>; meter: BodyMeter };

export class FeedFetchError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.name = 'FeedFetchError';
  }
}

export interface FeedSourceOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/** Counts and hashes the body as it streams past, and stops it past the size limit. */
export class BodyMeter {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number) {}

  async *measure(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.bytes += buffer.length;
      if (this.bytes > this.maxBytes) throw new FeedFetchError(`feed is larger than FEED_MAX_BYTES (${this.maxBytes} bytes)`);
      this.hash.update(buffer);
      yield buffer;
    }
  }

  sha256(): string {
    return this.hash.digest('hex');
  }
}

const agent = new Agent({ connections: 4, keepAliveTimeout: 10_000 });

/**
 * Opens the feed at an http(s) URL (a conditional GET with the stored validators) or a local
 * path (validators from size and mtime). The body is streamed, never held whole.
 */
export async function openFeed(source: string, previous: Validators, options: FeedSourceOptions): Promise<FeedResponse> {
  const meter = new BodyMeter(options.maxBytes);
  if (!/^https?:\/\//i.test(source)) return openFile(source, previous, meter);
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
  if (previous.etag) headers['if-none-match'] = previous.etag;
  if (previous.lastModified) headers['if-modified-since'] = previous.lastModified;
  let response;
  try {
    response = await request(source, { method: 'GET', headers, signal, dispatcher: agent, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  } catch (error) {
    throw new FeedFetchError(`could not fetch the feed: ${signal.aborted ? `timed out after ${options.timeoutMs} ms` : (error as Error).message}`);
  }
  if (response.statusCode === 304) {
    await response.body.dump();
    return { kind: 'not_modified', httpStatus: 304 };
  }
  if (response.statusCode < 200 || response.statusCode >= 300) {
    await response.body.dump().catch(() => undefined);
    throw new FeedFetchError(`the feed server answered ${response.statusCode}`, response.statusCode);
  }
  const contentType = String(response.headers['content-type'] ?? '');
  if (contentType && !/json|text\/plain|octet-stream/i.test(contentType)) {
    await response.body.dump().catch(() => undefined);
    throw new FeedFetchError(`the feed server sent ${contentType}, not JSON`, response.statusCode);
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body.dump().catch(() => undefined);
    throw new FeedFetchError(`feed is larger than FEED_MAX_BYTES (${declared} > ${options.maxBytes} bytes)`, response.statusCode);
  }
  const validators = { etag: header(response.headers.etag), lastModified: header(response.headers['last-modified']) };
  return { kind: 'body', httpStatus: response.statusCode, validators, body: meter.measure(timedBody(response.body, signal, options.timeoutMs)), meter };
}

async function* timedBody(body: AsyncIterable<Buffer>, signal: AbortSignal, timeoutMs: number): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    throw new FeedFetchError(`reading the feed failed: ${signal.aborted ? `timed out after ${timeoutMs} ms` : (error as Error).message}`);
  }
}

async function openFile(path: string, previous: Validators, meter: BodyMeter): Promise<FeedResponse> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(path);
  } catch (error) {
    throw new FeedFetchError(`cannot read the feed file ${path}: ${(error as Error).message}`);
  }
  const etag = `W/"${stat.size}-${Math.floor(stat.mtimeMs)}"`;
  if (previous.etag === etag) return { kind: 'not_modified', httpStatus: null };
  const validators = { etag, lastModified: stat.mtime.toUTCString() };
  return { kind: 'body', httpStatus: null, validators, body: meter.measure(fs.createReadStream(path, { highWaterMark: 256 * 1024 })), meter };
}

function header(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}
