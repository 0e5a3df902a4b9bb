import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FeedItemFactory, type FeedItem, type FeedItemOptions } from './feed-items.js';
import { createRandom, mixSeed, sampleIndices } from './prng.js';

export { DEFAULT_IMAGE_BASE_URL, generateItems, type FeedItem, type FeedItemOptions, type GeneratedItem } from './feed-items.js';

/**
 * Defects the generator can inject into an item's line:
 * - `escape`: its non-ASCII characters written as `\xNN` UTF-8 byte runs (`\xC3\xA9`), as in the
 *   live feed; decoding the runs gives back the item exactly.
 * - `escape-invalid`: one `\xNN` that is not valid UTF-8 (a lone Latin-1 byte); the item holds
 *   U+FFFD there, which is what decoding with replacement gives.
 * - `missing-comma`: its aliases split into two adjacent arrays (`"A"]["B"`); replacing `"]["` with
 *   `","` gives back the item exactly.
 * - `truncated`, `unescaped-quote`, `garbage` (a PHP notice before the item): lines no repair saves.
 */
export type FeedDefect = 'escape' | 'escape-invalid' | 'missing-comma' | 'truncated' | 'unescaped-quote' | 'garbage';

const BROKEN: readonly FeedDefect[] = ['missing-comma', 'truncated', 'unescaped-quote', 'garbage'];

export interface FeedOptions extends FeedItemOptions {
  /** Default `https://www.pornhub.com`. */
  site?: string;
  /** Default 2023-10-29T04:15:03Z (the excerpt's). Written without milliseconds. */
  generationDate?: string | Date;
  /** How many items get their non-ASCII characters as valid `\xNN` UTF-8 runs (one is added to the name if it has none). */
  invalidEscapes?: number;
  /** How many items get one `\xNN` escape that is not valid UTF-8. */
  invalidUtf8Escapes?: number;
  /** How many items are emitted broken: a number cycles through the kinds; or say how many `"]["` and how many broken beyond repair. */
  unparsableItems?: number | { missingComma?: number; broken?: number };
  /** Edits an item before it is written: return a replacement, `null` to leave it out, or nothing to keep it (edited in place). */
  mutate?: (item: FeedItem, index: number) => FeedItem | null | undefined | void;
  /** Called with each item as written (after `mutate` and the defect's own edits), e.g. to collect expectations. */
  onItem?: (item: FeedItem, index: number, defect: FeedDefect | undefined) => void;
  /** Overrides the `itemsCount` written at the end (default: the number of item lines written). */
  itemsCount?: number;
  /** Size of the chunks yielded. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * Every so many items, the separator starts the item's line instead of ending the line before,
   * as the live feed writes it (every 200th item; 0 never).
   */
  separatorFirstEvery?: number;
}

export interface FeedSummary {
  /** Item lines written (broken ones included). */
  items: number;
  bytes: number;
  /** Items left out by `mutate`. */
  removed: number;
  /** Ids of the items written with each defect. */
  defects: Record<FeedDefect, number[]>;
}

/** A feed as a stream of chunks; each iteration generates it again, and `summary` describes the last one. */
export interface FeedStream extends AsyncIterable<Buffer> {
  readonly summary: FeedSummary;
}

const NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII_ALL = /[\u0080-\uffff]/g;

/** An item as PHP's `json_encode` writes it: `\/` for slashes and `\uXXXX` for anything outside ASCII. */
export function encodeItem(item: FeedItem): string {
  const json = JSON.stringify(item).replaceAll('/', '\\/');
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

/** Rewrites the `\uXXXX` runs of non-ASCII characters of an encoded line as `\xNN` runs of their UTF-8 bytes. */
export function toByteEscapes(line: string, upperCase = true): string {
  return line.replace(/(?:\\u[0-9a-f]{4})+|\\[^u]/g, (run) => {
    if (!run.startsWith('\\u')) return run;
    const text = JSON.parse(`"${run}"`) as string;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x80) return run;
    const hex = [...Buffer.from(text, 'utf8')].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
    return upperCase ? hex.replace(/x([0-9a-f]{2})/g, (_m, digits: string) => `x${digits.toUpperCase()}`) : hex;
  });
}

const ACCENTED: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ö', u: 'ü', A: 'Á', E: 'É', I: 'Í', O: 'Ö', U: 'Ü' };

/** Replaces the name's first plain vowel with `replacement(vowel)`, or appends it. */
function touchName(item: FeedItem, replacement: (vowel: string) => string): void {
  const at = item.name.search(/[aeiouAEIOU]/);
  item.name = at < 0 ? `${item.name} ${replacement('e')}` : item.name.slice(0, at) + replacement(item.name.charAt(at)) + item.name.slice(at + 1);
}

function defectPlan(options: FeedOptions): Map<number, FeedDefect> {
  const unparsable = options.unparsableItems ?? 0;
  const kinds: FeedDefect[] = [];
  for (let i = 0; i < (options.invalidEscapes ?? 0); i++) kinds.push('escape');
  for (let i = 0; i < (options.invalidUtf8Escapes ?? 0); i++) kinds.push('escape-invalid');
  if (typeof unparsable === 'number') {
    for (let i = 0; i < unparsable; i++) kinds.push(BROKEN[i % BROKEN.length] as FeedDefect);
  } else {
    for (let i = 0; i < (unparsable.missingComma ?? 0); i++) kinds.push('missing-comma');
    for (let i = 0; i < (unparsable.broken ?? 0); i++) kinds.push(BROKEN[1 + (i % (BROKEN.length - 1))] as FeedDefect);
  }
  const indices = sampleIndices(createRandom(mixSeed(options.seed ?? 1, options.items, 0x44454645)), options.items, kinds.length);
  const plan = new Map<number, FeedDefect>();
  indices.forEach((index, i) => plan.set(index, kinds[i] as FeedDefect));
  return plan;
}

/** Edits the item as the defect needs, then encodes it with the defect. */
function defectiveLine(item: FeedItem, defect: FeedDefect | undefined, index: number, seed: number): string {
  const random = createRandom(mixSeed(seed, index, 0x4c494e45));
  switch (defect) {
    case undefined:
      return encodeItem(item);
    case 'escape':
      if (!/[^\x20-\x7e]/.test(item.name)) touchName(item, (vowel) => ACCENTED[vowel] ?? 'é');
      return toByteEscapes(encodeItem(item), random.chance(0.5));
    case 'escape-invalid': {
      touchName(item, () => '\ufffd');
      const byte = random.pick(['E9', 'e8', 'F1', 'fc']);
      return encodeItem(item).replace('\\ufffd', `\\x${byte}`);
    }
    case 'missing-comma': {
      while (item.aliases.length < 2) item.aliases.push(item.aliases.length === 0 ? item.name.toLowerCase() : `${item.name} Jr`);
      const line = encodeItem(item);
      const aliases = line.indexOf('"aliases":[');
      const comma = line.indexOf('","', aliases);
      return `${line.slice(0, comma)}"]["${line.slice(comma + 3)}`;
    }
    case 'truncated': {
      const line = encodeItem(item);
      return line.slice(0, Math.floor(line.length * (0.3 + 0.5 * random.next())));
    }
    case 'unescaped-quote': {
      const line = encodeItem(item);
      const at = line.indexOf('"name":"') + 8 + Math.min(2, item.name.length);
      return `${line.slice(0, at)}"${line.slice(at)}`;
    }
    case 'garbage':
      return `<br /><b>Notice</b>:  Undefined index: age in <b>/var/www/feed/export.php</b> on line <b>${random.int(20, 400)}</b><br />${encodeItem(item)}`;
  }
}

function formatDate(date: string | Date | undefined): string {
  if (date === undefined) return '2023-10-29T04:15:03Z';
  return typeof date === 'string' ? date : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function emptySummary(): FeedSummary {
  return { items: 0, bytes: 0, removed: 0, defects: { escape: [], 'escape-invalid': [], 'missing-comma': [], truncated: [], 'unescaped-quote': [], garbage: [] } };
}

/** The feed's text in chunks of about `chunkBytes`, laid out as the real one: tabs, one item per line. */
function* feedChunks(options: FeedOptions, summary: FeedSummary): Generator<Buffer> {
  const factory = new FeedItemFactory(options);
  const defects = defectPlan(options);
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  const seed = options.seed ?? 1;
  const separatorFirstEvery = options.separatorFirstEvery ?? 200;
  let pending = `{\n\t"site": "${options.site ?? 'https://www.pornhub.com'}",\n\t"generationDate": "${formatDate(options.generationDate)}",\n\t"items": [\n`;
  const flush = (): Buffer => {
    const chunk = Buffer.from(pending, 'utf8');
    summary.bytes += chunk.length;
    pending = '';
    return chunk;
  };
  for (let index = 0; index < options.items; index++) {
    let item: FeedItem | null = factory.item(index);
    if (options.mutate) {
      const replaced = options.mutate(item, index);
      item = replaced === undefined ? item : replaced;
    }
    if (item === null) {
      summary.removed++;
      continue;
    }
    const defect = defects.get(index);
    const line = defectiveLine(item, defect, index, seed);
    if (defect) summary.defects[defect].push(item.id);
    options.onItem?.(item, index, defect);
    if (summary.items === 0) pending += `\t\t${line}`;
    else if (separatorFirstEvery > 0 && summary.items % separatorFirstEvery === 0) pending += `\n\t\t,${line}`;
    else pending += `,\n\t\t${line}`;
    summary.items++;
    if (pending.length >= chunkBytes) yield flush();
  }
  pending += `${summary.items === 0 ? '' : '\n'}\t\t],\n\t"itemsCount": ${options.itemsCount ?? summary.items}\n}\n`;
  yield flush();
}

/** Streams a synthetic feed shaped like the real one; memory stays flat whatever `items` is. */
export function generateFeed(options: FeedOptions): FeedStream {
  let summary = emptySummary();
  return {
    get summary() {
      return summary;
    },
    async *[Symbol.asyncIterator]() {
      summary = emptySummary();
      yield* feedChunks(options, summary);
    },
  };
}

/** Writes a synthetic feed to `path` (streamed) and says what it holds. */
export async function writeFeedFile(path: string, options: FeedOptions): Promise<FeedSummary> {
  const feed = generateFeed(options);
  await pipeline(Readable.from(feed), fs.createWriteStream(path));
  return feed.summary;
}
