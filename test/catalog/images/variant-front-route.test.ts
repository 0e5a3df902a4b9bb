import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { imageRelativePath } from '../../../src/catalog/images/image-files.js';
import { imagesRoutes } from '../../../src/catalog/images/images.routes.js';
import { buildApp } from '../../../src/platform/http/app.js';

const CHROME_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
/** Headers that differ between any two responses, or that only a socket has. */
const PER_RESPONSE = new Set(['date', 'x-request-id', 'connection', 'keep-alive', 'transfer-encoding']);

/** An app-wide onRequest hook (not encapsulated, as fastify-plugin would make it): what reaches Fastify. */
function countingFastify(reached: string[]): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', (request, _reply, done) => {
      reached.push(request.url);
      done();
    });
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}

const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE.has(name)).map(([name, value]) => [name, String(value)]));

describe('cached variants answered before routing (the front route of GET /images/:file)', () => {
  let app: FastifyInstance;
  let base: string;
  let dataDir: string;
  let photo: string;
  const reached: string[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-variant-front-'));
    const store = new DiskImageStore(dataDir);
    const bytes = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#c86432' } }).jpeg().toBuffer();
    const sha = createHash('sha256').update(bytes).digest('hex');
    await store.put(imageRelativePath(sha, 'jpg'), bytes, { bytes: bytes.length });
    photo = `/images/${sha}.jpg`;
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [],
      docs: false,
      plugins: [
        countingFastify(reached),
        (scope) =>
          imagesRoutes(scope, {
            store,
            serve: { mode: 'stream', redirectTtlSeconds: 3600 },
            variants: { widths: [160, 320], formats: ['avif', 'webp', 'jpeg'], maxPixels: 40_000_000, maxFrames: 100, concurrency: 2, memoryBytes: 8 * 2 ** 20 },
          }),
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The same request over the socket (front route first) and injected (Fastify's route only). */
  async function both(url: string, headers: Record<string, string> = {}) {
    const before = reached.length;
    const socket = await fetch(`${base}${url}`, { headers });
    const overSocket = { status: socket.status, headers: Object.fromEntries(socket.headers), body: Buffer.from(await socket.arrayBuffer()) };
    const reachedFastify = reached.length > before;
    const injected = await app.inject({ method: 'GET', url, headers });
    return { overSocket, reachedFastify, injected: { status: injected.statusCode, headers: injected.headers, body: injected.rawPayload } };
  }

  it.each([
    ['an explicit format', '?w=320&format=webp', {}],
    ['a format negotiated from Accept (with Vary)', '?w=320', { accept: CHROME_ACCEPT }],
    ['parameters it ignores, as the route does', '?utm_source=mail&format=jpeg&w=160', {}],
  ])('answers a variant in memory with %s exactly as the route does, without reaching Fastify', async (_name, query, headers: Record<string, string>) => {
    const made = await app.inject({ method: 'GET', url: `${photo}${query}`, headers });
    expect(made.statusCode, made.body).toBe(200);

    const { overSocket, reachedFastify, injected } = await both(`${photo}${query}`, headers);
    expect(reachedFastify).toBe(false);
    expect(overSocket.status).toBe(200);
    expect(overSocket.body).toEqual(made.rawPayload);
    expect(comparable(overSocket.headers)).toEqual(comparable(injected.headers));
    expect(overSocket.headers['x-request-id']).toBeTruthy();

    const etag = overSocket.headers.etag!;
    const revalidated = await both(`${photo}${query}`, { ...headers, 'if-none-match': `W/${etag}` });
    expect(revalidated.reachedFastify).toBe(false);
    expect(revalidated.overSocket.status).toBe(304);
    expect(revalidated.overSocket.body.length).toBe(0);
    expect(comparable(revalidated.overSocket.headers)).toEqual(comparable(revalidated.injected.headers));
  });

  it.each([
    ['the original', ''],
    ['a width not offered (422)', '?w=999&format=webp'],
    ['a format given twice (422)', '?w=320&format=webp&format=avif'],
    ['format without w (422)', '?format=webp'],
  ])('leaves %s to the route', async (_name, query) => {
    const { overSocket, reachedFastify, injected } = await both(`${photo}${query}`);
    expect(reachedFastify).toBe(true);
    expect(overSocket.status).toBe(injected.status);
    expect(overSocket.body).toEqual(injected.body);
  });

  it('leaves a variant not in memory to the route, which makes it; the next request is answered in front', async () => {
    const url = `${photo}?w=160&format=avif`;
    const first = await both(url);
    expect(first.reachedFastify).toBe(true);
    expect(first.overSocket.status).toBe(200);
    const next = await both(url);
    expect(next.reachedFastify).toBe(false);
    expect(next.overSocket.body).toEqual(first.overSocket.body);
  });

  it('leaves to the route a name that is not plainly a hash and an extension, whatever the route makes of it', async () => {
    await app.inject({ method: 'GET', url: `${photo}?w=320&format=webp` });
    for (const url of [`${photo.toUpperCase()}?w=320&format=webp`, `${photo}/?w=320&format=webp`, `${photo.replace('.jpg', '%2ejpg')}?w=320&format=webp`, `${photo}.jpg?w=320&format=webp`]) {
      const { overSocket, reachedFastify, injected } = await both(url);
      expect({ url, reachedFastify, status: overSocket.status }).toEqual({ url, reachedFastify: true, status: injected.status });
    }
  });
});
