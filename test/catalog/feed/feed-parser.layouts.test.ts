import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateItems } from '../../../dev/catalog/feed-generator.js';
import { parseFeed, type FeedEndEvent, type FeedEvent } from '../../../src/catalog/feed/feed-parser.js';
import { feedLayouts, layOutDefectiveFeed, layOutFeed, type FeedEnvelope, type LineDefect } from '../../support/feed-layouts.js';
import { FEED100_FIXTURE } from '../../support/fixtures.js';

const fixture = JSON.parse(readFileSync(FEED100_FIXTURE, 'utf8')) as FeedEnvelope;
const generated = [...generateItems({ items: 60, seed: 7 })].map((g) => g.item);

/** Objects whose strings hold what looks like structure: brackets, quotes, separators, escapes, lone surrogates. */
const trickyItem = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });
const realItem = fc.constantFrom(...fixture.items, ...generated);
const feedItems = fc.array(fc.oneof({ arbitrary: realItem, weight: 3 }, { arbitrary: trickyItem, weight: 1 }), { maxLength: 40 });

async function parse(text: string, chunkBytes: number): Promise<FeedEvent[]> {
  const bytes = Buffer.from(text, 'utf8');
  const chunks = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
  const events: FeedEvent[] = [];
  for await (const event of parseFeed(chunks)) events.push(event);
  return events;
}

describe('parseFeed: any valid layout', () => {
  it('yields exactly the items JSON.parse yields, in order, none invalid or repaired', async () => {
    await fc.assert(
      fc.asyncProperty(feedItems, feedLayouts, fc.integer({ min: 1, max: 70_000 }), async (items, layout, chunkBytes) => {
        const text = layOutFeed({ site: 'https://example.test', generationDate: '2026-12-03T02:00:00Z', items }, layout);
        const expected = (JSON.parse(text.replace(/^\uFEFF/, '')) as FeedEnvelope).items;
        const events = await parse(text, chunkBytes);
        const end = events.at(-1) as FeedEndEvent;
        expect(events.flatMap((e) => (e.kind === 'item' ? [e.value] : []))).toEqual(expected);
        expect(events.filter((e) => e.kind === 'invalid')).toEqual([]);
        expect(end).toMatchObject({ kind: 'end', items: expected.length, invalid: 0, repaired: 0, site: 'https://example.test', generationDate: '2026-12-03T02:00:00Z' });
        expect(end.itemsCount).toBe(layout.keyOrder.includes('itemsCount') ? expected.length : null);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
  });

  it('repairs or skips the live feed\'s defects wherever they sit in a mixed layout, and loses no other item', async () => {
    const defect = fc.option(fc.constantFrom<LineDefect>('escape', 'missing-comma', 'truncated', 'unescaped-quote', 'garbage'), { freq: 4 });
    const lines = fc.array(fc.tuple(fc.constantFrom(...fixture.items, ...generated), defect), { minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(lines, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 70_000 }), async (pairs, seed, chunkBytes) => {
        const feed = layOutDefectiveFeed(
          pairs.map(([item]) => item as (typeof generated)[number]),
          pairs.map(([, d]) => d),
          seed,
        );
        const events = await parse(feed.text, chunkBytes);
        expect(events.flatMap((e) => (e.kind === 'item' ? [e.value] : []))).toEqual(feed.expected);
        expect(events.at(-1)).toMatchObject({ kind: 'end', items: feed.expected.length, invalid: feed.broken, repaired: feed.repaired, itemsCount: pairs.length });
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
  });

  it('reads the live feed\'s layout, a separator starting the line at every 200th item, without an invalid item', async () => {
    const lines = readFileSync(FEED100_FIXTURE, 'utf8').split('\n');
    // Item lines are 5..104: move the separator of the 50th item to the start of the next line, as the live feed does.
    lines[53] = lines[53]!.replace(/,$/, '');
    lines[54] = lines[54]!.replace('\t\t{', '\t\t,{');
    const events = await parse(lines.join('\n'), 4096);
    expect(events.flatMap((e) => (e.kind === 'item' ? [e.value] : []))).toEqual(fixture.items);
    expect(events.at(-1)).toMatchObject({ items: 100, invalid: 0, repaired: 0 });
  });
});
