import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import type { CatalogCaching } from './catalog.caching.js';
import { resourceRoutes } from './catalog.resource.js';
import { ThumbnailUrlView } from './catalog.schemas.js';
import { presentThumbnailUrl, type ThumbnailUrlViewData } from './pornstars.presenter.js';
import { ThumbnailUrlBody, ThumbnailUrlPatchBody, ThumbnailUrlsQuery, type ThumbnailUrlBodyData, type ThumbnailUrlsQueryData } from './thumbnail-urls.schemas.js';
import type { ThumbnailUrlsService } from './thumbnail-urls.service.js';

export function thumbnailUrlsRoutes(app: FastifyInstance, urls: ThumbnailUrlsService, tokens: TokenVerifier, caching: CatalogCaching, imageVariantWidths: readonly number[]): void {
  resourceRoutes<ThumbnailUrlsQueryData, ThumbnailUrlBodyData, ThumbnailUrlViewData>(
    app,
    {
      path: '/pornstar-thumbnail-urls',
      tag: 'pornstar-thumbnail-urls',
      noun: 'Pornstar thumbnail URL',
      plural: 'Pornstar thumbnail URLs',
      view: ThumbnailUrlView,
      query: ThumbnailUrlsQuery,
      body: ThumbnailUrlBody,
      patchBody: ThumbnailUrlPatchBody,
      async list(query, page, ctx) {
        const { items, total } = await urls.list({ thumbnailId: query.thumbnail_id, includeRemoved: ctx.includeRemoved }, page);
        return { items: items.map((u) => presentThumbnailUrl(u, ctx)), total };
      },
      show: async (id, ctx) => presentThumbnailUrl(await urls.get(id, ctx.includeRemoved), ctx),
      create: async (body, ctx) => presentThumbnailUrl(await urls.create(body), ctx),
      update: async (id, body, mode, ctx) => presentThumbnailUrl(await urls.update(id, body, mode, ctx.includeRemoved, ctx.expect && ((u) => ctx.expect!(presentThumbnailUrl(u, ctx)))), ctx),
      destroy: (id, ctx) => urls.destroy(id, ctx.includeRemoved, ctx.expect && ((u) => ctx.expect!(presentThumbnailUrl(u, ctx)))),
    },
    tokens,
    caching,
    imageVariantWidths,
  );
}
