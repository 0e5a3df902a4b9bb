import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { FeedRunRow } from '../../../src/catalog/catalog.tables.js';
import type { FeedIngestService } from '../../../src/catalog/feed/feed-ingest.service.js';
import { registerFeedCommands } from '../../../src/catalog/feed/feed.cli.js';
import { addVerboseOption, runProgram } from '../../../src/platform/cli/run-program.js';
import { fakeCliIo, type FakeCliIo } from '../../support/fake-cli-io.js';

function run(id: number, overrides: Partial<FeedRunRow> = {}): FeedRunRow {
  return {
    id,
    status: 'succeeded',
    trigger: 'schedule',
    source: 'https://feeds.example.test/feed_pornstars.json',
    http_status: 200,
    bytes: 21_456_789,
    etag: '"5f1c-abc"',
    last_modified: 'Thu, 03 Dec 2026 04:00:00 GMT',
    generation_date: '2026-12-03',
    body_sha256: 'a'.repeat(64),
    items_seen: 11_234,
    created_count: 12,
    updated_count: 345,
    unchanged_count: 10_870,
    removed_count: 3,
    invalid_count: 7,
    repaired_count: 2,
    images_enqueued: 57,
    items_declared: 11_234,
    warning: null,
    change_seq: 7,
    invalid_samples: '[{"line":12,"id":"x","errors":["name is required"]}]',
    error: null,
    started_at: Date.UTC(2026, 11, 3, 4, 0, 0),
    finished_at: Date.UTC(2026, 11, 3, 4, 0, 42, 500),
    ...overrides,
  };
}

const RUNS = [run(2, { status: 'failed', error: 'the feed answered 503 Service Unavailable after 3 attempts; the catalog keeps its previous state', finished_at: null }), run(1)];

async function feed(io: FakeCliIo, ...args: string[]): Promise<number> {
  const service = { runs: async (limit: number) => RUNS.slice(0, limit) } as unknown as FeedIngestService;
  const program = addVerboseOption(new Command('intake'));
  registerFeedCommands(program, (work) => work(service), io);
  return runProgram(program, args, io, 'user');
}

describe('feed:runs', () => {
  it('fits its table to 100 columns when stdout is not a terminal: the secondary columns left out, the error cut with …', async () => {
    const io = fakeCliIo();
    expect(await feed(io, 'feed:runs')).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^run\s+status\s+started \(UTC\)\s+secs\s+items\s+created\s+updated\s+invalid\s+error$/);
    expect(lines[1]).toMatch(/^ {2}2\s+failed\s+2026-12-03 04:00:00\s+11234\s+.*the feed answered 503.*…$/);
    expect(lines[2]).toMatch(/^ {2}1\s+succeeded\s+2026-12-03 04:00:00\s+42\.5\s+11234\s+12\s+345\s+7$/);
  });

  it('fits a narrow terminal by leaving out the secondary columns', async () => {
    const io = fakeCliIo({ columns: 60 });
    expect(await feed(io, 'feed:runs')).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[0]).toMatch(/^run\s+status\s+started \(UTC\)\s+items\s+error$/);
  });

  it('prints every field as JSON with --json, and nothing else on stdout', async () => {
    const io = fakeCliIo();
    expect(await feed(io, 'feed:runs', '--json', '--limit', '1')).toBe(0);
    const runs = JSON.parse(io.out()) as Record<string, unknown>[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: 2, status: 'failed', started_at: '2026-12-03T04:00:00.000Z', finished_at: null, unchanged_count: 10_870, invalid_samples: [{ line: 12, id: 'x', errors: ['name is required'] }] });
  });

  it('refuses a --limit that is not a whole number with a clear message', async () => {
    const io = fakeCliIo();
    expect(await feed(io, 'feed:runs', '--limit', 'abc')).toBe(1);
    expect(io.err()).toBe("error: option '--limit <n>' argument 'abc' is invalid. Expected a whole number from 1 to 1000.\n");
    expect(io.out()).toBe('');
  });
});
