import type { Repair, RepairCounts } from './sanitize.js';

export interface FeedHeaderEvent {
  kind: 'header';
  site: string | null;
  generationDate: string | null;
}

export interface FeedItemEvent {
  kind: 'item';
  /** The line the item starts on (1-based). */
  line: number;
  /** Its position in the `items` array, invalid items included. */
  index: number;
  value: Record<string, unknown>;
  /** Present when the item's text needed repair before it parsed. */
  repairs?: Repair[];
}

export interface FeedInvalidEvent {
  kind: 'invalid';
  line: number;
  index: number;
  reason: string;
  /** The beginning of the item's text. */
  text?: string;
}

export interface FeedEndEvent {
  kind: 'end';
  /** `itemsCount` as the feed declares it, or null when it does not. */
  itemsCount: number | null;
  /** Items parsed. */
  items: number;
  /** Items skipped because their text does not parse, even after repair. */
  invalid: number;
  /** Items that parsed only after repair. */
  repaired: number;
  repairs: RepairCounts;
  /** The envelope's fields as finally known (a streamed feed may give them after the items). */
  site: string | null;
  generationDate: string | null;
}

export type FeedEvent = FeedHeaderEvent | FeedItemEvent | FeedInvalidEvent | FeedEndEvent;

/** The body is not the feed's envelope at all: HTML, a bare array, an empty or truncated body. */
export class FeedFormatError extends Error {
  override readonly name = 'FeedFormatError';
}

export const ENVELOPE = '{site, generationDate, items: [...], itemsCount}';
/** How much of an invalid item's text an event carries. */
export const SAMPLE_CHARS = 200;

/** The text, cut to at most `max` characters (an ellipsis marks the cut). */
export function sample(text: string, max = SAMPLE_CHARS): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A FeedFormatError for a body whose first significant character is not `{`. */
export function notAnEnvelope(start: string): FeedFormatError {
  const shown = JSON.stringify(sample(start.trimStart(), 60));
  const first = start.trimStart()[0];
  if (first === '<') return new FeedFormatError(`The feed is HTML or XML, not JSON: it starts with ${shown}.`);
  if (first === '[') return new FeedFormatError(`The feed is a bare JSON array, not the envelope ${ENVELOPE}.`);
  return new FeedFormatError(`The feed is not a JSON object ${ENVELOPE}: it starts with ${shown}.`);
}

export function emptyFeed(): FeedFormatError {
  return new FeedFormatError('The feed is empty.');
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function countOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}
