import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedStaging } from '../../../src/catalog/feed/feed-staging.js';

describe('FeedStaging', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const fileIn = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-staging-'));
    dirs.push(dir);
    return path.join(dir, 'run-1.ndjson');
  };

  it('leaves no file behind when a run is discarded before its file was even opened', async () => {
    // The open and the removal run on libuv's thread pool: many at once make a lost race likelier to show.
    const files = Array.from({ length: 200 }, (_, i) => `${fileIn()}.${i}`);
    await Promise.all(files.map((file) => new FeedStaging(file).discard()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(files.filter((file) => fs.existsSync(file))).toEqual([]);
  });

  it('reads back what it staged in batches, and removes its file when discarded', async () => {
    const file = fileIn();
    const staging = new FeedStaging(file);
    for (let id = 1; id <= 5; id++) await staging.add({ item: { externalId: String(id) } as never, contentHash: `h${id}` });
    await staging.close();
    const batches: string[][] = [];
    for await (const batch of staging.batches(2)) batches.push(batch.map((s) => s.contentHash));
    expect(batches).toEqual([['h1', 'h2'], ['h3', 'h4'], ['h5']]);
    await staging.discard();
    expect(fs.existsSync(file)).toBe(false);
  });
});
