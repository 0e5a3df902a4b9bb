import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateFeed, type FeedOptions } from './feed-generator.js';
import { drained, startMockCdn, type MockCdn } from './mock-cdn.js';

/**
 * What the feed server serves: a file path (read on every request, validators from size and
 * mtime), a body, generator options (generated again on every request), or a factory of chunks.
 */
export type FeedSource = string | Buffer | FeedOptions | (() => AsyncIterable<Buffer | string>);

/** What the feed server does instead of (or while) serving the feed. */
export type FeedFault =
  /** Answers this status with a short text body. */
  | { kind: 'status'; status: number }
  /** 200 with an HTML page instead of JSON. */
  | { kind: 'html' }
  /** Sends the first `afterBytes` bytes of the feed, then drops the connection. */
  | { kind: 'truncate'; afterBytes: number }
  /** Waits `delayMs` before the headers. */
  | { kind: 'slow-headers'; delayMs: number }
  /** Sends the feed in pieces of `chunkBytes` (default 16 KiB), `chunkDelayMs` apart. */
  | { kind: 'slow-body'; chunkDelayMs: number; chunkBytes?: number }
  /** Sends `bytes` bytes of a feed far bigger than that (then stops); `Content-Length` only when `declareLength`. */
  | { kind: 'huge'; bytes: number; declareLength?: boolean }
  /** Drops the connection without an answer. */
  | { kind: 'reset' };

export interface FeedServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** The feed's path. Default `/feed_pornstars.json`. */
  path?: string;
  /** Fixed validators instead of the derived ones. */
  etag?: string;
  lastModified?: Date;
  /** When false, no ETag/Last-Modified are sent and no 304 is answered. Default true. */
  conditional?: boolean;
  fault?: FeedFault;
  /** How many requests the fault applies to (default: all, until `setFault(undefined)`). */
  faultTimes?: number;
}

export interface FeedRequest {
  method: string;
  path: string;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  status: number;
}

export interface FeedServer {
  /** The feed's URL, for `FEED_URL`. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Serves another feed from now on; its validators change unless given. */
  setSource(source: FeedSource, validators?: { etag?: string; lastModified?: Date }): void;
  setFault(fault: FeedFault | undefined, times?: number): void;
  /** The requests so far (the last 1000), with the conditional headers they carried. */
  requests(): FeedRequest[];
  /** The validators the next answer would carry. */
  validators(): Promise<{ etag: string; lastModified: string }>;
}

const HTML = '<!DOCTYPE html>\n<html><head><title>Maintenance</title></head><body><h1>We will be back soon</h1></body></html>\n';

function httpDate(date: Date): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toUTCString();
}

/** Cuts a stream of chunks after `limit` bytes. */
async function* firstBytes(chunks: AsyncIterable<Buffer | string>, limit: number): AsyncGenerator<Buffer> {
  let sent = 0;
  for await (const chunk of chunks) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (sent + buffer.length >= limit) {
      yield buffer.subarray(0, limit - sent);
      return;
    }
    sent += buffer.length;
    yield buffer;
  }
}

/** Re-chunks a stream into pieces of `size` bytes. */
async function* pieces(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
  }
}

/** An HTTP server for a feed, with conditional GET and fault modes, on 127.0.0.1. */
export async function serveFeed(initial: FeedSource, options: FeedServerOptions = {}): Promise<FeedServer> {
  const feedPath = options.path ?? '/feed_pornstars.json';
  let source = initial;
  let version = 1;
  let setAt = new Date();
  let fixed: { etag?: string; lastModified?: Date } = { etag: options.etag, lastModified: options.lastModified };
  let fault = options.fault;
  let faultLeft = options.faultTimes ?? Infinity;
  const log: FeedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const describe = async (): Promise<{ etag: string; lastModified: Date; length?: number; open: () => AsyncIterable<Buffer | string> }> => {
    const current = source;
    if (typeof current === 'string') {
      const stat = await fs.promises.stat(current);
      return {
        etag: fixed.etag ?? `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
        lastModified: fixed.lastModified ?? stat.mtime,
        length: stat.size,
        open: () => fs.createReadStream(current, { highWaterMark: 64 * 1024 }),
      };
    }
    const lastModified = fixed.lastModified ?? setAt;
    if (Buffer.isBuffer(current)) {
      const etag = fixed.etag ?? `"${createHash('sha1').update(current).digest('hex').slice(0, 20)}"`;
      return { etag, lastModified, length: current.length, open: () => pieces([current], 64 * 1024) };
    }
    if (typeof current === 'function') return { etag: fixed.etag ?? `"fn-${version}"`, lastModified, open: current };
    const hash = createHash('sha1').update(JSON.stringify(current)).digest('hex').slice(0, 12);
    return { etag: fixed.etag ?? `"gen-${version}-${hash}"`, lastModified, open: () => generateFeed(current) };
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const entry: FeedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      ifNoneMatch: req.headers['if-none-match'],
      ifModifiedSince: req.headers['if-modified-since'],
      status: 0,
    };
    log.push(entry);
    if (log.length > 1000) log.shift();
    const answer = (status: number, type: string, body: string): void => {
      entry.status = status;
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if ((req.url ?? '').split('?')[0] !== feedPath) return answer(404, 'text/plain', 'not found\n');
    const active = faultLeft > 0 ? fault : undefined;
    if (active) faultLeft--;
    if (active?.kind === 'slow-headers') await sleep(active.delayMs);
    if (res.destroyed) return;
    switch (active?.kind) {
      case 'status':
        return answer(active.status, 'text/plain', `${http.STATUS_CODES[active.status] ?? 'error'}\n`);
      case 'html':
        return answer(200, 'text/html; charset=utf-8', HTML);
      case 'reset':
        req.socket.destroy();
        return;
      case 'huge': {
        entry.status = 200;
        res.writeHead(200, { 'content-type': 'application/json', ...(active.declareLength ? { 'content-length': active.bytes } : {}) });
        return stream(res, firstBytes(generateFeed({ items: Math.ceil(active.bytes / 500) + 10 }), active.bytes));
      }
    }
    const feed = await describe();
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
    if (options.conditional !== false) {
      headers.etag = feed.etag;
      headers['last-modified'] = httpDate(feed.lastModified);
      if (isNotModified(req, feed.etag, feed.lastModified)) {
        entry.status = 304;
        res.writeHead(304, { etag: feed.etag, 'last-modified': headers['last-modified'] });
        res.end();
        return;
      }
    }
    if (feed.length !== undefined) headers['content-length'] = feed.length;
    entry.status = 200;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    let body = feed.open();
    if (active?.kind === 'truncate') body = firstBytes(body, active.afterBytes);
    if (active?.kind === 'slow-body') {
      const slow = pieces(body, active.chunkBytes ?? 16 * 1024);
      body = (async function* () {
        for await (const piece of slow) {
          yield piece;
          await sleep(active.chunkDelayMs);
        }
      })();
    }
    const truncated = active?.kind === 'truncate';
    await stream(res, body, !truncated);
    // Dropping the connection (rather than ending a chunked body) is what makes the cut visible.
    if (truncated) res.destroy();
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1' }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${feedPath}`,
    port,
    setSource: (next, validators = {}) => {
      source = next;
      version++;
      setAt = new Date(Math.max(Date.now(), setAt.getTime() + 1000));
      fixed = { etag: validators.etag, lastModified: validators.lastModified };
    },
    setFault: (next, times) => {
      fault = next;
      faultLeft = times ?? Infinity;
    },
    requests: () => [...log],
    validators: async () => {
      const feed = await describe();
      return { etag: feed.etag, lastModified: httpDate(feed.lastModified) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function isNotModified(req: http.IncomingMessage, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const weakless = (tag: string): string => tag.trim().replace(/^W\//, '');
    return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || weakless(tag) === weakless(etag));
  }
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return Number.isFinite(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/** Writes chunks with back-pressure; stops quietly when the client goes away. */
async function stream(res: http.ServerResponse, body: AsyncIterable<Buffer | string>, end = true): Promise<void> {
  for await (const chunk of body) {
    if (res.destroyed) return;
    if (!res.write(chunk)) await drained(res);
  }
  if (end && !res.destroyed) res.end();
}

export interface DevStackOptions extends Omit<FeedOptions, 'imageBaseUrl'> {
  feedPort?: number;
  cdnPort?: number;
  /** The CDN's latency. Default 0. */
  latencyMs?: number;
}

/** A feed server whose thumbnails point at a mock CDN: everything an offline ingestion needs. */
export async function startDevStack(options: DevStackOptions): Promise<{ feed: FeedServer; cdn: MockCdn; close(): Promise<void> }> {
  const { feedPort, cdnPort, latencyMs, ...feedOptions } = options;
  const cdn = await startMockCdn({ port: cdnPort, latencyMs });
  const feed = await serveFeed({ ...feedOptions, imageBaseUrl: cdn.url }, { port: feedPort });
  return {
    feed,
    cdn,
    close: async () => {
      await Promise.all([feed.close(), cdn.close()]);
    },
  };
}
