import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../../src/app/version.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { prefersHtml, rootRoutes } from '../../../src/platform/http/root.routes.js';
import { createTestApp, type TestApp } from '../../support/app.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('root index and favicon of the API app', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const get = (url: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url, headers });

  it.each([['no Accept', {}], ['*/*', { accept: '*/*' }], ['application/json', { accept: 'application/json' }]])('answers JSON to %s: name, version and the links this role serves', async (_name, headers) => {
    const response = await get('/', headers);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers.vary).toContain('accept');
    const body = response.json<{ name: string; version: string; links: Array<{ rel: string; href: string; title: string }> }>();
    expect(body).toMatchObject({ name: 'intake', version: VERSION });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.links.map((l) => [l.rel, l.href])).toEqual([
      ['docs', '/docs'],
      ['openapi', '/openapi.json'],
      ['health', '/health'],
      ['ready', '/ready'],
      ['metrics', '/metrics'],
      ['admin', '/admin'],
    ]);
    expect(body.links.every((l) => l.title.length > 0)).toBe(true);
  });

  it('links only pages that answer', async () => {
    const { links } = (await get('/')).json<{ links: Array<{ href: string }> }>();
    for (const { href } of links) expect((await get(href)).statusCode, href).toBeLessThan(400);
  });

  it('answers a small HTML page to a browser, under a strict content security policy', async () => {
    const response = await get('/', { accept: BROWSER_ACCEPT });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers.vary).toContain('accept');
    expect(response.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toMatch(/^<!doctype html>/);
    expect(response.body).toContain(`<title>intake ${VERSION}</title>`);
    for (const href of ['/docs', '/admin', '/health', '/metrics']) expect(response.body).toContain(`<a href="${href}">`);
    expect(response.body).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    expect(response.body).not.toContain('<script');
  });

  it('serves the HTML page to HEAD too, without a body', async () => {
    const response = await t.inject({ method: 'HEAD', url: '/', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toBe('');
  });

  it('serves /favicon.ico as an ICO image, cached for a year, and 304 for its ETag', async () => {
    const response = await get('/favicon.ico');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/x-icon');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000');
    const icon = response.rawPayload;
    // ICONDIR: reserved 0, type 1 (icon), one image of 32×32 at 32 bits per pixel, right after the directory.
    expect([icon.readUInt16LE(0), icon.readUInt16LE(2), icon.readUInt16LE(4)]).toEqual([0, 1, 1]);
    expect([icon[6], icon[7], icon.readUInt16LE(12), icon.readUInt32LE(18)]).toEqual([32, 32, 32, 22]);
    expect(icon.readUInt32LE(14) + 22).toBe(icon.length);
    expect(icon.length).toBeLessThan(5000);

    const etag = response.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    const cached = await get('/favicon.ico', { 'if-none-match': `"other", ${etag}` });
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');
    expect((await get('/favicon.ico', { 'if-none-match': '"other"' })).statusCode).toBe(200);
  });

  it('serves /favicon.svg as SVG with the same caching', async () => {
    const response = await get('/favicon.svg');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/svg+xml');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000');
    expect(response.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>.*<\/svg>$/);
    expect(response.body).not.toMatch(/<script|on\w+=/i);
  });

  it('keeps 404 for unknown paths and 405 for another method on /', async () => {
    for (const url of ['/nope', '/index.html', '/favicon.png']) {
      const response = await get(url, { accept: BROWSER_ACCEPT });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toEqual({ message: 'Route not found.' });
    }
    const post = await t.inject({ method: 'POST', url: '/', payload: {} });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('keeps the index and the icons out of the OpenAPI document', async () => {
    const doc = (await get('/openapi.json')).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((p) => p === '/' || p.startsWith('/favicon'))).toEqual([]);
  });
});

describe('root index of an app without docs or metrics', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ logger: pino({ level: 'silent' }), bodyLimitBytes: 1024, version: '1.2.3', readiness: [], docs: false, plugins: [(scope) => rootRoutes(scope, { name: 'x', version: '1.2.3', links: [{ rel: 'gone', href: '/not-served', title: 'A page this app lacks' }] })] });
    await app.ready();
  });
  afterAll(() => app.close());

  it('lists only the pages this app serves', async () => {
    const body = (await app.inject({ method: 'GET', url: '/' })).json<{ links: Array<{ href: string }> }>();
    expect(body.links.map((l) => l.href)).toEqual(['/health', '/ready']);
  });
});

describe('prefersHtml', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['application/json', false],
    ['text/html', true],
    ['TEXT/HTML; charset=utf-8', true],
    [BROWSER_ACCEPT, true],
    ['application/json, text/html', false],
    ['text/html;q=0.9, application/json', false],
    ['application/json;q=0.5, text/html', true],
    ['text/*, application/json;q=0.5', true],
    ['text/html;q=0, */*', false],
    ['text/html;q=bogus, */*;q=0.1', false],
  ])('%j → %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
