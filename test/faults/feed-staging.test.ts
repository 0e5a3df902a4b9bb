import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FeedIngestService } from '../../src/catalog/feed/feed-ingest.service.js';
import { createContainer, type Container } from '../../src/container.js';
import { testConfig } from '../support/app.js';
import { FEED100_FIXTURE } from '../support/fixtures.js';

/**
 * A feed run stages its changed items in DATA_DIR/feed before applying them. A disk that refuses
 * that file fails the run cleanly (recorded, catalog untouched); it never ends the process.
 */
describe('a feed run whose staging file cannot be written', () => {
  let container: Container;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  beforeAll(() => void process.on('uncaughtException', onUncaught));
  afterAll(() => void process.off('uncaughtException', onUncaught));

  beforeEach(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }) });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await container.close();
    fs.rmSync(container.config.dataDir, { recursive: true, force: true });
    expect(uncaught.splice(0)).toEqual([]);
  });

  const ingest = async () => {
    const { config } = container;
    const images = { claim: async () => 0 };
    const service = new FeedIngestService({ database: container.database, store: container.store, clock: container.clock, logger: container.logger, config: config.feed, dataDir: config.dataDir, images });
    const result = await service.ingest({ url: FEED100_FIXTURE, trigger: 'cli' });
    if (result.kind !== 'finished') throw new Error('ingestion was locked');
    return result.run;
  };
  const pornstars = async () => Number((await sql<{ n: number }>`select count(*) as n from pornstars`.execute(container.database.db)).rows[0]!.n);
  const feedDir = () => path.join(container.config.dataDir, 'feed');

  it('fails the run when the staging file cannot be opened, and the next run succeeds once it can', async () => {
    // The first run's staging file is a directory: opening it fails (EISDIR), even for root.
    fs.mkdirSync(path.join(feedDir(), 'run-1.ndjson'), { recursive: true });
    const failed = await ingest();
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/EISDIR/) });
    expect(await pornstars()).toBe(0);

    expect(await ingest()).toMatchObject({ status: 'succeeded', created_count: 100 });
  });

  it('fails the run when the staging directory cannot be made, rather than leaving it running', async () => {
    fs.writeFileSync(feedDir(), 'not a directory');
    const run = await ingest();
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/EEXIST|ENOTDIR/) });
    expect(run.finished_at).not.toBeNull();
  });

  it('fails the run when the disk fills up while staging (ENOSPC)', async () => {
    vi.spyOn(fs, 'createWriteStream').mockImplementation(
      () =>
        new Writable({
          write: (_chunk, _encoding, done) => done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
        }) as fs.WriteStream,
    );
    const run = await ingest();
    expect(run).toMatchObject({ status: 'failed', error: expect.stringMatching(/ENOSPC/) });
    expect(await pornstars()).toBe(0);
  });
});
