import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageRelativePath } from '../../../src/catalog/images/image-files.js';
import { imageDownloadJob } from '../../../src/catalog/images/images.jobs.js';
import { createImagesHarness, type ImagesHarness } from './harness.js';
import { jpeg, MockCdn, send } from './mock-cdn.js';

describe('images are downloaded exactly once', () => {
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

  it('enqueues and fetches each of 2,000 URLs once when two ingestions claim them concurrently', async () => {
    const distinct = Array.from({ length: 2_000 }, (_, i) => cdn.url(`/img/${i}.${i % 2 === 0 ? 'png' : 'jpg'}`));
    // Each "ingestion" sees every URL in its own order, with repeats inside a batch (three thumbnails share a URL).
    const ingestion = (seed: number) => {
      const urls = distinct.flatMap((url, i) => (i % 3 === seed ? [url, url, url] : [url]));
      return seed === 0 ? urls : urls.reverse();
    };
    const claimInBatches = async (urls: string[]) => {
      let enqueued = 0;
      for (let i = 0; i < urls.length; i += 250) {
        enqueued += await h.temp.database.transaction((trx) => h.service.claim(trx, urls.slice(i, i + 250)));
      }
      return enqueued;
    };

    const [first, second] = await Promise.all([claimInBatches(ingestion(0)), claimInBatches(ingestion(1))]);
    expect(first + second).toBe(2_000);
    expect((await h.queue.stats(imageDownloadJob.queue)).counts.ready).toBe(2_000);

    h.startWorkers();
    await h.drain(60_000);

    expect(cdn.hits.size).toBe(2_000);
    expect([...cdn.hits.values()].every((n) => n === 1)).toBe(true);
    expect((await h.service.stats()).byStatus).toEqual({ pending: 0, cached: 2_000, failed: 0 });
    expect(h.storedFiles()).toHaveLength(2_000);
    expect(h.tempFiles()).toEqual([]);

    // A later ingestion of the same URLs claims nothing and fetches nothing.
    expect(await h.temp.database.transaction((trx) => h.service.claim(trx, distinct))).toBe(0);
    await h.drain();
    expect(cdn.totalHits()).toBe(2_000);
  }, 120_000);

  it('stores identical bytes from two URLs once, and marks both cached with the same hash', async () => {
    const body = jpeg('same picture');
    cdn.route('/a.jpg', (_req, res) => send(res, 200, 'image/jpeg', body));
    cdn.route('/b.jpg', (_req, res) => send(res, 200, 'image/jpeg', body));
    await h.temp.database.transaction((trx) => h.service.claim(trx, [cdn.url('/a.jpg'), cdn.url('/b.jpg')]));
    h.startWorkers();
    await h.drain();

    const [a, b] = [await h.image(cdn.url('/a.jpg')), await h.image(cdn.url('/b.jpg'))];
    expect(a).toMatchObject({ status: 'cached', ext: 'jpg', content_type: 'image/jpeg', bytes: body.length });
    expect(b?.sha256).toBe(a?.sha256);
    expect(h.storedFiles()).toEqual([`${a!.sha256!.slice(0, 2)}/${a!.sha256!.slice(2, 4)}/${a!.sha256}.jpg`]);
    expect(fs.readFileSync(path.join(h.dataDir, 'images', imageRelativePath(a!.sha256!, 'jpg')))).toEqual(body);
  });

  it('never fetches a cached image again, even when its job is delivered twice', async () => {
    const url = cdn.url('/once.png');
    await h.temp.database.transaction((trx) => h.service.claim(trx, [url]));
    h.startWorkers();
    await h.drain();
    // A redelivery (at-least-once) of the same payload.
    await h.queue.enqueue(imageDownloadJob.queue, { urlHash: (await h.image(url))!.url_hash });
    await h.drain();
    expect(cdn.hitsOf('/once.png')).toBe(1);
  });

  it('leaves no row and no job behind when the claiming transaction rolls back', async () => {
    const url = cdn.url('/rolled-back.png');
    await expect(
      h.temp.database.transaction(async (trx) => {
        await h.service.claim(trx, [url]);
        throw new Error('the ingestion failed');
      }),
    ).rejects.toThrow('the ingestion failed');
    expect(await h.image(url)).toBeUndefined();
    expect((await h.queue.stats(imageDownloadJob.queue)).counts.ready).toBe(0);
    // The URL is claimable again by the next ingestion.
    expect(await h.temp.database.transaction((trx) => h.service.claim(trx, [url]))).toBe(1);
  });
});
