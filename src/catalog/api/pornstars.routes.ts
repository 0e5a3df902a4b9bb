import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import type { CatalogCaching } from './catalog.caching.js';
import { resourceRoutes } from './catalog.resource.js';
import { toPornstarQuery } from './pornstars.input.js';
import { presentPornstar } from './pornstars.presenter.js';
import { PornstarBody, PornstarPatchBody, PornstarView, PornstarsQuery, type PornstarBodyData, type PornstarViewData, type PornstarsQueryData } from './pornstars.schemas.js';
import type { PornstarsService } from './pornstars.service.js';

export function pornstarsRoutes(app: FastifyInstance, pornstars: PornstarsService, tokens: TokenVerifier, caching: CatalogCaching): void {
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
        const { filter, sort } = toPornstarQuery(query);
        const { items, total } = await pornstars.list(filter, sort, page, ctx.version?.version);
        return { items: items.map((graph) => presentPornstar(graph, ctx.baseUrl)), total };
      },
      show: async (id, ctx) => presentPornstar(await pornstars.get(id, ctx.includeRemoved), ctx.baseUrl),
      create: async (body, ctx) => presentPornstar(await pornstars.create(body), ctx.baseUrl),
      update: async (id, body, mode, ctx) => presentPornstar(await pornstars.update(id, body, mode, ctx.includeRemoved, ctx.expect && ((graph) => ctx.expect!(presentPornstar(graph, ctx.baseUrl)))), ctx.baseUrl),
      destroy: (id, ctx) => pornstars.destroy(id, ctx.includeRemoved, ctx.expect && ((graph) => ctx.expect!(presentPornstar(graph, ctx.baseUrl)))),
    },
    tokens,
    caching,
  );
}
