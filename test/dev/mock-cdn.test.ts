import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { generateItems } from '../../dev/catalog/feed-generator.js';
import { looksLikeJpeg, tinyJpeg } from '../../dev/catalog/jpeg.js';
import { startMockCdn, type MockCdn, type MockCdnOptions } from '../../dev/catalog/mock-cdn.js';

let cdn: MockCdn | undefined;
afterEach(async () => {
  await cdn?.close();
  cdn = undefined;
});

async function start(options: MockCdnOptions = {}): Promise<MockCdn> {
  cdn = await startMockCdn(options);
  return cdn;
}

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; type: string | null; length: string | null; body: Buffer; ms: number }> {
  const started = performance.now();
  const response = await fetch(url, { redirect: 'manual', ...init });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get('content-type'), length: response.headers.get('content-length'), body, ms: performance.now() - started };
}

/** Walks the JPEG's segments: SOI, length-prefixed segments up to SOS, entropy data, EOI. */
function jpegStructure(bytes: Buffer): { markers: number[]; width: number; height: number } {
  expect(looksLikeJpeg(bytes)).toBe(true);
  const markers: number[] = [];
  let width = 0;
  let height = 0;
  let at = 2;
  for (;;) {
    expect(bytes[at]).toBe(0xff);
    const marker = bytes[at + 1] as number;
    markers.push(marker);
    const length = bytes.readUInt16BE(at + 2);
    if (marker === 0xc0) {
      height = bytes.readUInt16BE(at + 5);
      width = bytes.readUInt16BE(at + 7);
    }
    at += 2 + length;
    if (marker === 0xda) break;
  }
  const data = bytes.subarray(at, bytes.length - 2);
  for (let i = 0; i < data.length - 1; i++) if (data[i] === 0xff) expect(data[i + 1]).toBe(0x00);
  expect([...bytes.subarray(-2)]).toEqual([0xff, 0xd9]);
  return { markers, width, height };
}

describe('tiny JPEG', () => {
  it('is a complete baseline JPEG whose bytes follow from the key', () => {
    const structure = jpegStructure(tinyJpeg('thumb_101'));
    expect(structure.markers).toEqual([0xe0, 0xfe, 0xdb, 0xc0, 0xc4, 0xc4, 0xda]);
    expect(structure.width % 8).toBe(0);
    expect(structure.width).toBeGreaterThan(0);
    expect(tinyJpeg('thumb_101').equals(tinyJpeg('thumb_101'))).toBe(true);
    expect(tinyJpeg('thumb_101').equals(tinyJpeg('thumb_102'))).toBe(false);
    const padded = tinyJpeg('thumb_101', { minBytes: 100_000 });
    expect(padded.length).toBeGreaterThanOrEqual(100_000);
    jpegStructure(padded);
  });
});

describe('mock CDN', () => {
  it('serves the generator URLs as JPEGs: one content per thumb number', async () => {
    const server = await start();
    const urls = [...generateItems({ items: 40, seed: 1, imageBaseUrl: server.url })].flatMap(({ item }) => item.thumbnails.flatMap((t) => t.urls));
    const first = await get(urls[0] as string);
    expect(first.status).toBe(200);
    expect(first.type).toBe('image/jpeg');
    expect(Number(first.length)).toBe(first.body.length);
    jpegStructure(first.body);
    expect((await get(urls[0] as string)).body.equals(first.body)).toBe(true);
    const other = urls.find((url) => url !== urls[0]) as string;
    expect((await get(other)).body.equals(first.body)).toBe(false);
    // Another path with the same thumb number serves the same bytes.
    const sameThumb = new URL(urls[0] as string);
    sameThumb.pathname = sameThumb.pathname.replace(/\(mh=[^)]*\)/, '(mh=other)');
    expect((await get(sameThumb.href)).body.equals(first.body)).toBe(true);
    expect((await get(`${server.url.replace('/cdn', '')}/elsewhere.jpg`)).status).toBe(404);
  });

  it('counts requests per path, in total, and forgets them on reset', async () => {
    const server = await start();
    await get(`${server.url}/a/thumb_1.jpg`);
    await get(`${server.url}/a/thumb_1.jpg`);
    await get(`${server.url}/b/thumb_2.jpg`, { method: 'HEAD' });
    expect(server.counts()).toEqual(new Map([['/cdn/a/thumb_1.jpg', 2], ['/cdn/b/thumb_2.jpg', 1]]));
    expect(server.total()).toBe(3);
    server.reset();
    expect(server.total()).toBe(0);
    expect(server.counts().size).toBe(0);
  });

  it('waits the configured latency before answering', async () => {
    const server = await start({ latencyMs: 60 });
    const answer = await get(`${server.url}/x/thumb_3.jpg`);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeGreaterThanOrEqual(55);
  });

  it('answers hundreds of concurrent requests over kept-alive connections', async () => {
    const server = await start({ latencyMs: 20 });
    const answers = await Promise.all(Array.from({ length: 400 }, (_, i) => get(`${server.url}/c/thumb_${i}.jpg`)));
    expect(answers.every((answer) => answer.status === 200 && looksLikeJpeg(answer.body))).toBe(true);
    expect(server.total()).toBe(400);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const reused: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${server.url}/k/thumb_${i}.jpg`, { agent }, (res) => {
          reused.push(req.reusedSocket);
          res.resume().on('end', resolve);
        });
        req.on('error', reject);
      });
    }
    agent.destroy();
    expect(reused).toEqual([false, true]);
  });

  it('fails by path prefix: 404, 500, HTML and image content-type with other bytes', async () => {
    const server = await start({
      faults: [
        { prefix: '/cdn/gone/', fault: { kind: 'status', status: 404 } },
        { prefix: '/cdn/broken/', fault: { kind: 'status', status: 500 } },
        { prefix: '/cdn/html/', fault: { kind: 'html' } },
        { prefix: '/cdn/fake/', fault: { kind: 'not-image' } },
      ],
    });
    expect((await get(`${server.url}/gone/thumb_1.jpg`)).status).toBe(404);
    expect((await get(`${server.url}/broken/thumb_1.jpg`)).status).toBe(500);
    const html = await get(`${server.url}/html/thumb_1.jpg`);
    expect([html.status, html.type]).toEqual([200, 'text/html; charset=utf-8']);
    const fake = await get(`${server.url}/fake/thumb_1.jpg`);
    expect([fake.status, fake.type, looksLikeJpeg(fake.body)]).toEqual([200, 'image/jpeg', false]);
    expect((await get(`${server.url}/fine/thumb_1.jpg`)).status).toBe(200);
    server.setFaults([]);
    expect((await get(`${server.url}/gone/thumb_1.jpg`)).status).toBe(200);
  });

  it('fails a path n times with 500, then serves it; reset starts over', async () => {
    const server = await start({ faults: [{ prefix: '/cdn/flaky/', fault: { kind: 'flaky', failures: 2 } }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(`${server.url}/flaky/thumb_9.jpg`)).status);
    expect(statuses).toEqual([500, 500, 200]);
    server.reset();
    expect((await get(`${server.url}/flaky/thumb_9.jpg`)).status).toBe(500);
  });

  it('takes faults from a per-path function, with the attempt number', async () => {
    const seen: [string, number][] = [];
    const server = await start({
      faultFor: (path, attempt) => {
        seen.push([path, attempt]);
        return path.includes('thumb_7') ? { kind: 'status', status: 410 } : undefined;
      },
    });
    expect((await get(`${server.url}/p/thumb_7.jpg`)).status).toBe(410);
    expect((await get(`${server.url}/p/thumb_8.jpg`)).status).toBe(200);
    expect((await get(`${server.url}/p/thumb_7.jpg`)).status).toBe(410);
    expect(seen).toEqual([['/cdn/p/thumb_7.jpg', 1], ['/cdn/p/thumb_8.jpg', 1], ['/cdn/p/thumb_7.jpg', 2]]);
  });

  it('streams an oversized body, with or without a declared length', async () => {
    const server = await start({
      faults: [
        { prefix: '/cdn/big/', fault: { kind: 'oversized', bytes: 3_000_000 } },
        { prefix: '/cdn/declared/', fault: { kind: 'oversized', bytes: 500_000, declareLength: true } },
      ],
    });
    const big = await get(`${server.url}/big/thumb_1.jpg`);
    expect([big.status, big.length, big.body.length, looksLikeJpeg(big.body)]).toEqual([200, null, 3_000_000, true]);
    const declared = await get(`${server.url}/declared/thumb_1.jpg`);
    expect([declared.length, declared.body.length]).toEqual(['500000', 500_000]);
    // A client that gives up early does not hang the server.
    const controller = new AbortController();
    const response = await fetch(`${server.url}/big/thumb_2.jpg`, { signal: controller.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    expect((await get(`${server.url}/ok/thumb_1.jpg`)).status).toBe(200);
  });

  it('delays the headers, or trickles the body, past a client timeout', async () => {
    const server = await start({
      faults: [
        { prefix: '/cdn/slow-headers/', fault: { kind: 'slow-headers', delayMs: 2000 } },
        { prefix: '/cdn/slow-body/', fault: { kind: 'slow-body', chunkDelayMs: 40, chunks: 5 } },
      ],
    });
    const started = performance.now();
    await expect(fetch(`${server.url}/slow-headers/thumb_1.jpg`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1500);
    const trickled = await get(`${server.url}/slow-body/thumb_1.jpg`);
    expect(trickled.ms).toBeGreaterThanOrEqual(150);
    expect(trickled.body.equals(tinyJpeg('thumb_1'))).toBe(true);
  });

  it('drops the connection or redirects when asked', async () => {
    const server = await start({
      faults: [
        { prefix: '/cdn/reset/', fault: { kind: 'reset' } },
        { prefix: '/cdn/moved/', fault: { kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data' } },
      ],
    });
    await expect(get(`${server.url}/reset/thumb_1.jpg`)).rejects.toThrow();
    const moved = await get(`${server.url}/moved/thumb_1.jpg`);
    expect(moved.status).toBe(302);
    expect(server.counts().get('/cdn/reset/thumb_1.jpg')).toBe(1);
  });
});
