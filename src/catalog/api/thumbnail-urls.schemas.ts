import { Type, type Static } from 'typebox';
import { IdFilter, pageProperties } from './catalog.params.js';
import { IdInput, MAX_URL_LENGTH, NullableText } from './catalog.schemas.js';

const fields = {
  thumbnail_id: IdInput('The thumbnail the URL belongs to'),
  url: Type.String({ maxLength: MAX_URL_LENGTH, description: 'An absolute http(s) URL; it enters the image download pipeline' }),
  local_path: Type.Optional(NullableText(1024)),
};

export const ThumbnailUrlBody = Type.Object(fields);
export const ThumbnailUrlPatchBody = Type.Object({ ...fields, thumbnail_id: Type.Optional(fields.thumbnail_id), url: Type.Optional(fields.url) });
export type ThumbnailUrlBodyData = Static<typeof ThumbnailUrlPatchBody>;

export const ThumbnailUrlsQuery = Type.Object({ ...pageProperties, thumbnail_id: Type.Optional(IdFilter('Only the URLs of this thumbnail')) });
export type ThumbnailUrlsQueryData = Static<typeof ThumbnailUrlsQuery>;
