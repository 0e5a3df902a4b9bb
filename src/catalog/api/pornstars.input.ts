import { ValidationError } from '../../platform/errors/domain-errors.js';
import type { FieldErrors } from '../../platform/errors/field-errors.js';
import { checkText } from '../../platform/http/validation.js';
import { searchKey } from '../../platform/search-key.js';
import type { PornstarsTable } from '../catalog.tables.js';
import { breastSizeOf } from '../feed/feed-item.js';
import { checkAliasList, checkThumbnailList, optionalText, type ThumbnailInput, type WriteMode } from './catalog.input.js';
import { toBoolInput } from './catalog.schemas.js';
import { flagValue, isTrue } from './catalog.params.js';
import type { PornstarFilter, PornstarSort } from './pornstars.repository.js';
import { RELEVANCE, type PornstarBodyData, type PornstarsQueryData } from './pornstars.schemas.js';

const TEXT_FIELDS = ['link', 'license', 'hair_color', 'ethnicity', 'breast_type', 'gender', 'orientation'] as const;
const NUMBER_FIELDS = [
  'age',
  'subscriptions',
  'monthly_searches',
  'views',
  'videos_count',
  'premium_videos_count',
  'white_label_video_count',
  'rank',
  'rank_premium',
  'rank_wl',
] as const;
const FLAG_FIELDS = ['has_tattoos', 'has_piercings'] as const;

/** The pornstars columns a client writes, as stored. */
export type PornstarColumns = Pick<
  PornstarsTable,
  'external_id' | 'name' | 'wl_status' | 'breast_size' | (typeof TEXT_FIELDS)[number] | (typeof NUMBER_FIELDS)[number] | (typeof FLAG_FIELDS)[number]
>;

export interface PornstarInput {
  /** The columns to write: all of them for PUT and POST, the ones sent for PATCH. */
  columns: Partial<PornstarColumns>;
  /** The new set of aliases, when it changes. */
  aliases?: string[];
  /** The new set of thumbnails, when it changes. */
  thumbnails?: ThumbnailInput[];
}

/**
 * The seed's flat body as columns. For `replace` every field is written (left out: null, false
 * or empty); for `merge` only the fields sent. Booleans are stored as 0/1; a numeric external_id
 * or breast_size as its text, as the feed stores them.
 */
export function toPornstarInput(body: PornstarBodyData, mode: WriteMode): PornstarInput {
  const errors: FieldErrors = {};
  const replace = mode === 'replace';
  const columns: Partial<PornstarColumns> = {};
  if (body.external_id !== undefined) columns.external_id = checkText(errors, 'external_id', String(body.external_id), 64);
  if (body.name !== undefined) columns.name = checkText(errors, 'name', body.name, 255);
  if (body.wl_status !== undefined || replace) columns.wl_status = body.wl_status === undefined ? 0 : Number(toBoolInput(body.wl_status));
  for (const field of TEXT_FIELDS) {
    if (body[field] !== undefined || replace) columns[field] = optionalText(body[field]) ?? null;
  }
  if (body.breast_size !== undefined || replace) {
    const size = body.breast_size;
    columns.breast_size = typeof size === 'number' ? breastSizeOf(size) : (optionalText(size) ?? null);
  }
  for (const field of NUMBER_FIELDS) {
    if (body[field] !== undefined || replace) columns[field] = body[field] ?? null;
  }
  for (const field of FLAG_FIELDS) {
    const value = body[field];
    if (value !== undefined || replace) columns[field] = value === undefined || value === null ? null : Number(toBoolInput(value));
  }
  const input: PornstarInput = { columns };
  if (body.aliases !== undefined || replace) input.aliases = checkAliasList(errors, 'aliases', body.aliases ?? []);
  if (body.thumbnails !== undefined || replace) input.thumbnails = checkThumbnailList(errors, 'thumbnails', body.thumbnails ?? []);
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return input;
}

const TEXT_FILTERS = ['gender', 'orientation', 'license', 'hair_color', 'ethnicity'] as const;

/**
 * The index's query parameters as a filter and an order. A blank `q` is no search; any other `q`
 * is searched, by relevance unless `sort` says otherwise, and `sort=relevance` needs one.
 */
export function toPornstarQuery(query: PornstarsQueryData): { filter: PornstarFilter; sort: PornstarSort } {
  const searched = query.q !== undefined && query.q.trim() !== '';
  if (query.sort === RELEVANCE && !searched) throw new ValidationError({ sort: ['The sort relevance is only available with a q to rank by.'] });
  const filter: PornstarFilter = {
    includeRemoved: isTrue(query.include_removed),
    ...(searched ? { q: searchKey(query.q!) } : {}),
    text: [],
    hasTattoos: flagValue(query.has_tattoos),
    hasPiercings: flagValue(query.has_piercings),
    minAge: query.min_age,
    maxAge: query.max_age,
  };
  for (const column of TEXT_FILTERS) {
    const values = (query[column] ?? '')
      .split('|')
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== '');
    if (values.length > 0) filter.text.push({ column, values: [...new Set(values)] });
  }
  const sort = query.sort ?? (searched ? RELEVANCE : 'id');
  const descending = sort.startsWith('-');
  return { filter, sort: { key: (descending ? sort.slice(1) : sort) as PornstarSort['key'], descending } };
}
