import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { ImageTempFiles } from '../../../src/catalog/images/image-temp-files.js';
import { ImageFetcher, type ImageFetcherOptions } from '../../../src/catalog/images/image-fetcher.js';
import { guardedConnector, isAllowedHost, isBlockedAddress, type LookupFunction } from '../../../src/platform/net/ssrf.js';
import { createImagesHarness } from './harness.js';
import { MockCdn } from './mock-cdn.js';

describe('SSRF guard: addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a00:1',
    '::ffff:169.254.169.254',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts the public address %s', (address) => {
    expect(isBlockedAddress(address)).toBe(false);
  });

  it('matches the allowlist by exact host or by *.suffix', () => {
    const allowed = ['cdn.example.com', '*.images.test'];
    expect(isAllowedHost('cdn.example.com', allowed)).toBe(true);
    expect(isAllowedHost('CDN.Example.com.', allowed)).toBe(true);
    expect(isAllowedHost('a.images.test', allowed)).toBe(true);
    expect(isAllowedHost('a.b.images.test', allowed)).toBe(true);
    expect(isAllowedHost('images.test', allowed)).toBe(false);
    expect(isAllowedHost('evilimages.test', allowed)).toBe(false);
    expect(isAllowedHost('cdn.example.com.evil.test', allowed)).toBe(false);
    expect(isAllowedHost('anything.test', [])).toBe(true);
  });
});

describe('SSRF guard: downloads', () => {
  let cdn: MockCdn;
  let dataDir: string;
  const fetchers: ImageFetcher[] = [];

  beforeAll(async () => {
    cdn = await new MockCdn().start();
    cdn.route('/to-localhost.png', (_req, res) => {
      res.writeHead(302, { location: `http://localhost:${cdn.port}/target.png` });
      res.end();
    });
  });
  afterAll(async () => {
    await cdn.close();
  });
  afterEach(async () => {
    await Promise.all(fetchers.splice(0).map((f) => f.close()));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Answers every name with `address`, as a DNS server under an attacker's control could. */
  const resolveTo =
    (address: string): LookupFunction =>
    (_hostname, _options, callback) =>
      callback(null, [{ address, family: address.includes(':') ? 6 : 4 }]);

  function fetcher(options: Partial<ImageFetcherOptions> = {}): ImageFetcher {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-ssrf-'));
    const f = new ImageFetcher(new ImageTempFiles(dataDir), new DiskImageStore(dataDir), {
      maxBytes: 64 * 1024,
      maxPixels: 40_000_000,
      maxFrames: 100,
      timeoutMs: 2_000,
      perOriginConnections: 4,
      concurrency: 4,
      allowPrivateHosts: false,
      allowedHosts: [],
      ...options,
    });
    fetchers.push(f);
    return f;
  }

  it.each([
    ['loopback', () => cdn.url('/x.png')],
    ['a private address', () => 'http://10.0.0.1/x.png'],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', () => `http://[::1]:${cdn.port}/x.png`],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${cdn.port}/x.png`],
    ['a name that resolves to loopback', () => `http://localhost:${cdn.port}/x.png`],
  ])('refuses %s without sending a request', async (_what, url) => {
    const before = cdn.totalHits();
    await expect(fetcher().fetch(url())).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/^refused: /) });
    expect(cdn.totalHits()).toBe(before);
  });

  it('checks the addresses a name resolves to when connecting, so a rebound DNS answer is refused', async () => {
    const before = cdn.totalHits();
    const f = fetcher({ resolve: resolveTo('127.0.0.1') });
    await expect(f.fetch(`http://images.example.test:${cdn.port}/x.png`)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('resolves to 127.0.0.1'),
    });
    expect(cdn.totalHits()).toBe(before);
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/x.png', 'javascript:alert(1)', 'not a url', 'http://user:pw@example.com/x.png'])(
    'refuses %s',
    async (url) => {
      await expect(fetcher({ allowPrivateHosts: true }).fetch(url)).rejects.toMatchObject({ retryable: false });
    },
  );

  it('allows private targets when IMAGE_ALLOW_PRIVATE_HOSTS is set', async () => {
    const stored = await fetcher({ allowPrivateHosts: true }).fetch(cdn.url('/allowed.png'));
    expect(stored).toMatchObject({ ext: 'png', contentType: 'image/png' });
    expect(cdn.hitsOf('/allowed.png')).toBe(1);
  });

  it('fetches from a host the allowlist names, exactly or by suffix', async () => {
    const exact = fetcher({ allowPrivateHosts: true, allowedHosts: ['127.0.0.1'] });
    await expect(exact.fetch(cdn.url('/exact.png'))).resolves.toMatchObject({ ext: 'png' });
    const bySuffix = fetcher({ allowPrivateHosts: true, allowedHosts: ['*.example.test'], resolve: resolveTo('127.0.0.1') });
    await expect(bySuffix.fetch(`http://img.example.test:${cdn.port}/suffix.png`)).resolves.toMatchObject({ ext: 'png' });
  });

  it('refuses a host outside the allowlist, even when private hosts are allowed', async () => {
    const f = fetcher({ allowPrivateHosts: true, allowedHosts: ['cdn.example.test'] });
    await expect(f.fetch(cdn.url('/outside.png'))).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('allowed hosts') });
    expect(cdn.hitsOf('/outside.png')).toBe(0);
  });

  it('applies the allowlist to redirect targets too', async () => {
    const f = fetcher({ allowPrivateHosts: true, allowedHosts: ['127.0.0.1'] });
    await expect(f.fetch(cdn.url('/to-localhost.png'))).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('localhost') });
    expect(cdn.hitsOf('/to-localhost.png')).toBe(1);
    expect(cdn.hitsOf('/target.png')).toBe(0);
  });

  it('follows a redirect to an allowed host', async () => {
    const f = fetcher({ allowPrivateHosts: true });
    await expect(f.fetch(cdn.url('/to-localhost.png'))).resolves.toMatchObject({ ext: 'png' });
    expect(cdn.hitsOf('/target.png')).toBe(1);
  });

  it('fails the image of a refused URL at once, through the download job', async () => {
    const h = await createImagesHarness({ images: { allowPrivateHosts: false } });
    try {
      const url = cdn.url('/never.png');
      await h.temp.database.transaction((trx) => h.service.claim(trx, [url]));
      h.startWorkers();
      await h.drain();
      expect(await h.image(url)).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.stringContaining('not public') });
      expect(cdn.hitsOf('/never.png')).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('SSRF guard: connector', () => {
  it('refuses an IP literal at connect time, as it would after a redirect', async () => {
    const connect = guardedConnector({ allowPrivateHosts: false, allowedHosts: [], connectTimeoutMs: 1_000 });
    const error = await new Promise<Error | null>((resolve) => connect({ hostname: '127.0.0.1', protocol: 'http:', port: '80' }, (...args) => resolve(args[0])));
    expect(error).toMatchObject({ code: 'ERR_TARGET_BLOCKED' });
  });
});
