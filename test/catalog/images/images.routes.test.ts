import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageFiles } from '../../../src/catalog/images/image-files.js';
import { imagesRoutes } from '../../../src/catalog/images/images.routes.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { jpeg, png } from './mock-cdn.js';

describe('GET /images/:file', () => {
  let app: FastifyInstance;
  let dataDir: string;
  const body = png('served');
  const sha = createHash('sha256').update(body).digest('hex');

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-images-routes-'));
    const files = new ImageFiles(dataDir);
    const temp = await files.createTemp();
    await temp.write(body);
    await temp.close();
    await files.commit(temp, sha, 'png');
    // A secret beside the store, for the traversal attempts to aim at.
    fs.writeFileSync(path.join(dataDir, 'secret.txt'), 'secret');
    app = await buildApp({
      logger: pino({ level: 'silent' }),
      bodyLimitBytes: 1024,
      version: 'test',
      readiness: [],
      plugins: [(scope) => imagesRoutes(scope, { dataDir, variants: { widths: [160], formats: ['webp'], maxPixels: 40_000_000, maxFrames: 100, concurrency: 1, memoryBytes: 0 } })],
      docs: false,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
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
