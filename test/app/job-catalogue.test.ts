import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JOB_CATALOGUE, QUEUE_NAMES } from '../../src/app/job-catalogue.js';
import { startRole } from '../../src/app/roles.js';
import { defineJob, JobRegistry, type JobRunner } from '../../src/platform/queue/jobs.js';
import type { JobHandler, Queue, WorkOptions, Worker } from '../../src/platform/queue/queue.js';
import { testConfig } from '../support/app.js';

const first = defineJob<{ n: number }>('test.first');
const second = defineJob<{ s: string }>('test.second');
const runner = <P>(definition: JobRunner<P>['definition'], handler: JobHandler<P> = async () => {}): JobRunner<P> => ({ definition, handler, workOptions: {} });

/** A queue that only records which queues were worked, and with what concurrency. */
function workedQueues(): { queue: Queue; worked: Array<[string, number]> } {
  const worked: Array<[string, number]> = [];
  const work = (name: string, _handler: JobHandler, options: WorkOptions): Worker => {
    worked.push([name, options.concurrency]);
    return { stop: async () => {} };
  };
  return { queue: { work } as unknown as Queue, worked };
}

describe('job registry', () => {
  it('refuses to start while a job of the catalogue has no handler, and works none of them', () => {
    const registry = new JobRegistry([first, second]).handle(runner(first));
    const { queue, worked } = workedQueues();
    expect(() => registry.start(queue, { concurrency: 1 })).toThrow('Job queues without a handler: test.second');
    expect(worked).toEqual([]);
  });

  it('refuses a second handler for one job', () => {
    const registry = new JobRegistry([first, second]).handle(runner(first));
    expect(() => registry.handle(runner(first))).toThrow('Job queue "test.first" has two handlers');
  });

  it('refuses a handler for a job the catalogue does not list', () => {
    expect(() => new JobRegistry([first]).handle(runner(second))).toThrow('Job queue "test.second" is not in the job catalogue');
  });

  it('works every job of the catalogue with its options over the defaults, and closes what the handlers hold', async () => {
    const closed: string[] = [];
    const registry = new JobRegistry([first, second])
      .handle({ ...runner(first), workOptions: { concurrency: 3 }, close: async () => void closed.push('first') })
      .handle(runner(second));
    const { queue, worked } = workedQueues();
    registry.start(queue, { concurrency: 1 });
    expect(worked).toEqual([
      ['test.first', 3],
      ['test.second', 1],
    ]);
    await registry.close();
    expect(closed).toEqual(['first']);
  });
});

describe('job catalogue', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the list of queues that the CLI, the operator API and the metrics show', () => {
    expect(QUEUE_NAMES).toEqual(JOB_CATALOGUE.map((job) => job.queue));
    expect(QUEUE_NAMES).toEqual(['orders.integration', 'images.download', 'feed.ingest', 'webhooks.delivery']);
  });

  it('gives every job a handler: a worker starts', async () => {
    const config = await testConfig({ ROLE: 'worker', METRICS_PORT: '0', FEED_INGEST_ON_START: 'false', THIRD_PARTY_URL: 'http://127.0.0.1:9/unused' });
    const running = await startRole(config, { logger: pino({ level: 'silent' }) });
    await running.stop();
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  });

  it('refuses to start a worker when a job of the catalogue lost its handler', async () => {
    const handle = JobRegistry.prototype.handle;
    // As if `createJobRegistry` forgot the feed's handler.
    vi.spyOn(JobRegistry.prototype, 'handle').mockImplementation(function (this: JobRegistry, jobRunner) {
      return jobRunner.definition.queue === 'feed.ingest' ? this : handle.call(this, jobRunner);
    });
    const config = await testConfig({ ROLE: 'worker', METRICS_PORT: '0', FEED_INGEST_ON_START: 'false', THIRD_PARTY_URL: 'http://127.0.0.1:9/unused' });
    await expect(startRole(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow('Job queues without a handler: feed.ingest');
    fs.rmSync(config.dataDir, { recursive: true, force: true });
  });
});
