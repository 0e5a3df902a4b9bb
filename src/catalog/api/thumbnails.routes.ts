import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import type { CatalogCaching } from './catalog.caching.js';
import { resourceRoutes } from './catalog.resource.js';
import { ThumbnailView } from './catalog.schemas.js';
import { presentThumbnail, type ThumbnailViewData } from './pornstars.presenter.js';
import { ThumbnailBody, ThumbnailPatchBody, ThumbnailsQuery, type ThumbnailBodyData, type ThumbnailsQueryData } from './thumbnails.schemas.js';
import type { ThumbnailsService } from './thumbnails.service.js';

export function thumbnailsRoutes(app: FastifyInstance, thumbnails: ThumbnailsService, tokens: TokenVerifier, caching: CatalogCaching, imageVariantWidths: readonly number[]): void {
  resourceRoutes<ThumbnailsQueryData, ThumbnailBodyData, ThumbnailViewData>(
    app,
    {
      path: '/pornstar-thumbnails',
      tag: 'pornstar-thumbnails',
      noun: 'Pornstar thumbnail',
      plural: 'Pornstar thumbnails',
      view: ThumbnailView,
      query: ThumbnailsQuery,
      body: ThumbnailBody,
      patchBody: ThumbnailPatchBody,
      async list(query, page, ctx) {
        const type = query.type?.trim() || undefined;
        const { items, total } = await thumbnails.list({ pornstarId: query.pornstar_id, type, source: query.source, includeRemoved: ctx.includeRemoved }, page);
        return { items: items.map((t) => presentThumbnail(t, ctx)), total };
      },
      show: async (id, ctx) => presentThumbnail(await thumbnails.get(id, ctx.includeRemoved), ctx),
      create: async (body, ctx) => presentThumbnail(await thumbnails.create(body), ctx),
      update: async (id, body, mode, ctx) => presentThumbnail(await thumbnails.update(id, body, mode, ctx.includeRemoved, ctx.expect && ((t) => ctx.expect!(presentThumbnail(t, ctx)))), ctx),
      destroy: (id, ctx) => thumbnails.destroy(id, ctx.includeRemoved, ctx.expect && ((t) => ctx.expect!(presentThumbnail(t, ctx)))),
    },
    tokens,
    caching,
    imageVariantWidths,
  );
}
