import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

describe('operator dashboard page /admin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('serves the page without a token (it asks for one) under a strict content security policy', async () => {
    const page = await t.inject({ method: 'GET', url: '/admin' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<script type="module" src="/admin/assets/app.js">');
    expect(page.body).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml" />');
    expect(page.body).toContain('<link rel="icon" href="/favicon.ico" sizes="32x32" />');
    // The nav bar is hidden until the operator signs in.
    expect(page.body).toMatch(/<nav id="nav" hidden>/);
  });

  it('serves its scripts and styles, and nothing else from that folder', async () => {
    const script = await t.inject({ method: 'GET', url: '/admin/assets/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await t.inject({ method: 'GET', url: '/admin/assets/dashboard.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    for (const url of ['/admin/assets/nope.js', '/admin/assets/index.html', '/admin/assets/..%2Fdashboard.routes.ts', '/admin/assets/%2e%2e%2f%2e%2e%2fconfig.ts']) {
      expect((await t.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
  });

  it('keeps the page and its assets out of the OpenAPI document', async () => {
    const doc = (await t.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
  });
});
