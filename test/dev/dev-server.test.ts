import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevStack, serveFeed, type FeedServer, type FeedServerOptions, type FeedSource } from '../../dev/catalog/dev-server.js';
import { generateFeed, writeFeedFile, type FeedItem } from '../../dev/catalog/feed-generator.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(source: FeedSource, options?: FeedServerOptions): Promise<FeedServer> {
  const server = await serveFeed(source, options);
  closers.push(() => server.close());
  return server;
}

async function feedText(items: number, seed = 1): Promise<string> {
  let text = '';
  for await (const chunk of generateFeed({ items, seed })) text += chunk.toString('utf8');
  return text;
}

describe('feed server', () => {
  it('serves a generated feed with validators and answers 304 to a matching ETag or date', async () => {
    const server = await serve({ items: 30, seed: 4 });
    const first = await fetch(server.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(await first.text()).toBe(await feedText(30, 4));
    const etag = first.headers.get('etag') as string;
    const lastModified = first.headers.get('last-modified') as string;
    expect(etag).toMatch(/^".+"$/);
    expect(await server.validators()).toEqual({ etag, lastModified });

    expect((await fetch(server.url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(server.url, { headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);
    expect((await fetch(server.url, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
    expect((await fetch(server.url, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    expect((await fetch(server.url, { headers: { 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' } })).status).toBe(200);
    expect(server.requests().map((r) => r.status)).toEqual([200, 304, 304, 200, 304, 200]);
    expect(server.requests()[1]?.ifNoneMatch).toBe(etag);
    expect((await fetch(server.url.replace('feed_pornstars', 'other'))).status).toBe(404);
  });

  it('changes the validators when the source changes', async () => {
    const server = await serve({ items: 5, seed: 1 });
    const before = await server.validators();
    server.setSource({ items: 5, seed: 1, mutate: (item: FeedItem, index: number) => (index === 0 ? null : undefined) });
    const after = await server.validators();
    expect(after.etag).not.toBe(before.etag);
    expect(Date.parse(after.lastModified)).toBeGreaterThan(Date.parse(before.lastModified));
    const response = await fetch(server.url, { headers: { 'if-none-match': before.etag } });
    expect(response.status).toBe(200);
    expect((JSON.parse(await response.text()) as { itemsCount: number }).itemsCount).toBe(4);
    server.setSource(Buffer.from('{"items":[]}'), { etag: '"fixed"' });
    expect((await fetch(server.url, { headers: { 'if-none-match': '"fixed"' } })).status).toBe(304);
  });

  it('serves a file with its length, and new validators once the file is rewritten', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feed-server-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'feed.json');
    await writeFeedFile(file, { items: 40, seed: 2 });
    const server = await serve(file);
    const first = await fetch(server.url);
    expect(first.headers.get('content-length')).toBe(String(fs.statSync(file).size));
    expect(await first.text()).toBe(fs.readFileSync(file, 'utf8'));
    const etag = first.headers.get('etag') as string;
    await writeFeedFile(file, { items: 41, seed: 2 });
    expect((await fetch(server.url, { headers: { 'if-none-match': etag } })).status).toBe(200);
  });

  it('can leave validators out, and then never answers 304', async () => {
    const server = await serve({ items: 3 }, { conditional: false });
    const response = await fetch(server.url, { headers: { 'if-none-match': '*' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
  });

  it('answers 500 or HTML when told, for a number of requests', async () => {
    const server = await serve({ items: 3 }, { fault: { kind: 'status', status: 500 }, faultTimes: 1 });
    expect((await fetch(server.url)).status).toBe(500);
    expect((await fetch(server.url)).status).toBe(200);
    server.setFault({ kind: 'html' });
    const html = await fetch(server.url);
    expect([html.status, html.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await html.text()).toContain('<html>');
    expect((await fetch(server.url)).headers.get('content-type')).toContain('text/html');
    server.setFault(undefined);
    expect((await fetch(server.url)).headers.get('content-type')).toBe('application/json');
  });

  it('cuts the body off, with or without a declared length', async () => {
    const server = await serve({ items: 200 }, { fault: { kind: 'truncate', afterBytes: 50_000 } });
    const chunked = await fetch(server.url);
    expect(chunked.status).toBe(200);
    await expect(chunked.text()).rejects.toThrow();
    server.setSource(Buffer.from(await feedText(200)));
    const declared = await fetch(server.url);
    expect(Number(declared.headers.get('content-length'))).toBeGreaterThan(50_000);
    await expect(declared.text()).rejects.toThrow();
  });

  it('trickles the body, delays the headers, or drops the connection', async () => {
    const server = await serve(Buffer.from(await feedText(20)), { fault: { kind: 'slow-body', chunkDelayMs: 30, chunkBytes: 5_000 } });
    const started = performance.now();
    const text = await (await fetch(server.url)).text();
    expect(JSON.parse(text)).toMatchObject({ itemsCount: 20 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(Math.floor(text.length / 5_000) * 30 - 5);
    server.setFault({ kind: 'slow-headers', delayMs: 2_000 });
    await expect(fetch(server.url, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    server.setFault({ kind: 'reset' });
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('sends a huge body, stopping when the client gives up', async () => {
    const server = await serve({ items: 3 }, { fault: { kind: 'huge', bytes: 5_000_000, declareLength: true } });
    const response = await fetch(server.url);
    expect(response.headers.get('content-length')).toBe('5000000');
    expect((await response.arrayBuffer()).byteLength).toBe(5_000_000);
    server.setFault({ kind: 'huge', bytes: 200_000_000 });
    const controller = new AbortController();
    const reader = (await fetch(server.url, { signal: controller.signal })).body?.getReader();
    let received = 0;
    while (received < 1_000_000) received += (await reader?.read())?.value?.length ?? 0;
    controller.abort();
    server.setFault(undefined);
    expect((await fetch(server.url)).status).toBe(200);
  });
});

describe('dev stack', () => {
  it('serves a feed whose thumbnails the mock CDN answers', async () => {
    const stack = await startDevStack({ items: 20, seed: 3 });
    closers.push(() => stack.close());
    const feed = (await (await fetch(stack.feed.url)).json()) as { items: FeedItem[] };
    const url = feed.items.flatMap((item) => item.thumbnails.flatMap((t) => t.urls))[0] as string;
    expect(url.startsWith(stack.cdn.url)).toBe(true);
    const image = await fetch(url);
    expect([image.status, image.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    expect(stack.cdn.total()).toBe(1);
  });
});
