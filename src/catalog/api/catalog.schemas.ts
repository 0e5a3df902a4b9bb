import { Type, type TSchema } from 'typebox';
import { THUMBNAIL_SOURCES, type ThumbnailSource } from '../catalog.tables.js';

/** Shared field and view schemas of the catalog resources. */

export const MAX_COUNT = Number.MAX_SAFE_INTEGER;
export const MAX_URL_LENGTH = 2048;

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** One Ajv error ("must be a string or null") rather than one per branch of a union. */
export const NullableText = (maxLength: number, description?: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength, ...(description && { description }) });

/** How every integer field of a write reads a string (see `catalog.coerce.ts`). */
const INTEGER_TEXT_NOTE = 'A numeric string ("30") is read as that integer';

export const NullableInteger = (minimum: number, maximum: number, description?: string) =>
  Type.Unsafe<number | null>({
    type: ['integer', 'null'],
    minimum,
    maximum,
    description: [description, `${INTEGER_TEXT_NOTE}, and "" as null.`].filter(Boolean).join('. '),
  });

/** A foreign id in a write body (`pornstar_id`, `thumbnail_id`). */
export const IdInput = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: `${description}. ${INTEGER_TEXT_NOTE}.` });

/** Laravel's `boolean` rule: true, false, 1, 0, "1" and "0". */
export type BoolInput = boolean | 0 | 1 | '0' | '1';
export const BoolLike = (description: string) => Type.Unsafe<BoolInput>({ enum: [true, false, 1, 0, '1', '0'], description });
export const NullableBoolLike = (description: string) =>
  Type.Unsafe<BoolInput | null>({ enum: [true, false, 1, 0, '1', '0', null], description });

export function toBoolInput(value: BoolInput): boolean {
  return value === true || value === 1 || value === '1';
}

export const ThumbnailUrlView = Type.Object({
  id: Type.Integer(),
  thumbnail_id: Type.Integer(),
  url: Type.String(),
  local_path: Nullable(Type.String()),
  cached_url: Nullable(Type.String()),
  image_status: Nullable(Type.String()),
  variants: Nullable(
    Type.Array(Type.Object({ width: Type.Integer(), url: Type.String() }), {
      description: 'Resized copies of the cached image, one per IMAGE_VARIANT_WIDTHS, ready for srcset (`url widthw`); each URL negotiates its format from Accept (add &format=avif|webp|jpeg to choose). Null until the image is cached',
    }),
  ),
});

export const ThumbnailView = Type.Object({
  id: Type.Integer(),
  pornstar_id: Type.Integer(),
  type: Type.String(),
  source: Type.Unsafe<ThumbnailSource>({
    type: 'string',
    enum: [...THUMBNAIL_SOURCES],
    description: "feed: the feed's thumbnail of this type, rewritten by every feed run that touches the pornstar; api: made through the API, never touched by the feed",
  }),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  urls: Type.Array(ThumbnailUrlView),
});

export const AliasView = Type.Object({
  id: Type.Integer(),
  pornstar_id: Type.Integer(),
  alias: Type.String(),
});

export const UrlInput = Type.Object({
  url: Type.String({ maxLength: MAX_URL_LENGTH, description: 'An absolute http(s) URL; it enters the image download pipeline' }),
  local_path: Type.Optional(NullableText(1024)),
});

export const UrlsInput = Type.Array(UrlInput, { maxItems: 20 });

export const ThumbnailFields = {
  type: Type.String({ maxLength: 32, description: 'pc, mobile, tablet, …; a pornstar may have several of one type' }),
  width: Type.Optional(NullableInteger(0, 100_000)),
  height: Type.Optional(NullableInteger(0, 100_000)),
  urls: Type.Optional(UrlsInput),
};

export const NestedThumbnailInput = Type.Object(ThumbnailFields);
export const NestedAliasInput = Type.Object({ alias: Type.String({ maxLength: 255 }) });
