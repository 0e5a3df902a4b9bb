import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { imageDownloadJob } from '../../src/catalog/images/images.jobs.js';
import { createImagesHarness, type HarnessOptions, type ImagesHarness } from '../catalog/images/harness.js';
import { MockCdn } from '../catalog/images/mock-cdn.js';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * The image cache on a disk that refuses writes. The tests run as root, for whom permissions do not
 * bite: the store is broken with a regular file where its temp directory belongs (ENOTDIR, EEXIST
 * for anyone), and a full disk is injected into the writes (ENOSPC).
 */
describe('an image store that cannot be written', () => {
  let cdn: MockCdn | undefined;
  let h: ImagesHarness | undefined;
  // An 'error' event with no listener ends a real process: here it would only be reported.
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  beforeAll(() => void process.on('uncaughtException', onUncaught));
  afterAll(() => void process.off('uncaughtException', onUncaught));

  afterEach(async () => {
    vi.restoreAllMocks();
    expect(uncaught.splice(0)).toEqual([]);
    await h?.close();
    await cdn?.close();
    h = undefined;
    cdn = undefined;
  });

  async function start(options: HarnessOptions = {}): Promise<ImagesHarness> {
    cdn = await new MockCdn().start();
    h = await createImagesHarness({ maxAttempts: 2, ...options });
    return h;
  }

  async function download(...paths: string[]): Promise<void> {
    await h!.temp.database.transaction((trx) => h!.service.claim(trx, paths.map((p) => cdn!.url(p))));
    await h!.drain();
  }

  /** Replaces DATA_DIR/images/tmp with a regular file: every temp file under it fails, even for root. */
  function breakTempDir(): void {
    fs.rmSync(h!.temps.dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(h!.dataDir, 'images'), { recursive: true });
    fs.writeFileSync(h!.temps.dir, 'not a directory');
  }

  function repairTempDir(): void {
    fs.rmSync(h!.temps.dir, { force: true });
  }

  it('retries a download whose temp directory cannot be made, then parks it; the process stays up', async () => {
    await start();
    breakTempDir();
    h!.startWorkers();
    await download('/a.png', '/b.png');
    for (const p of ['/a.png', '/b.png']) {
      expect(await h!.image(cdn!.url(p))).toMatchObject({ status: 'failed', attempts: 2, last_error: expect.stringMatching(/^image store not writable: E(EXIST|NOTDIR)/) });
    }
    expect((await h!.queue.stats(imageDownloadJob.queue)).counts).toMatchObject({ parked: 2, active: 0 });
    expect(h!.storedFiles()).toEqual([]);
  });

  it('survives the temp directory breaking after downloads began, and caches again once it is repaired', async () => {
    await start();
    h!.startWorkers();
    await download('/first.png');
    expect(await h!.image(cdn!.url('/first.png'))).toMatchObject({ status: 'cached' });

    breakTempDir();
    await download('/second.png', '/third.png');
    expect(await h!.image(cdn!.url('/second.png'))).toMatchObject({ status: 'failed', attempts: 2, last_error: expect.stringMatching(/^image store not writable: ENOTDIR/) });
    await expect(h!.jobs.checkWritable()).rejects.toThrow(/ENOTDIR/);

    repairTempDir();
    expect(await h!.service.retryFailed()).toEqual({ images: 2, parkedJobs: 2 });
    await h!.drain();
    expect(await h!.image(cdn!.url('/third.png'))).toMatchObject({ status: 'cached', last_error: null });
    await expect(h!.jobs.checkWritable()).resolves.toBeUndefined();
    expect(h!.tempFiles()).toEqual([]);
  });

  it('retries a download that finds the disk full mid-body (ENOSPC), leaving no partial file', async () => {
    await start({ writeCheckTtlMs: 0 });
    const realOpen = fs.promises.open;
    let full = true;
    vi.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof realOpen>) => {
      const handle = await realOpen(...args);
      if (full && path.dirname(String(args[0])) === h!.temps.dir) {
        handle.write = (() => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }))) as typeof handle.write;
      }
      return handle;
    });
    h!.startWorkers();
    await download('/full.png');
    expect(await h!.image(cdn!.url('/full.png'))).toMatchObject({ status: 'failed', attempts: 2, last_error: expect.stringMatching(/^image store not writable: ENOSPC/) });
    expect(h!.tempFiles()).toEqual([]);
    await expect(h!.jobs.checkWritable()).rejects.toThrow(/ENOSPC/);

    full = false;
    await expect(h!.jobs.checkWritable()).resolves.toBeUndefined();
    expect(h!.tempFiles()).toEqual([]);
  });
});

describe('readiness of the image cache', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** DATA_DIR/images as a regular file: nothing can be stored under it. */
  const breakStore = (app: TestApp) => fs.writeFileSync(path.join(app.config.dataDir, 'images'), 'not a directory');

  it('fails /ready, naming the image cache, in a role that downloads images', async () => {
    t = await createTestApp({ env: { ROLE: 'all' } });
    breakStore(t);
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'up', store: 'up', queue: 'up', images: 'down' } });
  });

  it('reports a writable image cache as up', async () => {
    t = await createTestApp({ env: { ROLE: 'worker' } });
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'up', store: 'up', queue: 'up', images: 'up' } });
    expect(fs.readdirSync(path.join(t.config.dataDir, 'images', 'tmp'))).toEqual([]);
  });

  it('leaves the image cache out of the api role, which only reads it', async () => {
    t = await createTestApp({ env: { ROLE: 'api' } });
    breakStore(t);
    const res = await t.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { database: 'up', store: 'up', queue: 'up' } });
  });
});
