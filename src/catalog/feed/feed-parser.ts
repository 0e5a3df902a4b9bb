/**
 * The feed as a stream of events, in constant memory whatever its size:
 *
 * - `header` as soon as the envelope's `site`/`generationDate` are known, before the items
 * - `item` for each item that parses (after repair of the known defects if need be)
 * - `invalid` for each item whose text does not parse even after repair; parsing goes on
 * - `end` with the counts, once the envelope has closed
 *
 * A body that is not the envelope (HTML, a bare array, empty, truncated) throws FeedFormatError.
 *
 * The layout is decided from the first lines: when the items array opens at the end of a line
 * and the next line holds one whole item (or is shaped like one: `{...},`), items are read line
 * by line with `JSON.parse` (the real feed, and the fast path); otherwise the feed is streamed
 * through @streamparser/json.
 */
import type { Readable } from 'node:stream';
import { isOneValueLine } from './sanitize.js';
import type { FeedEvent, FeedLayout } from './feed-events.js';
import { parseLineLayout, readHead } from './feed-lines.js';
import { parseStreamLayout } from './feed-streaming.js';
import { chunksOf, splitLines, type ChunkSource, type Line } from './line-splitter.js';

export * from './feed-events.js';

export interface ParseFeedOptions {
  /**
   * The longest line accepted, in bytes: a longer item line is reported invalid (its bytes are
   * not kept), so one broken line cannot take unbounded memory. Default 1 MiB.
   */
  maxLineLength?: number;
  /** `auto` (the default) decides from the first lines. */
  layout?: FeedLayout | 'auto';
}

export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;

export async function* parseFeed(source: ChunkSource | Readable, options: ParseFeedOptions = {}): AsyncGenerator<FeedEvent, void, undefined> {
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 1) throw new RangeError(`maxLineLength must be a positive integer, got ${maxLineLength}`);
  const upstream = chunksOf(source as ChunkSource)[Symbol.asyncIterator]();
  try {
    const { layout, replay } = await detectLayout(upstream, options.layout ?? 'auto', maxLineLength);
    if (layout === 'lines') yield* parseLineLayout(splitLines(replay, maxLineLength), maxLineLength);
    else yield* parseStreamLayout(replay);
  } finally {
    // Closes the source when the consumer stops early or parsing fails.
    await upstream.return?.(undefined);
  }
}

/**
 * Reads the first lines, keeping their chunks, until the layout is known; then replays those
 * chunks ahead of the rest of the source.
 */
async function detectLayout(
  upstream: AsyncIterator<Buffer>,
  wanted: FeedLayout | 'auto',
  maxLineLength: number,
): Promise<{ layout: FeedLayout; replay: AsyncIterable<Buffer> }> {
  const kept: Buffer[] = [];
  let done = false;
  const replay = (): AsyncIterable<Buffer> => ({
    async *[Symbol.asyncIterator]() {
      yield* kept.splice(0);
      if (done) return;
      for (;;) {
        const next = await upstream.next();
        if (next.done) return;
        yield next.value;
      }
    },
  });
  if (wanted !== 'auto') return { layout: wanted, replay: replay() };

  const recorder: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const next = await upstream.next();
        if (next.done) done = true;
        else kept.push(next.value);
        return next;
      },
    }),
  };
  const layout = await decide(splitLines(recorder, maxLineLength)[Symbol.asyncIterator]());
  return { layout, replay: replay() };
}

async function decide(lines: AsyncIterator<Line>): Promise<FeedLayout> {
  let head = '';
  let headRead = false;
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = next.value;
    if (line.tooLong) return 'stream';
    if (!headRead) {
      head += `${line.text}\n`;
      const read = readHead(head);
      if (read === 'not-lines') return 'stream';
      headRead = read !== 'more';
      continue;
    }
    const text = line.text.trim();
    if (text === '') continue;
    return text.startsWith(']') || isOneValueLine(text) || looksLikeOneItem(text) ? 'lines' : 'stream';
  }
  return 'stream';
}

/**
 * An item alone on its line whose text is broken (so that its brackets may not balance) still
 * starts with `{` and ends with `}` or `},`; the first line of a pretty-printed item does not.
 */
function looksLikeOneItem(text: string): boolean {
  return text.length > 2 && text.startsWith('{') && /\},?$/.test(text);
}
