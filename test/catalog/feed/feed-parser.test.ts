import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FeedFormatError, parseFeed, type FeedEndEvent, type FeedEvent, type FeedInvalidEvent, type ParseFeedOptions } from '../../../src/catalog/feed/feed-parser.js';
import { FEED100_FIXTURE } from '../../support/fixtures.js';

const FIXTURE = FEED100_FIXTURE;
const fixtureText = readFileSync(FIXTURE, 'utf8');
const fixture = JSON.parse(fixtureText) as { site: string; generationDate: string; items: Array<Record<string, unknown>>; itemsCount: number };

async function collect(source: Parameters<typeof parseFeed>[0], options?: ParseFeedOptions): Promise<FeedEvent[]> {
  const events: FeedEvent[] = [];
  for await (const event of parseFeed(source, options)) events.push(event);
  return events;
}

const valuesOf = (events: FeedEvent[]) => events.flatMap((e) => (e.kind === 'item' ? [e.value] : []));
const invalidOf = (events: FeedEvent[]) => events.filter((e): e is FeedInvalidEvent => e.kind === 'invalid');
const endOf = (events: FeedEvent[]) => events.at(-1) as FeedEndEvent;

/** The text in `size`-byte chunks, as a network body arrives. */
async function* chunked(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A feed in the real feed's layout, one item text per line. */
function feedOf(itemLines: string[], eol = '\n'): string {
  const items = itemLines.map((line, i) => `\t\t${line}${i < itemLines.length - 1 ? ',' : ''}`);
  return ['{', '\t"site": "https://example.test",', '\t"generationDate": "2024-01-02T03:04:05Z",', '\t"items": [', ...items, '\t\t],', `\t"itemsCount": ${itemLines.length}`, '}', ''].join(eol);
}

const item = (id: number, extra = '') => `{"id":${id},"name":"Item ${id}"${extra}}`;

describe('parseFeed: the real feed, one item per line', () => {
  it('parses the 100-item fixture: the header first, then 100 items, none invalid', async () => {
    const events = await collect(createReadStream(FIXTURE));
    expect(events[0]).toEqual({ kind: 'header', site: 'https://www.pornhub.com', generationDate: '2023-10-29T04:15:03Z' });
    expect(valuesOf(events)).toEqual(fixture.items);
    expect(endOf(events)).toMatchObject({ kind: 'end', itemsCount: 100, items: 100, invalid: 0, repaired: 0 });
    expect(events).toHaveLength(102);
  });

  it('reports where each item starts and its place in the array', async () => {
    const events = await collect([fixtureText]);
    const items = events.filter((e) => e.kind === 'item');
    expect(items[0]).toMatchObject({ line: 5, index: 0 });
    expect(items[99]).toMatchObject({ line: 104, index: 99 });
  });

  it('gives the same items whatever the chunk size, and with CRLF line endings', async () => {
    expect(valuesOf(await collect(chunked(fixtureText, 7)))).toEqual(fixture.items);
    const crlf = await collect(chunked(fixtureText.replaceAll('\n', '\r\n'), 1000));
    expect(valuesOf(crlf)).toEqual(fixture.items);
    expect(endOf(crlf)).toMatchObject({ items: 100, invalid: 0, itemsCount: 100 });
  });

  it('decodes UTF-8 characters split across chunks', async () => {
    const text = feedOf([item(1, ',"aliases":["Zoë","😀 Ünïcödé"]')]);
    for (const size of [1, 2, 3, 5]) {
      expect(valuesOf(await collect(chunked(text, size)))).toEqual([{ id: 1, name: 'Item 1', aliases: ['Zoë', '😀 Ünïcödé'] }]);
    }
  });

  it('accepts strings and Readable streams as the source', async () => {
    expect(valuesOf(await collect(Readable.from([fixtureText.slice(0, 5000), fixtureText.slice(5000)])))).toHaveLength(100);
    expect(valuesOf(await collect([fixtureText]))).toHaveLength(100);
  });

  it('reads an empty items array', async () => {
    const events = await collect(['{\n"site": "s",\n"generationDate": "d",\n"items": [\n],\n"itemsCount": 0\n}\n']);
    expect(events).toEqual([
      { kind: 'header', site: 's', generationDate: 'd' },
      expect.objectContaining({ kind: 'end', items: 0, invalid: 0, itemsCount: 0 }),
    ]);
  });
});

describe('parseFeed: defective items', () => {
  it('leaves an item invalid when repair cannot make it parse', async () => {
    const events = await collect([feedOf([item(1), item(2, String.raw`,"aliases":["Smile \xF0\x9F\x98\x80" "x"]`), item(3)])]);
    expect(valuesOf(events).map((v) => v.id)).toEqual([1, 3]);
    expect(invalidOf(events)).toEqual([expect.objectContaining({ line: 6, index: 1, reason: expect.stringMatching(/after repair: hexEscape ×4/) })]);
    expect(endOf(events)).toMatchObject({ items: 2, invalid: 1, repaired: 0 });
  });

  it('joins an array split in two ("a"]["b") when that makes the item parse', async () => {
    const events = await collect([feedOf([item(1), item(2, String.raw`,"aliases":["A \xC3\xA9"]["B"]`), item(3)])]);
    expect(valuesOf(events).map((v) => v.aliases ?? null)).toEqual([null, ['A é', 'B'], null]);
    expect(endOf(events)).toMatchObject({ items: 3, invalid: 0, repaired: 1, repairs: { hexEscape: 2, missingComma: 1 } });
  });

  it('decodes the bytes of an item and marks it repaired', async () => {
    const events = await collect([feedOf([item(1), item(2, String.raw`,"aliases":["Smile \xF0\x9F\x98\x80","Zo\xC3\xAB","bad \xC3"]`), item(3, ',"t":[["a"]["b"]]')])]);
    expect(valuesOf(events)).toEqual([
      { id: 1, name: 'Item 1' },
      { id: 2, name: 'Item 2', aliases: ['Smile 😀', 'Zoë', 'bad \uFFFD'] },
      { id: 3, name: 'Item 3', t: [['a'], ['b']] },
    ]);
    expect(events.find((e) => e.kind === 'item' && e.value.id === 2)).toMatchObject({ repairs: [{ kind: 'hexEscape', count: 7 }, { kind: 'invalidUtf8', count: 1 }] });
    expect(endOf(events)).toMatchObject({ items: 3, invalid: 0, repaired: 2, repairs: { hexEscape: 7, invalidUtf8: 1, missingComma: 1, controlChar: 0 } });
  });

  it('skips an item that does not parse even after repair, counts it, and goes on at the next line', async () => {
    const broken = `{"id":2,"name":"Broken" "x":"${'y'.repeat(300)}"}`;
    const events = await collect([feedOf([item(1), broken, item(3), '42'])]);
    expect(valuesOf(events).map((v) => v.id)).toEqual([1, 3]);
    const invalid = invalidOf(events);
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toMatchObject({ line: 6, index: 1 });
    expect(invalid[0]!.reason).toMatch(/JSON/);
    expect(invalid[0]!.text).toBe(`${`${broken},`.slice(0, 199)}…`);
    expect(invalid[1]).toMatchObject({ line: 8, index: 3, reason: 'The item is not a JSON object.' });
    expect(endOf(events)).toMatchObject({ items: 2, invalid: 2, repaired: 0, itemsCount: 4 });
  });

  it('keeps to the line layout when the first item is the broken one', async () => {
    const events = await collect([feedOf(['{"id":1,"name":"Broken" "x"}', item(2), item(3)])]);
    expect(events[0]).toMatchObject({ kind: 'header' });
    expect(invalidOf(events)).toEqual([expect.objectContaining({ line: 5, index: 0 })]);
    expect(valuesOf(events).map((v) => v.id)).toEqual([2, 3]);
  });

  it('reports a line longer than the limit as invalid without keeping it, and goes on', async () => {
    const huge = item(2, `,"blob":"${'x'.repeat(200_000)}"`);
    const events = await collect(chunked(feedOf([item(1), huge, item(3)]), 4096), { maxItemLength: 10_000 });
    expect(valuesOf(events).map((v) => v.id)).toEqual([1, 3]);
    const [invalid] = invalidOf(events);
    expect(invalid).toMatchObject({ line: 6, index: 1, text: expect.stringMatching(/^\{"id":2,"name":"Item 2","blob":"x+…$/) });
    expect(invalid!.reason).toMatch(/longer|more than the 10000/);
    expect(invalid!.text!.length).toBe(200);
  });
  it('gives up an item over several lines once it grows too long, and reads the lines after it again', async () => {
    const open = '{"id":2,"name":"Open","blob":[';
    const lines = [item(1), open, ...Array.from({ length: 30 }, (_, i) => item(10 + i)), item(3)];
    const events = await collect([feedOf(lines)], { maxItemLength: 400 });
    expect(valuesOf(events).map((v) => v.id)).toEqual([1, ...Array.from({ length: 30 }, (_, i) => 10 + i), 3]);
    expect(invalidOf(events)).toEqual([expect.objectContaining({ line: 6, index: 1, text: `${open},` })]);
  });
});

describe('parseFeed: other layouts', () => {
  it('parses the fixture laid out on one line', async () => {
    const events = await collect(chunked(JSON.stringify(fixture), 4096));
    expect(events[0]).toEqual({ kind: 'header', site: fixture.site, generationDate: fixture.generationDate });
    expect(valuesOf(events)).toEqual(fixture.items);
    expect(endOf(events)).toMatchObject({ itemsCount: 100, items: 100, invalid: 0 });
  });

  it('parses the fixture pretty-printed, with the line each item starts on', async () => {
    const pretty = JSON.stringify(fixture, null, 2);
    const events = await collect(chunked(pretty, 1000));
    expect(valuesOf(events)).toEqual(fixture.items);
    expect(endOf(events)).toMatchObject({ itemsCount: 100, items: 100 });
    const lines = pretty.split('\n');
    const first = events.find((e) => e.kind === 'item')!;
    expect(lines[first.kind === 'item' ? first.line - 1 : 0]).toBe('    {');
  });

  it('repairs the known defects in a streamed feed too', async () => {
    const text = String.raw`{"site":"s","generationDate":"d","items":[{"id":1,"name":"Zo\xC3\xAB"},{"id":2,"name":"x","t":[["a"]["b"]]},{"id":3,"name":"ok"}],"itemsCount":3}`;
    const events = await collect(chunked(text, 5));
    expect(valuesOf(events)).toEqual([{ id: 1, name: 'Zoë' }, { id: 2, name: 'x', t: [['a'], ['b']] }, { id: 3, name: 'ok' }]);
    expect(endOf(events)).toMatchObject({ items: 3, repaired: 2, repairs: { hexEscape: 2, missingComma: 1 } });
  });

  it('counts an item that is not an object as invalid', async () => {
    const events = await collect(['{"site":"s","generationDate":"d","items":[{"id":1,"name":"a"},"oops",[1]],"itemsCount":3}']);
    expect(endOf(events)).toMatchObject({ items: 1, invalid: 2 });
  });

  it('emits the header before the items even when its fields come after them', async () => {
    const events = await collect(['{"items":[{"id":1,"name":"a"}],"site":"s","generationDate":"d"}']);
    expect(events.map((e) => e.kind)).toEqual(['header', 'item', 'end']);
    expect(events[0]).toMatchObject({ site: null, generationDate: null });
    expect(endOf(events)).toMatchObject({ site: 's', generationDate: 'd', itemsCount: null });
  });
});

describe('parseFeed: bodies that are not the feed', () => {
  const rejects = (source: Parameters<typeof parseFeed>[0], message: RegExp) => expect(collect(source)).rejects.toThrow(message);

  it('refuses HTML, a bare array, a scalar and an empty body', async () => {
    await rejects(['<!DOCTYPE html>\n<html><body>Error</body></html>'], /HTML/);
    await rejects(['[{"id":1,"name":"a"}]'], /bare JSON array/);
    await rejects(['\n  [\n{"id":1}\n]'], /bare JSON array/);
    await rejects(['"hello"'], /not a JSON object/);
    await rejects([], /empty/);
    await rejects(['  \n\r\n '], /empty/);
    await expect(collect(['<html>'])).rejects.toBeInstanceOf(FeedFormatError);
  });

  it('refuses an object without an items array', async () => {
    await rejects(['{"site":"s","generationDate":"d"}'], /no "items" array/);
    await rejects(['{"site":"s","items":{"a":{"id":1}}}'], /not an array/);
  });

  it('detects a feed truncated in the middle of its items, in either layout', async () => {
    const cut = fixtureText.slice(0, Math.floor(fixtureText.length / 2));
    await rejects([cut], /truncated/);
    await rejects([fixtureText.slice(0, fixtureText.lastIndexOf(']'))], /truncated/);
    await rejects([JSON.stringify(fixture).slice(0, 50_000)], /truncated/);
    await rejects([JSON.stringify(fixture, null, 1).slice(0, 50_000)], /truncated/);
  });

  it('detects an envelope that never closes after its items', async () => {
    await rejects([fixtureText.slice(0, fixtureText.lastIndexOf('}'))], /does not close/);
    await rejects([JSON.stringify(fixture).slice(0, -1)], /truncated/);
  });

  it('refuses text after the envelope', async () => {
    await rejects([`${fixtureText}\n{"more":1}\n`], /does not close|after/);
    await rejects([`${JSON.stringify(fixture)} trailing`], /after the feed's envelope/);
  });

  it('still yields the items before the point where the feed breaks', async () => {
    const seen: number[] = [];
    await expect(async () => {
      for await (const event of parseFeed([fixtureText.slice(0, 20_000)])) if (event.kind === 'item') seen.push(event.index);
    }).rejects.toThrow(FeedFormatError);
    expect(seen.length).toBeGreaterThan(5);
  });
});

describe('parseFeed: resources', () => {
  it('closes the source when the consumer stops early', async () => {
    const stream = Readable.from(chunked(fixtureText, 512));
    for await (const event of parseFeed(stream)) if (event.kind === 'item') break;
    expect(stream.destroyed).toBe(true);
  });

  /** A feed of `count` fixture-like items made as it is read, with `eol` between items. */
  async function* generate(count: number, eol: string, extra = ''): AsyncGenerator<string> {
    const base = JSON.stringify({ ...fixture.items[0], id: 0 }).replace('"id":0,', '"id":ID,');
    yield `{${eol}\t"site": "s",${eol}\t"generationDate": "d",${eol}\t"items": [${eol}`;
    const batch: string[] = [];
    for (let i = 1; i <= count; i++) {
      const text = base.replace('ID', String(i)).replace(/}$/, extra ? `,"blob":"${String(i).padStart(8, '0')}${extra}"}` : '}');
      batch.push(`${text}${i < count ? ',' : ''}${eol}`);
      if (batch.length === 100) yield batch.splice(0).join('');
    }
    yield `${batch.join('')}],${eol}"itemsCount": ${count}}${eol}`;
  }

  /** The largest growth of the live heap (measured after a full GC) while the feed is parsed. */
  async function parseMeasuring(source: AsyncIterable<string>, every: number): Promise<{ growth: number; end?: FeedEvent }> {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let growth = 0;
    let items = 0;
    let end: FeedEvent | undefined;
    for await (const event of parseFeed(source)) {
      if (event.kind === 'item' && ++items % every === 0) {
        gc();
        growth = Math.max(growth, process.memoryUsage().heapUsed - before);
      }
      if (event.kind === 'end') end = event;
    }
    return { growth, end };
  }

  it('keeps memory bounded on a 50,000-item feed (about 75 MB) produced lazily', async () => {
    const { growth, end } = await parseMeasuring(generate(50_000, '\n'), 10_000);
    expect(end).toMatchObject({ items: 50_000, invalid: 0, itemsCount: 50_000 });
    // Keeping the items would take about 60 MB here.
    expect(growth).toBeLessThan(20 * 1024 * 1024);
  });

  it('keeps memory bounded on a feed written on one line too', async () => {
    const { growth, end } = await parseMeasuring(generate(2_000, '', 'x'.repeat(5_000)), 500);
    expect(end).toMatchObject({ items: 2_000, invalid: 0, itemsCount: 2_000 });
    // Keeping the items would take more than 10 MB here.
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  });
});
