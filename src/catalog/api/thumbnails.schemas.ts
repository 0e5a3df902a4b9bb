import { Type, type Static } from 'typebox';
import { IdFilter, pageProperties } from './catalog.params.js';
import { THUMBNAIL_SOURCES, type ThumbnailSource } from '../catalog.tables.js';
import { IdInput, ThumbnailFields } from './catalog.schemas.js';

const pornstarId = IdInput('The pornstar the thumbnail belongs to');

export const ThumbnailBody = Type.Object({ pornstar_id: pornstarId, ...ThumbnailFields });
export const ThumbnailPatchBody = Type.Object({ pornstar_id: Type.Optional(pornstarId), ...ThumbnailFields, type: Type.Optional(ThumbnailFields.type) });
export type ThumbnailBodyData = Static<typeof ThumbnailPatchBody>;

export const ThumbnailsQuery = Type.Object({
  ...pageProperties,
  pornstar_id: Type.Optional(IdFilter('Only the thumbnails of this pornstar')),
  type: Type.Optional(Type.String({ maxLength: 32, description: 'Only thumbnails of this type' })),
  source: Type.Optional(
    Type.Unsafe<ThumbnailSource>({ type: 'string', enum: [...THUMBNAIL_SOURCES], description: "Only the feed's thumbnails (feed), or only those made through the API (api)" }),
  ),
});
export type ThumbnailsQueryData = Static<typeof ThumbnailsQuery>;
