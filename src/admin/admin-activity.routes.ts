import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { FeedIngestService } from '../catalog/feed/feed-ingest.service.js';
import { feedIngestJob } from '../catalog/feed/feed.jobs.js';
import type { ImagesService } from '../catalog/images/images.service.js';
import { OrderOutput } from '../orders/orders.schemas.js';
import type { OrdersService } from '../orders/orders.service.js';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { enqueueJob } from '../platform/queue/jobs.js';
import type { Queue } from '../platform/queue/queue.js';
import { describeHolder } from '../platform/store/lease.js';
import { paginate } from '../platform/http/pagination.js';
import { Message, PageOf, PageQuery, pageOf } from './admin.schemas.js';

export interface AdminActivityDeps {
  orders: OrdersService;
  feed: FeedIngestService;
  images: ImagesService;
  queue: Queue;
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const LimitQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) });
const FeedRunOutput = Type.Object(
  {
    id: Type.Integer(),
    status: Type.String(),
    trigger: Type.String(),
    started_at: Type.Number(),
    finished_at: Type.Union([Type.Number(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);
/** The ingestion that holds the feed lock now: which process, since when. */
const FeedLockOutput = Type.Object({ holder: Type.String(), since: Type.Number() });
const Counts = Type.Record(Type.String(), Type.Number());
const OrderOwner = Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.String() });
const OperatorOrderOutput = Type.Intersect([OrderOutput, Type.Object({ user_id: Type.Integer(), user: OrderOwner })]);
const OrdersQuery = Type.Object({
  ...PageQuery.properties,
  item_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Only the order that holds this item (a job of orders.integration names it as itemId)' })),
});

/** The operator API's view of the pipelines: recent orders, feed runs (and a run now), the image cache. */
export async function adminActivityRoutes(app: FastifyInstance, deps: AdminActivityDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));

  app.get<{ Querystring: Static<typeof OrdersQuery> }>(
    '/api/admin/orders',
    {
      schema: {
        ...secured,
        summary: 'The orders of every user, newest first, a page at a time, with their owner and their items’ statuses',
        querystring: OrdersQuery,
        response: { 200: PageOf(OperatorOrderOutput), ...denied },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const itemId = request.query.item_id;
      const { orders, total } = await deps.orders.everyone(page, { itemId });
      return paginate(orders, total, page, '/api/admin/orders', itemId === undefined ? {} : { item_id: String(itemId) });
    },
  );

  app.get<{ Querystring: Static<typeof LimitQuery> }>(
    '/api/admin/feed/runs',
    { schema: { ...secured, summary: 'Recent feed runs with their counts and errors', querystring: LimitQuery, response: { 200: Type.Object({ data: Type.Array(FeedRunOutput), lock: Type.Union([FeedLockOutput, Type.Null()]) }), ...denied } } },
    async (request) => ({ data: await deps.feed.runs(request.query.limit ?? 20), lock: await deps.feed.holder() }),
  );

  app.post(
    '/api/admin/feed/runs',
    { schema: { ...secured, summary: 'Queue a feed ingestion now (a worker runs it; see the runs)', response: { 202: Message, 409: Message, ...denied } } },
    async (_request, reply) => {
      const holder = await deps.feed.holder();
      if (holder) throw httpErrors.conflict(`A feed ingestion is already running (${describeHolder(holder)}).`);
      await enqueueJob(deps.queue, feedIngestJob, { trigger: 'api' });
      return reply.code(202).send({ message: 'Feed ingestion queued: a worker runs it.' });
    },
  );

  app.get(
    '/api/admin/images',
    {
      schema: {
        ...secured,
        summary: 'The image cache: images by status, bytes cached, download jobs by state',
        response: { 200: Type.Object({ total: Type.Integer(), byStatus: Counts, cachedBytes: Type.Number(), jobs: Counts }), ...denied },
      },
    },
    () => deps.images.stats(),
  );

  app.post(
    '/api/admin/images/retry-failed',
    { schema: { ...secured, summary: 'Re-drive every failed image download', response: { 200: Type.Object({ images: Type.Integer(), parkedJobs: Type.Integer() }), ...denied } } },
    () => deps.images.retryFailed(),
  );
}
