import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tinyJpeg } from './jpeg.js';

/** What the CDN does instead of (or before) serving the image. */
export type CdnFault =
  /** Answers this status (404, 410, 500, 503…) with a short text body. */
  | { kind: 'status'; status: number }
  /** Answers `status` (default 500) to the first `failures` requests for a path, then serves the image. */
  | { kind: 'flaky'; failures: number; status?: number }
  /** 200 with an HTML page. */
  | { kind: 'html' }
  /** 200 `image/jpeg` whose bytes are not an image. */
  | { kind: 'not-image' }
  /** 200 `image/jpeg`: a JPEG header then filler up to `bytes`, streamed; `Content-Length` only when `declareLength`. */
  | { kind: 'oversized'; bytes: number; declareLength?: boolean }
  /** Waits `delayMs` before the headers, then serves the image. */
  | { kind: 'slow-headers'; delayMs: number }
  /** Sends the headers at once, then the image in `chunks` pieces (default 10), `chunkDelayMs` apart. */
  | { kind: 'slow-body'; chunkDelayMs: number; chunks?: number }
  /** Destroys the connection without an answer (a network error). */
  | { kind: 'reset' }
  /** Redirects (default 302) to `location`. */
  | { kind: 'redirect'; location: string; status?: number };

export interface CdnFaultRule {
  /** Matched against the request path as received (e.g. `/cdn/pics/pornstars/000/000/002/`). */
  prefix: string;
  fault: CdnFault;
}

export interface MockCdnOptions {
  /** Default 0 (any free port); the generator's default image URLs expect 8089. */
  port?: number;
  /** Delay before every answer. Default 0 (the image benchmark uses 20). */
  latencyMs?: number;
  /** Faults by path prefix; the first matching rule wins. */
  faults?: CdnFaultRule[];
  /** Per-path faults, asked before the prefix rules; `attempt` counts from 1 for each path. */
  faultFor?: (path: string, attempt: number) => CdnFault | undefined;
  /** Pads every image to at least this many bytes (default: the images stay a few hundred bytes). */
  imageBytes?: number;
}

export interface MockCdn {
  /** Base URL for the feed generator's `imageBaseUrl`: `http://127.0.0.1:<port>/cdn`. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Requests per path (path and query as received), including faulted ones. */
  counts(): Map<string, number>;
  total(): number;
  /** Forgets the counts (and so restarts `flaky` faults). */
  reset(): void;
  /** Replaces the prefix rules. */
  setFaults(faults: CdnFaultRule[]): void;
}

/**
 * The bytes the CDN serves for a path: keyed by `thumb_<n>.jpg` when the path has one (so two
 * paths with the same `thumb_<n>` serve identical bytes), else by the whole path.
 */
export function imageForPath(path: string, minBytes?: number): Buffer {
  const pathname = path.split('?')[0] ?? path;
  const thumb = /thumb_(\d+)\.jpe?g$/i.exec(pathname);
  return tinyJpeg(thumb ? `thumb_${thumb[1]}` : pathname, { minBytes });
}

const NOT_IMAGE = Buffer.from('this is not an image, whatever the content type says\n'.repeat(8));
const HTML = Buffer.from('<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body><h1>Access denied</h1></body></html>\n');

/** A local image CDN for the feed's thumbnail URLs, with latency, faults and request counts. */
export async function startMockCdn(options: MockCdnOptions = {}): Promise<MockCdn> {
  const counts = new Map<string, number>();
  let total = 0;
  let rules = options.faults ?? [];
  const timers = new Set<NodeJS.Timeout>();
  const cache = new Map<string, Buffer>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const image = (path: string): Buffer => {
    let bytes = cache.get(path);
    if (!bytes) {
      if (cache.size >= 4096) cache.clear();
      bytes = imageForPath(path, options.imageBytes);
      cache.set(path, bytes);
    }
    return bytes;
  };

  const faultOf = (path: string, attempt: number): CdnFault | undefined =>
    options.faultFor?.(path, attempt) ?? rules.find((rule) => path.startsWith(rule.prefix))?.fault;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = req.url ?? '/';
    const attempt = (counts.get(path) ?? 0) + 1;
    counts.set(path, attempt);
    total++;
    await sleep(options.latencyMs ?? 0);
    if (res.destroyed) return;
    const head = req.method === 'HEAD';
    const fault = faultOf(path, attempt);
    const pathname = path.split('?')[0] ?? path;
    if (!fault && !(pathname.startsWith('/cdn/') && /\.jpe?g$/i.test(pathname))) return send(res, 404, 'text/plain', Buffer.from('not found\n'), head);
    switch (fault?.kind) {
      case undefined:
        return send(res, 200, 'image/jpeg', image(path), head);
      case 'status':
        return send(res, fault.status, 'text/plain', Buffer.from(`${http.STATUS_CODES[fault.status] ?? 'error'}\n`), head);
      case 'flaky':
        if (attempt <= fault.failures) return send(res, fault.status ?? 500, 'text/plain', Buffer.from('try again\n'), head);
        return send(res, 200, 'image/jpeg', image(path), head);
      case 'html':
        return send(res, 200, 'text/html; charset=utf-8', HTML, head);
      case 'not-image':
        return send(res, 200, 'image/jpeg', NOT_IMAGE, head);
      case 'reset':
        req.socket.destroy();
        return;
      case 'redirect':
        res.writeHead(fault.status ?? 302, { location: fault.location, 'content-length': 0 });
        res.end();
        return;
      case 'slow-headers':
        await sleep(fault.delayMs);
        if (!res.destroyed) send(res, 200, 'image/jpeg', image(path), head);
        return;
      case 'slow-body':
        return trickle(res, image(path), fault.chunks ?? 10, fault.chunkDelayMs, sleep);
      case 'oversized':
        return oversized(res, fault.bytes, fault.declareLength ?? false);
    }
  };

  const server = http.createServer({ keepAlive: true, keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 60_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1', backlog: 2048 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/cdn`,
    port,
    counts: () => new Map(counts),
    total: () => total,
    reset: () => {
      counts.clear();
      total = 0;
    },
    setFaults: (faults) => {
      rules = faults;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: Buffer, head: boolean): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'cache-control': 'public, max-age=86400' });
  res.end(head ? undefined : body);
}

async function trickle(res: http.ServerResponse, body: Buffer, chunks: number, delayMs: number, sleep: (ms: number) => Promise<void>): Promise<void> {
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
  const size = Math.max(1, Math.ceil(body.length / Math.max(1, chunks)));
  for (let at = 0; at < body.length; at += size) {
    if (res.destroyed) return;
    res.write(body.subarray(at, at + size));
    await sleep(delayMs);
  }
  if (!res.destroyed) res.end();
}

/** Streams `bytes` bytes that start like a JPEG, with back-pressure, and stops when the client goes away. */
async function oversized(res: http.ServerResponse, bytes: number, declareLength: boolean): Promise<void> {
  res.writeHead(200, declareLength ? { 'content-type': 'image/jpeg', 'content-length': bytes } : { 'content-type': 'image/jpeg' });
  const start = tinyJpeg('oversized').subarray(0, Math.min(20, bytes));
  const filler = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  while (sent < bytes && !res.destroyed) {
    const piece = sent === 0 ? start : filler.subarray(0, Math.min(filler.length, bytes - sent));
    sent += piece.length;
    if (!res.write(piece)) await drained(res);
  }
  if (!res.destroyed) res.end();
}

export function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
