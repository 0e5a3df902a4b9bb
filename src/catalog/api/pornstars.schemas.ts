import { Type, type Static } from 'typebox';
import { changesQueryProperties } from './changes.params.js';
import {
  AliasView,
  BoolLike,
  MAX_COUNT,
  NestedAliasInput,
  NestedThumbnailInput,
  Nullable,
  NullableBoolLike,
  NullableInteger,
  NullableText,
  ThumbnailView,
} from './catalog.schemas.js';
import { Flag, pageProperties } from './catalog.params.js';

const BREAST_SIZE_VIEW = 'Always text: the feed\'s 34 and a write of 34 or "34" all read "34"';

export const SORT_KEYS = ['name', 'rank', 'views', 'subscriptions', 'age'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
/** Ranks the matches of `q`: its default, and only with it. */
export const RELEVANCE = 'relevance';
const SORT_VALUES = [RELEVANCE, ...SORT_KEYS.flatMap((key) => [key, `-${key}`])];

export const PornstarView = Type.Object({
  id: Type.Integer(),
  external_id: Type.String(),
  name: Type.String(),
  link: Nullable(Type.String()),
  license: Nullable(Type.String()),
  wl_status: Type.Boolean(),
  attributes: Type.Object({
    hair_color: Nullable(Type.String()),
    ethnicity: Nullable(Type.String()),
    has_tattoos: Nullable(Type.Boolean()),
    has_piercings: Nullable(Type.Boolean()),
    breast_size: Nullable(Type.String({ description: BREAST_SIZE_VIEW })),
    breast_type: Nullable(Type.String()),
    gender: Nullable(Type.String()),
    orientation: Nullable(Type.String()),
    age: Nullable(Type.Integer()),
  }),
  stats: Type.Object({
    subscriptions: Nullable(Type.Integer()),
    monthly_searches: Nullable(Type.Integer()),
    views: Nullable(Type.Integer()),
    videos_count: Nullable(Type.Integer()),
    premium_videos_count: Nullable(Type.Integer()),
    white_label_video_count: Nullable(Type.Integer()),
    rank: Nullable(Type.Integer()),
    rank_premium: Nullable(Type.Integer()),
    rank_wl: Nullable(Type.Integer()),
  }),
  aliases: Type.Array(AliasView),
  thumbnails: Type.Array(ThumbnailView),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type PornstarViewData = Static<typeof PornstarView>;

const text = (max: number) => Type.Optional(NullableText(max));
const count = () => Type.Optional(NullableInteger(0, MAX_COUNT));

/** Text, or a whole number that is stored as its decimal text (42 → "42"). */
const ExternalId = Type.Unsafe<string | number>({
  type: ['string', 'integer'],
  maxLength: 64,
  minimum: 0,
  maximum: MAX_COUNT,
  description: "The feed's id; unique. Text, or a whole number stored as text (42 is \"42\")",
});

/** Text ("C", "34D") or a positive number (the feed's 34), stored as text. */
const BreastSize = Type.Unsafe<string | number | null>({
  type: ['string', 'number', 'null'],
  maxLength: 64,
  exclusiveMinimum: 0,
  maximum: 1000,
  description: 'Text ("C", "34D") or a positive number (32, as the feed has it); stored and returned as text: 32 and "32" are both "32"',
});

/** The seed's flat request shape; every field optional here (PATCH), `external_id` and `name` required for POST/PUT. */
const writable = {
  external_id: Type.Optional(ExternalId),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  link: text(1024),
  license: text(32),
  wl_status: Type.Optional(BoolLike('true/false, 1/0 or "1"/"0"')),
  hair_color: text(255),
  ethnicity: text(255),
  has_tattoos: Type.Optional(NullableBoolLike('true/false, 1/0, "1"/"0" or null')),
  has_piercings: Type.Optional(NullableBoolLike('true/false, 1/0, "1"/"0" or null')),
  breast_size: Type.Optional(BreastSize),
  breast_type: text(64),
  gender: text(64),
  orientation: text(64),
  age: Type.Optional(NullableInteger(0, 200)),
  subscriptions: count(),
  monthly_searches: count(),
  views: count(),
  videos_count: count(),
  premium_videos_count: count(),
  white_label_video_count: count(),
  rank: count(),
  rank_premium: count(),
  rank_wl: count(),
  aliases: Type.Optional(Type.Array(NestedAliasInput, { maxItems: 100, description: 'Replaces the set of aliases' })),
  thumbnails: Type.Optional(
    Type.Array(NestedThumbnailInput, {
      maxItems: 10,
      description:
        "Replaces the pornstar's thumbnails: each is matched to an existing one of its type (in id order) and updated in place, keeping its source; the existing ones left over are deleted, and the thumbnails left over are added with source api",
    }),
  ),
};

export const PornstarPatchBody = Type.Object(writable);
export const PornstarBody = Type.Object({
  ...writable,
  external_id: ExternalId,
  name: Type.String({ maxLength: 255 }),
});
export type PornstarBodyData = Static<typeof PornstarPatchBody>;

const filterText = (description: string) => Type.Optional(Type.String({ maxLength: 255, description }));

export const PornstarsQuery = Type.Object({
  ...pageProperties,
  q: filterText(
    'Search of the names and aliases, insensitive to case and accents: every word of q starts a word of the name, or every word starts a word of one alias ("ann ro" finds "Anna Rose"; "renee" finds "Renée"). Words are runs of letters and digits; a q without any matches nothing. Ranked by default (sort=relevance)',
  ),
  gender: filterText('One of the |-joined values, case-insensitive'),
  orientation: filterText('One of the |-joined values, case-insensitive'),
  license: filterText('One of the |-joined values, case-insensitive'),
  hair_color: filterText('One of the |-joined values, case-insensitive'),
  ethnicity: filterText('One of the |-joined values, case-insensitive'),
  has_tattoos: Type.Optional(Flag('true/false/1/0')),
  has_piercings: Type.Optional(Flag('true/false/1/0')),
  min_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
  max_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
  sort: Type.Optional(
    Type.Unsafe<string>({
      type: 'string',
      enum: SORT_VALUES,
      description:
        'name|rank|views|subscriptions|age, a - prefix sorts descending; or relevance (only with q, and its default): the whole name is q, then the name starts with q, then the words of q start words of the name, then the same three for an alias; ties by rank (none last), then id',
    }),
  ),
  ...changesQueryProperties,
});
export type PornstarsQueryData = Static<typeof PornstarsQuery>;
