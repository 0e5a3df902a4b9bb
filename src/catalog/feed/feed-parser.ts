/**
 * The feed as a stream of events, in constant memory whatever its size or layout:
 *
 * - `header` once the envelope's `items` array opens, with the `site`/`generationDate` read so far
 * - `item` for each item that parses (after repair of the known defects if need be)
 * - `invalid` for each item whose text does not parse even after repair; parsing goes on
 * - `end` with the counts, once the envelope has closed
 *
 * A body that is not the envelope (HTML, a bare array, empty, truncated) throws FeedFormatError.
 * FeedScanner says how the items are found in any layout.
 */
import type { Readable } from 'node:stream';
import type { FeedEvent } from './feed-events.js';
import { FeedScanner } from './feed-scanner.js';
import { chunksOf, splitLines, type ChunkSource } from './line-splitter.js';

export * from './feed-events.js';

export interface ParseFeedOptions {
  /**
   * The longest item accepted, in characters: a longer one is reported invalid (its text is not
   * kept), so one broken item cannot take unbounded memory. Default 1 MiB.
   */
  maxItemLength?: number;
}

const DEFAULT_MAX_ITEM_LENGTH = 1024 * 1024;
/** Lines longer than this are read in pieces of about this size. */
const PIECE_BYTES = 256 * 1024;

export async function* parseFeed(source: ChunkSource | Readable, options: ParseFeedOptions = {}): AsyncGenerator<FeedEvent, void, undefined> {
  const maxItemLength = options.maxItemLength ?? DEFAULT_MAX_ITEM_LENGTH;
  if (!Number.isInteger(maxItemLength) || maxItemLength < 1) throw new RangeError(`maxItemLength must be a positive integer, got ${maxItemLength}`);
  const scanner = new FeedScanner(maxItemLength);
  // Returning from the loop early (or failing) closes the source.
  for await (const piece of splitLines(chunksOf(source as ChunkSource), PIECE_BYTES)) {
    scanner.push(piece);
    yield* scanner.events.splice(0);
  }
  scanner.end();
  yield* scanner.events.splice(0);
}
