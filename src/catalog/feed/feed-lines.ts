/**
 * The fast path: a feed laid out one item per line, as the real feed is.
 *
 * ```
 * {
 *   "site": "...", "generationDate": "...",
 *   "items": [
 *     {...},          <- one item per line, JSON.parse'd alone
 *     {...}
 *   ],
 *   "itemsCount": 2
 * }
 * ```
 */
import {
  countOrNull,
  emptyFeed,
  FeedFormatError,
  isPlainObject,
  notAnEnvelope,
  sample,
  stringOrNull,
  type FeedEvent,
} from './feed-events.js';
import type { Line } from './line-splitter.js';
import { emptyRepairCounts, sanitizeItemText, type Repair } from './sanitize.js';

/** The envelope's fields before `"items": [`, and a bound on how long they may be. */
export interface Head {
  site: string | null;
  generationDate: string | null;
}
export const MAX_HEAD_CHARS = 64 * 1024;
const MAX_TAIL_CHARS = 64 * 1024;

/**
 * Reads the text before the items: the envelope up to a line ending in `"items": [`.
 * - a Head once that text closes as `{..., "items": []}`
 * - `more` while it may still come
 * - `not-lines` when the text cannot be that (the layout is another one)
 * Throws FeedFormatError when the body does not start as a JSON object.
 */
export function readHead(text: string): Head | 'more' | 'not-lines' {
  const body = text.replace(/^\uFEFF/, '');
  const start = body.trimStart();
  if (start === '') return 'more';
  if (start[0] !== '{') throw notAnEnvelope(start);
  if (!/"items"\s*:\s*\[\s*$/.test(body.slice(-256))) return body.length > MAX_HEAD_CHARS ? 'not-lines' : 'more';
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${body}]}`);
  } catch {
    return 'not-lines';
  }
  if (!isPlainObject(envelope)) return 'not-lines';
  return { site: stringOrNull(envelope.site), generationDate: stringOrNull(envelope.generationDate) };
}

export type ItemText = { ok: true; value: unknown; repairs?: Repair[] } | { ok: false; reason: string };

/** One item's text: `JSON.parse` as it is, then once more after repair. */
export function parseItemText(text: string): ItemText {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const repaired = sanitizeItemText(text);
    let failure = messageOf(error);
    if (repaired.repairs.length > 0) {
      try {
        return { ok: true, value: JSON.parse(repaired.text), repairs: repaired.repairs };
      } catch (again) {
        failure = `${messageOf(again)} (after repair: ${describe(repaired.repairs)})`;
      }
    }
    return parseWithMergedArrays(repaired.text, repaired.repairs) ?? { ok: false, reason: sample(failure) };
  }
}

/**
 * The other form of the missing comma between arrays: one array split in two, `["a"]["b"]`.
 * Joining them back (`["a","b"]`) is kept only when the item then parses.
 */
function parseWithMergedArrays(text: string, repairs: Repair[]): ItemText | undefined {
  let joins = 0;
  const merged = text.replace(/"\]\s*\["/g, () => {
    joins++;
    return '","';
  });
  if (joins === 0) return undefined;
  try {
    const others = repairs.filter((r) => r.kind !== 'missingComma');
    const commas = joins + (repairs.find((r) => r.kind === 'missingComma')?.count ?? 0);
    return { ok: true, value: JSON.parse(merged), repairs: [...others, { kind: 'missingComma', count: commas }] };
  } catch {
    return undefined;
  }
}

export async function* parseLineLayout(lines: AsyncIterable<Line>, maxLineLength: number): AsyncGenerator<FeedEvent> {
  const repairs = emptyRepairCounts();
  let head = '';
  let header: Head | null = null;
  let tail: string | null = null;
  let index = 0;
  let items = 0;
  let invalid = 0;
  let repaired = 0;
  let lastLine = 0;

  for await (const line of lines) {
    lastLine = line.line;
    if (header === null) {
      if (line.tooLong) throw new FeedFormatError(`Line ${line.line} of the feed's head is longer than ${maxLineLength} bytes.`);
      head += `${line.text}\n`;
      const read = readHead(head);
      if (read === 'more') continue;
      if (read === 'not-lines') throw new FeedFormatError('The feed is not laid out one item per line: its head does not end with "items": [.');
      header = read;
      head = '';
      yield { kind: 'header', ...header, layout: 'lines' };
      continue;
    }
    if (tail !== null) {
      tail += `${line.text}\n`;
      if (line.tooLong || tail.length > MAX_TAIL_CHARS) throw new FeedFormatError(`Unexpected text after the items array, at line ${line.line}: ${JSON.stringify(sample(line.text.trim(), 60))}.`);
      continue;
    }
    if (line.tooLong) {
      invalid++;
      yield { kind: 'invalid', line: line.line, index: index++, reason: `The line is ${line.bytes} bytes long, more than the ${maxLineLength} allowed.`, text: sample(line.text.trimStart()) };
      continue;
    }
    const text = line.text.trim();
    if (text === '') continue;
    if (text.startsWith(']')) {
      tail = `${text}\n`;
      continue;
    }
    const parsed = parseItemText(text.endsWith(',') ? text.slice(0, -1) : text);
    if (!parsed.ok) {
      invalid++;
      yield { kind: 'invalid', line: line.line, index: index++, reason: parsed.reason, text: sample(text) };
    } else if (!isPlainObject(parsed.value)) {
      invalid++;
      yield { kind: 'invalid', line: line.line, index: index++, reason: 'The item is not a JSON object.', text: sample(text) };
    } else if (parsed.repairs) {
      items++;
      repaired++;
      for (const { kind, count } of parsed.repairs) repairs[kind] += count;
      yield { kind: 'item', line: line.line, index: index++, value: parsed.value, repairs: parsed.repairs };
    } else {
      items++;
      yield { kind: 'item', line: line.line, index: index++, value: parsed.value };
    }
  }

  if (header === null) {
    if (head.replace(/^\uFEFF/, '').trim() === '') throw emptyFeed();
    throw new FeedFormatError('The feed ended before its "items" array began.');
  }
  if (tail === null) {
    throw new FeedFormatError(`The feed is truncated: it ended at line ${lastLine}, inside the items array (after ${index} items), without closing it.`);
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(`{"items":[${tail}`);
  } catch (error) {
    throw new FeedFormatError(`The feed's envelope does not close properly after the items array (truncated?): ${messageOf(error)}.`);
  }
  const rest = isPlainObject(envelope) ? envelope : {};
  const site = header.site ?? stringOrNull(rest.site);
  const generationDate = header.generationDate ?? stringOrNull(rest.generationDate);
  yield { kind: 'end', itemsCount: countOrNull(rest.itemsCount), items, invalid, repaired, repairs, site, generationDate, layout: 'lines' };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(repairs: readonly Repair[]): string {
  return repairs.map(({ kind, count }) => `${kind} ×${count}`).join(', ');
}
