import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import type { CatalogCaching } from './catalog.caching.js';
import { ValidationError } from '../../platform/errors/domain-errors.js';
import { resourceRoutes } from './catalog.resource.js';
import { toPornstarQuery } from './pornstars.input.js';
import { presentPornstar } from './pornstars.presenter.js';
import { PornstarBody, PornstarPatchBody, PornstarView, PornstarsQuery, type PornstarBodyData, type PornstarViewData, type PornstarsQueryData } from './pornstars.schemas.js';
import type { PornstarsService } from './pornstars.service.js';
import { answerChanges } from './pornstar-changes.answer.js';
import { ChangesEnvelope } from './pornstar-changes.schemas.js';
import type { PornstarChangesService } from './pornstar-changes.service.js';

export function pornstarsRoutes(
  app: FastifyInstance,
  pornstars: PornstarsService,
  tokens: TokenVerifier,
  caching: CatalogCaching,
  imageVariantWidths: readonly number[],
  changes: PornstarChangesService,
): void {
  resourceRoutes<PornstarsQueryData, PornstarBodyData, PornstarViewData>(
    app,
    {
      path: '/pornstars',
      tag: 'pornstars',
      noun: 'Pornstar',
      plural: 'Pornstars',
      view: PornstarView,
      query: PornstarsQuery,
      body: PornstarBody,
      patchBody: PornstarPatchBody,
      async list(query, page, ctx) {
        if (query.limit !== undefined) throw new ValidationError({ limit: ['limit goes with changed_since; a list pages with page and per_page.'] });
        const { filter, sort } = toPornstarQuery(query);
        const { items, total } = await pornstars.list(filter, sort, page, ctx.version?.version);
        return { items: items.map((graph) => presentPornstar(graph, ctx)), total };
      },
      show: async (id, ctx) => presentPornstar(await pornstars.get(id, ctx.includeRemoved), ctx),
      create: async (body, ctx) => presentPornstar(await pornstars.create(body), ctx),
      update: async (id, body, mode, ctx) => presentPornstar(await pornstars.update(id, body, mode, ctx.includeRemoved, ctx.expect && ((graph) => ctx.expect!(presentPornstar(graph, ctx)))), ctx),
      destroy: (id, ctx) => pornstars.destroy(id, ctx.includeRemoved, ctx.expect && ((graph) => ctx.expect!(presentPornstar(graph, ctx)))),
      changes: { schema: ChangesEnvelope, answer: (query, ctx) => answerChanges(changes, query, ctx) },
    },
    tokens,
    caching,
    imageVariantWidths,
  );
}
