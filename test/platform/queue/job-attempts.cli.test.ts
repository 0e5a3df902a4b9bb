import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { priorityName } from '../../../src/orders/priority.js';
import { addVerboseOption, runProgram } from '../../../src/platform/cli/run-program.js';
import { NotFoundError } from '../../../src/platform/errors/domain-errors.js';
import { registerJobShowCommand } from '../../../src/platform/queue/job-attempts.cli.js';
import type { JobDetail } from '../../../src/platform/queue/job-attempts.service.js';
import { fakeCliIo, type FakeCliIo } from '../../support/fake-cli-io.js';

const QUEUE = 'orders.integration';
const AT = Date.UTC(2026, 11, 4, 10, 32, 5);

const parked: JobDetail = {
  id: '17',
  queue: QUEUE,
  state: 'parked',
  searched: 'all',
  payload: { itemId: 42 },
  headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  priority: 4,
  enqueuedAt: AT,
  attemptsMade: 2,
  maxAttempts: 2,
  lastError: 'third party answered 503',
  attempts: [
    { attempt: 1, outcome: 'retried', startedAt: AT + 1_000, durationMs: 120, error: 'third party answered 503', process: 'worker-a:101' },
    { attempt: 2, outcome: 'failed', startedAt: AT + 3_000, durationMs: 95, error: 'third party answered 503', process: 'worker-a:101' },
    { attempt: 2, outcome: 'parked', startedAt: AT + 3_100, durationMs: null, error: 'third party answered 503', process: 'worker-a:101' },
  ],
};

async function show(jobs: Record<string, JobDetail>, io: FakeCliIo, ...args: string[]): Promise<number> {
  const program = addVerboseOption(new Command('intake'));
  const service = {
    detail: async (queue: string, id: string) => {
      const job = jobs[`${queue}/${id}`];
      if (!job) throw new NotFoundError(`No job ${id} in ${queue}: the queue does not hold it, and no attempt of it is recorded.`);
      return job;
    },
  };
  registerJobShowCommand(program, { queueNames: [QUEUE, 'images.download'], priorityName }, (work) => work(service), io);
  return runProgram(program, args, io, 'user');
}

describe('jobs:show', () => {
  it('prints the job, its trace id and payload, and a table of every attempt', async () => {
    const io = fakeCliIo();
    expect(await show({ [`${QUEUE}/17`]: parked }, io, 'jobs:show', QUEUE, '17')).toBe(0);
    const out = io.out();
    expect(out).toContain(`job 17 of ${QUEUE}`);
    expect(out).toContain('state:       parked');
    expect(out).toContain('priority:    critical');
    expect(out).toContain('enqueued at: 2026-12-04T10:32:05.000Z');
    expect(out).toContain('trace id:    4bf92f3577b34da6a3ce929d0e0e4736');
    expect(out).toContain('attempts:    2 of 2, last error: third party answered 503');
    expect(out).toContain('payload:     {"itemId":42}');
    const table = out.slice(out.indexOf('attempt  outcome')).trimEnd().split('\n');
    expect(table).toHaveLength(4);
    expect(table[1]).toMatch(/^\s*1 {2}retried {2}2026-12-04T10:32:06\.000Z\s+120 ms {2}worker-a:101 {2}third party answered 503$/);
    expect(table[3]).toMatch(/^\s*2 {2}parked\s+2026-12-04T10:32:08\.100Z\s+worker-a:101/);
  });

  it('says a finished job is no longer held, and prints JSON with --json', async () => {
    const finished = { ...parked, state: null, attemptsMade: null, maxAttempts: null, lastError: null };
    const io = fakeCliIo();
    await show({ [`${QUEUE}/17`]: finished }, io, 'jobs:show', QUEUE, '17');
    expect(io.out()).toContain('state:       finished, or unknown to the queue');
    expect(io.out()).not.toContain('attempts:    ');
    const json = fakeCliIo();
    await show({ [`${QUEUE}/17`]: finished }, json, 'jobs:show', QUEUE, '17', '--json');
    expect(JSON.parse(json.out())).toEqual(finished);
  });

  it('fails with one line for an unknown job, and refuses an unknown queue', async () => {
    const io = fakeCliIo();
    expect(await show({}, io, 'jobs:show', QUEUE, '99')).toBe(1);
    expect(io.err()).toBe(`error: No job 99 in ${QUEUE}: the queue does not hold it, and no attempt of it is recorded.\n`);
    const unknown = fakeCliIo();
    expect(await show({}, unknown, 'jobs:show', 'nope', '1')).not.toBe(0);
    expect(unknown.err()).toContain("value 'nope' is invalid for argument 'queue'");
  });
});
