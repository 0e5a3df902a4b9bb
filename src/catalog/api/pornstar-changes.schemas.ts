import { Type } from 'typebox';
import { PornstarView } from './pornstars.schemas.js';

/**
 * One change: the whole pornstar as it is now, or a tombstone (`{id, external_id, removed: true,
 * removed_at}`). One object schema with every field optional rather than a union, so that the
 * answer is serialized without trying each branch on every item.
 */
export const PornstarChangeView = Type.Object({
  ...Type.Partial(PornstarView).properties,
  removed: Type.Optional(Type.Literal(true, { description: 'Only on a tombstone: the pornstar left the feed, or was deleted' })),
  removed_at: Type.Optional(Type.String({ description: 'Only on a tombstone: when, ISO 8601' })),
});

export const ChangesEnvelope = Type.Object({
  success: Type.Boolean(),
  message: Type.String(),
  data: Type.Array(PornstarChangeView, {
    description: 'In change order. An item with `removed: true` is a tombstone: the pornstar left the feed or was deleted. Any other item is the whole pornstar as it is now.',
  }),
  errors: Type.Null(),
  meta: Type.Object({
    changed_since: Type.String(),
    next_cursor: Type.String({ description: 'Pass it as changed_since for the next page, or the next poll' }),
    has_more: Type.Boolean({ description: 'More changes are waiting beyond this page' }),
    limit: Type.Integer(),
  }),
  links: Type.Object({ next: Type.String() }),
});
