import { Type, type Static } from 'typebox';
import { IdFilter, pageProperties } from './catalog.params.js';
import { ThumbnailFields } from './catalog.schemas.js';

const pornstarId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The pornstar the thumbnail belongs to' });

export const ThumbnailBody = Type.Object({ pornstar_id: pornstarId, ...ThumbnailFields });
export const ThumbnailPatchBody = Type.Object({ pornstar_id: Type.Optional(pornstarId), ...ThumbnailFields, type: Type.Optional(ThumbnailFields.type) });
export type ThumbnailBodyData = Static<typeof ThumbnailPatchBody>;

export const ThumbnailsQuery = Type.Object({
  ...pageProperties,
  pornstar_id: Type.Optional(IdFilter('Only the thumbnails of this pornstar')),
  type: Type.Optional(Type.String({ maxLength: 32, description: 'Only thumbnails of this type' })),
});
export type ThumbnailsQueryData = Static<typeof ThumbnailsQuery>;
