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
import { offsetOf, paginate } from '../platform/http/pagination.js';
import { Message, PageOf, PageQuery, pageOf } from './admin.schemas.js';

export interface AdminActivityDeps {
  orders: OrdersService;
  feed: FeedIngestService;
  images: ImagesService;
  queue: Queue;
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const DEFAULT_FEED_RUNS_PER_PAGE = 20;
const denied = { 401: Message, 403: Message };
const FeedRunsQuery = Type.Object({
  ...PageQuery.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'The first page’s size, as per_page (kept for older clients)' })),
});
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

  app.get<{ Querystring: Static<typeof FeedRunsQuery> }>(
    '/api/admin/feed/runs',
    {
      schema: {
        ...secured,
        summary: 'Feed runs with their counts and errors, newest first, a page at a time, and the ingestion that holds the lock now',
        querystring: FeedRunsQuery,
        response: { 200: Type.Intersect([PageOf(FeedRunOutput), Type.Object({ lock: Type.Union([FeedLockOutput, Type.Null()]) })]), ...denied },
      },
    },
    async (request) => {
      const { limit, ...query } = request.query;
      const page = pageOf({ ...query, per_page: query.per_page ?? limit ?? DEFAULT_FEED_RUNS_PER_PAGE });
      const [{ runs, total }, lock] = await Promise.all([deps.feed.runsPage({ limit: page.perPage, offset: offsetOf(page) }), deps.feed.holder()]);
      return { ...paginate(runs, total, page, '/api/admin/feed/runs'), lock };
    },
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
