import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiApp } from '../../../src/app/api-app.js';
import { createContainer, createJobRegistry, type Container } from '../../../src/app/container.js';
import { imageRelativePath } from '../../../src/catalog/images/image-files.js';
import { findImageByUrlHash, urlHash } from '../../../src/catalog/images/images.repository.js';
import type { Worker } from '../../../src/platform/queue/queue.js';
import { testConfig } from '../../support/app.js';
import { waitFor } from '../../support/driver-wait.js';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../../support/s3-server.js';
import { jpeg, MockCdn, send } from './mock-cdn.js';

/**
 * IMAGE_STORE=s3 end to end, as scale-out runs it: a worker host downloads into the bucket, and an
 * API host with an empty disk of its own serves what the worker stored.
 */
describe('the image cache in an S3 bucket shared by a worker host and an API host', () => {
  let server: TestS3Server;
  let cdn: MockCdn;
  let worker: Container;
  let api: Container;
  let workers: Worker[] = [];
  let closeJobs: () => Promise<void>;

  const s3Env = () => ({
    IMAGE_STORE: 's3',
    IMAGE_S3_ENDPOINT: server.endpoint,
    IMAGE_S3_BUCKET: server.bucket,
    IMAGE_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    IMAGE_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  });

  beforeAll(async () => {
    server = await startS3Server();
    cdn = await new MockCdn().start();
    const silent = { logger: pino({ level: 'silent' }) };
    worker = await createContainer(await testConfig({ ...s3Env(), ROLE: 'worker', IMAGE_ALLOW_PRIVATE_HOSTS: 'true', JOB_BACKOFF_MS: '10', JOB_BACKOFF_MAX_MS: '50' }), silent);
    api = await createContainer(await testConfig({ ...s3Env(), ROLE: 'api' }), silent);
    const jobs = createJobRegistry(worker, 'http://127.0.0.1:9/unused');
    workers = jobs.registry.start(worker.queue, { concurrency: 4 });
    closeJobs = jobs.close;
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop(1000)));
    await closeJobs();
    for (const container of [worker, api]) {
      await container.close();
      fs.rmSync(container.config.dataDir, { recursive: true, force: true });
    }
    await cdn.close();
    await server.close();
  });

  const imageOf = (url: string) => findImageByUrlHash(worker.database.db, urlHash(url));

  it('downloads each URL once into the bucket, keeps nothing on the worker disk, and the API host serves it', async () => {
    const same = jpeg('one picture');
    cdn.route('/a.jpg', (_req, res) => send(res, 200, 'image/jpeg', same));
    cdn.route('/b.jpg', (_req, res) => send(res, 200, 'image/jpeg', same));
    const urls = [cdn.url('/a.jpg'), cdn.url('/b.jpg'), ...Array.from({ length: 10 }, (_, i) => cdn.url(`/img-${i}.png`))];
    await worker.database.transaction((trx) => worker.images.claim(trx, urls));
    await waitFor(async () => (await Promise.all(urls.map(imageOf))).every((row) => row?.status === 'cached'), 20_000, 'every image to be cached');

    expect(cdn.totalHits()).toBe(urls.length);
    const rows = await Promise.all(urls.map(imageOf));
    const keys = new Set(rows.map((row) => imageRelativePath(row!.sha256!, row!.ext!)));
    // Identical bytes from two URLs are one object.
    expect(keys.size).toBe(urls.length - 1);
    for (const key of keys) expect(await api.imageStore.has(key)).toBe(true);
    const onWorkerDisk = fs.readdirSync(path.join(worker.config.dataDir, 'images'), { recursive: true }) as string[];
    expect(onWorkerDisk.filter((name) => name !== 'tmp')).toEqual([]);

    const app = await buildApiApp(api);
    try {
      const a = rows[0]!;
      const served = await app.inject({ method: 'GET', url: `/images/${a.sha256}.${a.ext}` });
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-type']).toBe('image/jpeg');
      expect(served.headers.etag).toBe(`"${a.sha256}"`);
      expect(served.rawPayload).toEqual(same);
      expect(fs.existsSync(path.join(api.config.dataDir, 'images'))).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('reports the bucket in the worker readiness: up while it answers, down once it does not', async () => {
    const app = await buildApiApp(worker);
    try {
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.json()).toMatchObject({ checks: { images: 'up' } });
      await server.close();
      // The last write's outcome answers for a few seconds; the next probe meets the closed server.
      await waitFor(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 503, 10_000, 'readiness to see the bucket gone');
      expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({ status: 'unavailable', checks: { images: 'down' } });
    } finally {
      await app.close();
      server = await startS3Server();
    }
  });
});
