import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imagesStats, registerImagesCommands, type WithImages } from '../../../src/catalog/images/images.cli.js';
import { urlHash } from '../../../src/catalog/images/images.repository.js';
import { cachedImageUrl, imageView } from '../../../src/catalog/images/images.service.js';
import { fakeCliIo } from '../../support/fake-cli-io.js';
import { createImagesHarness, type ImagesHarness } from './harness.js';
import { MockCdn, png, send } from './mock-cdn.js';

describe('images service', () => {
  let cdn: MockCdn;
  let h: ImagesHarness;

  beforeEach(async () => {
    cdn = await new MockCdn().start();
    h = await createImagesHarness();
  });
  afterEach(async () => {
    await h.close();
    await cdn.close();
  });

  async function ingest(urls: string[]): Promise<void> {
    await h.temp.database.transaction((trx) => h.service.claim(trx, urls));
  }

  it('counts images by status, the bytes cached and the download jobs', async () => {
    cdn.route('/missing.png', (_req, res) => send(res, 404, 'text/plain', Buffer.from('no')));
    await ingest([cdn.url('/a.png'), cdn.url('/b.png'), cdn.url('/missing.png')]);
    expect(await h.service.stats()).toMatchObject({ total: 3, byStatus: { pending: 3, cached: 0, failed: 0 }, jobs: { ready: 3 } });

    h.startWorkers();
    await h.drain();
    const stats = await h.service.stats();
    expect(stats).toEqual({
      total: 3,
      byStatus: { pending: 0, cached: 2, failed: 1 },
      cachedBytes: png('/a.png').length + png('/b.png').length,
      jobs: { ready: 0, delayed: 0, active: 0, parked: 1 },
    });
    expect(await imagesStats(h.service)).toContain('images: 3 (cached 2, pending 0, failed 1)');
    expect((await h.service.listFailed()).map((r) => r.url)).toEqual([cdn.url('/missing.png')]);
  });

  it('ignores empty URLs and repeats within one claim', async () => {
    const url = cdn.url('/one.png');
    expect(await h.temp.database.transaction((trx) => h.service.claim(trx, [url, '', url, url]))).toBe(1);
  });

  it('shows each URL’s image state as the API joins it', async () => {
    await ingest([cdn.url('/shown.png')]);
    h.startWorkers();
    await h.drain();
    const views = await h.service.viewsFor([cdn.url('/shown.png'), cdn.url('/never-claimed.png')], 'http://api.test/');
    const row = (await h.image(cdn.url('/shown.png')))!;
    expect(views.get(cdn.url('/shown.png'))).toEqual({
      image_status: 'cached',
      local_path: `images/${row.sha256!.slice(0, 2)}/${row.sha256!.slice(2, 4)}/${row.sha256}.png`,
      cached_url: `http://api.test/images/${row.sha256}.png`,
    });
    expect(views.get(cdn.url('/never-claimed.png'))).toEqual({ image_status: null, local_path: null, cached_url: null });
    expect(imageView({ status: 'pending', sha256: null, ext: null }, 'http://api.test')).toEqual({ image_status: 'pending', local_path: null, cached_url: null });
    expect(h.service.cachedUrl('ab'.repeat(32), 'jpg', 'https://x.test')).toBe(cachedImageUrl('ab'.repeat(32), 'jpg', 'https://x.test/'));
    expect(row.url_hash).toBe(urlHash(cdn.url('/shown.png')));
  });

  it('registers images:stats and images:retry-failed on the CLI', async () => {
    const io = fakeCliIo();
    const program = new Command('intake').exitOverride();
    const withImages: WithImages = (work) => work(h.service);
    registerImagesCommands(program, withImages, io);
    await program.parseAsync(['images:stats'], { from: 'user' });
    await program.parseAsync(['images:retry-failed'], { from: 'user' });
    await program.parseAsync(['images:failed'], { from: 'user' });
    expect(io.out()).toMatch(/^images: 0 \(cached 0, pending 0, failed 0\)\n/);
    expect(io.out()).toMatch(/\nre-queued 0 failed image\(s\); moved 0 parked download job\(s\) back to the queue\nno failed images\n$/);
  });
});
