import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageVariantFormat } from '../../../src/config.js';
import { checkImageHeader, ImageRefusedError } from '../../../src/catalog/images/image-bombs.js';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { imageRelativePath, variantRelativePath, type ImageExt } from '../../../src/catalog/images/image-files.js';
import type { ImageStore } from '../../../src/catalog/images/image-store.js';
import { S3ImageStore } from '../../../src/catalog/images/s3-image-store.js';
import { ImageVariantMemory } from '../../../src/catalog/images/image-variant-memory.js';
import { negotiateFormat } from '../../../src/catalog/images/image-variant-request.js';
import type { VariantKey } from '../../../src/catalog/images/image-variants.js';
import { imagesRoutes } from '../../../src/catalog/images/images.routes.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { S3RVER_CREDENTIALS, sharedS3Server, type TestS3Server } from '../../support/s3-server.js';
import { pngBomb } from './mock-cdn.js';

const WIDTHS = [160, 320, 640];
const FORMATS: ImageVariantFormat[] = ['avif', 'webp', 'jpeg'];
const LIMITS = { maxPixels: 40_000_000, maxFrames: 100 };
/** What sharp calls each format when it reads it back. */
const READ_AS: Record<ImageVariantFormat, string> = { avif: 'heif', webp: 'webp', jpeg: 'jpeg' };
const CONTENT_TYPES: Record<ImageVariantFormat, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };
const CHROME_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** An app serving images from `store` that counts its decodes in `decoded`. */
async function variantsApp(store: ImageStore, decoded: VariantKey[]): Promise<FastifyInstance> {
  const built = await buildApp({
    logger: pino({ level: 'silent' }),
    bodyLimitBytes: 1024,
    version: 'test',
    readiness: [],
    plugins: [
      (scope) =>
        imagesRoutes(scope, {
          store,
          serve: { mode: 'stream', redirectTtlSeconds: 3600 },
          variants: { widths: WIDTHS, formats: FORMATS, ...LIMITS, concurrency: 2, memoryBytes: 8 * 2 ** 20 },
          onDecode: (key) => decoded.push(key),
        }),
    ],
    docs: false,
  });
  await built.ready();
  return built;
}

describe('image variants: GET /images/<sha256>.<ext>?w=&format=', () => {
  let app: FastifyInstance;
  let dataDir: string;
  const decodes: VariantKey[] = [];
  const stored: Record<'photo' | 'small' | 'bomb' | 'truncated', { sha: string; ext: ImageExt; bytes: Buffer }> = {} as never;
  const url = (name: keyof typeof stored, query = '') => `/images/${stored[name].sha}.${stored[name].ext}${query}`;
  const decodesOf = (name: keyof typeof stored) => decodes.filter((key) => key.sha256 === stored[name].sha).length;

  /** An app on the disk store in `dataDir` that counts its decodes in `decoded`: another process sharing the store. */
  const appOn = (decoded: VariantKey[]) => variantsApp(new DiskImageStore(dataDir), decoded);

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-variants-'));
    const store = new DiskImageStore(dataDir);
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#c86432' } }).jpeg().toBuffer();
    const images = {
      photo: { bytes: photo, ext: 'jpg' as const },
      small: { bytes: await sharp({ create: { width: 100, height: 80, channels: 4, background: '#3264c880' } }).png().toBuffer(), ext: 'png' as const },
      // A store written before the header check existed could hold one: variants refuse it all the same.
      bomb: { bytes: pngBomb(), ext: 'png' as const },
      // A header that reads well over pixel data that stops halfway.
      truncated: { bytes: photo.subarray(0, Math.floor(photo.length / 2)), ext: 'jpg' as const },
    };
    for (const [name, { bytes, ext }] of Object.entries(images)) {
      await store.put(imageRelativePath(sha256(bytes), ext), bytes, { bytes: bytes.length });
      stored[name as keyof typeof stored] = { sha: sha256(bytes), ext, bytes };
    }
    app = await appOn(decodes);
  });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(WIDTHS.flatMap((width) => FORMATS.map((format) => [width, format] as const)))('makes a %i-wide %s copy, with its type, its own strong ETag and the immutable policy', async (width, format) => {
    const response = await app.inject({ method: 'GET', url: url('photo', `?w=${width}&format=${format}`) });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe(CONTENT_TYPES[format]);
    expect(response.headers.etag).toBe(`"${stored.photo.sha}-w${width}.${format}"`);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.vary).toBeUndefined();
    expect(response.headers['content-length']).toBe(String(response.rawPayload.length));
    const made = await sharp(response.rawPayload).metadata();
    expect({ format: made.format, width: made.width, height: made.height }).toEqual({ format: READ_AS[format], width, height: (width * 600) / 800 });
  });

  it('makes a variant once and serves it from the store afterwards, byte for byte', async () => {
    const first = await app.inject({ method: 'GET', url: url('photo', '?w=320&format=webp') });
    const decoded = decodesOf('photo');
    const again = await app.inject({ method: 'GET', url: url('photo', '?w=320&format=webp') });
    expect(again.statusCode).toBe(200);
    expect(again.rawPayload).toEqual(first.rawPayload);
    expect(decodesOf('photo')).toBe(decoded);
    expect(fs.readFileSync(path.join(dataDir, 'images', variantRelativePath(stored.photo.sha, 'jpg', 320, 'webp')))).toEqual(first.rawPayload);
    expect(fs.readdirSync(path.join(dataDir, 'images', 'tmp'))).toEqual([]);
  });

  it('serves a variant another process made from the store, without making it again', async () => {
    const made = await app.inject({ method: 'GET', url: url('photo', '?w=160&format=jpeg') });
    const decodedElsewhere: VariantKey[] = [];
    const other = await appOn(decodedElsewhere);
    try {
      const response = await other.inject({ method: 'GET', url: url('photo', '?w=160&format=jpeg') });
      expect(response.statusCode).toBe(200);
      expect(response.headers.etag).toBe(made.headers.etag);
      expect(response.rawPayload).toEqual(made.rawPayload);
      expect(decodedElsewhere).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('makes two overlapping requests for a new variant once', async () => {
    const before = decodesOf('small');
    const [a, b] = await Promise.all([0, 1].map(() => app.inject({ method: 'GET', url: url('small', '?w=160&format=avif') })));
    expect([a!.statusCode, b!.statusCode]).toEqual([200, 200]);
    expect(a!.rawPayload).toEqual(b!.rawPayload);
    expect(decodesOf('small') - before).toBe(1);
  });

  it('never enlarges: a width over the original gives the original width, in the format asked', async () => {
    const response = await app.inject({ method: 'GET', url: url('small', '?w=640&format=jpeg') });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe(`"${stored.small.sha}-w640.jpeg"`);
    const made = await sharp(response.rawPayload).metadata();
    expect({ format: made.format, width: made.width, height: made.height }).toEqual({ format: 'jpeg', width: 100, height: 80 });
  });

  it.each([
    [CHROME_ACCEPT, 'avif'],
    ['image/webp,*/*', 'webp'],
    ['image/avif;q=0, image/webp;q=0.5', 'webp'],
    ['image/*,*/*;q=0.8', 'jpeg'],
    [undefined, 'jpeg'],
  ] as const)('negotiates the format from Accept %s (%s) and says it varies with Accept', async (accept, format) => {
    const response = await app.inject({ method: 'GET', url: url('photo', '?w=160'), headers: accept === undefined ? {} : { accept } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(CONTENT_TYPES[format]);
    expect(response.headers.etag).toBe(`"${stored.photo.sha}-w160.${format}"`);
    expect(response.headers.vary).toBe('Accept');
    expect((await sharp(response.rawPayload).metadata()).format).toBe(READ_AS[format]);
  });

  it('negotiates among the enabled formats only', () => {
    expect(negotiateFormat(CHROME_ACCEPT, ['webp', 'jpeg'])).toBe('webp');
    expect(negotiateFormat('image/webp', ['avif', 'jpeg'])).toBe('jpeg');
    expect(negotiateFormat('*/*', ['avif', 'webp'])).toBe('webp');
  });

  it.each([`"SHA-w320.webp"`, `W/"SHA-w320.webp"`, '*'])('answers 304 to If-None-Match: %s', async (header) => {
    const response = await app.inject({ method: 'GET', url: url('photo', '?w=320&format=webp'), headers: { 'if-none-match': header.replace('SHA', stored.photo.sha) } });
    expect(response.statusCode).toBe(304);
    expect(response.headers.etag).toBe(`"${stored.photo.sha}-w320.webp"`);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.rawPayload).toHaveLength(0);
  });

  it("answers 200 to the original's ETag, and the original to no query, untouched", async () => {
    const variant = await app.inject({ method: 'GET', url: url('photo', '?w=320&format=webp'), headers: { 'if-none-match': `"${stored.photo.sha}"` } });
    expect(variant.statusCode).toBe(200);
    const original = await app.inject({ method: 'GET', url: url('photo') });
    expect(original.statusCode).toBe(200);
    expect(original.headers.etag).toBe(`"${stored.photo.sha}"`);
    expect(original.headers.vary).toBeUndefined();
    expect(original.rawPayload).toEqual(stored.photo.bytes);
  });

  it.each([
    ['?w=200&format=webp', { w: ['The w field must be one of 160, 320, 640.'] }],
    ['?w=0160', { w: ['The w field must be one of 160, 320, 640.'] }],
    ['?w=', { w: ['The w field must be one of 160, 320, 640.'] }],
    ['?w=abc', { w: ['The w field must be one of 160, 320, 640.'] }],
    ['?w=160&format=png', { format: ['The format field must be one of avif, webp, jpeg.'] }],
    ['?format=webp', { w: ['The w field is required with format.'] }],
  ])('answers 422 to %s, making nothing', async (query, errors) => {
    const before = decodes.length;
    const response = await app.inject({ method: 'GET', url: url('photo', query) });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ message: Object.values(errors)[0]![0], errors });
    expect(decodes.length).toBe(before);
  });

  it('ignores parameters other than w and format, as a static file server does (cache busters, tracking)', async () => {
    const original = await app.inject({ method: 'GET', url: url('photo', '?v=2&utm_source=mail') });
    expect(original.statusCode).toBe(200);
    expect(original.rawPayload).toEqual(stored.photo.bytes);
    const variant = await app.inject({ method: 'GET', url: url('photo', '?w=160&format=webp&v=2') });
    expect(variant.statusCode).toBe(200);
    expect(variant.headers['content-type']).toBe('image/webp');
  });

  it('answers 422 to a parameter given twice', async () => {
    const response = await app.inject({ method: 'GET', url: url('photo', '?w=160&w=320') });
    expect(response.statusCode).toBe(422);
    expect(response.json<{ errors: Record<string, string[]> }>().errors).toHaveProperty('w');
  });

  it('answers any query with the image, a variant or a 422, never a 500', async () => {
    const key = fc.oneof(fc.constantFrom('w', 'format'), fc.string({ maxLength: 6 }));
    const value = fc.oneof(fc.constantFrom('160', '320', '640', '200', 'webp', 'avif', 'jpeg', 'png', ''), fc.string({ maxLength: 8 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 4 }), fc.option(fc.string({ maxLength: 40 })), async (pairs, accept) => {
        const query = new URLSearchParams(pairs).toString();
        const response = await app.inject({ method: 'GET', url: url('photo', query ? `?${query}` : ''), headers: accept === null ? {} : { accept } });
        expect([200, 422], `?${query} → ${response.statusCode} ${response.body}`).toContain(response.statusCode);
        if (response.statusCode === 422) expect(response.json<{ message: string }>().message).toMatch(/^The /);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 100) },
    );
  });

  it('answers 404 for a variant of an image the store does not hold, and stores nothing', async () => {
    const absent = sha256(Buffer.from('absent'));
    for (const file of [`${absent}.jpg`, `${stored.photo.sha}.png`]) {
      const response = await app.inject({ method: 'GET', url: `/images/${file}?w=160&format=webp` });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ message: 'Resource not found.' });
    }
    expect(fs.existsSync(path.join(dataDir, 'images', variantRelativePath(absent, 'jpg', 160, 'webp')))).toBe(false);
  });

  it('refuses a 50,000 × 50,000 PNG from its header, without decoding it, in flat memory', async () => {
    const rss = process.memoryUsage().rss;
    for (const format of FORMATS) {
      const response = await app.inject({ method: 'GET', url: url('bomb', `?w=160&format=${format}`) });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({ message: 'This image has no variants: image is 50000 × 50000 pixels, over the 40000000-pixel limit.' });
    }
    // Decoded, it would take 7.5 GB; sharp was never asked to decode it.
    expect(decodesOf('bomb')).toBe(0);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
    expect(fs.existsSync(path.join(dataDir, 'images', variantRelativePath(stored.bomb.sha, 'png', 160, 'webp')))).toBe(false);
    // The original is still what the store holds.
    expect((await app.inject({ method: 'GET', url: url('bomb') })).rawPayload).toEqual(stored.bomb.bytes);
  });

  it('answers 422 for a stored image whose pixel data cannot be decoded, and keeps serving', async () => {
    const response = await app.inject({ method: 'GET', url: url('truncated', '?w=160&format=webp') });
    expect(response.statusCode).toBe(422);
    expect(response.json<{ message: string }>().message).toMatch(/^This image has no variants: image cannot be decoded: /);
    expect(decodesOf('truncated')).toBe(1);
    // Refused again from memory, without reading the source again.
    expect((await app.inject({ method: 'GET', url: url('truncated', '?w=160&format=webp') })).statusCode).toBe(422);
    expect(decodesOf('truncated')).toBe(1);
    expect((await app.inject({ method: 'GET', url: url('photo', '?w=160&format=webp') })).statusCode).toBe(200);
  });
});

describe('image variants on an S3 store shared by two API hosts', () => {
  let server: TestS3Server;
  const stores: S3ImageStore[] = [];
  const apps: FastifyInstance[] = [];
  const host = async (decoded: VariantKey[]) => {
    const store = new S3ImageStore({ endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, prefix: 'images/', ...S3RVER_CREDENTIALS, forcePathStyle: true });
    stores.push(store);
    const app = await variantsApp(store, decoded);
    apps.push(app);
    return { store, app };
  };
  beforeAll(async () => {
    server = await sharedS3Server();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    await server.close();
  });

  it('makes a variant on one host, stores it in the bucket, and the other host serves it without decoding', async () => {
    const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#2080c0' } }).jpeg().toBuffer();
    const sha = sha256(photo);
    const decodedA: VariantKey[] = [];
    const decodedB: VariantKey[] = [];
    const a = await host(decodedA);
    const b = await host(decodedB);
    await a.store.put(imageRelativePath(sha, 'jpg'), photo, { bytes: photo.length });

    const made = await a.app.inject({ method: 'GET', url: `/images/${sha}.jpg?w=320&format=webp` });
    expect(made.statusCode, made.body).toBe(200);
    expect(decodedA).toHaveLength(1);
    expect(await b.store.has(variantRelativePath(sha, 'jpg', 320, 'webp'))).toBe(true);

    const served = await b.app.inject({ method: 'GET', url: `/images/${sha}.jpg?w=320&format=webp` });
    expect(served.statusCode).toBe(200);
    expect(served.headers.etag).toBe(made.headers.etag);
    expect(served.rawPayload).toEqual(made.rawPayload);
    expect(decodedB).toEqual([]);
    const original = await b.app.inject({ method: 'GET', url: `/images/${sha}.jpg` });
    expect(original.rawPayload).toEqual(photo);
  });
});

describe('checkImageHeader', () => {
  it('refuses too many pixels and too many frames, reading only the header', async () => {
    await expect(checkImageHeader(pngBomb(), LIMITS)).rejects.toThrow(new ImageRefusedError('image is 50000 × 50000 pixels, over the 40000000-pixel limit'));
    const frame = (red: number) => sharp({ create: { width: 8, height: 8, channels: 3, background: { r: red, g: 0, b: 0 } } }).png().toBuffer();
    const frames = await sharp(await Promise.all([60, 120, 180].map(frame)), { join: { animated: true } })
      .gif()
      .toBuffer();
    expect(await checkImageHeader(frames, LIMITS)).toEqual({ format: 'gif', width: 8, height: 8, frames: 3 });
    await expect(checkImageHeader(frames, { ...LIMITS, maxFrames: 2 })).rejects.toThrow(new ImageRefusedError('image has 3 frames, over the 2-frame limit'));
    await expect(checkImageHeader(frames, { ...LIMITS, maxPixels: 63 })).rejects.toThrow('image is 8 × 8 pixels, over the 63-pixel limit');
  });

  it('refuses what it cannot read, and formats the store does not hold', async () => {
    await expect(checkImageHeader(Buffer.from('definitely not an image'), LIMITS)).rejects.toThrow(/^not an image: its header cannot be read \(/);
    const tiff = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).tiff().toBuffer();
    await expect(checkImageHeader(tiff, LIMITS)).rejects.toThrow('not an image: it reads as tiff, not JPEG, PNG, GIF or WebP');
  });
});

describe('ImageVariantMemory', () => {
  it('keeps the variants served lately within its budget, and none over a sixteenth of it', () => {
    const memory = new ImageVariantMemory(1_600);
    const bytes = (n: number) => Buffer.alloc(n);
    memory.keep('a', bytes(100));
    memory.keep('b', bytes(100));
    memory.keep('huge', bytes(101));
    expect(memory.get('huge')).toBeUndefined();
    expect(memory.get('a')).toHaveLength(100);
    // 'a' was served last: 'b' is the least recently served, and goes first.
    for (let i = 0; i < 15; i++) memory.keep(`c${i}`, bytes(100));
    expect(memory.get('b')).toBeUndefined();
    expect(memory.get('a')).toHaveLength(100);
    expect(memory.get('c14')).toHaveLength(100);
  });

  it('keeps the variant it was just given even when every other one was served since', () => {
    const memory = new ImageVariantMemory(1_600);
    for (let i = 0; i < 16; i++) memory.keep(`v${i}`, Buffer.alloc(100));
    for (let i = 0; i < 16; i++) memory.get(`v${i}`);
    memory.keep('new', Buffer.alloc(100));
    expect(memory.get('new')).toHaveLength(100);
    expect([...Array(16).keys()].filter((i) => memory.get(`v${i}`) === undefined)).toHaveLength(1);
  });
});
