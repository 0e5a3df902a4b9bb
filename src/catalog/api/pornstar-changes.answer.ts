import { ValidationError } from '../../platform/errors/domain-errors.js';
import { API_PREFIX, type ResourceContext } from './catalog.resource.js';
import { DEFAULT_CHANGES_LIMIT } from './changes.params.js';
import type { PornstarChangesService } from './pornstar-changes.service.js';
import { presentPornstar } from './pornstars.presenter.js';
import type { PornstarsQueryData } from './pornstars.schemas.js';

/** What a delta request may carry besides its cursor. */
const WITH_CHANGES = new Set(['changed_since', 'limit', 'include_removed']);

/** `GET /pornstars?changed_since=…`: one page of changes in the envelope, with the cursor of the next. */
export async function answerChanges(changes: PornstarChangesService, query: PornstarsQueryData & { changed_since: string }, ctx: ResourceContext): Promise<object> {
  const others = Object.keys(query).filter((key) => !WITH_CHANGES.has(key) && query[key as keyof PornstarsQueryData] !== undefined);
  if (others.length > 0) throw new ValidationError({ changed_since: [`changed_since cannot be combined with ${others.join(', ')}: a delta lists every change, in change order.`] });
  const limit = query.limit ?? DEFAULT_CHANGES_LIMIT;
  const page = await changes.after(query.changed_since, limit);
  const next = new URLSearchParams({ changed_since: page.nextCursor, limit: String(limit) });
  return {
    success: true,
    message: 'Pornstar changes retrieved successfully',
    data: page.changes.map((change) =>
      change.kind === 'present' ? presentPornstar(change.graph, ctx) : { ...change.tombstone, removed_at: new Date(change.tombstone.removed_at).toISOString() },
    ),
    errors: null,
    meta: { changed_since: query.changed_since, next_cursor: page.nextCursor, has_more: page.hasMore, limit },
    links: { next: `${ctx.baseUrl}${API_PREFIX}/pornstars?${next.toString()}` },
  };
}
