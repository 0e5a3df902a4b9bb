import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import { installErrorHandler } from '../../platform/http/error-handler.js';
import { aliasesRoutes } from './aliases.routes.js';
import type { CatalogCaching } from './catalog.caching.js';
import { AliasesService } from './aliases.service.js';
import { EnvelopeOf, ErrorEnvelope, catalogErrorFormatter, ok } from './catalog.envelope.js';
import { API_PREFIX } from './catalog.resource.js';
import type { CatalogServiceDeps } from './catalog.sync.js';
import { FeedRunChangesService } from './feed-run-changes.service.js';
import { feedRunChangesRoutes } from './feed-run-changes.routes.js';
import { PornstarChangesService } from './pornstar-changes.service.js';
import { pornstarsRoutes } from './pornstars.routes.js';
import { PornstarsService } from './pornstars.service.js';
import { thumbnailUrlsRoutes } from './thumbnail-urls.routes.js';
import { ThumbnailUrlsService } from './thumbnail-urls.service.js';
import { thumbnailsRoutes } from './thumbnails.routes.js';
import { ThumbnailsService } from './thumbnails.service.js';

export interface CatalogServices {
  pornstars: PornstarsService;
  aliases: AliasesService;
  thumbnails: ThumbnailsService;
  thumbnailUrls: ThumbnailUrlsService;
  pornstarChanges: PornstarChangesService;
  feedRunChanges: FeedRunChangesService;
}

/** The catalog API's services; none of them knows HTTP, so the CLI and workers can reuse them. */
export function createCatalogServices(deps: CatalogServiceDeps): CatalogServices {
  return {
    pornstars: new PornstarsService(deps),
    aliases: new AliasesService(deps),
    thumbnails: new ThumbnailsService(deps),
    thumbnailUrls: new ThumbnailUrlsService(deps),
    pornstarChanges: new PornstarChangesService(deps.database),
    feedRunChanges: new FeedRunChangesService(deps.database),
  };
}

export interface CatalogRoutesDeps {
  catalog: CatalogServices;
  tokens: TokenVerifier;
  version: string;
  /** ETags, 304s and Cache-Control of the reads. */
  caching: CatalogCaching;
  /** IMAGE_VARIANT_WIDTHS: the resized copies each cached image links to (`variants`). */
  imageVariantWidths: readonly number[];
}

/**
 * The seed-compatible catalog API under `/api/v1`, every answer (errors included) in the
 * `{success, message, data, errors}` envelope. Register `catalogErrorFormatter` for the prefix
 * with buildApp's `errorFormatters` so that 404 and 405 outside the routes use it too.
 */
export async function catalogRoutes(app: FastifyInstance, deps: CatalogRoutesDeps): Promise<void> {
  await app.register(
    async (v1) => {
      installErrorHandler(v1, catalogErrorFormatter);
      const meta = { tags: ['catalog'] };

      v1.get(
        '/health',
        { schema: { ...meta, summary: 'Liveness of the catalog API', response: { 200: EnvelopeOf(Type.Object({ status: Type.Literal('ok') })), 500: ErrorEnvelope } } },
        async () => ok('OK', { status: 'ok' as const }),
      );
      v1.get(
        '/version',
        {
          schema: {
            ...meta,
            summary: 'Name and version of the running build',
            response: { 200: EnvelopeOf(Type.Object({ name: Type.String(), version: Type.String() })), 500: ErrorEnvelope },
          },
        },
        async () => ok('OK', { name: 'intake', version: deps.version }),
      );

      pornstarsRoutes(v1, deps.catalog.pornstars, deps.tokens, deps.caching, deps.imageVariantWidths, deps.catalog.pornstarChanges);
      feedRunChangesRoutes(v1, deps.catalog.feedRunChanges, deps.caching);
      aliasesRoutes(v1, deps.catalog.aliases, deps.tokens, deps.caching);
      thumbnailsRoutes(v1, deps.catalog.thumbnails, deps.tokens, deps.caching, deps.imageVariantWidths);
      thumbnailUrlsRoutes(v1, deps.catalog.thumbnailUrls, deps.tokens, deps.caching, deps.imageVariantWidths);
    },
    { prefix: API_PREFIX },
  );
}
