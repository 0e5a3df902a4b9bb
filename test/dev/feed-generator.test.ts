import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { generateFeed, generateItems, writeFeedFile, type FeedDefect, type FeedItem, type FeedOptions } from '../../dev/catalog/feed-generator.js';
import { FEED100_FIXTURE } from '../support/fixtures.js';

const FIXTURE = FEED100_FIXTURE;

async function text(options: FeedOptions): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of generateFeed(options)) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** The item lines, without their indentation and trailing comma. */
function itemLines(feed: string): string[] {
  return feed
    .split('\n')
    .filter((line) => line.startsWith('\t\t') && line !== '\t\t],')
    .map((line) => line.slice(2).replace(/^,/, '').replace(/,$/, ''));
}

/** What a tolerant parser does: decode `\xNN` runs as UTF-8 (U+FFFD where invalid), join `"]["`. */
function repair(line: string): unknown {
  const decoded = line.replace(/(?:\\x[0-9a-fA-F]{2})+/g, (run) => {
    const bytes = Buffer.from(run.split('\\x').slice(1).map((hex) => parseInt(hex, 16)));
    return JSON.stringify(new TextDecoder().decode(bytes)).slice(1, -1);
  });
  return JSON.parse(decoded.replace('"]["', '","'));
}

interface Stats {
  three: number;
  none: number;
  missingAge: number;
  missingBreast: number;
  pipeHair: number;
  emptyOrRepeatedAliases: number;
  noAliases: number;
  regular: number;
}

function statsOf(items: FeedItem[]): Stats {
  const share = (test: (item: FeedItem) => boolean): number => items.filter(test).length / items.length;
  return {
    three: share((item) => item.thumbnails.length === 3),
    none: share((item) => item.thumbnails.length === 0),
    missingAge: share((item) => item.attributes.age === undefined),
    missingBreast: share((item) => item.attributes.breastSize === undefined),
    pipeHair: share((item) => (item.attributes.hairColor ?? '').includes('|')),
    emptyOrRepeatedAliases: share((item) => item.aliases.includes('') || new Set(item.aliases).size !== item.aliases.length),
    noAliases: share((item) => item.aliases.length === 0),
    regular: share((item) => item.license === 'REGULAR'),
  };
}

describe('feed generator', () => {
  it('gives the same bytes for the same seed and other bytes for another seed', async () => {
    const hash = async (seed: number) => createHash('sha256').update(await text({ items: 300, seed })).digest('hex');
    expect(await hash(11)).toBe(await hash(11));
    expect(await hash(11)).not.toBe(await hash(12));
  });

  it('lays the feed out like the real one: tabs, one item per line, escaped slashes, same key order', async () => {
    const fixture = fs.readFileSync(FIXTURE, 'utf8');
    const feed = await text({ items: 100, seed: 3 });
    const head = (t: string) => t.split('\n').slice(0, 4).join('\n');
    const tail = (t: string) => t.split('\n').slice(-4).join('\n');
    expect(head(feed)).toBe(head(fixture));
    expect(tail(feed)).toBe(tail(fixture));
    const lines = itemLines(feed);
    expect(lines).toHaveLength(100);
    const fixtureItem = JSON.parse(itemLines(fixture)[0] as string) as FeedItem;
    for (const line of lines) {
      expect(line).toMatch(/^\{"attributes":\{/);
      expect(line).not.toMatch(/[^\\]\//);
      const item = JSON.parse(line) as FeedItem;
      expect(Object.keys(item)).toEqual(Object.keys(fixtureItem));
      expect(Object.keys(item.attributes.stats)).toEqual(Object.keys(fixtureItem.attributes.stats));
      const order = Object.keys(fixtureItem.attributes);
      const keys = Object.keys(item.attributes);
      expect(keys).toEqual(order.filter((key) => keys.includes(key)));
    }
    const parsed = JSON.parse(feed) as { items: FeedItem[]; itemsCount: number };
    expect(parsed.itemsCount).toBe(100);
  });

  it('starts the line with the separator at every 200th item, as the live feed does, and stays valid JSON', async () => {
    const feed = await text({ items: 450, seed: 3 });
    const starting = feed.split('\n').flatMap((line, i) => (line.startsWith('\t\t,{') ? [i] : []));
    expect(starting).toEqual([204, 404]);
    expect(feed.split('\n')[203]).toMatch(/\}$/);
    expect((JSON.parse(feed) as { items: FeedItem[] }).items.map((item) => item.id)).toHaveLength(450);
    expect(await text({ items: 450, seed: 3, separatorFirstEvery: 0 })).not.toContain('\t\t,{');
  });

  it('has the statistics of the real excerpt, roughly', async () => {
    const fixture = (JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { items: FeedItem[] }).items;
    const generated = (JSON.parse(await text({ items: 100, seed: 1 })) as { items: FeedItem[] }).items;
    const real = statsOf(fixture);
    const ours = statsOf(generated);
    for (const key of Object.keys(real) as (keyof Stats)[]) expect(Math.abs(ours[key] - real[key]), key).toBeLessThan(0.12);
    const larger = statsOf([...generateItems({ items: 1000, seed: 1 })].map(({ item }) => item));
    expect(larger.none).toBeGreaterThan(0.02);
    expect(larger.none).toBeLessThan(0.07);
    expect(generated.some((item) => (item.attributes.ethnicity ?? '').includes('|') || (item.attributes.hairColor ?? '').includes('|'))).toBe(true);
    for (const item of generated.filter((i) => i.thumbnails.length === 3)) expect(item.thumbnails.map((t) => t.type)).toEqual(['pc', 'mobile', 'tablet']);
    const sharing = generated.filter((item) => item.thumbnails.length === 3 && new Set(item.thumbnails.flatMap((t) => t.urls)).size === 1).length;
    expect(sharing / generated.filter((item) => item.thumbnails.length === 3).length).toBeGreaterThan(0.9);
  });

  it('gives about 15k distinct image URLs for 21k items, a few of them shared across items', () => {
    const urls = new Map<string, number>();
    let nonAscii = 0;
    for (const { item } of generateItems({ items: 21_000, seed: 1 })) {
      for (const url of new Set(item.thumbnails.flatMap((t) => t.urls))) urls.set(url, (urls.get(url) ?? 0) + 1);
      if (/[^\x20-\x7e]/.test(item.name)) nonAscii++;
    }
    expect(urls.size).toBeGreaterThan(14_000);
    expect(urls.size).toBeLessThan(16_000);
    expect([...urls.values()].filter((n) => n > 1).length).toBeGreaterThan(100);
    expect(nonAscii).toBeGreaterThan(100);
  });

  it('writes non-ASCII as \\u escapes, like json_encode, so a clean feed is pure ASCII', async () => {
    const feed = await text({ items: 2000, seed: 4 });
    expect(/[^\t\n\x20-\x7e]/.test(feed)).toBe(false);
    expect(feed).toMatch(/\\u00[0-9a-f]{2}/);
    const names = (JSON.parse(feed) as { items: FeedItem[] }).items.map((item) => item.name);
    expect(names.some((name) => /[^\x20-\x7e]/.test(name))).toBe(true);
  });

  it('injects exactly the escapes and broken items asked for, and says which', async () => {
    const expected = new Map<number, { item: FeedItem; defect: FeedDefect | undefined }>();
    const feed = generateFeed({
      items: 500, seed: 9, invalidEscapes: 5, invalidUtf8Escapes: 2, unparsableItems: 8,
      onItem: (item, _index, defect) => expected.set(item.id, { item: structuredClone(item), defect }),
    });
    const parts: Buffer[] = [];
    for await (const chunk of feed) parts.push(chunk);
    const lines = itemLines(Buffer.concat(parts).toString('utf8'));
    expect(lines).toHaveLength(500);
    const failing = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(failing).toHaveLength(15);
    expect(lines.filter((line) => line.includes('\\x'))).toHaveLength(7);
    expect(lines.filter((line) => line.includes('"]["'))).toHaveLength(2);
    const { defects } = feed.summary;
    expect([defects.escape.length, defects['escape-invalid'].length, defects['missing-comma'].length]).toEqual([5, 2, 2]);
    expect(defects.truncated.length + defects['unescaped-quote'].length + defects.garbage.length).toBe(6);
    // The repairable ones repair to exactly the item; the others do not parse even after repair.
    for (const line of failing) {
      const id = Number(/"id":(\d+)/.exec(line)?.[1]);
      const { item, defect } = expected.get(id) ?? { item: undefined, defect: undefined };
      if (defect === 'escape' || defect === 'escape-invalid' || defect === 'missing-comma') expect(repair(line)).toEqual(item);
      else expect(() => repair(line)).toThrow();
      if (defect === 'escape-invalid') expect(item?.name).toContain('\ufffd');
    }
  });

  it('keeps every other item identical when defects are injected', async () => {
    const clean = itemLines(await text({ items: 200, seed: 5 }));
    const dirty = itemLines(await text({ items: 200, seed: 5, invalidEscapes: 3, unparsableItems: 3 }));
    expect(clean.filter((line, i) => line !== dirty[i])).toHaveLength(6);
  });

  it('lets a hook edit and remove items, and counts what is written', async () => {
    const options: FeedOptions = { items: 50, seed: 6 };
    const before = itemLines(await text(options));
    const feed = generateFeed({
      ...options,
      mutate: (item, index) => {
        if (index === 3) return null;
        if (index === 5) item.name = 'Renamed';
      },
    });
    const parts: Buffer[] = [];
    for await (const chunk of feed) parts.push(chunk);
    const parsed = JSON.parse(Buffer.concat(parts).toString('utf8')) as { items: FeedItem[]; itemsCount: number };
    expect(parsed.itemsCount).toBe(49);
    expect(feed.summary).toMatchObject({ items: 49, removed: 1 });
    expect(parsed.items[4]?.name).toBe('Renamed');
    const after = itemLines(Buffer.concat(parts).toString('utf8'));
    expect(after.filter((line) => !before.includes(line))).toHaveLength(1);
  });

  it('applies startId, generationDate, imageBaseUrl and sharing options', async () => {
    const feed = JSON.parse(
      await text({ items: 300, seed: 2, startId: 5000, generationDate: new Date('2024-02-03T04:05:06.789Z'), imageBaseUrl: 'http://127.0.0.1:9/cdn/', sharedUrlRatio: 0 }),
    ) as { generationDate: string; items: FeedItem[] };
    expect(feed.generationDate).toBe('2024-02-03T04:05:06Z');
    expect(feed.items[0]?.id).toBe(5000);
    const ids = feed.items.map((item) => item.id);
    expect(ids.every((id, i) => i === 0 || id > (ids[i - 1] as number))).toBe(true);
    const urls = feed.items.flatMap((item) => [...new Set(item.thumbnails.flatMap((t) => t.urls))]);
    expect(urls.every((url) => /^http:\/\/127\.0\.0\.1:9\/cdn\/pics\/pornstars\/\d{3}\/\d{3}\/\d{3}\/\(m=lciuhScOb_c\)\(mh=[\w-]{16}\)thumb_\d+\.jpg$/.test(url))).toBe(true);
    expect(new Set(urls).size).toBe(urls.length);
    const duplicated = [...generateItems({ items: 300, seed: 2, sharedUrlRatio: 0, duplicateContentRatio: 0.2 })].map(({ item }) => item.thumbnails[0]?.urls[0]);
    const thumbs = duplicated.filter((url) => url !== undefined).map((url) => /thumb_\d+/.exec(url)?.[0]);
    expect(new Set(thumbs).size).toBeLessThan(thumbs.length - 20);
  });

  it('writes the same feed to a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'feed-'));
    try {
      const summary = await writeFeedFile(path.join(dir, 'feed.json'), { items: 120, seed: 8, unparsableItems: 1 });
      expect(fs.readFileSync(path.join(dir, 'feed.json'), 'utf8')).toBe(await text({ items: 120, seed: 8, unparsableItems: 1 }));
      expect(summary.items).toBe(120);
      expect(summary.bytes).toBe(fs.statSync(path.join(dir, 'feed.json')).size);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams 200,000 items in bounded memory', { timeout: 120_000 }, async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let bytes = 0;
    let chunks = 0;
    for await (const chunk of generateFeed({ items: 200_000, seed: 10, invalidEscapes: 20, unparsableItems: 20 })) {
      bytes += chunk.length;
      if (++chunks % 400 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(bytes).toBeGreaterThan(190 * 1024 * 1024);
    expect(peak).toBeLessThan(50 * 1024 * 1024);
  });
});
