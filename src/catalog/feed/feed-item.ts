/**
 * One feed item: validated against the feed's types, then normalized into the shape that is
 * stored and hashed. Lengths follow the catalog's columns, so an item that passes fits its row.
 */
import { Type, type Static } from 'typebox';
import { sha256Hex } from '../../platform/canonical-json.js';
import { compileBodyValidator, toFieldErrors } from '../../platform/http/validation.js';

const INT32 = 2_147_483_647;
const BIGINT = Number.MAX_SAFE_INTEGER;
/** Errors reported per invalid item. */
export const MAX_ITEM_ERRORS = 5;
export const MAX_ALIAS_LENGTH = 255;

const text = (maxLength: number) => Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength }));
const flag = () => Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] }));
const count = (maximum: number) => Type.Optional(Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 0, maximum }));
/** A number, a numeric string or `|`-joined numbers; anything else is read as unknown (null). */
const loose = (description: string) => Type.Optional(Type.Unknown({ description }));

export const FeedStatsSchema = Type.Object({
  subscriptions: count(BIGINT),
  monthlySearches: count(BIGINT),
  views: count(BIGINT),
  videosCount: count(INT32),
  premiumVideosCount: count(INT32),
  whiteLabelVideoCount: count(INT32),
  rank: count(INT32),
  rankPremium: count(INT32),
  rankWl: count(INT32),
});

export const FeedAttributesSchema = Type.Object({
  hairColor: text(255),
  ethnicity: text(255),
  tattoos: flag(),
  piercings: flag(),
  breastSize: loose('34, "34" or "34|36": the first number'),
  breastType: text(64),
  gender: text(64),
  orientation: text(64),
  age: loose('42, "42" or "42|43": the first number'),
  stats: Type.Optional(FeedStatsSchema),
});

export const FeedThumbnailSchema = Type.Object({
  height: count(INT32),
  width: count(INT32),
  type: Type.String({ minLength: 1, maxLength: 32 }),
  urls: Type.Array(Type.String()),
});

export const FeedItemSchema = Type.Object({
  id: Type.Integer({ exclusiveMinimum: 0, maximum: BIGINT }),
  name: Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' }),
  link: text(1024),
  license: text(32),
  wlStatus: Type.Optional(Type.Unsafe<'1' | '0' | 1 | 0 | boolean>({ enum: ['1', '0', 1, 0, true, false] })),
  attributes: Type.Optional(FeedAttributesSchema),
  aliases: Type.Optional(Type.Array(Type.String())),
  thumbnails: Type.Optional(Type.Array(FeedThumbnailSchema)),
});

export type FeedItemInput = Static<typeof FeedItemSchema>;

export interface NormalizedStats {
  subscriptions: number | null;
  monthlySearches: number | null;
  views: number | null;
  videosCount: number | null;
  premiumVideosCount: number | null;
  whiteLabelVideoCount: number | null;
  rank: number | null;
  rankPremium: number | null;
  rankWl: number | null;
}

export interface NormalizedThumbnail {
  /** Lower-cased: one thumbnail per type. */
  type: string;
  width: number | null;
  height: number | null;
  /** http(s) only, de-duplicated, in feed order. */
  urls: string[];
}

export interface NormalizedItem {
  /** The feed's `id`, as text. */
  externalId: string;
  name: string;
  link: string | null;
  license: string | null;
  wlStatus: boolean;
  hairColor: string | null;
  ethnicity: string | null;
  hasTattoos: boolean | null;
  hasPiercings: boolean | null;
  breastSize: string | null;
  breastType: string | null;
  gender: string | null;
  orientation: string | null;
  age: number | null;
  stats: NormalizedStats;
  /** Trimmed, empty ones dropped, de-duplicated regardless of case (the first spelling wins). */
  aliases: string[];
  thumbnails: NormalizedThumbnail[];
}

export type FeedItemValidation = { ok: true; item: NormalizedItem } | { ok: false; id?: unknown; errors: string[] };

const validate = compileBodyValidator<FeedItemInput>(FeedItemSchema);

export function validateFeedItem(value: unknown): FeedItemValidation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, errors: ['The item must be a JSON object.'] };
  const id = (value as { id?: unknown }).id;
  if (!validate(value)) {
    const errors = Object.values(toFieldErrors(validate.errors)).flat().slice(0, MAX_ITEM_ERRORS);
    return id === undefined ? { ok: false, errors } : { ok: false, id, errors };
  }
  return { ok: true, item: normalizeFeedItem(value) };
}

/**
 * sha256 (hex) of the normalized item's JSON. `normalizeFeedItem` builds every item with the same
 * keys in the same order, so plain JSON is already canonical and the same item always hashes the same.
 */
export function contentHash(item: NormalizedItem): string {
  return sha256Hex(JSON.stringify(item));
}

/** sha256 (hex) of the item's aliases and thumbnails alone. */
export function childrenHash(item: NormalizedItem): string {
  return sha256Hex(JSON.stringify([item.aliases, item.thumbnails]));
}

/** The key under which aliases are unique for one pornstar. */
export function aliasKey(alias: string): string {
  return alias.trim().toLowerCase();
}

function normalizeFeedItem(input: FeedItemInput): NormalizedItem {
  const a = input.attributes ?? {};
  const s = a.stats ?? {};
  return {
    externalId: String(input.id),
    name: input.name.trim(),
    link: trimmed(input.link),
    license: trimmed(input.license),
    wlStatus: input.wlStatus === '1' || input.wlStatus === 1 || input.wlStatus === true,
    hairColor: joined(a.hairColor),
    ethnicity: joined(a.ethnicity),
    hasTattoos: a.tattoos ?? null,
    hasPiercings: a.piercings ?? null,
    breastSize: breastSizeOf(a.breastSize),
    breastType: joined(a.breastType),
    gender: trimmed(a.gender),
    orientation: trimmed(a.orientation),
    age: ageOf(a.age),
    stats: {
      subscriptions: s.subscriptions ?? null,
      monthlySearches: s.monthlySearches ?? null,
      views: s.views ?? null,
      videosCount: s.videosCount ?? null,
      premiumVideosCount: s.premiumVideosCount ?? null,
      whiteLabelVideoCount: s.whiteLabelVideoCount ?? null,
      rank: s.rank ?? null,
      rankPremium: s.rankPremium ?? null,
      rankWl: s.rankWl ?? null,
    },
    aliases: aliasesOf(input.aliases ?? []),
    thumbnails: thumbnailsOf(input.thumbnails ?? []),
  };
}

function trimmed(value: string | null | undefined): string | null {
  const text = value?.trim();
  return text ? text : null;
}

/** `"Blonde | Red|"` → `"Blonde|Red"`: parts trimmed, empty and repeated ones dropped. */
function joined(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const parts = [...new Set(value.split('|').map((part) => part.trim()).filter(Boolean))];
  return parts.length > 0 ? parts.join('|') : null;
}

/** The first number of 34, "34" or "34|36"; null for anything else. */
export function firstNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const first = value.split('|')[0]!.trim();
  return /^[+-]?\d+(\.\d+)?$/.test(first) ? Number(first) : null;
}

function ageOf(value: unknown): number | null {
  const age = firstNumber(value);
  return age !== null && Number.isInteger(age) && age > 0 && age <= 150 ? age : null;
}

/** The first positive number of 34, "34" or "34|36", as text ("34"); the API stores a number it is given the same way. */
export function breastSizeOf(value: unknown): string | null {
  const size = firstNumber(value);
  return size !== null && size > 0 ? String(size) : null;
}

function aliasesOf(aliases: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of aliases) {
    const alias = raw.trim();
    if (alias === '' || [...alias].length > MAX_ALIAS_LENGTH) continue;
    const key = aliasKey(alias);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(alias);
  }
  return out;
}

function thumbnailsOf(thumbnails: FeedItemInput['thumbnails'] & object): NormalizedThumbnail[] {
  const byType = new Map<string, NormalizedThumbnail>();
  for (const thumbnail of thumbnails) {
    const type = thumbnail.type.trim().toLowerCase();
    if (type === '' || byType.has(type)) continue;
    const urls = [...new Set(thumbnail.urls.map((url) => url.trim()).filter(isHttpUrl))];
    byType.set(type, { type, width: thumbnail.width ?? null, height: thumbnail.height ?? null, urls });
  }
  return [...byType.values()];
}

function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
