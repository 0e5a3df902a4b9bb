import { Type } from 'typebox';

export const MAX_CHANGES_LIMIT = 1_000;
export const DEFAULT_CHANGES_LIMIT = 500;

export const changesQueryProperties = {
  changed_since: Type.Optional(
    Type.String({
      maxLength: 128,
      description:
        'Delta sync: only the pornstars created, updated or removed after this cursor, by change order. `0` starts from the beginning; then pass each answer’s `meta.next_cursor`. A malformed cursor is a 422; one of another catalog, or older than the tombstones kept (CATALOG_TOMBSTONE_RETENTION_DAYS), a 410. Cannot be combined with filters, sort or pages.',
    }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHANGES_LIMIT, description: `With changed_since: changes per answer, 1 to ${MAX_CHANGES_LIMIT} (default ${DEFAULT_CHANGES_LIMIT})` })),
};
