import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { paginate } from '../../platform/http/pagination.js';
import type { CatalogCaching } from './catalog.caching.js';
import { ListEnvelopeOf, okList, readErrors } from './catalog.envelope.js';
import { API_PREFIX } from './catalog.resource.js';
import { IdParams, baseUrl, pageOf, pageProperties, parseId } from './catalog.params.js';
import type { FeedRunChangesService } from './feed-run-changes.service.js';

const FeedRunChangeView = Type.Object({
  pornstar_id: Type.Integer(),
  external_id: Type.String(),
  change: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('removed')]),
  content_hash: Type.Union([Type.String({ description: 'sha256 of the item as the run wrote it' }), Type.Null()]),
});
const Query = Type.Object({ page: pageProperties.page, per_page: pageProperties.per_page });
const Envelope = ListEnvelopeOf(FeedRunChangeView);

/** `GET /api/v1/feed-runs/{id}/changes`: the pornstars one feed run created, updated and removed. */
export function feedRunChangesRoutes(app: FastifyInstance, changes: FeedRunChangesService, caching: CatalogCaching): void {
  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof Query> }>(
    '/feed-runs/:id/changes',
    {
      schema: {
        tags: ['feed'],
        summary: 'What one feed run changed (paginated, by pornstar id)',
        params: IdParams,
        querystring: Query,
        response: { 200: Envelope, 304: Type.Null(), ...readErrors },
      },
    },
    async (request, reply) =>
      caching.read(
        request,
        reply,
        async () => {
          const id = parseId(request.params.id);
          const page = pageOf(request.query);
          const { items, total } = await changes.list(id, page);
          return okList('Feed run changes retrieved successfully', paginate(items, total, page, `${baseUrl(request)}${API_PREFIX}/feed-runs/${id}/changes`));
        },
        Envelope,
      ),
  );
}
