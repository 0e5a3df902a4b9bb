import { Type, type Static } from 'typebox';
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

export const SORT_KEYS = ['name', 'rank', 'views', 'subscriptions', 'age'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
const SORT_VALUES = SORT_KEYS.flatMap((key) => [key, `-${key}`]);

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
    breast_size: Nullable(Type.String()),
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

/** The seed's flat request shape; every field optional here (PATCH), `external_id` and `name` required for POST/PUT. */
const writable = {
  external_id: Type.Optional(Type.String({ maxLength: 64, description: "The feed's id, as a string; unique" })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  link: text(1024),
  license: text(32),
  wl_status: Type.Optional(BoolLike('true/false, 1/0 or "1"/"0"')),
  hair_color: text(255),
  ethnicity: text(255),
  has_tattoos: Type.Optional(NullableBoolLike('true/false, 1/0, "1"/"0" or null')),
  has_piercings: Type.Optional(NullableBoolLike('true/false, 1/0, "1"/"0" or null')),
  breast_size: text(64),
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
  thumbnails: Type.Optional(Type.Array(NestedThumbnailInput, { maxItems: 10, description: 'Replaces the thumbnails, kept per type' })),
};

export const PornstarPatchBody = Type.Object(writable);
export const PornstarBody = Type.Object({
  ...writable,
  external_id: Type.String({ maxLength: 64, description: "The feed's id, as a string; unique" }),
  name: Type.String({ maxLength: 255 }),
});
export type PornstarBodyData = Static<typeof PornstarPatchBody>;

const filterText = (description: string) => Type.Optional(Type.String({ maxLength: 255, description }));

export const PornstarsQuery = Type.Object({
  ...pageProperties,
  q: filterText('Case-insensitive substring of the name or an alias'),
  gender: filterText('One of the |-joined values, case-insensitive'),
  orientation: filterText('One of the |-joined values, case-insensitive'),
  license: filterText('One of the |-joined values, case-insensitive'),
  hair_color: filterText('One of the |-joined values, case-insensitive'),
  ethnicity: filterText('One of the |-joined values, case-insensitive'),
  has_tattoos: Type.Optional(Flag('true/false/1/0')),
  has_piercings: Type.Optional(Flag('true/false/1/0')),
  min_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
  max_age: Type.Optional(Type.Integer({ minimum: 0, maximum: 200 })),
  sort: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: SORT_VALUES, description: 'name|rank|views|subscriptions|age; a - prefix sorts descending' })),
});
export type PornstarsQueryData = Static<typeof PornstarsQuery>;
