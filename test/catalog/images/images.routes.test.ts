import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { imageRelativePath } from '../../../src/catalog/images/image-files.js';
import type { ImageStore } from '../../../src/catalog/images/image-store.js';
import { imagesRoutes, type ImagesRoutesDeps } from '../../../src/catalog/images/images.routes.js';
import { S3ImageStore } from '../../../src/catalog/images/s3-image-store.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { S3RVER_CREDENTIALS, sharedS3Server, startS3Server, type TestS3Server } from '../../support/s3-server.js';
import { jpeg, png } from './mock-cdn.js';

const body = png('served');
const sha = createHash('sha256').update(body).digest('hex');

async function imagesApp(store: ImageStore, serve: ImagesRoutesDeps['serve'] = { mode: 'stream', redirectTtlSeconds: 3600 }): Promise<FastifyInstance> {
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    bodyLimitBytes: 1024,
    version: 'test',
    readiness: [],
    plugins: [(scope) => imagesRoutes(scope, { store, serve, variants: { widths: [160], formats: ['webp'], maxPixels: 40_000_000, maxFrames: 100, concurrency: 1, memoryBytes: 0 } })],
    docs: false,
  });
  await app.ready();
  return app;
}

const s3StoreOn = (server: Pick<TestS3Server, 'endpoint' | 'bucket'>) =>
  new S3ImageStore({ endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, prefix: 'images/', ...S3RVER_CREDENTIALS, forcePathStyle: true, maxAttempts: 1, connectTimeoutMs: 500 });

/** Each store the API serves from: the same answers whichever it is. */
const FLAVOURS: Array<{ name: string; setUp(dataDir: string): Promise<{ store: ImageStore; close(): Promise<void> }> }> = [
  { name: 'disk', setUp: async (dataDir) => ({ store: new DiskImageStore(dataDir), close: async () => undefined }) },
  {
    name: 's3',
    setUp: async () => {
      const server = await sharedS3Server();
      const store = s3StoreOn(server);
      return { store, close: async () => (await store.close(), await server.close()) };
    },
  },
];

describe.each(FLAVOURS)('GET /images/:file from the $name store', (flavour) => {
  let app: FastifyInstance;
  let dataDir: string;
  let closeStore: () => Promise<void>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-images-routes-'));
    const { store, close } = await flavour.setUp(dataDir);
    closeStore = close;
    await store.put(imageRelativePath(sha, 'png'), body, { bytes: body.length });
    // A secret beside the store, for the traversal attempts to aim at.
    fs.writeFileSync(path.join(dataDir, 'secret.txt'), 'secret');
    app = await imagesApp(store);
  });
  afterAll(async () => {
    await app.close();
    await closeStore();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams a cached image with its type, its hash as ETag and an immutable cache policy', async () => {
    const response = await app.inject({ method: 'GET', url: `/images/${sha}.png` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers.etag).toBe(`"${sha}"`);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-length']).toBe(String(body.length));
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.rawPayload).toEqual(body);
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await app.inject({ method: 'HEAD', url: `/images/${sha}.png` });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe(`"${sha}"`);
    expect(response.rawPayload).toHaveLength(0);
  });

  it.each([`"${'SHA'}"`, `W/"SHA"`, `"other", "SHA"`, '*'])('answers 304 to If-None-Match: %s', async (header) => {
    const response = await app.inject({ method: 'GET', url: `/images/${sha}.png`, headers: { 'if-none-match': header.replaceAll('SHA', sha) } });
    expect(response.statusCode).toBe(304);
    expect(response.headers.etag).toBe(`"${sha}"`);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.rawPayload).toHaveLength(0);
  });

  it('answers 200 to an If-None-Match naming another hash', async () => {
    const response = await app.inject({ method: 'GET', url: `/images/${sha}.png`, headers: { 'if-none-match': `"${'0'.repeat(64)}"` } });
    expect(response.statusCode).toBe(200);
  });

  it('answers 404 for a well-formed name that is not stored', async () => {
    const other = createHash('sha256').update(jpeg('absent')).digest('hex');
    for (const url of [`/images/${other}.jpg`, `/images/${sha}.jpg`]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ message: 'Resource not found.' });
    }
  });

  it.each([
    '/images/..%2f..%2fetc%2fpasswd',
    '/images/..%2fsecret.txt',
    '/images/../x',
    '/images/../secret.txt',
    '/images/%2e%2e',
    '/images/%2e%2e%2fsecret.txt',
    '/images/..%5csecret.txt',
    `/images/${sha}.exe`,
    `/images/${sha}.png.bak`,
    `/images/${sha}.png%00.jpg`,
    `/images/${sha.toUpperCase()}.png`,
    `/images/${sha}`,
    `/images/${sha.slice(0, 63)}.png`,
    `/images/ab/${sha}.png`,
    `/images/${sha.slice(0, 2)}%2f${sha.slice(2, 4)}%2f${sha}.png`,
  ])('answers 404 to %s', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('secret');
  });
});

describe('GET /images/:file with IMAGE_SERVE=redirect', () => {
  let server: TestS3Server;
  let store: S3ImageStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    server = await sharedS3Server();
    store = s3StoreOn(server);
    await store.put(imageRelativePath(sha, 'png'), body, { bytes: body.length });
    app = await imagesApp(store, { mode: 'redirect', redirectTtlSeconds: 600 });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    await server.close();
  });

  it('redirects to a pre-signed URL of the bucket that serves the bytes, cacheable for half its life', async () => {
    const response = await app.inject({ method: 'GET', url: `/images/${sha}.png` });
    expect(response.statusCode).toBe(302);
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    const location = new URL(String(response.headers.location));
    expect(location.origin).toBe(server.endpoint);
    expect(location.pathname).toBe(`/${server.bucket}/images/${imageRelativePath(sha, 'png')}`);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('600');
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(Buffer.from(await fetched.arrayBuffer())).toEqual(body);
  });

  it('answers 404 for an image the bucket does not hold, and 304 to a client that holds it', async () => {
    const absent = createHash('sha256').update(jpeg('absent')).digest('hex');
    expect((await app.inject({ method: 'GET', url: `/images/${absent}.jpg` })).statusCode).toBe(404);
    const cached = await app.inject({ method: 'GET', url: `/images/${sha}.png`, headers: { 'if-none-match': `"${sha}"` } });
    expect(cached.statusCode).toBe(304);
    expect(cached.headers.etag).toBe(`"${sha}"`);
  });

  it('refuses to start on a store that cannot sign URLs', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-images-routes-'));
    try {
      await expect(imagesApp(new DiskImageStore(dataDir), { mode: 'redirect', redirectTtlSeconds: 600 })).rejects.toThrow(/IMAGE_SERVE=redirect needs a store that signs URLs/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('GET /images/:file while the S3 store cannot be reached', () => {
  it('answers 503 with Retry-After for an original and for a variant, never a 500', async () => {
    const server = await startS3Server();
    const store = s3StoreOn(server);
    await store.put(imageRelativePath(sha, 'png'), body, { bytes: body.length });
    const app = await imagesApp(store);
    try {
      await server.close();
      for (const url of [`/images/${sha}.png`, `/images/${sha}.png?w=160&format=webp`]) {
        const response = await app.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBe(503);
        expect(response.headers['retry-after']).toBe('5');
        expect(response.json()).toMatchObject({ message: 'The image store is unavailable.' });
      }
    } finally {
      await app.close();
      await store.close();
    }
  });
});

describe('GET /images/:file when the store cuts a body off mid-read', () => {
  it('answers a variant whose stored bytes break off with 503, never a 500', async () => {
    const broken: ImageStore = {
      kind: 's3',
      has: async () => true,
      put: async () => 'created',
      open: async () => ({
        body: Readable.from(
          (async function* () {
            yield Buffer.from('partial');
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          })(),
        ),
        size: 100,
        contentType: 'image/png',
      }),
      checkWritable: async () => undefined,
      close: async () => undefined,
    };
    const app = await imagesApp(broken);
    try {
      const response = await app.inject({ method: 'GET', url: `/images/${sha}.png?w=160&format=webp` });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ message: 'The image store is unavailable.' });
    } finally {
      await app.close();
    }
  });
});
