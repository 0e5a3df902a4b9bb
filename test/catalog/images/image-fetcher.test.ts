import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { ImageTempFiles } from '../../../src/catalog/images/image-temp-files.js';
import { ImageFetcher } from '../../../src/catalog/images/image-fetcher.js';
import { png } from './mock-cdn.js';

describe('ImageFetcher concurrency', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A server that answers every image after `delayMs` and records how many requests it held at once. */
  async function slowServer(delayMs: number) {
    const seen = { active: 0, maxActive: 0, total: 0 };
    const server = http.createServer((req, res) => {
      seen.total++;
      seen.maxActive = Math.max(seen.maxActive, ++seen.active);
      setTimeout(() => {
        seen.active--;
        res.writeHead(200, { 'content-type': 'image/png' }).end(png(req.url ?? ''));
      }, delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
  }

  it('keeps at most `concurrency` transfers in flight, the rest wait their turn', async () => {
    const { url, seen } = await slowServer(60);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-fetcher-'));
    const fetcher = new ImageFetcher(new ImageTempFiles(dataDir), new DiskImageStore(dataDir), {
      maxBytes: 64 * 1024,
      maxPixels: 40_000_000,
      maxFrames: 100,
      timeoutMs: 5_000,
      perOriginConnections: 16,
      concurrency: 2,
      allowPrivateHosts: true,
      allowedHosts: [],
    });
    cleanups.push(() => fetcher.close(), () => fs.rmSync(dataDir, { recursive: true, force: true }));

    const stored = await Promise.all(Array.from({ length: 7 }, (_, i) => fetcher.fetch(`${url}/image-${i}.png`)));

    expect(seen.total).toBe(7);
    expect(seen.maxActive).toBe(2);
    expect(new Set(stored.map((s) => s.sha256)).size).toBe(7);
    for (const image of stored) expect(fs.existsSync(path.join(dataDir, 'images', image.key))).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, 'images', 'tmp'))).toEqual([]);
  });
});
