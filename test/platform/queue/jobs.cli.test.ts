import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { priorityName } from '../../../src/orders/priority.js';
import { addVerboseOption, runProgram } from '../../../src/platform/cli/run-program.js';
import { DRY_RUN_LISTED, registerJobsCommands, type QueueOperations } from '../../../src/platform/queue/jobs.cli.js';
import { emptyStats, type ParkedJob, type Priority } from '../../../src/platform/queue/queue.js';
import { fakeCliIo, type FakeCliIo } from '../../support/fake-cli-io.js';

const QUEUE = 'orders.integration';

/** Parked jobs in memory, with the semantics of the drivers: each operation returns how many it touched. */
class ParkedQueue implements QueueOperations {
  readonly jobs = new Map<string, ParkedJob>();
  readonly retried: string[] = [];
  inexactParked = false;

  constructor(count: number) {
    for (let i = 1; i <= count; i++) {
      const id = String(i);
      this.jobs.set(id, { id, queue: QUEUE, payload: { itemId: i }, priority: ((i % 5) + 1) as Priority, attempts: 5, maxAttempts: 5, lastError: `third party down ${'x'.repeat(i % 3 === 0 ? 300 : 5)}`, createdAt: 0, parkedAt: 1_000 * i });
    }
  }

  async stats(queue: string) {
    const stats = emptyStats(queue);
    if (queue !== QUEUE) return stats;
    stats.counts.parked = this.jobs.size;
    for (const job of this.jobs.values()) stats.byPriority.parked[job.priority]++;
    if (this.inexactParked) stats.byPriorityExact = { ready: true, delayed: true, active: true, parked: false };
    return stats;
  }

  async parked(queue: string, options: { limit?: number; offset?: number } = {}) {
    const offset = options.offset ?? 0;
    return queue === QUEUE ? [...this.jobs.values()].slice(offset, offset + (options.limit ?? 50)) : [];
  }

  async retryParked(queue: string, ids: string[] | 'all') {
    return this.take(queue, ids === 'all' ? undefined : ids, (id) => this.retried.push(id));
  }

  async purgeParked(queue: string, ids?: string[]) {
    return this.take(queue, ids, () => undefined);
  }

  private take(queue: string, ids: string[] | undefined, each: (id: string) => void): number {
    if (queue !== QUEUE) return 0;
    const taken = (ids ?? [...this.jobs.keys()]).filter((id) => this.jobs.delete(id));
    taken.forEach(each);
    return taken.length;
  }
}

async function jobs(queue: ParkedQueue, io: FakeCliIo, ...args: string[]): Promise<number> {
  const program = addVerboseOption(new Command('intake'));
  registerJobsCommands(program, { queueNames: [QUEUE, 'images.download'], priorityName }, (work) => work(queue), io);
  return runProgram(program, args, io, 'user');
}

describe('jobs:purge of a whole queue', () => {
  it('refuses without --yes when stdin is not a terminal, and deletes nothing', async () => {
    const queue = new ParkedQueue(1428);
    const io = fakeCliIo({ tty: false });
    expect(await jobs(queue, io, 'jobs:purge')).toBe(1);
    expect(io.err()).toBe('error: refusing to purge 1428 parked job(s) of orders.integration without confirmation: stdin is not a terminal; pass --yes to go ahead, or --dry-run to see what it would do\n');
    expect(io.out()).toBe('');
    expect(queue.jobs.size).toBe(1428);
  });

  it('purges everything with --yes', async () => {
    const queue = new ParkedQueue(1428);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:purge', '--yes')).toBe(0);
    expect(io.out()).toBe('purged 1428 job(s)\n');
    expect(queue.jobs.size).toBe(0);
  });

  it('shows the count and the jobs with --dry-run, and deletes nothing', async () => {
    const queue = new ParkedQueue(150);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:purge', '--dry-run')).toBe(0);
    expect(io.out()).toContain(`dry run: would purge 150 parked job(s) of orders.integration (the first ${DRY_RUN_LISTED} listed); nothing changed`);
    expect(io.out()).toMatch(/^id\s+priority\s+attempts\s+parked_at\s+last_error/);
    expect(io.out().split('\n').filter((line) => /^\d+\s/.test(line))).toHaveLength(DRY_RUN_LISTED);
    expect(queue.jobs.size).toBe(150);

    const json = fakeCliIo();
    expect(await jobs(queue, json, 'jobs:purge', '--dry-run', '--json')).toBe(0);
    const report = JSON.parse(json.out()) as { dryRun: boolean; count: number; jobs: { id: string; priority: string }[] };
    expect(report).toMatchObject({ dryRun: true, count: 150, action: 'purge', queue: QUEUE });
    expect(report.jobs).toHaveLength(DRY_RUN_LISTED);
    expect(report.jobs[0]).toMatchObject({ id: '1', priority: 'normal' });
    expect(queue.jobs.size).toBe(150);
  });

  it('asks on a terminal: "n" keeps the jobs and fails, "y" purges them', async () => {
    const queue = new ParkedQueue(3);
    const no = fakeCliIo({ tty: true, answer: 'n' });
    expect(await jobs(queue, no, 'jobs:purge')).toBe(1);
    expect(no.err()).toBe('Purge 3 parked job(s) of orders.integration? [y/N] error: aborted: did not purge 3 parked job(s) of orders.integration\n');
    expect(queue.jobs.size).toBe(3);

    const empty = fakeCliIo({ tty: true, answer: '' });
    expect(await jobs(queue, empty, 'jobs:purge')).toBe(1);
    expect(queue.jobs.size).toBe(3);

    const yes = fakeCliIo({ tty: true, answer: 'y' });
    expect(await jobs(queue, yes, 'jobs:purge')).toBe(0);
    expect(yes.out()).toBe('purged 3 job(s)\n');
    expect(queue.jobs.size).toBe(0);
  });

  it('takes a closed terminal for a no', async () => {
    const queue = new ParkedQueue(3);
    const io = fakeCliIo({ tty: true });
    expect(await jobs(queue, io, 'jobs:purge')).toBe(1);
    expect(io.err()).toContain('aborted');
    expect(queue.jobs.size).toBe(3);
  });

  it('has nothing to ask when nothing is parked', async () => {
    const io = fakeCliIo();
    expect(await jobs(new ParkedQueue(0), io, 'jobs:purge')).toBe(0);
    expect(io.out()).toBe('purged 0 job(s)\n');
  });
});

describe('jobs:purge and jobs:retry of given ids', () => {
  it('purge the ones parked without asking, and name the others with a non-zero exit', async () => {
    const queue = new ParkedQueue(3);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:purge', '1', '99999', '3')).toBe(1);
    expect(io.out()).toBe('purged 2 job(s)\n');
    expect(io.err()).toBe('error: not found among the parked jobs of orders.integration: 99999\n');
    expect([...queue.jobs.keys()]).toEqual(['2']);
  });

  it('say which ids were not re-queued and exit non-zero, after re-queuing the others', async () => {
    const queue = new ParkedQueue(3);
    const missing = fakeCliIo();
    expect(await jobs(queue, missing, 'jobs:retry', '99999')).toBe(1);
    expect(missing.out()).toBe('re-queued 0 job(s)\n');
    expect(missing.err()).toBe('error: not found among the parked jobs of orders.integration: 99999\n');

    const mixed = fakeCliIo();
    expect(await jobs(queue, mixed, 'jobs:retry', '2', '77', '2', '--json')).toBe(1);
    expect(JSON.parse(mixed.out())).toEqual({ queue: QUEUE, action: 're-queue', count: 1, notFound: ['77'] });
    expect(queue.retried).toEqual(['2']);
  });

  it('dry-run the given ids: lists the parked ones, changes nothing, names the missing', async () => {
    const queue = new ParkedQueue(3);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:retry', '3', '42', '--dry-run')).toBe(1);
    expect(io.out()).toContain('dry run: would re-queue 1 parked job(s) of orders.integration; nothing changed');
    expect(io.err()).toBe('error: not found among the parked jobs of orders.integration: 42\n');
    expect(queue.retried).toEqual([]);
  });

  it('want ids or --all, not neither and not both', async () => {
    const queue = new ParkedQueue(3);
    for (const args of [['jobs:retry'], ['jobs:retry', '1', '--all']]) {
      const io = fakeCliIo();
      expect(await jobs(queue, io, ...args)).toBe(1);
      expect(io.err()).toBe('error: give parked job ids or --all (not both)\n');
    }
    expect(queue.retried).toEqual([]);
  });
});

describe('jobs:retry --all', () => {
  it(`re-queues up to 100 jobs without asking`, async () => {
    const queue = new ParkedQueue(100);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:retry', '--all')).toBe(0);
    expect(io.out()).toBe('re-queued 100 job(s)\n');
  });

  it('over 100 jobs, follows the rules of purge: refuse off a terminal, ask on one, --yes, --dry-run', async () => {
    const queue = new ParkedQueue(101);
    const refused = fakeCliIo();
    expect(await jobs(queue, refused, 'jobs:retry', '--all')).toBe(1);
    expect(refused.err()).toContain('refusing to re-queue 101 parked job(s) of orders.integration without confirmation');
    expect(queue.retried).toHaveLength(0);

    const dry = fakeCliIo();
    expect(await jobs(queue, dry, 'jobs:retry', '--all', '--dry-run')).toBe(0);
    expect(dry.out()).toContain('would re-queue 101 parked job(s)');
    expect(queue.retried).toHaveLength(0);

    const no = fakeCliIo({ tty: true, answer: 'no' });
    expect(await jobs(queue, no, 'jobs:retry', '--all')).toBe(1);
    expect(no.err()).toContain('Re-queue 101 parked job(s) of orders.integration? [y/N] ');
    expect(queue.retried).toHaveLength(0);

    const yes = fakeCliIo({ tty: true, answer: 'YES' });
    expect(await jobs(queue, yes, 'jobs:retry', '--all')).toBe(0);
    expect(yes.out()).toBe('re-queued 101 job(s)\n');

    const again = new ParkedQueue(101);
    const flagged = fakeCliIo();
    expect(await jobs(again, flagged, 'jobs:retry', '--all', '-y')).toBe(0);
    expect(again.retried).toHaveLength(101);
  });
});

describe('jobs:stats and jobs:parked', () => {
  it('name priorities as the dashboard does, in text and in JSON', async () => {
    const queue = new ParkedQueue(5);
    const io = fakeCliIo();
    expect(await jobs(queue, io, 'jobs:stats')).toBe(0);
    expect(io.out()).toContain('orders.integration: ready=0 delayed=0 active=0 parked=5');
    expect(io.out()).toMatch(/state\s+max\s+critical\s+high\s+normal\s+low\n/);
    expect(io.out()).toMatch(/parked\s+1\s+1\s+1\s+1\s+1\n/);

    const json = fakeCliIo();
    expect(await jobs(queue, json, 'jobs:stats', '--json')).toBe(0);
    const stats = JSON.parse(json.out()) as { queue: string; byPriority: Record<string, Record<string, number>> }[];
    expect(stats.map((s) => s.queue)).toEqual([QUEUE, 'images.download']);
    expect(stats[0]!.byPriority.parked).toEqual({ low: 1, normal: 1, high: 1, critical: 1, max: 1 });
  });

  it('show counts a broker cannot make by priority as unknown, not zero', async () => {
    const queue = new ParkedQueue(5);
    queue.inexactParked = true;
    const io = fakeCliIo();
    await jobs(queue, io, 'jobs:stats');
    expect(io.out()).toMatch(/parked\s+\?\s+\?\s+\?\s+\?\s+\?\n/);
    const json = fakeCliIo();
    await jobs(queue, json, 'jobs:stats', '--json');
    expect((JSON.parse(json.out()) as { byPriority: { parked: Record<string, unknown> } }[])[0]!.byPriority.parked.max).toBeNull();
  });

  it('lists parked jobs in a table that fits the terminal, or as JSON', async () => {
    const queue = new ParkedQueue(6);
    const io = fakeCliIo({ columns: 80 });
    expect(await jobs(queue, io, 'jobs:parked')).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(io.out()).toContain('…');

    const json = fakeCliIo();
    expect(await jobs(queue, json, 'jobs:parked', '--limit', '2', '--json')).toBe(0);
    expect(JSON.parse(json.out())).toEqual([
      expect.objectContaining({ id: '1', priority: 'normal', attempts: 5, payload: { itemId: 1 }, parkedAt: '1970-01-01T00:00:01.000Z' }),
      expect.objectContaining({ id: '2', priority: 'high' }),
    ]);
  });

  it('refuses a --limit that is not a whole number in range', async () => {
    for (const limit of ['abc', '0', '1001', '2.5', '-1']) {
      const io = fakeCliIo();
      expect(await jobs(new ParkedQueue(1), io, 'jobs:parked', '--limit', limit)).toBe(1);
      expect(io.err()).toBe(`error: option '--limit <n>' argument '${limit}' is invalid. Expected a whole number from 1 to 1000.\n`);
      expect(io.out()).toBe('');
    }
  });
});
