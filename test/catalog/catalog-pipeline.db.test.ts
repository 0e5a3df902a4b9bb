import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiApp } from '../../src/app/api-app.js';
import { startMockCdn, type MockCdn } from '../../dev/catalog/index.js';
import { createContainer, createJobRegistry, type Container } from '../../src/app/container.js';
import type { Worker } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';
import { parsePrometheus } from '../support/prometheus.js';
import { waitFor } from '../support/driver-wait.js';
import { FEED100_FIXTURE } from '../support/fixtures.js';

const FIXTURE = FEED100_FIXTURE;

interface PornstarView {
  id: number;
  thumbnails: Array<{ urls: Array<{ url: string; cached_url: string | null; image_status: string | null; local_path: string | null }> }>;
}

/** The real excerpt, its thumbnails served by a local CDN: feed → catalog → one download per distinct URL → API. */
describe('catalog pipeline on the real excerpt', () => {
  let container: Container;
  let cdn: MockCdn;
  let feedFile: string;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;
  let distinctPaths: Set<string>;

  beforeAll(async () => {
    cdn = await startMockCdn();
    container = await createContainer(await testConfig({ IMAGE_ALLOW_PRIVATE_HOSTS: 'true', JOB_BACKOFF_MS: '10', JOB_BACKOFF_MAX_MS: '50' }), { logger: pino({ level: 'silent' }) });
    const local = fs.readFileSync(FIXTURE, 'utf8').replaceAll('https:\\/\\/ei.phncdn.com', cdn.url.replaceAll('/', '\\/'));
    feedFile = path.join(container.config.dataDir, 'feed100-local.json');
    fs.writeFileSync(feedFile, local);
    const items = (JSON.parse(local) as { items: Array<{ thumbnails: Array<{ urls: string[] }> }> }).items;
    distinctPaths = new Set(items.flatMap((item) => item.thumbnails.flatMap((t) => t.urls)).map((url) => new URL(url).pathname));
    const jobs = createJobRegistry(container, 'http://127.0.0.1:9/unused');
    workers = jobs.registry.start(container.queue, { concurrency: 4 });
    closeJobs = jobs.close;
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(1000)));
    await closeJobs();
    await container.close();
    await cdn.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
  });

  const pendingImages = async () =>
    Number((await container.database.db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);

  it('downloads each distinct thumbnail URL exactly once and serves it through the API', async () => {
    const result = await container.feed.ingest({ url: feedFile, trigger: 'cli' });
    expect(result.kind === 'finished' && result.run).toMatchObject({ status: 'succeeded', created_count: 100, images_enqueued: distinctPaths.size });
    await waitFor(async () => (await pendingImages()) === 0, 30_000, 'every image to be downloaded');

    const counts = cdn.counts();
    expect(new Set(counts.keys())).toEqual(distinctPaths);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    const app = await buildApiApp(container);
    try {
      const list = await app.inject({ method: 'GET', url: '/api/v1/pornstars?per_page=100' });
      expect(list.statusCode).toBe(200);
      const stars = (list.json() as { data: PornstarView[] }).data;
      expect(stars).toHaveLength(100);
      const urls = stars.flatMap((s) => s.thumbnails.flatMap((t) => t.urls));
      expect(urls.length).toBeGreaterThan(0);
      expect(urls.every((u) => u.image_status === 'cached' && u.cached_url !== null)).toBe(true);
      const image = await app.inject({ method: 'GET', url: new URL(urls[0]!.cached_url!).pathname });
      expect(image.statusCode).toBe(200);
      expect(image.headers['content-type']).toMatch(/^image\//);
      expect(fs.existsSync(path.join(container.config.dataDir, urls[0]!.local_path!))).toBe(true);

      const metrics = parsePrometheus((await app.inject({ method: 'GET', url: '/metrics' })).body);
      expect(metrics.get('feed_runs_total{role=api,status=succeeded}')).toBe(1);
      expect(metrics.get('feed_items_total{outcome=created,role=api}')).toBe(100);
      expect(metrics.get('feed_last_success_timestamp_seconds{role=api}')).toBeGreaterThan(0);
      expect(metrics.get('jobs_enqueued_total{priority=1,queue=images.download,role=api}')).toBe(distinctPaths.size);
      expect(metrics.get('images_total{role=api,status=cached}')).toBe(distinctPaths.size);
      expect(metrics.get('image_download_duration_seconds_count{role=api}')).toBe(distinctPaths.size);
      expect(metrics.get('image_bytes_total{role=api}')).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('a second ingest of the same feed writes no catalog row and downloads nothing', async () => {
    const copy = path.join(container.config.dataDir, 'feed100-copy.json');
    fs.copyFileSync(feedFile, copy);
    const before = cdn.total();
    const result = await container.feed.ingest({ url: copy, trigger: 'cli' });
    expect(result.kind === 'finished' && result.run).toMatchObject({ status: 'unchanged', created_count: 0, updated_count: 0, removed_count: 0, images_enqueued: 0 });
    expect(await pendingImages()).toBe(0);
    expect(cdn.total()).toBe(before);
  });
});
