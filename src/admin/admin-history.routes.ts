import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { HISTORY_RANGES, type HistoryRange, type QueueHistory } from '../platform/queue/queue-history.js';
import { Message, QueueParams } from './admin.schemas.js';
import { HISTORY_CHARTS, renderHistoryChart } from './queue-history.chart.js';

export interface AdminHistoryDeps {
  history: QueueHistory;
  queueNames: readonly string[];
  tokens: TokenVerifier;
  /** QUEUE_WAIT_WARN_S, in milliseconds. */
  waitWarnMs: number;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const RANGES = Object.keys(HISTORY_RANGES) as HistoryRange[];
const Range = Type.Union(
  RANGES.map((range) => Type.Literal(range)),
  { description: '1h and 24h in one-minute buckets (kept a day), 7d and 14d in five-minute buckets (kept two weeks); default 1h' },
);
const HistoryQuery = Type.Object({ range: Type.Optional(Range) });
const ChartQuery = Type.Object({ range: Type.Optional(Range), chart: Type.Optional(Type.Union(HISTORY_CHARTS.map((chart) => Type.Literal(chart)), { description: 'default throughput' })) });
const Bucket = Type.Object({
  start: Type.Number({ description: 'Start of the bucket, epoch milliseconds' }),
  completed: Type.Integer(),
  retried: Type.Integer(),
  failed: Type.Integer(),
  parked: Type.Integer(),
  started: Type.Integer({ description: 'Attempts that started (a held job’s deferral is none)' }),
  waitAvgMs: Type.Union([Type.Number(), Type.Null()], { description: 'Mean wait for a worker of the attempts that started, from the moment they could run; null when none started' }),
  waitMaxMs: Type.Union([Type.Number(), Type.Null()]),
});
const HistoryOutput = Type.Object({
  queue: Type.String(),
  range: Type.String(),
  bucketMs: Type.Integer(),
  waitWarnS: Type.Number({ description: 'QUEUE_WAIT_WARN_S' }),
  buckets: Type.Array(Bucket, { description: 'Every bucket of the range, oldest first, empty ones included; the last is still filling' }),
});

/** Each queue's history across every worker process: as numbers, and as a chart the dashboard shows. */
export async function adminHistoryRoutes(app: FastifyInstance, deps: AdminHistoryDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));
  const known = (queue: string) => {
    if (!deps.queueNames.includes(queue)) throw httpErrors.notFound(`No queue named "${queue}".`);
    return queue;
  };

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof HistoryQuery> }>(
    '/api/admin/queues/:queue/history',
    {
      schema: {
        ...secured,
        summary: 'A queue’s attempts finished by outcome and its waits for a worker, per minute or per five minutes, across every worker process',
        params: QueueParams,
        querystring: HistoryQuery,
        response: { 200: HistoryOutput, 404: Message, ...denied },
      },
    },
    async (request) => ({ ...(await deps.history.read(known(request.params.queue), request.query.range ?? '1h')), waitWarnS: deps.waitWarnMs / 1000 }),
  );

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof ChartQuery> }>(
    '/api/admin/queues/:queue/history.svg',
    {
      schema: {
        ...secured,
        summary: 'The same history as an SVG chart: attempts finished per bucket by outcome, or the mean and longest wait with the QUEUE_WAIT_WARN_S line',
        params: QueueParams,
        querystring: ChartQuery,
        produces: ['image/svg+xml'],
        response: { 200: Type.String({ description: 'image/svg+xml' }), 404: Message, ...denied },
      },
    },
    async (request, reply) => {
      const view = await deps.history.read(known(request.params.queue), request.query.range ?? '1h');
      return reply
        .type('image/svg+xml; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .header('x-content-type-options', 'nosniff')
        .send(renderHistoryChart(view, request.query.chart ?? 'throughput', deps.waitWarnMs));
    },
  );
}
